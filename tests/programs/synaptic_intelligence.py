"""Synaptic Intelligence (Zenke, Poole and Ganguli), after the ``continual-learning`` repository
(van de Ven) implementation: for every parameter ``n`` buffers ``{n}_SI_prev_task``,
``{n}_SI_omega`` registered with ``register_buffer`` (names with ``.`` replaced by ``__``), the
running path integral ``W[n].add_(-p.grad * (p.detach() - p_old[n]))`` accumulated after every
optimizer step, omega updated at the end of a task as ``W / (delta**2 + epsilon)``, and the
surrogate loss ``sum(omega * (p - prev)**2)`` added with strength ``c``; split-style
domain-incremental tasks with Adam, compared with fine-tuning (accuracy matrices, the
importance of the first layer's weights, the buffer names in the ``state_dict``)."""

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
DIM = 6


class Classifier(nn.Module):
    def __init__(self, epsilon=0.1):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(DIM, 20), nn.Linear(20, 2)
        self.epsilon = epsilon

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))

    def register_starting_param_values(self):
        for n, p in self.named_parameters():
            if p.requires_grad:
                n = n.replace(".", "__")
                self.register_buffer("{}_SI_prev_task".format(n), p.detach().clone())

    def update_omega(self, W, epsilon):
        for n, p in self.named_parameters():
            if p.requires_grad:
                n = n.replace(".", "__")
                p_prev = getattr(self, "{}_SI_prev_task".format(n))
                p_current = p.detach().clone()
                p_change = p_current - p_prev
                omega_add = W[n] / (p_change**2 + epsilon)
                try:
                    omega = getattr(self, "{}_SI_omega".format(n))
                except AttributeError:
                    omega = p.detach().clone().zero_()
                omega_new = omega + omega_add
                self.register_buffer("{}_SI_prev_task".format(n), p_current)
                self.register_buffer("{}_SI_omega".format(n), omega_new)

    def surrogate_loss(self):
        try:
            losses = []
            for n, p in self.named_parameters():
                if p.requires_grad:
                    n = n.replace(".", "__")
                    prev_values = getattr(self, "{}_SI_prev_task".format(n))
                    omega = getattr(self, "{}_SI_omega".format(n))
                    losses.append((omega * (p - prev_values) ** 2).sum())
            return sum(losses)
        except AttributeError:
            return torch.tensor(0.0)


def make_task(seed, n=96):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, DIM, generator=g)
    w = torch.randn(DIM, generator=g)
    return x, (x @ w > 0).long()


tasks = [make_task(s) for s in (1, 2, 3)]


def train(c):
    torch.manual_seed(1)
    model = Classifier()
    model.register_starting_param_values()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.9, 0.999))
    matrix, surrogate = [], []
    for t, (x, y) in enumerate(tasks):
        W, p_old = {}, {}
        for n, p in model.named_parameters():
            if p.requires_grad:
                n = n.replace(".", "__")
                W[n] = p.data.clone().zero_()
                p_old[n] = p.data.clone()
        loader = torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(x, y),
            batch_size=16,
            shuffle=True,
            generator=torch.Generator().manual_seed(t),
        )
        for epoch in range(5):
            for xb, yb in loader:
                optimizer.zero_grad()
                loss_cur = F.cross_entropy(model(xb), yb)
                loss_si = model.surrogate_loss()
                loss = loss_cur + c * loss_si
                loss.backward()
                optimizer.step()
                for n, p in model.named_parameters():
                    if p.requires_grad:
                        n = n.replace(".", "__")
                        if p.grad is not None:
                            W[n].add_(-p.grad * (p.detach() - p_old[n]))
                        p_old[n] = p.detach().clone()
        surrogate.append(loss_si.item())
        model.update_omega(W, model.epsilon)
        with torch.no_grad():
            matrix.append([(model(tx).argmax(1) == ty).float().mean().item() for tx, ty in tasks])
    omega_fc1 = model.fc1__weight_SI_omega
    stats = (omega_fc1.mean().item(), omega_fc1.max().item(), (omega_fc1 < 0).sum().item())
    buffers = sorted(k for k in model.state_dict() if "SI" in k)[:4]
    return matrix, surrogate, stats, buffers


results = {"si": train(c=5.0), "finetune": train(c=0.0)}
retained = {k: sum(r[0][-1][:2]) / 2 for k, r in results.items()}
