"""The "Extending torch with a Tensor subclass" tutorial: a ``LoggingTensor`` subclass whose
``__torch_function__`` records every call and keeps its type through results (autograd
included), and the tutorial's ``ScalarTensor``, a non-Tensor class that implements
``torch.mean`` and ``torch.add`` through a ``HANDLED_FUNCTIONS`` table."""

import functools

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy, randn

calls = []


class LoggingTensor(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", str(func))
        calls.append(name)
        return super().__torch_function__(func, types, args, kwargs or {})


rng = np.random.default_rng(0)
model = init_from_numpy(nn.Sequential(nn.Linear(4, 3), nn.Tanh()), seed=0)
x = randn(rng, 5, 4).as_subclass(LoggingTensor)
out = model(x)
loss = out.pow(2).sum()
loss.backward()
out_type = type(out).__name__
loss_type = type(loss).__name__
logged = [c for c in calls if c in ("linear", "tanh", "pow", "sum", "backward")]
loss_value = float(loss)
grad_sum = float(model[0].weight.grad.sum())
plain = torch.ones(2).as_subclass(LoggingTensor) + torch.ones(2)
plain_type = type(plain).__name__
is_instance = isinstance(x, torch.Tensor) and isinstance(x, LoggingTensor)

HANDLED_FUNCTIONS = {}


def implements(torch_function):
    def decorator(func):
        functools.update_wrapper(func, torch_function)
        HANDLED_FUNCTIONS[torch_function] = func
        return func

    return decorator


class ScalarTensor:
    """An N x N diagonal matrix holding one value: ``value * I``."""

    def __init__(self, N, value):
        self._N, self._value = N, value

    def tensor(self):
        return self._value * torch.eye(self._N)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func not in HANDLED_FUNCTIONS or not all(
            issubclass(t, (torch.Tensor, ScalarTensor)) for t in types
        ):
            return NotImplemented
        return HANDLED_FUNCTIONS[func](*args, **kwargs)


def ensure_tensor(data):
    return data.tensor() if isinstance(data, ScalarTensor) else torch.as_tensor(data)


@implements(torch.mean)
def mean(input):
    return float(input._value) / input._N


@implements(torch.add)
def add(input, other):
    if isinstance(input, ScalarTensor) and isinstance(other, ScalarTensor):
        return ScalarTensor(input._N, input._value + other._value)
    return torch.add(ensure_tensor(input), ensure_tensor(other))


d = ScalarTensor(5, 2)
scalar_mean = torch.mean(d)
sum_scalar = torch.add(d, ScalarTensor(5, 3))._value
mixed = torch.add(d, torch.ones(5, 5)).sum().item()
try:
    torch.sum(d)
    unhandled = "no error"
except TypeError:
    unhandled = "TypeError"
