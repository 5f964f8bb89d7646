"""Shape and indexing ops: reshape, permute, expand, indexing, gather/scatter, cat, pad, flip,
triangular masks, and the compositions built on them (squeeze, stack, split, repeat, ...)."""

from __future__ import annotations

import math

import numpy as np

from .. import dtypes
from ..autograd import graph
from .base import Op, normalize_dim, normalize_dims
from .elementwise import promote


class Reshape(Op):
    """y = x with a new shape (a view when the layout allows); dx = dy reshaped back"""

    is_view = True

    def __init__(self, shape: tuple):
        self.shape = shape

    def forward(self, x):
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise RuntimeError(
                f"shape '{list(self.shape)}' is invalid for input of size {x.size}"
            ) from None

    def backward(self, gy):
        return gy.reshape(self.input_meta[0][0])


class Permute(Op):
    """y = x with its dims reordered (a view); dx = dy with the inverse order"""

    is_view = True

    def __init__(self, dims: tuple):
        self.dims = dims

    def forward(self, x):
        return x.transpose(self.dims)

    def backward(self, gy):
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return gy.permute(inverse)


class Expand(Op):
    """y = x broadcast to a larger shape (a read-only view); dx = dy summed back"""

    is_view = True

    def __init__(self, shape: tuple):
        self.shape = shape

    def forward(self, x):
        try:
            return self.xp.broadcast_to(x, self.shape)
        except ValueError:
            raise RuntimeError(
                f"the expanded size of the tensor ({list(self.shape)}) must match the existing "
                f"size ({list(x.shape)}) at each non-singleton dimension"
            ) from None

    def backward(self, gy):
        return gy.sum_to_size(self.input_meta[0][0])


class Clone(Op):
    """y = a copy of x in its own (contiguous) memory; dx = dy"""

    def forward(self, x):
        return self.xp.array(x, copy=True, order="C")

    def backward(self, gy):
        return gy


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
    grids = xp.indices(index.shape, sparse=True)
    return tuple(index if d == dim else g for d, g in enumerate(grids))


def _pad_to(shape, target):
    """F.pad widths that extend ``shape`` with zeros at the end up to ``target``."""
    widths = []
    for n, m in zip(reversed(shape), reversed(target)):
        widths += [0, m - n]
    return tuple(widths)


class Cat(Op):
    """y = the inputs joined along dim; each dx is its slice of dy"""

    def __init__(self, dim: int):
        self.dim = dim

    def forward(self, *arrays):
        return self.xp.concatenate(arrays, axis=self.dim)

    def backward(self, gy):
        grads, start = [], 0
        lead = (slice(None),) * self.dim
        for (shape, _, _), edge in zip(self.input_meta, self.next_functions):
            stop = start + shape[self.dim]
            grads.append(gy[lead + (slice(start, stop),)] if edge is not None else None)
            start = stop
        return tuple(grads)


class Pad(Op):
    """y = x padded (or cropped, for negative widths) with a constant; dx = dy cropped back"""

    def __init__(self, widths: tuple, value):
        self.widths, self.value = widths, value

    def forward(self, x):
        pairs = _pad_pairs(self.widths, x.ndim)
        shape = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape, pairs))
        if any(n < 0 for n in shape):
            raise RuntimeError(
                f"pad: widths {list(self.widths)} crop input of shape {list(x.shape)} below zero"
            )
        out = self.xp.full(shape, self.value, dtype=x.dtype)
        dst = tuple(slice(max(lo, 0), n - max(hi, 0)) for n, (lo, hi) in zip(shape, pairs))
        src = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for n, (lo, hi) in zip(x.shape, pairs))
        out[dst] = x[src]
        return out

    def backward(self, gy):
        return Pad(tuple(-w for w in self.widths), 0)(gy)


def _pad_pairs(widths, ndim):
    """PyTorch's flat (last-dim-first) widths as one (before, after) pair per dim."""
    if len(widths) % 2 or len(widths) // 2 > ndim:
        raise RuntimeError(
            f"pad: padding length must be even and at most twice the number of dims ({ndim}), "
            f"got {len(widths)}"
        )
    pairs = [(0, 0)] * ndim
    for i in range(len(widths) // 2):
        pairs[ndim - 1 - i] = (widths[2 * i], widths[2 * i + 1])
    return pairs


class Flip(Op):
    """y = x reversed along dims (a view); dx = dy reversed"""

    is_view = True

    def __init__(self, dims: tuple):
        self.dims = dims

    def forward(self, x):
        return self.xp.flip(x, axis=self.dims) if self.dims else x

    def backward(self, gy):
        return gy.flip(self.dims)


class Tril(Op):
    """y = x with entries above the diagonal k set to 0; dx = tril(dy, k)"""

    upper = False

    def __init__(self, diagonal: int):
        self.diagonal = diagonal

    def forward(self, x):
        return (self.xp.triu if self.upper else self.xp.tril)(x, self.diagonal)

    def backward(self, gy):
        return type(self)(self.diagonal)(gy)


class Triu(Tril):
    """y = x with entries below the diagonal k set to 0; dx = triu(dy, k)"""

    upper = True


# -- functions ----------------------------------------------------------------------------------


def _shape_arg(shape) -> tuple:
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` as PyTorch does."""
    if (
        len(shape) == 1
        and isinstance(shape[0], (tuple, list))
        or (len(shape) == 1 and hasattr(shape[0], "__iter__"))
    ):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def reshape(input, *shape):  # noqa: A002
    shape = _shape_arg(shape)
    if shape == tuple(input.shape):
        return Reshape(shape)(input) if input.requires_grad else input
    if sum(1 for s in shape if s == -1) > 1:
        raise RuntimeError(f"reshape: only one dimension can be inferred, got shape {list(shape)}")
    return Reshape(shape)(input)


def permute(input, *dims):  # noqa: A002
    dims = _shape_arg(dims)
    if len(dims) != input.ndim:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {input.ndim} is not "
            f"equal to len(dims) = {len(dims)}"
        )
    dims = tuple(normalize_dim(d, input.ndim, "permute") for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"permute: repeated dim in {list(dims)}")
    return Permute(dims)(input)


def transpose(input, dim0, dim1):  # noqa: A002
    order = list(range(input.ndim))
    d0, d1 = (
        normalize_dim(dim0, input.ndim, "transpose"),
        normalize_dim(dim1, input.ndim, "transpose"),
    )
    order[d0], order[d1] = order[d1], order[d0]
    return Permute(tuple(order))(input)


def movedim(input, source, destination):  # noqa: A002
    src = normalize_dim(source, input.ndim, "movedim")
    dst = normalize_dim(destination, input.ndim, "movedim")
    order = [d for d in range(input.ndim) if d != src]
    order.insert(dst, src)
    return Permute(tuple(order))(input)


def expand(input, *sizes):  # noqa: A002
    sizes = _shape_arg(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({input.ndim})"
        )
    lead = len(sizes) - input.ndim
    shape = tuple(
        input.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes)
    )
    if shape == tuple(input.shape):
        return input
    return Expand(shape)(input)


def broadcast_to(input, shape):  # noqa: A002
    return expand(input, *shape)


def broadcast_tensors(*tensors):
    xp_shape = _broadcast_shape(*(t.shape for t in tensors))
    return tuple(t.expand(xp_shape) for t in tensors)


def _broadcast_shape(*shapes):
    ndim = max(len(s) for s in shapes)
    out = []
    for i in range(ndim):
        sizes = {s[i - ndim + len(s)] for s in shapes if i - ndim + len(s) >= 0} - {1}
        if len(sizes) > 1:
            raise RuntimeError(f"shapes {[list(s) for s in shapes]} cannot be broadcast together")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def squeeze(input, dim=None):  # noqa: A002
    dims = normalize_dims(dim, input.ndim, "squeeze") if dim is not None else range(input.ndim)
    shape = tuple(n for i, n in enumerate(input.shape) if not (i in dims and n == 1))
    return reshape(input, shape)


def unsqueeze(input, dim):  # noqa: A002
    dim = normalize_dim(dim, input.ndim + 1, "unsqueeze")
    shape = list(input.shape)
    shape.insert(dim, 1)
    return Reshape(tuple(shape))(input)


def flatten(input, start_dim=0, end_dim=-1):  # noqa: A002
    if input.ndim == 0:
        return reshape(input, 1)
    start = normalize_dim(start_dim, input.ndim, "flatten")
    end = normalize_dim(end_dim, input.ndim, "flatten")
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input.shape
    return reshape(input, shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :])


def unflatten(input, dim, sizes):  # noqa: A002
    dim = normalize_dim(dim, input.ndim, "unflatten")
    sizes = tuple(sizes)
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes:
        sizes = tuple(input.shape[dim] // known if s == -1 else s for s in sizes)
    if math.prod(sizes) != input.shape[dim]:
        raise RuntimeError(
            f"unflatten: provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
            f"({input.shape[dim]}) in the input tensor"
        )
    return reshape(input, input.shape[:dim] + sizes + input.shape[dim + 1 :])


def getitem(input, key):  # noqa: A002
    """``input[key]`` with PyTorch's rules: ints, slices, None, Ellipsis, bool masks, index tensors."""
    key = _normalize_key(input, key)
    return GetItem(key)(input)


def _normalize_key(input, key):  # noqa: A002
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


def index_select(input, dim, index):  # noqa: A002
    if index.ndim > 1:
        raise IndexError(f"index_select(): Index is supposed to be a vector, got {index.ndim} dims")
    dim = normalize_dim(dim, input.ndim, "index_select")
    return GetItem((slice(None),) * dim + (index._data.reshape(-1),))(input)


def gather(input, dim, index):  # noqa: A002
    _check_index(index, "gather")
    return Gather(normalize_dim(dim, input.ndim, "gather"), index._data)(input)


def scatter_add(input, dim, index, src):  # noqa: A002
    _check_index(index, "scatter_add")
    input, src = promote(input, src)
    return ScatterAdd(normalize_dim(dim, input.ndim, "scatter_add"), index._data)(input, src)


def _check_index(index, op):
    if not isinstance(index, graph.Tensor) or index.dtype is not dtypes.int64:
        kind = index.dtype if isinstance(index, graph.Tensor) else type(index).__name__
        raise RuntimeError(f"{op}(): Expected dtype int64 for index, got {kind}")


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    tensors = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]
    tensors = list(promote(*tensors)) if len({t.dtype for t in tensors}) > 1 else tensors
    ref = tensors[0]
    d = normalize_dim(dim, ref.ndim, "cat")
    for i, t in enumerate(tensors):
        if t.ndim != ref.ndim or any(
            a != b for j, (a, b) in enumerate(zip(t.shape, ref.shape)) if j != d
        ):
            raise RuntimeError(
                f"Sizes of tensors must match except in dimension {d}. Expected {list(ref.shape)} "
                f"(any size in dim {d}) but got {list(t.shape)} for tensor number {i} in the list."
            )
    return Cat(d)(*tensors)


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} at "
                f"entry 0 and {list(t.shape)} at entry {i}"
            )
    d = normalize_dim(dim, tensors[0].ndim + 1, "stack")
    return cat([t.unsqueeze(d) for t in tensors], d)


def split(tensor, split_size_or_sections, dim=0):
    d = normalize_dim(dim, tensor.ndim, "split")
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise RuntimeError(f"split expects split_size be positive, but got {step}")
        sizes = [min(step, n - s) for s in range(0, n, step)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                f"at dimension {d}), but got split_sizes={sizes}"
            )
    out, start, lead = [], 0, (slice(None),) * d
    for size in sizes:
        out.append(tensor[lead + (slice(start, start + size),)])
        start += size
    return tuple(out)


def chunk(input, chunks, dim=0):  # noqa: A002
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = input.shape[normalize_dim(dim, input.ndim, "chunk")]
    return split(input, max(1, -(-n // chunks)), dim)


def unbind(input, dim=0):  # noqa: A002
    d = normalize_dim(dim, input.ndim, "unbind")
    return tuple(input[(slice(None),) * d + (i,)] for i in range(input.shape[d]))


def pad(input, pad, mode="constant", value=None):  # noqa: A002
    """Pad with widths given last dim first, (left, right, top, bottom, ...) as F.pad."""
    if mode != "constant":
        raise NotImplementedError(f"pad: mode {mode!r} is not supported yet (only 'constant')")
    widths = tuple(int(w) for w in pad)
    return Pad(widths, 0 if value is None else value)(input)


def flip(input, dims):  # noqa: A002
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return Flip(normalize_dims(dims, input.ndim, "flip") if dims else ())(input)


def tril(input, diagonal=0):  # noqa: A002
    _check_matrix(input, "tril")
    return Tril(diagonal)(input)


def triu(input, diagonal=0):  # noqa: A002
    _check_matrix(input, "triu")
    return Triu(diagonal)(input)


def _check_matrix(input, op):  # noqa: A002
    if input.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got {input.ndim}")


def repeat(input, *sizes):  # noqa: A002
    """Tile ``input`` ``sizes[i]`` times along each dim (Tensor.repeat: more sizes than dims adds dims)."""
    sizes = _shape_arg(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"
        )
    shape = (1,) * (len(sizes) - input.ndim) + tuple(input.shape)
    interleaved = []
    for n in shape:
        interleaved += [1, n]
    x = input.reshape(interleaved)
    expanded = []
    for r, n in zip(sizes, shape):
        expanded += [r, n]
    return x.expand(expanded).reshape([r * n for r, n in zip(sizes, shape)])


def tile(input, dims):  # noqa: A002
    dims = tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def clone(input):  # noqa: A002
    return Clone()(input)


def contiguous(input):  # noqa: A002
    return input if input._data.flags.c_contiguous else Clone()(input)
