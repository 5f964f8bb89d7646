"""Indexing: ``x[key]`` (basic and advanced, with scatter-add gradients for repeated indices),
index_select, gather and scatter_add."""

from __future__ import annotations

import numpy as np

from .. import dtypes
from ..autograd import graph
from .base import Op, normalize_dim
from .elementwise import promote
from .joining import pad


class GetItem(Op):
    """y = x[key]; dx = dy added into zeros at key (repeated indices add up)"""

    def __init__(self, key):
        self.key = key
        self.is_view = not any(_is_array_index(k) for k in key)

    def forward(self, x):
        return x[self.key]

    def backward(self, gy):
        shape, np_dtype, _ = self.input_meta[0]
        return IndexAdd(shape, self.key, self.is_view)(gy)


class IndexAdd(Op):
    """y = zeros(shape) with y[key] += x (the backward of indexing); dx = dy[key]"""

    def __init__(self, shape: tuple, key, basic: bool):
        self.shape, self.key, self.basic = shape, key, basic

    def forward(self, x):
        out = self.xp.zeros(self.shape, dtype=x.dtype)
        if self.basic:
            out[self.key] = x
        else:
            self.device.backend.scatter_add(out, self.key, x)
        return out

    def backward(self, gy):
        return GetItem(self.key)(gy)


def _is_array_index(k) -> bool:
    return hasattr(k, "shape") and hasattr(k, "dtype")


class Gather(Op):
    """y[i][j] = x[index[i][j]][j] along dim (torch.gather); dx = zeros with dy scatter-added"""

    def __init__(self, dim: int, index):
        self.dim, self.index = dim, index

    def forward(self, x):
        region = _leading_region(x, self.index.shape, self.dim)
        return self.xp.take_along_axis(region, self.index, axis=self.dim)

    def backward(self, gy):
        shape = self.input_meta[0][0]
        zeros = gy.new_zeros(shape)
        return ScatterAdd(self.dim, self.index)(zeros, gy)


class ScatterAdd(Op):
    """y = base with src added at index along dim (torch.scatter_add);
    d/dbase = dy, d/dsrc = dy gathered at index"""

    def __init__(self, dim: int, index):
        self.dim, self.index = dim, index

    def forward(self, base, src):
        out = base.copy()
        key = _scatter_key(self.xp, self.index, self.dim)
        src = _leading_region(src, self.index.shape, self.dim, whole_dim=False)
        self.device.backend.scatter_add(out, key, src)
        return out

    def backward(self, gy):
        need_base, need_src = self.needs_input_grad
        g_src = None
        if need_src:
            g_src = Gather(self.dim, self.index)(gy)
            src_shape = self.input_meta[1][0]
            if tuple(g_src.shape) != src_shape:  # src larger than index: the rest got no use
                g_src = pad(g_src, _pad_to(g_src.shape, src_shape))
        return (gy if need_base else None), g_src


def _leading_region(x, index_shape, dim, whole_dim=True):
    """``x`` cut to ``index_shape`` in every dim (but ``dim`` when ``whole_dim``), as gather reads."""
    if x.ndim != len(index_shape):
        raise RuntimeError(
            f"gather/scatter: index has {len(index_shape)} dims but the tensor has {x.ndim}; "
            f"they must have the same number of dimensions"
        )
    for d, (n, m) in enumerate(zip(index_shape, x.shape)):
        if n > m and (d != dim or not whole_dim):
            raise RuntimeError(
                f"gather/scatter: size of index ({n}) exceeds the size of the tensor ({m}) in "
                f"dimension {d}"
            )
    key = tuple(
        slice(None) if (d == dim and whole_dim) else slice(0, n) for d, n in enumerate(index_shape)
    )
    return x[key]


def _scatter_key(xp, index, dim):
    """The advanced-index tuple that addresses ``out[..., index, ...]`` position by position."""
    key = []
    for d, n in enumerate(index.shape):  # an open grid, built from arange on any array library
        shape = [1] * index.ndim
        shape[d] = n
        key.append(index if d == dim else xp.arange(n).reshape(shape))
    return tuple(key)


def _pad_to(shape, target):
    """F.pad widths that extend ``shape`` with zeros at the end up to ``target``."""
    widths = []
    for n, m in zip(reversed(shape), reversed(target)):
        widths += [0, m - n]
    return tuple(widths)


# -- functions --------------------------------------------------------------------------------


def getitem(input, key):
    """``input[key]`` with PyTorch's rules: ints, slices, None, Ellipsis, bool masks, index tensors.

    PyTorch applies integer indices first (as ``select``) and index tensors after; NumPy counts
    an int next to an index array as one more advanced index, which moves the result's dims
    when a slice or None separates them. So a key with both is applied in those two steps.
    """
    key = normalize_key(input, key)
    ints = [isinstance(k, int) for k in key]
    if any(ints) and any(_is_array_index(k) for k in key):
        selects = tuple(
            k if is_int or k is Ellipsis else slice(None)
            for k, is_int in zip(key, ints)
            if k is not None
        )
        rest = tuple(k for k, is_int in zip(key, ints) if not is_int)
        return GetItem(rest)(GetItem(selects)(input))
    return GetItem(key)(input)


def normalize_key(input, key):
    tensor_cls = graph.Tensor
    key = key if isinstance(key, tuple) else (key,)
    out = []
    for k in key:
        if isinstance(k, tensor_cls):
            if k.device is not input.device:
                raise RuntimeError(
                    f"indices should be on the same device as the indexed tensor ({input.device}), "
                    f"got {k.device}"
                )
            if k.dtype.is_floating_point:
                raise IndexError(
                    "tensors used as indices must be long, int, byte or bool tensors, got "
                    f"{k.dtype}"
                )
            k = k._data
        elif isinstance(k, (list, tuple, np.ndarray)):
            host = np.asarray(k)
            if host.dtype.kind not in "iub":
                raise IndexError(
                    f"indices must be integers or bools, got a sequence of {host.dtype}"
                )
            k = input.device.backend.from_host(host, input.device.index)
        if hasattr(k, "dtype") and k.dtype.kind == "b" and k.ndim > 0:
            out.extend(k.nonzero())  # a mask selects its true positions, as PyTorch
            continue
        out.append(k)
    return tuple(out)


def index_select(input, dim, index):
    if index.ndim > 1:
        raise IndexError(f"index_select(): Index is supposed to be a vector, got {index.ndim} dims")
    dim = normalize_dim(dim, input.ndim, "index_select")
    return GetItem((slice(None),) * dim + (index._data.reshape(-1),))(input)


def gather(input, dim, index):
    _check_index(index, "gather")
    return Gather(normalize_dim(dim, input.ndim, "gather"), index._data)(input)


def scatter_add(input, dim, index, src):
    _check_index(index, "scatter_add")
    input, src = promote(input, src)
    return ScatterAdd(normalize_dim(dim, input.ndim, "scatter_add"), index._data)(input, src)


def _check_index(index, op):
    if not isinstance(index, graph.Tensor) or index.dtype is not dtypes.int64:
        kind = index.dtype if isinstance(index, graph.Tensor) else type(index).__name__
        raise RuntimeError(f"{op}(): Expected dtype int64 for index, got {kind}")
