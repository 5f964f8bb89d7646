"""A deep ensemble trained in one vectorized step, as torch.func users write it: five MLPs
stacked with ``stack_module_state``, a ``"meta"`` copy as the stateless base,
``functional_call`` with a ``(params, buffers)`` pair under ``vmap`` (each member on its own
bootstrap resample), one Adam over the stacked tensors, the whole training step wrapped in
``torch.compile(mode="max-autotune", fullgraph=True, dynamic=True)`` and called with changing
batch sizes, ``torch.compiler.reset()``, and the predictive mean and spread on a grid; the
stacked members are checked against the same members run one by one."""

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state, vmap

torch.manual_seed(0)
MEMBERS = 5


class Member(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, 32), nn.LayerNorm(32), nn.Tanh(), nn.Linear(32, 1))
        self.register_buffer("scale", torch.tensor(2.0))

    def forward(self, x):
        return self.net(x) * self.scale


members = [Member() for _ in range(MEMBERS)]
params, buffers = stack_module_state(members)
base = copy.deepcopy(members[0]).to("meta")
stacked_shapes = {k: list(v.shape) for k, v in params.items()}


def member_forward(p, b, x):
    return functional_call(base, (p, b), (x,))


ensemble = vmap(member_forward, in_dims=(0, 0, 0))
shared_input = vmap(member_forward, in_dims=(0, 0, None))

x = torch.linspace(-3, 3, 60).unsqueeze(1)
y = torch.sin(2 * x) * (x.abs() < 2) + 0.05 * torch.randn_like(x)
opt = torch.optim.Adam(params.values(), lr=1e-2)


@torch.compile(mode="max-autotune", fullgraph=True, dynamic=True)
def train_step(xb, yb):
    pred = ensemble(params, buffers, xb)
    per_member = F.mse_loss(pred, yb, reduction="none").mean(dim=(1, 2))
    loss = per_member.sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
    return per_member.detach()


losses = []
for step in range(20):
    batch = 16 + (step % 3) * 8  # changing sizes: dynamic shapes
    idx = torch.randint(0, len(x), (MEMBERS, batch))  # a bootstrap resample per member
    per_member = train_step(x[idx], y[idx])
    losses.append(per_member.sum().item())

torch.compiler.reset()
grid = torch.linspace(-4, 4, 9).unsqueeze(1)
with torch.no_grad():
    preds = shared_input(params, buffers, grid).squeeze(-1)
mean, spread = preds.mean(0), preds.std(0)
mean_list = [round(v, 5) for v in mean.tolist()]
spread_inside = spread[3:6].mean().item()
spread_outside = torch.cat([spread[:1], spread[-1:]]).mean().item()

loop_gap = 0.0
for i, member in enumerate(members):
    own = {k: v[i].detach() for k, v in params.items()}
    member.load_state_dict({**own, "scale": buffers["scale"][i]})
    with torch.no_grad():
        loop_gap = max(loop_gap, (member(grid).squeeze(-1) - preds[i]).abs().max().item())
