"""Multi-task learning with homoscedastic-uncertainty weighting (Kendall, Gal & Cipolla) as
people organize such code: a shared trunk and per-task heads in an ``nn.ModuleDict``, learned
log-variances in an ``nn.ParameterDict``, a non-persistent buffer (``persistent=False``) for a
running loss average, weights initialized through ``model.apply(fn)``, ``get_submodule`` /
``get_parameter`` lookups, and a checkpoint of the trunk loaded into a model with another head
set through ``load_state_dict(strict=False)``, whose ``missing_keys``/``unexpected_keys`` are
reported."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import randn

rng = np.random.default_rng(191)
x = randn(rng, 256, 6)
y_reg = (x[:, 0] * 2 - x[:, 1] + 0.3 * randn(rng, 256)).unsqueeze(1)
y_cls = ((x[:, 2] + x[:, 3]) > 0).long()
y_aux = x[:, 4:] * 0.5 + 2.0 * randn(rng, 256, 2)  # a noisy task: its weight should drop


class MultiTask(nn.Module):
    def __init__(self, tasks):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU())
        self.heads = nn.ModuleDict({name: nn.Linear(32, out) for name, out in tasks.items()})
        self.log_vars = nn.ParameterDict({name: nn.Parameter(torch.zeros(())) for name in tasks})
        self.register_buffer("loss_avg", torch.zeros(len(tasks)), persistent=False)

    def forward(self, x):
        h = self.trunk(x)
        return {name: head(h) for name, head in self.heads.items()}


def init_weights(m, seed=[191]):
    if isinstance(m, nn.Linear):
        g = np.random.default_rng(seed[0])
        seed[0] += 1
        bound = 1 / np.sqrt(m.in_features)
        with torch.no_grad():
            m.weight.copy_(
                torch.from_numpy(g.uniform(-bound, bound, tuple(m.weight.shape)).astype(np.float32))
            )
            m.bias.copy_(
                torch.from_numpy(g.uniform(-0.1, 0.1, tuple(m.bias.shape)).astype(np.float32))
            )


model = MultiTask({"reg": 1, "cls": 2, "aux": 2})
model.apply(init_weights)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
task_losses = {
    "reg": lambda o: F.mse_loss(o, y_reg),
    "cls": lambda o: F.cross_entropy(o, y_cls),
    "aux": lambda o: F.mse_loss(o, y_aux),
}
history, weights = [], []
for step in range(60):
    outputs = model(x)
    losses = torch.stack([task_losses[name](outputs[name]) for name in model.heads])
    log_vars = torch.stack([model.log_vars[name] for name in model.heads])
    total = (torch.exp(-log_vars) * losses + log_vars).sum()
    optimizer.zero_grad()
    total.backward()
    optimizer.step()
    with torch.no_grad():
        model.loss_avg.mul_(0.9).add_(losses.detach(), alpha=0.1)
    history.append(losses.tolist())
    weights.append(torch.exp(-log_vars).tolist())

state_keys = sorted(model.state_dict().keys())
modules = [name for name, _ in model.named_modules()]
submodule = type(model.get_submodule("heads.cls")).__name__
parameter_shape = list(model.get_parameter("trunk.2.weight").shape)
loss_avg = model.loss_avg.tolist()

fresh = MultiTask({"reg": 1, "seg": 3})
trunk_only = {k: v for k, v in model.state_dict().items() if not k.startswith("log_vars")}
result = fresh.load_state_dict(trunk_only, strict=False)
missing, unexpected = sorted(result.missing_keys), sorted(result.unexpected_keys)
loaded_gap = (fresh.trunk[0].weight - model.trunk[0].weight).abs().max().item()
try:
    fresh.load_state_dict(trunk_only)
    strict_error = None
except RuntimeError as e:
    strict_error = "Missing key(s)" in str(e) and "Unexpected key(s)" in str(e)
print(f"losses {history[0]} -> {history[-1]}; weights {weights[-1]}")
