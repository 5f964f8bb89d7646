"""The ``torch.export`` tutorial's basics: export a module with example inputs, run the
``ExportedProgram`` through ``.module()``, read its graph signature (parameters, buffers, user
inputs and outputs) and state dict, see data-dependent control flow refused and rewritten with
``torch.cond``, export with a dynamic batch dimension (``Dim``, with bounds) and call it with
other batch sizes, and save and load the program through a buffer."""

import io

import torch
import torch.nn as nn
from torch.export import Dim, export


class MyModule(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(6, 4)
        self.bn = nn.BatchNorm1d(4)

    def forward(self, x, y):
        return torch.nn.functional.relu(self.bn(self.lin(x))) + y.sin()


class Bad(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x.cos()
        return x.sin()


class WithCond(nn.Module):
    def forward(self, x):
        return torch.cond(x.sum() > 0, lambda x: x.cos(), lambda x: x.sin(), (x,))


torch.manual_seed(0)
mod = MyModule().eval()
x, y = torch.randn(3, 6), torch.randn(3, 4)
ep = export(mod, (x, y))
eager = mod(x, y)
exported_gap = (ep.module()(x, y) - eager).abs().max().item()
sig = ep.graph_signature
parameters, buffers = list(sig.parameters), list(sig.buffers)
user_inputs = list(sig.user_inputs)
n_outputs = len(sig.user_outputs)
state_keys = sorted(ep.state_dict)
values = ep.module()(x, y).flatten().tolist()

try:  # a static batch size: another one is refused
    ep.module()(torch.randn(5, 6), torch.randn(5, 4))
    static_error = None
except AssertionError as e:  # "Guard failed: x.size()[0] == 3"
    static_error = str(e).splitlines()[0]

try:
    export(Bad(), (torch.randn(3),))
    bad_error = None
except Exception:
    bad_error = "refused"
z = torch.randn(4)
cond_ep = export(WithCond(), (z,))
cond_values = [cond_ep.module()(v).tolist() for v in (z.abs(), -z.abs())]

batch = Dim("batch", min=2, max=16)
dyn = export(mod, (x, y), dynamic_shapes={"x": {0: batch}, "y": {0: batch}})
dyn_gaps = []
for n in (2, 7, 16):
    a, b = torch.randn(n, 6), torch.randn(n, 4)
    dyn_gaps.append((dyn.module()(a, b) - mod(a, b)).abs().max().item())
try:
    dyn.module()(torch.randn(20, 6), torch.randn(20, 4))  # above max
    range_error = None
except AssertionError as e:
    range_error = str(e).splitlines()[0]

buffer = io.BytesIO()
torch.export.save(dyn, buffer)
buffer.seek(0)
loaded = torch.export.load(buffer)
a, b = torch.randn(5, 6), torch.randn(5, 4)
loaded_gap = (loaded.module()(a, b) - mod(a, b)).abs().max().item()
loaded_params = list(loaded.graph_signature.parameters)
