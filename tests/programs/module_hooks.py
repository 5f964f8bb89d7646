"""Module hooks as feature-extraction and debugging code uses them: register_forward_hook to
collect intermediate activations (torchvision's IntermediateLayerGetter style),
register_forward_pre_hook that rewrites a layer's input, register_full_backward_hook to record
gradient norms per layer, a forward hook that returns a new output, hook handles removed with
.remove(), Module.apply for initialization and named_modules to choose layers; plus
nn.ParameterList / nn.ParameterDict for per-layer learnable scales."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(8, 16), nn.Linear(16, 16), nn.Linear(16, 3)])
        self.scales = nn.ParameterList([nn.Parameter(torch.ones(16)) for _ in range(2)])
        self.extra = nn.ParameterDict({"temperature": nn.Parameter(torch.tensor(1.0))})

    def forward(self, x):
        for layer, scale in zip(self.layers[:-1], self.scales):
            x = torch.tanh(layer(x)) * scale
        return self.layers[-1](x) / self.extra["temperature"]


model = init_from_numpy(Net())
calls = []


def init_weights(m):
    if isinstance(m, nn.Linear):
        calls.append(type(m).__name__)


model.apply(init_weights)

activations = {}


def get_activation(name):
    def hook(model, input, output):
        activations[name] = output.detach()

    return hook


handles = [
    m.register_forward_hook(get_activation(n))
    for n, m in model.named_modules()
    if isinstance(m, nn.Linear)
]

grad_norms = {}


def backward_hook(module, grad_input, grad_output):
    grad_norms.setdefault(id(module), []).append(grad_output[0].norm().item())


backward_handles = [layer.register_full_backward_hook(backward_hook) for layer in model.layers]


def clamp_input(module, args):
    (x,) = args
    return (x.clamp(-2.0, 2.0),)


pre_handle = model.layers[0].register_forward_pre_hook(clamp_input)

rng = np.random.default_rng(0)
x = 2 * randn(rng, 64, 8)
y = torch.from_numpy((x.numpy()[:, :3].argmax(1)).astype(np.int64))
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
losses = []
for step in range(30):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}; hooked layers {sorted(activations)}")
activation_shapes = {k: tuple(v.shape) for k, v in activations.items()}

# the pre-hook clamps the input: the first layer saw values in [-2, 2]
first = model.layers[0]
with torch.no_grad():
    model(x)
    clamped_gap = (
        (activations["layers.0"] - F.linear(x.clamp(-2, 2), first.weight, first.bias))
        .abs()
        .max()
        .item()
    )
pre_handle.remove()
with torch.no_grad():
    model(x)
    unclamped_gap = (
        (activations["layers.0"] - F.linear(x, first.weight, first.bias)).abs().max().item()
    )
    clamped = F.linear(x.clamp(-2, 2), first.weight, first.bias)
    clamp_effect = (clamped - activations["layers.0"]).abs().max().item()

# a forward hook that returns a value replaces the output
doubling = model.layers[2].register_forward_hook(lambda m, i, o: o * 2)
with torch.no_grad():
    doubled = model(x)
doubling.remove()
with torch.no_grad():
    plain = model(x)
replaced_ok = bool(torch.allclose(doubled, 2 * plain))

for h in handles + backward_handles:
    h.remove()
activations.clear()
with torch.no_grad():
    model(x)
removed_ok = activations == {}
num_grad_records = [len(v) for v in grad_norms.values()]
scale_names = [n for n, _ in model.named_parameters() if "scales" in n or "extra" in n]
print(f"grad records per layer {num_grad_records}; parameters {scale_names}")
