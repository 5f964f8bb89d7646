"""Reductions over dimensions: sum, prod, max/min, logsumexp, norm, cumulative sums, and the
statistics composed from them (mean, var, std)."""

from __future__ import annotations

import builtins
import math
from collections import namedtuple

from .. import dtypes
from .base import Op, constant, kept_shape, normalize_dim, normalize_dims
from .elementwise import where


class Sum(Op):
    """y = Σ x over dims; dy/dx = 1 (the gradient is broadcast back over the summed dims)"""

    def __init__(self, dims: tuple, keepdim: bool):
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x):
        dtype = "int64" if x.dtype.kind in "biu" else None
        return x.sum(axis=self.dims, keepdims=self.keepdim, dtype=dtype)

    def backward(self, gy):
        shape = self.input_meta[0][0]
        if not self.keepdim:
            gy = gy.reshape(kept_shape(shape, self.dims))
        return gy.expand(shape)


class SumToSize(Op):
    """y = x summed down to a shape x broadcasts from; dy/dx = 1 (broadcast back)"""

    def __init__(self, shape: tuple):
        self.shape = tuple(shape)

    def forward(self, x):
        lead = x.ndim - len(self.shape)
        if lead < 0 or builtins.any(s not in (1, n) for s, n in zip(self.shape, x.shape[lead:])):
            raise RuntimeError(f"size {list(self.shape)} is not expandable to size {list(x.shape)}")
        axes = tuple(range(lead)) + tuple(
            lead + i for i, s in enumerate(self.shape) if s == 1 and x.shape[lead + i] != 1
        )
        return (
            x.sum(axis=axes, keepdims=True).reshape(self.shape) if axes else x.reshape(self.shape)
        )

    def backward(self, gy):
        return gy.expand(self.input_meta[0][0])


class Prod(Op):
    """y = Π x over one dim (or all); dy/dxᵢ = Π_{j≠i} xⱼ, exact also when some xⱼ are zero"""

    save_inputs = True
    save_output = True

    def __init__(self, dim, keepdim: bool):
        self.dim, self.keepdim = dim, keepdim

    def forward(self, x):
        dtype = "int64" if x.dtype.kind in "biu" else None
        return x.prod(axis=self.dim, keepdims=self.keepdim, dtype=dtype)

    def backward(self, gy):
        x, y = self.saved_tensors
        if self.dim is None:
            return gy * Prod(None, False).others(x.reshape(-1)).reshape(x.shape)
        if not self.keepdim:
            gy, y = gy.unsqueeze(self.dim), y.unsqueeze(self.dim)
        if bool((x._data != 0).all()):
            return gy * y / x
        moved = x.movedim(self.dim, -1)
        return gy * self.others(moved).movedim(-1, self.dim)

    @staticmethod
    def others(x):
        """For x of shape (..., n): the product of all entries but the i-th, for each i."""
        n = x.shape[-1]
        eye = constant(x.device.xp.eye(n, dtype=bool), x.device)
        rows = x.unsqueeze(-2).expand(*x.shape[:-1], n, n)
        return where(eye, 1.0, rows).prod(-1)


class Amax(Op):
    """y = max x over dims; dy/dx = 1/k on each of the k maximal entries (ties share evenly)"""

    save_inputs = True
    save_output = True
    reduce_name = "max"

    def __init__(self, dims: tuple, keepdim: bool):
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x):
        if x.size == 0:
            raise RuntimeError(f"a{self.reduce_name}(): cannot reduce an empty tensor")
        return getattr(x, self.reduce_name)(axis=self.dims, keepdims=self.keepdim)

    def backward(self, gy):
        x, y = self.saved_tensors
        if not self.keepdim:
            shape = kept_shape(x.shape, self.dims)
            gy, y = gy.reshape(shape), y.reshape(shape)
        mask = x == y
        return gy * mask / mask.sum(self.dims, keepdim=True)


class Amin(Amax):
    """y = min x over dims; dy/dx = 1/k on each of the k minimal entries"""

    reduce_name = "min"


class LogSumExp(Op):
    """y = log Σ exp(x) over dims (computed with the max subtracted); dy/dx = exp(x - y)"""

    save_inputs = True
    save_output = True

    def __init__(self, dims: tuple, keepdim: bool):
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x):
        xp = self.xp
        m = (
            x.max(axis=self.dims, keepdims=True)
            if x.size
            else xp.zeros(kept_shape(x.shape, self.dims), x.dtype)
        )
        m = xp.where(xp.isfinite(m), m, 0)  # all -inf (or an inf): avoid inf - inf
        y = xp.log(xp.exp(x - m).sum(axis=self.dims, keepdims=True)) + m
        return (
            y
            if self.keepdim
            else y.reshape([s for i, s in enumerate(y.shape) if i not in self.dims])
        )

    def backward(self, gy):
        x, y = self.saved_tensors
        if not self.keepdim:
            shape = kept_shape(x.shape, self.dims)
            gy, y = gy.reshape(shape), y.reshape(shape)
        return gy * (x - y).exp()


class Norm2(Op):
    """y = √(Σ x²) over dims; dy/dx = x / y (0 where y = 0, as PyTorch)"""

    save_inputs = True
    save_output = True

    def __init__(self, dims: tuple, keepdim: bool):
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x):
        return self.xp.sqrt((x * x).sum(axis=self.dims, keepdims=self.keepdim))

    def backward(self, gy):
        x, y = self.saved_tensors
        if not self.keepdim:
            shape = kept_shape(x.shape, self.dims)
            gy, y = gy.reshape(shape), y.reshape(shape)
        zero = y == 0
        return where(zero, 0.0, gy * x / where(zero, 1.0, y))


class Cumsum(Op):
    """yᵢ = Σ_{j≤i} xⱼ along dim; dx = reverse cumulative sum of dy"""

    def __init__(self, dim: int):
        self.dim = dim

    def forward(self, x):
        dtype = "int64" if x.dtype.kind in "biu" else None
        return x.cumsum(axis=self.dim, dtype=dtype)

    def backward(self, gy):
        return gy.flip(self.dim).cumsum(self.dim).flip(self.dim)


# -- functions ----------------------------------------------------------------------------------


def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum over ``dim`` (int, tuple, or None for all). Integer and bool inputs sum to int64."""
    if dtype is not None:
        input = input.to(dtype)
    return Sum(normalize_dims(dim, input.ndim, "sum"), keepdim)(input)


def sum_to_size(input, *size):
    """Sum ``input`` down to ``size``, which it must broadcast from (Tensor.sum_to_size)."""
    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
    if tuple(input.shape) == shape:
        return input
    return SumToSize(shape)(input)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Arithmetic mean over ``dim``; needs a floating input (as PyTorch)."""
    if dtype is not None:
        input = input.to(dtype)
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {input.dtype.name}"
        )
    dims = normalize_dims(dim, input.ndim, "mean")
    count = math.prod(input.shape[d] for d in dims)
    return Sum(dims, keepdim)(input) / count if count else Sum(dims, keepdim)(input) * math.nan


def prod(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    if dim is not None:
        dim = normalize_dim(dim, input.ndim, "prod")
    return Prod(dim, keepdim)(input)


def var(input, dim=None, *, correction=1, keepdim=False, unbiased=None):
    """Variance over ``dim`` with Bessel's ``correction`` (1 = unbiased, as PyTorch's default)."""
    if unbiased is not None:
        correction = int(unbiased)
    dims = normalize_dims(dim, input.ndim, "var")
    count = math.prod(input.shape[d] for d in dims)
    centered = input - mean(input, dims, keepdim=True)
    return (centered * centered).sum(dims, keepdim=keepdim) / builtins.max(0, count - correction)


def std(input, dim=None, *, correction=1, keepdim=False, unbiased=None):
    """Standard deviation: the square root of :func:`var`."""
    return var(input, dim, correction=correction, keepdim=keepdim, unbiased=unbiased).sqrt()


def amax(input, dim=(), keepdim=False):
    return Amax(normalize_dims(dim, input.ndim, "amax"), keepdim)(input)


def amin(input, dim=(), keepdim=False):
    return Amin(normalize_dims(dim, input.ndim, "amin"), keepdim)(input)


MaxResult = namedtuple("max", ["values", "indices"])
MinResult = namedtuple("min", ["values", "indices"])


def max(input, dim=None, keepdim=False):
    """The largest value (no ``dim``), or ``(values, indices)`` along ``dim``.

    Without ``dim`` the gradient is shared evenly by tied maxima; with ``dim`` it goes to the
    entry whose index is returned (the first maximum), as PyTorch does.
    """
    if dim is None:
        return amax(input)
    return _extreme_along(input, dim, keepdim, "argmax", MaxResult)


def min(input, dim=None, keepdim=False):
    """The smallest value (no ``dim``), or ``(values, indices)`` along ``dim``."""
    if dim is None:
        return amin(input)
    return _extreme_along(input, dim, keepdim, "argmin", MinResult)


def _extreme_along(input, dim, keepdim, arg, result_type):
    dim = normalize_dim(dim, input.ndim, arg[3:])
    if input.ndim == 0:
        return result_type(input * 1, input.new_zeros((), dtype=dtypes.int64))
    indices = _arg_reduce(input, dim, True, arg)
    values = input.gather(dim, indices)
    if not keepdim:
        values, indices = values.squeeze(dim), indices.squeeze(dim)
    return result_type(values, indices)


def argmax(input, dim=None, keepdim=False):
    """Index of the largest value (of the flattened tensor when ``dim`` is None)."""
    return _arg_reduce(input, dim, keepdim, "argmax")


def argmin(input, dim=None, keepdim=False):
    return _arg_reduce(input, dim, keepdim, "argmin")


def _arg_reduce(input, dim, keepdim, name):
    data = input._data
    if data.size == 0:
        raise RuntimeError(f"{name}(): expected a non-empty tensor")
    if dim is None:
        out = getattr(data.reshape(-1), name)()
        out = out.reshape((1,) * input.ndim if keepdim else ())
    else:
        axis = normalize_dim(dim, input.ndim, name)
        out = (
            getattr(data, name)(axis=axis, keepdims=keepdim)
            if data.ndim
            else data.astype(bool) & False
        )
    return constant(out.astype("int64", copy=False), input.device)


def logsumexp(input, dim, keepdim=False):
    return LogSumExp(normalize_dims(dim, input.ndim, "logsumexp"), keepdim)(input)


def norm(input, p="fro", dim=None, keepdim=False):
    """The vector p-norm over ``dim`` (all elements by default): p = 2/'fro', 1, inf, -inf, 0 or any float."""
    dims = normalize_dims(dim, input.ndim, "norm")
    if p in ("fro", 2, 2.0):
        return Norm2(dims, keepdim)(input)
    if p == math.inf:
        return input.abs().amax(dims, keepdim)
    if p == -math.inf:
        return input.abs().amin(dims, keepdim)
    if p == 0:
        return (input != 0).sum(dims, keepdim=keepdim).to(input.dtype)
    if p == 1:
        return input.abs().sum(dims, keepdim=keepdim)
    if isinstance(p, (int, float)):
        return (input.abs() ** p).sum(dims, keepdim=keepdim) ** (1.0 / p)
    raise NotImplementedError(f"norm: p={p!r} (matrix norms such as 'nuc') is not supported")


def cumsum(input, dim, *, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    return Cumsum(normalize_dim(dim, input.ndim, "cumsum"))(input)


def all(input, dim=None, keepdim=False):
    axis = None if dim is None else normalize_dims(dim, input.ndim, "all")
    return constant(input._data.all(axis=axis, keepdims=keepdim), input.device)


def any(input, dim=None, keepdim=False):
    axis = None if dim is None else normalize_dims(dim, input.ndim, "any")
    return constant(input._data.any(axis=axis, keepdims=keepdim), input.device)


# -- sorting ------------------------------------------------------------------------------------

SortResult = namedtuple("sort", ["values", "indices"])
TopkResult = namedtuple("topk", ["values", "indices"])


def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort ``input`` along ``dim`` (always a stable sort: ties keep their order)."""
    if input.ndim == 0:
        return constant(input.device.xp.zeros((), dtype="int64"), input.device)
    d = normalize_dim(dim, input.ndim, "argsort")
    data = input._data
    keys = (~data if data.dtype.kind == "b" else -data) if descending else data
    order = input.device.xp.argsort(keys, axis=d, kind="stable")
    return constant(order.astype("int64", copy=False), input.device)


def sort(input, dim=-1, descending=False, stable=False):
    """``(values, indices)`` sorted along ``dim``; the gradient flows to the original places."""
    indices = argsort(input, dim, descending)
    if input.ndim == 0:
        return SortResult(input * 1, indices)
    return SortResult(input.gather(normalize_dim(dim, input.ndim, "sort"), indices), indices)


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) entries along ``dim`` as ``(values, indices)``."""
    d = normalize_dim(dim, input.ndim, "topk")
    size = input.shape[d] if input.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError(f"topk: k ({k}) must be between 0 and the size of dim {d} ({size})")
    indices = argsort(input, d, descending=largest)
    if input.ndim == 0:
        return TopkResult(input * 1, indices)
    indices = indices[(slice(None),) * d + (slice(0, k),)]
    return TopkResult(input.gather(d, indices), indices)


def nonzero(input, *, as_tuple=False):
    """Indices of the non-zero entries: an (n, ndim) int64 tensor, or one 1-D tensor per dim."""
    xp = input.device.xp
    found = xp.nonzero(input._data if input.ndim else input._data.reshape(1))
    columns = [constant(c.astype("int64", copy=False), input.device) for c in found]
    if as_tuple:
        return tuple(columns)
    if input.ndim == 0:
        return constant(xp.zeros((int(found[0].size), 0), dtype="int64"), input.device)
    return constant(xp.stack([c._data for c in columns], axis=1), input.device)
