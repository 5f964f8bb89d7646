"""``__torch_function__`` as PyTorch's "Extending torch" notes use it beyond logging: a
``DiagonalTensor`` tensor-like (not a subclass) with a ``HANDLED_FUNCTIONS`` table filled by an
``implements`` decorator, a user function made overridable with ``has_torch_function`` and
``handle_torch_function``, a subclass that overrides one function and computes plainly under
``torch._C.DisableTorchFunctionSubclass``, and a ``TorchFunctionMode`` that rewrites calls
inside a model's forward (GELU to its tanh approximation, dropout off)."""

import functools

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode, handle_torch_function, has_torch_function

HANDLED_FUNCTIONS = {}


def implements(torch_function):
    def decorator(func):
        functools.update_wrapper(func, torch_function)
        HANDLED_FUNCTIONS[torch_function] = func
        return func

    return decorator


class DiagonalTensor:
    def __init__(self, N, value):
        self._N, self._i = N, value

    def __repr__(self):
        return f"DiagonalTensor(N={self._N}, value={self._i})"

    def tensor(self):
        return self._i * torch.eye(self._N)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func not in HANDLED_FUNCTIONS or not all(
            issubclass(t, (torch.Tensor, DiagonalTensor)) for t in types
        ):
            return NotImplemented
        return HANDLED_FUNCTIONS[func](*args, **kwargs)


@implements(torch.mean)
def mean(input):
    return float(input._i) / input._N


@implements(torch.add)
def add(input, other):
    if isinstance(input, DiagonalTensor) and isinstance(other, DiagonalTensor):
        return DiagonalTensor(input._N, input._i + other._i)
    a = input.tensor() if isinstance(input, DiagonalTensor) else input
    b = other.tensor() if isinstance(other, DiagonalTensor) else other
    return a + b


@implements(torch.trace)
def trace(input):
    return input._i * input._N


d = DiagonalTensor(5, 2)
diag = {
    "mean": torch.mean(d),
    "trace": torch.trace(d),
    "add_diag": repr(torch.add(d, DiagonalTensor(5, 3))),
    "add_dense": torch.add(d, torch.ones(5, 5)).sum().item(),
    "name": torch.mean.__name__,
}
try:
    torch.sum(d)
    diag["unhandled"] = None
except TypeError:
    diag["unhandled"] = "TypeError"


def scaled_norm(x, scale=2.0):
    """A library function that tensor-likes can override."""
    if has_torch_function((x,)):
        return handle_torch_function(scaled_norm, (x,), x, scale=scale)
    return scale * x.norm()


@implements(scaled_norm)
def diagonal_norm(x, scale=2.0):
    return scale * abs(x._i) * x._N**0.5


custom = [scaled_norm(torch.ones(4)).item(), scaled_norm(d, scale=3.0)]


class PlainAdd(torch.Tensor):
    """Overrides torch.add only: it runs on plain tensors and returns a plain tensor."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in (torch.add, torch.Tensor.add, torch.Tensor.__add__):
            with torch._C.DisableTorchFunctionSubclass():
                return func(*args, **kwargs) * 10
        return super().__torch_function__(func, types, args, kwargs)


p = torch.arange(3.0).as_subclass(PlainAdd)
subclass_results = {
    "add": (p + 1).tolist(),
    "add_type": type(p + 1).__name__,
    "mul_type": type(p * 2).__name__,
    "mul": (p * 2).tolist(),
    "sum_type": type(torch.sum(p)).__name__,
}


class InferenceRewrite(TorchFunctionMode):
    """Rewrites calls in forward: exact GELU to the tanh approximation, dropout off."""

    def __init__(self):
        super().__init__()
        self.rewritten = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func is F.gelu:
            kwargs["approximate"] = "tanh"
            self.rewritten.append("gelu")
        elif func is F.dropout:
            self.rewritten.append("dropout")
            return args[0]
        return func(*args, **kwargs)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(6, 12), nn.Linear(12, 3)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.fc2(self.drop(F.gelu(self.fc1(x))))


torch.manual_seed(0)
block = Block()  # training mode: dropout would be on
x = torch.randn(4, 6)
with InferenceRewrite() as mode:
    rewritten = block(x)
expected = block.fc2(F.gelu(block.fc1(x), approximate="tanh"))
mode_gap = (rewritten - expected).abs().max().item()
mode_calls = mode.rewritten
rewritten_values = rewritten.flatten().tolist()
