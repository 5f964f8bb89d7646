"""Federated learning simulated in one process (McMahan et al. 2017 FedAvg; Li et al. 2020
FedProx; the shape of the Flower and "FL from scratch" tutorials): a global model is copied to
each client with ``copy.deepcopy``, trained locally for a few SGD steps on its non-IID shard
(label-skewed by a Dirichlet split drawn with ``torch.distributions.Dirichlet``), and the
server averages the clients' ``state_dict`` tensors weighted by shard size, including the
BatchNorm buffers (``num_batches_tracked`` is an int64 buffer and is summed, not averaged) and
loads the average with ``load_state_dict``. FedProx adds ``mu/2 ||w - w_global||^2`` to each
local loss; the drift of the clients from the global model is smaller with it."""

import copy

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
N_CLIENTS, N_CLASSES, D = 4, 3, 8
centers = torch.randn(N_CLASSES, D) * 2
labels = torch.arange(N_CLASSES).repeat_interleave(60)
data = centers[labels] + torch.randn(len(labels), D)
perm = torch.randperm(len(labels))
test_x, test_y = data[perm[:60]], labels[perm[:60]]
train_x, train_y = data[perm[60:]], labels[perm[60:]]

# label skew: each class is split among the clients by Dirichlet(0.5) proportions
proportions = torch.distributions.Dirichlet(torch.full((N_CLIENTS,), 0.5)).sample((N_CLASSES,))
client_idx = [[] for _ in range(N_CLIENTS)]
for c in range(N_CLASSES):
    idx = (train_y == c).nonzero().squeeze(1)
    cuts = (torch.cumsum(proportions[c], 0) * len(idx)).long()[:-1].tolist()
    for k, part in enumerate(torch.tensor_split(idx, cuts)):
        client_idx[k].extend(part.tolist())
shard_sizes = [len(i) for i in client_idx]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(D, 16)
        self.bn = nn.BatchNorm1d(16)
        self.fc2 = nn.Linear(16, N_CLASSES)

    def forward(self, x):
        return self.fc2(F.relu(self.bn(self.fc1(x))))


def local_train(model, global_model, x, y, mu, steps=4, lr=0.1):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    global_params = [p.detach().clone() for p in global_model.parameters()]
    model.train()
    for _ in range(steps):
        batch = torch.randint(0, len(x), (16,))
        loss = F.cross_entropy(model(x[batch]), y[batch])
        if mu > 0:
            prox = sum((p - g).pow(2).sum() for p, g in zip(model.parameters(), global_params))
            loss = loss + mu / 2 * prox
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def average(states, weights):
    total = sum(weights)
    avg = {}
    for key in states[0]:
        if states[0][key].dtype == torch.int64:  # num_batches_tracked counts every client's steps
            avg[key] = sum(s[key] for s in states)
        else:
            avg[key] = sum(s[key] * (w / total) for s, w in zip(states, weights))
    return avg


def evaluate(model):
    model.eval()
    with torch.no_grad():
        logits = model(test_x)
        return F.cross_entropy(logits, test_y).item(), (
            logits.argmax(1) == test_y
        ).float().mean().item()


results = {}
for name, mu in (("fedavg", 0.0), ("fedprox", 0.5)):
    torch.manual_seed(1)
    global_model = Net()
    history, drifts = [], []
    for rnd in range(3):
        states = []
        drift = 0.0
        for k in range(N_CLIENTS):
            local = local_train(
                copy.deepcopy(global_model),
                global_model,
                train_x[client_idx[k]],
                train_y[client_idx[k]],
                mu,
            )
            drift += sum(
                (p - g).norm().item() for p, g in zip(local.parameters(), global_model.parameters())
            )
            states.append(local.state_dict())
        global_model.load_state_dict(average(states, shard_sizes))
        history.append(evaluate(global_model))
        drifts.append(drift / N_CLIENTS)
    results[name] = {
        "history": history,
        "drifts": drifts,
        "tracked": global_model.bn.num_batches_tracked.item(),
        "running_mean": global_model.bn.running_mean[:4].tolist(),
    }
state_keys = list(global_model.state_dict().keys())
tracked_dtype = str(global_model.bn.num_batches_tracked.dtype)
