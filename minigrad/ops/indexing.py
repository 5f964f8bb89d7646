"""Indexing: ``x[key]`` (basic and advanced, with scatter-add gradients for repeated indices),
index_select, gather and scatter_add."""

from __future__ import annotations

import re

import numpy as np

from .. import _torch_function as _tf
from .. import backend, dtypes
from .._warnings import warn_user
from ..autograd import graph
from ..autograd.graph import named_as
from .base import Op, accepts_axis, normalize_dim
from .joining import pad


class GetItem(Op):
    """y = x[key]; dx = dy added into zeros at key (repeated indices add up)"""

    supports_complex = True

    def __init__(self, key):
        self.key = key
        self.is_view = not any(_is_array_index(k) for k in key)

    def forward(self, x):
        last = self.key[-1] if self.key else None
        if type(last) is np.ndarray and type(x) is np.ndarray and _takes_along(self.key, x):
            # x[:, :, idx] through take: NumPy's fancy indexing of an inner dim is ~10x slower
            return self.xp.take(x, last, axis=len(self.key) - 1)
        out = x[self.key]
        if isinstance(out, np.generic):  # NumPy's detached scalar for x[1] of a vector:
            out = x[self.key + (Ellipsis,)]  # x[1, ...] is a 0-d view instead
        return out

    def backward(self, gy):
        shape, np_dtype, _ = self.input_meta[0]
        return IndexAdd(shape, self.key, self.is_view)(gy)

    def name(self) -> str:
        # PyTorch names the last step of indexing: an index tensor, else the last key that is
        # not ``:`` or ``...`` (x[:] alone is a slice; x[:, :] and x[...] an alias)
        if not self.is_view:
            return "IndexBackward0"
        key = self.key
        for k in reversed(key):
            if k is None:
                return "UnsqueezeBackward0"
            if isinstance(k, slice) and not _is_whole(k):
                return "SliceBackward0"
            if k is not Ellipsis and not isinstance(k, slice):
                return "SelectBackward0"
        return "SliceBackward0" if len(key) == 1 and _is_whole(key[0]) else "AliasBackward0"


def _is_whole(k) -> bool:
    """``k`` is ``:`` (compared field by field: a bound may be a tensor, whose ``==`` is
    elementwise)."""
    return isinstance(k, slice) and k.start is None and k.stop is None and k.step is None


class IndexAdd(Op):
    """y = zeros(shape) with y[key] += x (the backward of indexing); dx = dy[key]"""

    supports_complex = True

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


def _takes_along(key: tuple, x) -> bool:
    """True for a key of whole slices then one 1-D integer array (``index_select``'s)."""
    last = key[-1]
    return (
        last.ndim == 1
        and last.dtype.kind in "iu"
        and x.ndim >= len(key)
        and all(_is_whole(k) for k in key[:-1])
    )


def _is_array_index(k) -> bool:
    return hasattr(k, "shape") and hasattr(k, "dtype")


class Gather(Op):
    """y[i][j] = x[index[i][j]][j] along dim (torch.gather); dx = zeros with dy scatter-added"""

    supports_complex = True

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

    supports_complex = True

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
        raise RuntimeError(  # (PyTorch's words for gather; scatter checks self's dims first)
            f"Index tensor must have the same number of dimensions as input tensor (gather/"
            f"scatter: index has {len(index_shape)} dims, the tensor {x.ndim})"
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
    try:
        normalized = normalize_key(input, key)
        split = split_int_key(normalized)
        if split is not None:
            selects, rest = split
            return GetItem(rest)(GetItem(selects)(input))
        return GetItem(normalized)(input)
    except (TypeError, IndexError) as e:  # a tensor-like index takes the call, as in PyTorch
        return _tf.operand_takes("__getitem__", (input, key), in_dimensions(e))


def in_dimensions(error: Exception) -> Exception:
    """NumPy's "out of bounds for axis 0" as PyTorch words it: "for dimension 0"; its index
    arrays that do not broadcast as PyTorch words them ("indexing tensors", shapes as lists)."""
    text = str(error)
    if isinstance(error, IndexError) and " for axis " in text:
        return type(error)(text.replace(" for axis ", " for dimension "))
    if isinstance(error, IndexError) and "indexing arrays could not be broadcast" in text:
        shapes = re.findall(r"\(([\d, ]*)\)", text.split("shapes", 1)[1])
        lists = ", ".join(
            "[" + ", ".join(n for n in s.replace(" ", "").split(",") if n) + "]" for s in shapes
        )
        return IndexError(
            f"shape mismatch: indexing tensors could not be broadcast together with shapes {lists}"
        )
    return error


def split_int_key(key: tuple):
    """``(selects, rest)`` for a normalised key holding both ints and index arrays, else None.

    ``x[key]`` is ``x[selects][rest]`` with PyTorch's dim order: ``selects`` is the ints alone
    (a basic index: a view), ``rest`` the other entries. Reading and writing both use it.
    """
    ints = [isinstance(k, int) for k in key]
    if not (any(ints) and any(_is_array_index(k) for k in key)):
        return None
    selects = tuple(
        k if is_int or k is Ellipsis else slice(None)
        for k, is_int in zip(key, ints)
        if k is not None
    )
    rest = tuple(k for k, is_int in zip(key, ints) if not is_int)
    return selects, rest


def normalize_key(input, key):
    """The one index normaliser: ``key`` as a tuple of ints, slices, None, Ellipsis and device
    arrays, checked as PyTorch checks it, for reading (``x[key]``) and writing (``x[key] = v``).

    - index tensors must be int64, int32, uint8 or bool (PyTorch's long, int, byte or bool);
      lists and NumPy arrays of integers or bools are uploaded;
    - bool and uint8 arrays are masks (uint8 as in PyTorch, which deprecates it): a mask's
      shape must equal the dims it covers, and it becomes the positions of its true elements;
    - integer arrays must lie in ``[-size, size)`` of the dim they index; on a GPU this is
      checked on the device and reported at the next host synchronisation.
    """
    tensor_cls = graph.Tensor
    if not isinstance(key, tuple):
        key = tuple(key) if _sequence_as_tuple(key, tensor_cls) else (key,)
    items = []
    for k in key:
        if isinstance(k, tensor_cls):
            if k.device is not input.device:
                raise RuntimeError(
                    f"indices should be on the same device as the indexed tensor ({input.device}), "
                    f"got {k.device}"
                )
            if k.dtype not in _INDEX_DTYPES:
                raise IndexError(
                    "tensors used as indices must be long, int, byte or bool tensors, got "
                    f"{k.dtype}"
                )
            graph.refuse_inference_index(k, input)
            k = k._data
        elif isinstance(k, (list, tuple, np.ndarray)):
            host = np.asarray(k)
            if host.dtype.kind not in "iub" and host.size:
                raise IndexError(
                    f"indices must be integers or bools, got a sequence of {host.dtype}"
                )
            if host.dtype.kind not in "ub":
                host = host.astype(np.int64)
            k = input.device.backend.from_host(host, input.device.index)
        elif type(k) is float:  # (PyTorch's words; NumPy's name its own index types)
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                "are valid indices (got float)"
            )
        if _is_array_index(k) and k.dtype == np.uint8:
            warn_user(
                "indexing with dtype uint8 is deprecated (as in PyTorch), use a bool mask",
                UserWarning,
            )
            with backend.on(input.device):
                k = k != 0
        items.append(k)
    return _expand_and_check(input, items)


def _sequence_as_tuple(key, tensor_cls) -> bool:
    """PyTorch's legacy rule (NumPy's old one): a list shorter than 32 holding a tensor, a
    sequence, a slice, Ellipsis or None is a tuple of indices (``x[[slice(None), idx]]`` is
    ``x[:, idx]``, ``x[[[0, 1], [1, 2]]]`` is ``x[[0, 1], [1, 2]]``), with PyTorch's warning;
    a list of ints or bools stays one index. NumPy arrays are always one index."""
    if not isinstance(key, list) or len(key) >= 32:
        return False
    legacy = any(
        isinstance(k, (tensor_cls, list, tuple, range, np.ndarray, slice)) or k is None or k is ...
        for k in key
    )
    if legacy:
        warn_user(
            "Using a non-tuple sequence for multidimensional indexing is deprecated (as in "
            "PyTorch); use x[tuple(seq)] instead of x[seq]",
            UserWarning,
        )
    return legacy


def _expand_and_check(input, items) -> tuple:
    """Masks to positions, mask shapes and integer array ranges checked against the dims."""
    shape = input.shape

    def covers(k):  # how many dims of ``input`` an entry indexes
        if k is None or k is Ellipsis:
            return 0
        return k.ndim if _is_array_index(k) and k.dtype == bool else 1

    used = sum(covers(k) for k in items)
    if used > len(shape):
        raise IndexError(
            f"too many indices for tensor of dimension {len(shape)} (got {used} indexed dims)"
        )
    out, dim = [], 0
    for k in items:
        if k is Ellipsis:
            dim += len(shape) - used
        elif _is_array_index(k) and k.dtype == bool and k.ndim > 0:
            for j, n in enumerate(k.shape):
                if n != shape[dim + j]:
                    raise IndexError(
                        f"The shape of the mask {list(k.shape)} at index {j} does not match the "
                        f"shape of the indexed tensor {list(shape)} at index {dim + j}"
                    )
            with backend.on(input.device):
                out.extend(k.nonzero())  # a mask selects its true positions, as PyTorch
            dim += k.ndim
            continue
        elif _is_array_index(k) and k.dtype != bool:
            check_range(
                k, shape[dim], input.device,
                f"index {{}} is out of bounds for dimension {dim} with size {shape[dim]}",
            )  # fmt: skip
        dim += covers(k)
        out.append(k)
    return tuple(out)


_INDEX_DTYPES = (dtypes.int64, dtypes.int32, dtypes.uint8, dtypes.bool)


def check_range(index, size: int, device, message: str, negative: bool = True) -> None:
    """Check that the integer array ``index`` lies in ``[-size, size)`` (``[0, size)`` unless
    ``negative``), raising :class:`IndexError` with ``message`` (one ``{}`` for the value).

    On the CPU it raises at once. On a GPU the check is a few kernels and a device-side flag:
    the error is raised at the next host synchronisation (``.item()``, ``.cpu()``,
    ``.numpy()``, ``cuda.synchronize()``), never a silent wrong result and never a host round
    trip per op. ``Embedding``, ``gather``, ``scatter_add``, ``index_select`` and tensor
    indexing all check here.
    """
    if hasattr(type(index), "all_elements"):  # a batched index under vmap: every sample's
        index = index.all_elements()
    if index.size == 0 or device.type == "meta":  # (meta indices have no values to check)
        return
    with backend.on(device):
        bad = index >= size
        bad |= (index < -size) if negative else (index < 0)
        device.backend.check_indices(bad, index, message, device.index)


@accepts_axis
def index_select(input, dim, index):
    """The entries of ``input`` at ``index`` (a vector of int64/int32 positions) along ``dim``.

    As PyTorch: negative positions are out of range (``IndexError``, also a ``RuntimeError``).

    Example:
        >>> minigrad.arange(6).reshape(2, 3).index_select(1, minigrad.tensor([2, 0])).tolist()
        [[2, 0], [5, 3]]
    """
    _check_index(input, index, "index_select")
    if index.ndim > 1:
        raise IndexError(f"index_select(): Index is supposed to be a vector, got {index.ndim} dims")
    dim = normalize_dim(dim, input.ndim, "index_select")
    size = input.shape[dim] if input.ndim else 1
    data = index.reshape(-1)._data  # (a reshape op: a per-sample index batches under vmap)
    check_range(
        data, size, input.device,
        f"index_select(): index {{}} is out of bounds for dimension {dim} with size {size}",
        negative=False,
    )  # fmt: skip
    return named_as(GetItem((slice(None),) * dim + (data,))(input), "IndexSelectBackward0")


@accepts_axis
def gather(input, dim, index):
    """``out[i][j] = input[index[i][j]][j]`` along ``dim`` (torch.gather); index in ``[0, size)``."""
    _check_index(input, index, "gather")
    dim = normalize_dim(dim, input.ndim, "gather")
    size = input.shape[dim] if input.ndim else 1
    check_range(
        index._all_elements(), size, input.device,
        f"gather(): index {{}} is out of bounds for dimension {dim} with size {size}",
        negative=False,
    )  # fmt: skip
    return Gather(dim, index._data)(input)


def same_dtype(input, source, message: str) -> None:
    """Refuse, as PyTorch's scatter and index_* ops do, a ``source`` tensor whose dtype is not
    ``input``'s: they write into ``input``'s dtype and never promote (a float source would be
    truncated into an integer input). ``message`` formats ``{self}`` and ``{src}``, the dtypes'
    PyTorch names (``Float``, ``Long``), in PyTorch's words of the op."""
    if isinstance(source, graph.Tensor) and source.dtype is not input.dtype:
        names = dtypes.scalar_type_name(input.dtype), dtypes.scalar_type_name(source.dtype)
        raise RuntimeError(message.format(self=names[0], src=names[1]))


# PyTorch's words for a source of another dtype (scatter_add and scatter_reduce say scatter())
SCATTER_DTYPE = "scatter(): Expected self.dtype to be equal to src.dtype, got {self} and {src}"


def scatter_add(input, dim, index, src):
    """``input`` with ``src`` added at ``index`` along ``dim`` (torch.scatter_add); index in
    ``[0, size)``."""
    _check_index(input, index, "scatter_add", src)
    index, src = index_dims(input, index, src, "scatter_add")
    same_dtype(input, src, SCATTER_DTYPE)
    dim = normalize_dim(dim, input.ndim, "scatter_add")
    size = input.shape[dim] if input.ndim else 1
    check_range(
        index._all_elements(), size, input.device,
        f"scatter_add(): index {{}} is out of bounds for dimension {dim} with size {size}",
        negative=False,
    )  # fmt: skip
    return ScatterAdd(dim, index._data)(input, src)


def index_dims(input, index, src, op: str):
    """``index`` and ``src`` for a scatter along a dim of ``input``, where PyTorch counts a
    0-dim tensor as one dimension: a 0-dim index (or src) with a vector is a 1-element one (the
    index once broadcast over every element). Other dimension counts must agree, as PyTorch
    checks."""
    if max(index.ndim, 1) != max(input.ndim, 1):
        raise RuntimeError(
            f"{op}(): Index tensor must have the same number of dimensions as self tensor"
        )
    if index.ndim == 0 and input.ndim == 1:
        index = index.reshape(1)
    if isinstance(src, graph.Tensor) and src.ndim == 0 and index.ndim == 1:
        src = src.reshape(1)
    return index, src


def _check_index(input, index, op, source=None):
    """An index tensor: int64 or int32, on the input's device (PyTorch's errors and types)."""
    if not isinstance(index, graph.Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype not in (dtypes.int64, dtypes.int32):
        allowed = "int32 or int64" if op == "index_select" else "int32/int64"  # (PyTorch's)
        raise RuntimeError(f"{op}(): Expected dtype {allowed} for index, got {index.dtype}")
    if index.device is not input.device:
        raise RuntimeError(
            f"{op}(): expected all tensors to be on the same device, but found at least two "
            f"devices, {input.device} (input) and {index.device} (index); move the index with "
            f".to(device)"
        )
    graph.refuse_inference_index(index, input, source)
