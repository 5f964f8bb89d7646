"""``TorchFunctionMode`` as the PyTorch recipes use it: a mode that counts the ops a training
step calls, a mode that sets a default ``dtype`` on factory functions (the "change the default
device" trick, with dtype standing in for device on a CPU-only machine), and nested modes."""

import collections

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn
from torch.overrides import TorchFunctionMode, resolve_name


class OpCounter(TorchFunctionMode):
    def __init__(self):
        super().__init__()
        self.counts = collections.Counter()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = resolve_name(func) or getattr(func, "__name__", "?")
        self.counts[name.rsplit(".", 1)[-1]] += 1
        return func(*args, **(kwargs or {}))


FACTORIES = {torch.zeros, torch.ones, torch.empty, torch.full, torch.randn, torch.arange}


class DefaultDtype(TorchFunctionMode):
    def __init__(self, dtype):
        super().__init__()
        self.dtype = dtype

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func in FACTORIES and kwargs.get("dtype") is None:
            kwargs["dtype"] = self.dtype
        return func(*args, **kwargs)


rng = np.random.default_rng(2)
model = init_from_numpy(nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)), seed=2)
x, y = randn(rng, 10, 6), torch.from_numpy(rng.integers(0, 3, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
with OpCounter() as counter:
    loss = F.cross_entropy(model(x), y)
    loss.backward()
counts = {k: counter.counts[k] for k in ("linear", "relu", "cross_entropy", "backward")}
loss_value = loss.item()
with DefaultDtype(torch.float64):
    z = torch.zeros(3)
    o = torch.ones(2, 2, dtype=torch.int32)
    r = torch.arange(4.0)
dtypes = [str(z.dtype).split(".")[-1], str(o.dtype).split(".")[-1], str(r.dtype).split(".")[-1]]
after = str(torch.zeros(1).dtype).split(".")[-1]
with OpCounter() as outer:
    with DefaultDtype(torch.float64):
        w = torch.ones(3) * 2
    v = w.sum()
nested = [str(w.dtype).split(".")[-1], outer.counts["ones"], outer.counts["sum"], v.item()]
