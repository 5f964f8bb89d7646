"""Module bookkeeping that GitHub issues report as bugs: ``nn.Parameter`` objects kept in a
Python list (not registered: missing from ``parameters()``, never updated by the optimizer,
absent from the ``state_dict``) fixed with ``nn.ParameterList``; sub-modules in a plain list
against ``nn.ModuleList``; a tensor attribute against ``register_buffer`` (persistent and not)
in the ``state_dict`` and in ``.to(dtype)``; ``load_state_dict(strict=False)`` returning missing
and unexpected keys, the strict error message, a shape mismatch even with ``strict=False``;
assigning a plain tensor to a parameter attribute (the TypeError); and an optimizer's
``load_state_dict`` with a different number of groups or group sizes (the errors), its state
cast to the parameters' dtype, and ``param_groups`` hyperparameters taken from the file."""

import torch
from torch import nn

torch.manual_seed(0)


def error_of(fn):
    try:
        fn()
    except Exception as e:  # the program records whichever error it gets
        return [type(e).__name__, str(e)]
    return None


class ListOfParams(nn.Module):
    def __init__(self):
        super().__init__()
        self.weights = [nn.Parameter(torch.randn(3, 3)) for _ in range(2)]  # not registered
        self.blocks = [nn.Linear(3, 3)]  # not registered either
        self.scale = torch.ones(3)  # a plain tensor attribute: not in the state_dict

    def forward(self, x):
        for w in self.weights:
            x = x @ w
        return self.blocks[0](x) * self.scale


class Registered(nn.Module):
    def __init__(self):
        super().__init__()
        self.weights = nn.ParameterList([nn.Parameter(torch.randn(3, 3)) for _ in range(2)])
        self.blocks = nn.ModuleList([nn.Linear(3, 3)])
        self.register_buffer("scale", torch.ones(3))
        self.register_buffer("cache", torch.zeros(2), persistent=False)

    def forward(self, x):
        for w in self.weights:
            x = x @ w
        return self.blocks[0](x) * self.scale


x = torch.randn(8, 3)
y = torch.randn(8, 3)
results = {}
for cls in (ListOfParams, Registered):
    torch.manual_seed(1)
    model = cls()
    before = [w.detach().clone() for w in model.weights]
    opt = torch.optim.SGD(model.parameters(), lr=0.1) if list(model.parameters()) else None
    losses = []
    for _ in range(3):
        loss = ((model(x) - y) ** 2).mean()
        if opt is not None:
            opt.zero_grad()
        loss.backward()
        if opt is not None:
            opt.step()
        losses.append(loss.item())
    moved = [not torch.equal(b, w) for b, w in zip(before, model.weights)]
    half = model.to(torch.float64)
    results[cls.__name__] = [
        len(list(model.parameters())),
        sorted(model.state_dict().keys()),
        [n for n, _ in model.named_buffers()],
        moved,
        model.weights[0].grad is not None,
        losses,
        str(half.scale.dtype),
        str(half.weights[0].dtype),
    ]
optimizer_error = error_of(lambda: torch.optim.SGD(ListOfParams().parameters(), lr=0.1))

# load_state_dict: strict and not.
src = Registered()
state = src.state_dict()
state["extra.weight"] = torch.zeros(1)
del state["scale"]
target = Registered()
strict_error = error_of(lambda: target.load_state_dict(state))
result = target.load_state_dict(state, strict=False)
load_report = [sorted(result.missing_keys), sorted(result.unexpected_keys)]
loaded_equal = torch.equal(target.weights[0], src.weights[0])
bad = src.state_dict()
bad["blocks.0.weight"] = torch.zeros(4, 3)
shape_error = error_of(lambda: Registered().load_state_dict(bad, strict=False))
assign_error = error_of(lambda: setattr(nn.Linear(2, 2), "weight", torch.zeros(2, 2)))
lin = nn.Linear(2, 2)
lin.weight = nn.Parameter(torch.zeros(2, 2))
assign_ok = lin.weight.sum().item()
del_ok = error_of(lambda: setattr(lin, "bias", None))
bias_keys = sorted(lin.state_dict().keys())

# Optimizer state_dict loaded into differently built optimizers.
net = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
adam = torch.optim.Adam(
    [{"params": net[0].parameters()}, {"params": net[1].parameters(), "lr": 0.01}], lr=0.1
)
for _ in range(2):
    adam.zero_grad()
    net(x).pow(2).mean().backward()
    adam.step()
saved = adam.state_dict()
one_group = torch.optim.Adam(net.parameters(), lr=0.5)
group_error = error_of(lambda: one_group.load_state_dict(saved))
swapped = torch.optim.Adam(
    [{"params": net[1].parameters()}, {"params": net[0].parameters()}], lr=0.5
)
size_error = error_of(lambda: swapped.load_state_dict(saved))
fresh = torch.optim.Adam(
    [{"params": net[0].parameters()}, {"params": net[1].parameters(), "lr": 0.3}], lr=0.5
)
fresh.load_state_dict(saved)
net64 = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1)).double()
adam64 = torch.optim.Adam(
    [{"params": net64[0].parameters()}, {"params": net64[1].parameters()}], lr=0.5
)
adam64.load_state_dict(saved)
first = adam64.state[net64[0].weight]
optimizer_facts = [
    [g["lr"] for g in fresh.param_groups],
    sorted(saved["state"].keys()),
    [len(g["params"]) for g in saved["param_groups"]],
    saved["state"][0]["step"].item(),
    str(first["exp_avg"].dtype),
    str(first["step"].dtype),
    fresh.state[net[1].bias]["exp_avg_sq"].tolist(),
]
