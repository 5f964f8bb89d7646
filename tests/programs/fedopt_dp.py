"""Federated optimisation with a server optimizer and differential privacy (Reddi et al. 2021
"Adaptive Federated Optimization"; McMahan et al. 2018 DP-FedAvg; the Opacus/Flower
tutorials' shape): each round, clients start from the global weights
(``vector_to_parameters``), run local SGD, and send the update ``local - global`` flattened by
``parameters_to_vector``; the server clips each update to an L2 bound, adds Gaussian noise
(``torch.normal``) scaled by ``noise_multiplier * clip / n_clients``, and hands the negated mean
update to a server Adam / Yogi-free FedAdam as the ``.grad`` of the global parameters
(a pseudo-gradient), so ``torch.optim.Adam`` steps the global model; SCAFFOLD-style control
variates are left out. The server optimizer's ``state_dict`` survives a save/load round trip
through ``torch.save`` into a ``BytesIO``; and ``vector_to_parameters`` is shown to make the
parameters views of the vector it is given (the aliasing that bites local updates)."""

import io

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parameters_to_vector, vector_to_parameters

torch.manual_seed(0)
N_CLIENTS, D = 5, 6
w_true = torch.randn(D)
clients = []
for k in range(N_CLIENTS):
    x = torch.randn(40, D) + 0.3 * k  # covariate shift across clients
    y = (x @ w_true + 0.2 * torch.randn(40) > 0.3 * k).float()
    clients.append((x, y))


def make_model():
    return nn.Sequential(nn.Linear(D, 8), nn.Tanh(), nn.Linear(8, 1))


def local_update(global_vec, x, y, steps=3, lr=0.3):
    model = make_model()
    # vector_to_parameters makes the parameters views of the vector: give it a copy
    vector_to_parameters(global_vec.clone(), model.parameters())
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        loss = F.binary_cross_entropy_with_logits(model(x).squeeze(1), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return parameters_to_vector(model.parameters()).detach() - global_vec


def global_loss(model):
    with torch.no_grad():
        return (
            sum(
                F.binary_cross_entropy_with_logits(model(x).squeeze(1), y).item()
                for x, y in clients
            )
            / N_CLIENTS
        )


results = {}
for name, clip, noise_multiplier in (("fedadam", None, 0.0), ("dp_fedadam", 0.2, 0.3)):
    torch.manual_seed(1)
    server_model = make_model()
    server_opt = torch.optim.Adam(server_model.parameters(), lr=0.05, betas=(0.9, 0.99), eps=1e-3)
    losses, clip_fractions = [global_loss(server_model)], []
    for rnd in range(4):
        global_vec = parameters_to_vector(server_model.parameters()).detach()
        updates = torch.stack([local_update(global_vec, x, y) for x, y in clients])
        if clip is not None:
            norms = updates.norm(dim=1, keepdim=True)
            clip_fractions.append((norms > clip).float().mean().item())
            updates = updates * torch.clamp(clip / norms, max=1.0)
        mean_update = updates.mean(0)
        if noise_multiplier > 0:
            std = noise_multiplier * clip / N_CLIENTS
            mean_update = mean_update + torch.normal(0.0, std, size=mean_update.shape)
        server_opt.zero_grad()
        offset = 0
        for p in server_model.parameters():
            n = p.numel()
            p.grad = -mean_update[offset : offset + n].view_as(p)  # pseudo-gradient
            offset += n
        server_opt.step()
        losses.append(global_loss(server_model))
    results[name] = {"losses": losses, "clip_fractions": clip_fractions}

buffer = io.BytesIO()
torch.save(server_opt.state_dict(), buffer)
buffer.seek(0)
restored = torch.optim.Adam(server_model.parameters(), lr=0.05)
restored.load_state_dict(torch.load(buffer))
state = restored.state_dict()
restored_step = float(state["state"][0]["step"])
restored_betas = list(state["param_groups"][0]["betas"])
exp_avg_sq_sum = state["state"][0]["exp_avg_sq"].sum().item()
n_params = parameters_to_vector(server_model.parameters()).numel()

shared = torch.zeros(n_params)
probe_model = make_model()
vector_to_parameters(shared, probe_model.parameters())
with torch.no_grad():
    probe_model[0].weight.add_(1.0)
aliased_sum = shared.sum().item()  # the in-place change shows through the vector
