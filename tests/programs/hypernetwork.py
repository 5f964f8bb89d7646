"""A hypernetwork (Ha et al. 2016) as people write one in PyTorch: a task embedding goes
through an MLP that emits every parameter of a target network, the flat output is split into
the target's named shapes (torch.split + view, sizes from named_parameters), the target runs
with those weights through torch.func.functional_call, and gradients reach only the
hypernetwork; trained on a family of sine regression tasks, then a new task is fitted by
optimizing its embedding alone with the hypernetwork frozen."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call

torch.manual_seed(0)

target = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1))
for p in target.parameters():
    p.requires_grad_(False)  # its parameters come from the hypernetwork
names = [n for n, _ in target.named_parameters()]
shapes = [p.shape for _, p in target.named_parameters()]
sizes = [math.prod(s) for s in shapes]
num_target_params = sum(sizes)


class HyperNetwork(nn.Module):
    def __init__(self, embed_dim=4, hidden=64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(embed_dim, hidden), nn.ReLU(), nn.Linear(hidden, num_target_params)
        )
        with torch.no_grad():
            self.net[-1].weight.mul_(0.1)

    def forward(self, z):
        flat = self.net(z)
        chunks = torch.split(flat, sizes, dim=-1)
        return {name: chunk.view(shape) for name, chunk, shape in zip(names, chunks, shapes)}


def task(i, x):
    amp, phase = 1.0 + 0.5 * math.sin(i), i * 0.7
    return amp * torch.sin(x + phase)


num_tasks = 8
hyper = HyperNetwork()
embeddings = nn.Embedding(num_tasks, 4)
optimizer = torch.optim.Adam(list(hyper.parameters()) + list(embeddings.parameters()), lr=3e-3)
x = torch.linspace(-math.pi, math.pi, 32).unsqueeze(1)
losses = []
for step in range(50):
    loss = 0.0
    for i in range(num_tasks):
        params = hyper(embeddings(torch.tensor(i)))
        pred = functional_call(target, params, (x,))
        loss = loss + F.mse_loss(pred, task(i, x))
    loss = loss / num_tasks
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if step % 40 == 0:
        print(f"step {step}: mean task loss {loss.item():.4f}")
target_grads_none = all(p.grad is None for p in target.parameters())
print(
    f"target network: {num_target_params} generated parameters, grads stay None: {target_grads_none}"
)

# A new task: freeze the hypernetwork and fit only a fresh embedding
for p in hyper.parameters():
    p.requires_grad_(False)
hyper_weight_before = hyper.net[0].weight.clone()
z_new = torch.zeros(4, requires_grad=True)
opt_z = torch.optim.Adam([z_new], lr=5e-2)
new_losses = []
for step in range(30):
    loss = F.mse_loss(functional_call(target, hyper(z_new), (x,)), task(2.5, x))
    opt_z.zero_grad()
    loss.backward()
    opt_z.step()
    new_losses.append(loss.item())
frozen_unchanged = torch.equal(hyper_weight_before, hyper.net[0].weight)
print(f"new task by its embedding alone: {new_losses[0]:.4f} -> {new_losses[-1]:.4f}")
