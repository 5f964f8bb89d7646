"""Shape ops: reshape, permute, expand, flip, triangular masks, copies, and the compositions
built on them (squeeze, unsqueeze, flatten, transpose, repeat, ...)."""

from __future__ import annotations

import math

import numpy as np

from .. import _memory_format, dtypes
from .._result_layout import dense_copy
from ..autograd import graph
from ..autograd.graph import named_as, version_counter
from ._size import as_int, infer_shape, parse_size, sized_by_keyword
from .base import (
    Op,
    accepts_axis,
    constant,
    normalize_dim,
    normalize_dims,
    on_input_device,
    tensor_args,
)
from .elementwise import where
from .reduce import summed_to


class Reshape(Op):
    """y = x with a new shape (a view when the layout allows, else a copy); dx = dy reshaped back

    ``strict`` (``view``): raise instead of copying, as PyTorch's ``view``.
    """

    supports_complex = True
    is_view = True

    def __init__(self, shape: tuple, strict: bool = False):
        self.shape, self.strict = shape, strict

    def name(self) -> str:
        # PyTorch: a reshape that must copy is a clone and an _unsafe_view (UnsafeViewBackward0)
        return "ViewBackward0" if self.is_view else "UnsafeViewBackward0"

    def forward(self, x):
        if (
            not x.flags.c_contiguous  # a contiguous array takes any shape as a view
            and view_strides(x.shape, x.strides, x.itemsize, self.shape) is None
        ):
            if self.strict:
                raise RuntimeError(
                    "view size is not compatible with input tensor's size and stride (at least "
                    "one dimension spans across two contiguous subspaces). Use .reshape(...) "
                    "instead."
                )
            self.is_view = False  # NumPy copies: the result does not alias x
        return x.reshape(self.shape)

    def backward(self, gy):
        return self.formula(_reshape_vjp, gy, self.input_meta[0][0])


def _reshape_vjp(ns, gy, shape):
    return gy.reshape(shape)


def view_strides(shape: tuple, strides: tuple, itemsize: int, new_shape: tuple):
    """The strides (in bytes) of ``new_shape`` viewing an array of ``shape`` and ``strides``
    without a copy, or None when no view can do it (PyTorch's ``computeStride``)."""
    if not shape:
        return (itemsize,) * len(new_shape)
    old = [st // itemsize if itemsize else st for st in strides]
    numel = math.prod(shape)
    new = [0] * len(new_shape)
    if numel == 0:
        return tuple(new)  # an empty array can take any shape of zero elements
    view_d = len(new_shape) - 1
    chunk_base_stride = old[-1]
    tensor_numel = view_numel = 1
    for tensor_d in range(len(shape) - 1, -1, -1):
        tensor_numel *= shape[tensor_d]
        if tensor_d == 0 or (
            shape[tensor_d - 1] != 1 and old[tensor_d - 1] != tensor_numel * chunk_base_stride
        ):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new[view_d] = view_numel * chunk_base_stride
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = old[tensor_d - 1]
                tensor_numel = view_numel = 1
    if view_d != -1:
        return None
    return tuple(st * itemsize for st in new)


class Permute(Op):
    """y = x with its dims reordered (a view); dx = dy with the inverse order"""

    supports_complex = True
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


class Diagonal(Op):
    """y = the ``offset`` diagonal of x's 2-D slices over dims ``d1``, ``d2`` as the last dim
    (a view, as PyTorch's: writes through it reach x); dx = zeros with dy on that diagonal"""

    supports_complex = True
    is_view = True
    backward_name = "DiagonalBackward0"

    def __init__(self, offset: int, d1: int, d2: int):
        self.offset, self.d1, self.d2 = offset, d1, d2

    def forward(self, x):
        d1, d2 = self.d1, self.d2
        rows, cols = x.shape[d1], x.shape[d2]
        r0, c0 = min(max(-self.offset, 0), rows), min(max(self.offset, 0), cols)
        n = max(0, min(rows - r0, cols - c0))
        key = [slice(None)] * x.ndim
        key[d1], key[d2] = slice(r0, None), slice(c0, None)
        corner = x[tuple(key)]  # starts at the diagonal's first element (a view)
        rest = [i for i in range(x.ndim) if i not in (d1, d2)]
        shape = tuple(x.shape[i] for i in rest) + (n,)
        strides = tuple(x.strides[i] for i in rest) + (x.strides[d1] + x.strides[d2],)
        return self.xp.lib.stride_tricks.as_strided(corner, shape=shape, strides=strides)

    def backward(self, gy):
        from .indexing import IndexAdd  # indexing imports joining, which sits above this

        shape = self.input_meta[0][0]
        rest = [i for i in range(len(shape)) if i not in (self.d1, self.d2)]
        rows, cols = shape[self.d1], shape[self.d2]
        r0, c0 = max(-self.offset, 0), max(self.offset, 0)
        n = gy.shape[-1]
        xp = gy.device.xp
        r, c = xp.arange(n, dtype="int64") + r0, xp.arange(n, dtype="int64") + c0
        moved = tuple(shape[i] for i in rest) + (rows, cols)
        out = IndexAdd(moved, (Ellipsis, r, c), False)(gy)  # dims in the order rest, d1, d2
        order = rest + [self.d1, self.d2]
        inverse = [0] * len(order)
        for i, d in enumerate(order):
            inverse[d] = i
        return out.permute(inverse)


class UnfoldWindows(Op):
    """y = every window of ``size`` entries ``step`` apart along dim ``d`` of x, as a new last
    dim (``Tensor.unfold``: a view, as PyTorch's; an in-place write through overlapping windows
    is refused); dx = dy summed into the positions each window read"""

    supports_complex = True
    is_view = True
    backward_name = "UnfoldBackward0"

    def __init__(self, d: int, size: int, step: int, windows: int):
        self.d, self.size, self.step, self.windows = d, size, step, windows
        self.overlaps = windows > 1 and step < size  # (read by the in-place writability check)

    def forward(self, x):
        tricks = self.xp.lib.stride_tricks
        if x.ndim == 0:  # a 0-d tensor is one window of its one element, as PyTorch
            return tricks.as_strided(x.reshape(1), shape=(self.size,), strides=(x.itemsize,))
        d, st = self.d, x.strides
        shape = x.shape[:d] + (self.windows,) + x.shape[d + 1 :] + (self.size,)
        strides = st[:d] + (self.step * st[d],) + st[d + 1 :] + (st[d],)
        return tricks.as_strided(x, shape=shape, strides=strides)

    def backward(self, gy):
        from .scatter import index_add  # scatter imports modules that import this one

        shape = self.input_meta[0][0]
        if not shape:
            return gy.sum().reshape(())
        d, xp = self.d, gy.device.xp
        index = xp.arange(self.windows)[:, None] * self.step + xp.arange(self.size)[None, :]
        index = constant(index.reshape(-1).astype("int64"), gy.device)
        flat = gy.movedim(-1, d + 1).reshape(shape[:d] + (index.shape[0],) + shape[d + 1 :])
        zeros = constant(xp.zeros(shape, dtype=gy._data.dtype), gy.device)
        return index_add(zeros, d, index, flat)


def _expand_strides(x, shape: tuple) -> tuple:
    """The byte strides of ``x`` expanded to ``shape`` as PyTorch's ``inferExpandGeometry``
    gives them: 0 where a dim repeats, ``x``'s own where it does not (a size-1 dim kept), a new
    leading dim of size 1 the next dim's size times its stride."""
    strides, lead = [0] * len(shape), len(shape) - x.ndim
    for i in range(len(shape) - 1, -1, -1):
        d = i - lead
        size = x.shape[d] if d >= 0 else 1
        if size != shape[i]:
            strides[i] = 0
        elif d >= 0:
            strides[i] = x.strides[d]
        else:
            strides[i] = shape[i + 1] * strides[i + 1] if i + 1 < len(shape) else x.itemsize
    return tuple(strides)


class Expand(Op):
    """y = x broadcast to a larger shape (a view; in-place writes are refused where elements
    repeat, as PyTorch refuses them, but a part without repeats writes through); dx = dy
    summed back"""

    supports_complex = True
    is_view = True

    def __init__(self, shape: tuple):
        self.shape = shape

    def forward(self, x):
        lead = len(self.shape) - x.ndim
        if self.shape[lead:] == x.shape and all(n == 1 for n in self.shape[:lead]):
            return x.reshape(self.shape)  # nothing repeated: a writable view, as in PyTorch
        try:
            out = self.xp.broadcast_to(x, self.shape)
        except ValueError:
            raise RuntimeError(_expand_mismatch(self.shape, x.shape)) from None
        if type(x) is np.ndarray and x.flags.writeable:  # NumPy's broadcast is read-only; a
            # part of it without repeats (``expanded[0]``) is written through, as in PyTorch
            plain = x if x.dtype.type.__module__ == "numpy" else x.view(f"u{x.dtype.itemsize}")
            # (ml_dtypes' float8/bfloat16 do not survive as_strided's array interface: as uints)
            strides = _expand_strides(x, self.shape)
            out = np.lib.stride_tricks.as_strided(plain, out.shape, strides).view(x.dtype)
        return out

    def backward(self, gy):
        return self.formula(_expand_vjp, gy, self.input_meta[0][0])


def _expand_mismatch(target: tuple, shape: tuple) -> str:
    """PyTorch's words for an expand to a size that differs at a non-singleton dimension."""
    lead = len(target) - len(shape)
    dim = next(
        i for i in range(len(target) - 1, lead - 1, -1)
        if shape[i - lead] != 1 and target[i] != shape[i - lead]
    )  # fmt: skip
    return (
        f"The expanded size of the tensor ({target[dim]}) must match the existing size "
        f"({shape[dim - lead]}) at non-singleton dimension {dim}.  Target sizes: "
        f"{list(target)}.  Tensor sizes: {list(shape)}"
    )


def _expand_vjp(ns, gy, shape):
    return summed_to(gy, shape)


class Clone(Op):
    """y = a copy of x in its own memory (row-major, or in the axes order ``perm``: a
    channels-last layout); dx = dy"""

    supports_complex = True

    def __init__(self, perm: tuple | None = None, preserve: bool = False):
        self.perm, self.preserve = perm, preserve  # (preserve: x's own layout, as PyTorch's)

    def forward(self, x):
        if self.preserve:
            return dense_copy(self.xp, x)
        return _memory_format.lay_out(self.xp, x, self.perm)

    def backward(self, gy):
        return gy


class Flip(Op):
    """y = x reversed along dims (a copy, as torch.flip: writing to y never changes x);
    dx = dy reversed"""

    supports_complex = True

    def __init__(self, dims: tuple):
        self.dims = dims

    def forward(self, x):
        return (self.xp.flip(x, axis=self.dims) if self.dims else x).copy()

    def backward(self, gy):
        return gy.flip(self.dims)


class Tril(Op):
    """y = x with entries above the diagonal k set to 0; dx = tril(dy, k)"""

    supports_complex = True
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


def reshape(input, *sizes, shape=None):
    """``input`` with a new shape (one size may be -1): a view when the memory layout allows,
    else a copy. Always a new tensor object, even for the same shape (as PyTorch).

    Example:
        >>> minigrad.arange(6).reshape(2, -1).shape   # (2, 3)
    """
    sizes = sized_by_keyword(sizes, shape, "reshape", "shape")
    shape = infer_shape(parse_size(sizes, "reshape", "shape"), input.numel(), "reshape")
    return Reshape(shape)(input)


def view(input, *shape, size=None, dtype=None):
    """``input`` with a new shape, sharing its memory; raises (as PyTorch) when the layout
    does not allow a view (``t().view(-1)``): use :func:`reshape` there. ``view(dtype)`` (or
    ``view(dtype=...)``) reads the same bytes as another dtype.

    Example:
        >>> minigrad.zeros(2, 3).view(3, 2).shape   # (3, 2)
    """
    if dtype is not None:
        if shape or size is not None:
            raise TypeError("view(): pass either a shape or dtype=, not both")
        return _view_as_dtype(input, dtypes.to_dtype(dtype))
    if len(shape) == 1 and isinstance(shape[0], (dtypes.dtype, type, np.dtype)):
        return _view_as_dtype(input, dtypes.to_dtype(shape[0]))
    shape = sized_by_keyword(shape, size, "view", "size")
    shape = infer_shape(parse_size(shape, "view", "size"), input.numel(), "view")
    return Reshape(shape, strict=True)(input)


def _view_as_dtype(input, dtype):
    """``input``'s bytes read as ``dtype``, sharing its memory and version counter, outside
    the graph as in PyTorch (even for its own dtype); the last dim shrinks or grows by the
    ratio of element sizes."""
    old, new = input.dtype, dtype
    what = f"to view {old} as {new} (different element sizes)"
    if old.itemsize != new.itemsize:
        if input.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        if input.shape[-1] != 1 and input.stride(-1) != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {input.stride(-1)}")
        ratio = new.itemsize // old.itemsize
        if new.itemsize > old.itemsize and input.shape[-1] % ratio:
            raise RuntimeError(
                f"self.size(-1) must be divisible by {ratio} {what}, but got {input.shape[-1]}"
            )
    out = graph.Tensor._make(input._data.view(new.numpy), input.device)
    out._version_counter = version_counter(input)
    return out


def permute(input, *order, dims=None):
    dims = parse_size(sized_by_keyword(order, dims, "permute", "dims"), "permute", "dims")
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


def transpose(input, dim0, dim1):
    order = list(range(input.ndim))
    d0, d1 = (
        normalize_dim(dim0, input.ndim, "transpose"),
        normalize_dim(dim1, input.ndim, "transpose"),
    )
    if order:  # (a 0-d tensor takes dims 0 and -1: the identity, as PyTorch)
        order[d0], order[d1] = order[d1], order[d0]
    return named_as(Permute(tuple(order))(input), "TransposeBackward0")


def swapaxes(input, axis0, axis1):
    """NumPy's name for :func:`transpose` (``axis0``/``axis1``), as ``torch.swapaxes``."""
    return transpose(input, axis0, axis1)


def movedim(input, source, destination):
    """``input`` with dims ``source`` moved to positions ``destination`` (ints or sequences of
    the same length), the other dims keeping their order; a view.

    Example:
        >>> minigrad.zeros(2, 3, 4, 5).movedim((0, 1), (2, 3)).shape
        minigrad.Size([4, 5, 2, 3])
    """
    src = _dim_list(source, input.ndim, "source")
    dst = _dim_list(destination, input.ndim, "destination")
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
            f"contain the same number of dims as destination ({list(dst)} dims)"
        )
    if input.ndim == 0:  # dims 0 and -1 only (checked above): the identity, as PyTorch
        return Permute(())(input)
    order = [None] * input.ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(input.ndim) if d not in src)
    return Permute(tuple(next(rest) if o is None else o for o in order))(input)


def _dim_list(dims, ndim: int, what: str) -> tuple:
    """``movedim``'s ``source``/``destination``: an int or a sequence of distinct dims."""
    given = (dims,) if isinstance(dims, int) else tuple(dims)
    out = tuple(normalize_dim(d, ndim, "movedim") for d in given)
    if len(set(out)) != len(out):
        raise RuntimeError(f"movedim: repeated dim in `{what}` ({list(given)})")
    return out


def expand(input, *sizes, size=None):
    """``input`` broadcast to ``sizes`` (-1 keeps a size) as a view; a new tensor object even
    when nothing changes (as PyTorch)."""
    sizes = parse_size(sized_by_keyword(sizes, size, "expand", "size"), "expand", "size")
    if len(sizes) < input.ndim:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({input.ndim})"
        )
    lead = len(sizes) - input.ndim
    for i, s in enumerate(sizes):
        if s == -1 and i < lead:
            raise RuntimeError(
                f"expand: the expanded size of the tensor (-1) isn't allowed in a leading, "
                f"non-existing dimension {i}"
            )
        if s < -1:
            raise RuntimeError(
                f"expand: the expanded size of the tensor ({s}) must match the existing size at "
                f"non-singleton dimension {i}. Target sizes: {list(sizes)}. Tensor sizes: "
                f"{list(input.shape)}"
            )
    shape = tuple(input.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return Expand(shape)(input)


def broadcast_to(input, size):
    return expand(input, parse_size((size,), "broadcast_to", "size"))


def broadcast_tensors(*tensors):
    """The tensors expanded to their common shape; one that has it already is returned itself,
    as PyTorch's (so ``Normal(loc, scale).loc`` is the leaf ``loc`` that gets ``.grad``)."""
    shape = _broadcast_shape(*(t.shape for t in tensor_args(tensors, "broadcast_tensors")))
    return tuple(t if tuple(t.shape) == shape else t.expand(shape) for t in tensors)


def _broadcast_shape(*shapes):
    """The shape ``shapes`` broadcast to; where they cannot be, PyTorch's error naming the
    first (rightmost) dimension whose sizes differ."""
    out = tuple(shapes[0]) if shapes else ()
    for shape in shapes[1:]:
        out = _broadcast_pair(out, tuple(shape))
    return out


def _broadcast_pair(a: tuple, b: tuple) -> tuple:
    ndim = max(len(a), len(b))
    out = [1] * ndim
    for i in range(ndim - 1, -1, -1):
        size_a = a[i - ndim + len(a)] if i - ndim + len(a) >= 0 else 1
        size_b = b[i - ndim + len(b)] if i - ndim + len(b) >= 0 else 1
        if size_a != size_b and size_a != 1 and size_b != 1:
            raise RuntimeError(
                f"The size of tensor a ({size_a}) must match the size of tensor b ({size_b}) "
                f"at non-singleton dimension {i}"
            )
        out[i] = size_b if size_a == 1 else size_a
    return tuple(out)


@accepts_axis
def squeeze(input, dim=None):
    dims = normalize_dims(dim, input.ndim, "squeeze") if dim is not None else range(input.ndim)
    shape = tuple(n for i, n in enumerate(input.shape) if not (i in dims and n == 1))
    # PyTorch's overloads: squeeze() SqueezeBackward0, squeeze(int) 1, squeeze(tuple) 2
    overload = 0 if dim is None else 1 if isinstance(dim, int) else 2
    return named_as(reshape(input, shape), f"SqueezeBackward{overload}")


@accepts_axis
def unsqueeze(input, dim):
    dim = normalize_dim(dim, input.ndim + 1, "unsqueeze")
    shape = list(input.shape)
    shape.insert(dim, 1)
    return named_as(Reshape(tuple(shape))(input), "UnsqueezeBackward0")


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim..end_dim`` into one (a view when the layout allows). As in
    PyTorch, ``input`` itself is returned when nothing is merged (``start_dim == end_dim``)."""
    start = normalize_dim(start_dim, input.ndim, "flatten")  # (0-d: dims 0 and -1 only)
    end = normalize_dim(end_dim, input.ndim, "flatten")
    if input.ndim == 0:
        return reshape(input, 1)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return input
    shape = input.shape
    return reshape(input, shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :])


def unflatten(input, dim, sizes):
    dim = normalize_dim(dim, input.ndim, "unflatten")
    sizes = parse_size((sizes,), "unflatten", "sizes")
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes:
        sizes = tuple(input.shape[dim] // known if s == -1 else s for s in sizes)
    if math.prod(sizes) != input.shape[dim]:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
            f"({input.shape[dim]}) in the input tensor"
        )
    return reshape(input, input.shape[:dim] + sizes + input.shape[dim + 1 :])


def narrow(input, dim, start, length):
    """The ``length`` entries of ``input`` from ``start`` along ``dim``, as a view (a slice:
    writes to it change ``input``); differentiable. ``start`` may be negative.

    Example:
        >>> minigrad.arange(6).reshape(2, 3).narrow(1, 1, 2)   # columns 1 and 2
    """
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    dim = normalize_dim(dim, input.ndim, "narrow")
    start, length = as_int(start, "narrow", "start"), as_int(length, "narrow", "length")
    size = input.shape[dim]
    if not -size <= start <= size:
        raise IndexError(
            f"narrow(): start out of range (expected to be in range of [{-size}, {size}], but "
            f"got {start})"
        )
    start = start + size if start < 0 else start
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(
            f"narrow(): start ({start}) + length ({length}) exceeds dimension size ({size})."
        )
    return input[(slice(None),) * dim + (slice(start, start + length),)]


def flip(input, *dim_args, dims=None):
    """Reverses ``input`` along ``dims``: ``flip(x, (0, 1))``, ``x.flip(0, 1)``, ``x.flip(0)``."""
    if (dims is None) == (not dim_args):  # neither or both
        raise TypeError("flip() takes the dims as one sequence, as ints, or as dims=")
    if dims is None:
        dims = dim_args[0] if len(dim_args) == 1 else dim_args
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return Flip(normalize_dims(dims, input.ndim, "flip") if dims else ())(input)


def tril(input, diagonal=0):
    _check_matrix(input, "tril")
    return Tril(diagonal)(input)


def triu(input, diagonal=0):
    _check_matrix(input, "triu")
    return Triu(diagonal)(input)


def _check_matrix(input, op):
    if input.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got {input.ndim}")


def repeat(input, *sizes, repeats=None):
    """Tile ``input`` ``sizes[i]`` times along each dim (Tensor.repeat: more sizes than dims adds dims)."""
    sizes = parse_size(sized_by_keyword(sizes, repeats, "repeat", "repeats"), "repeat", "repeats")
    if any(r < 0 for r in sizes):
        raise RuntimeError(f"repeat: repeats can not be negative, got {list(sizes)}")
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
    out = x.expand(expanded).reshape([r * n for r, n in zip(sizes, shape)])
    out = Clone()(out) if out._base is not None else out  # a copy, never an alias of input
    return named_as(out, "RepeatBackward0")


def tile(input, dims):
    dims = parse_size((dims,), "tile", "dims")
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def clone(input, *, memory_format=None):
    """A copy. ``memory_format``: ``preserve_format`` (default: as PyTorch's, the input's own
    strides where it is dense, a transpose's or a channels-last tensor's, size-1 dims' included;
    else dense strides in the input's order), ``contiguous_format`` or ``channels_last`` /
    ``channels_last_3d``."""
    fmt = memory_format
    if fmt is None or fmt is _memory_format.preserve_format:
        return Clone(preserve=True)(input)
    return Clone(_memory_format.permutation(fmt, input.ndim, "clone"))(input)


def contiguous(input, memory_format=None):
    """``input`` if it is laid out in ``memory_format`` (default row-major), else a copy that
    is."""
    fmt = _memory_format.contiguous_format if memory_format is None else memory_format
    if fmt is _memory_format.preserve_format:
        raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
    if _memory_format.is_in_format(input._data, fmt):
        return input
    return Clone(_memory_format.permutation(fmt, input.ndim, "contiguous"))(input)


# -- in-place changes through views -----------------------------------------------------------

# What a recorded node holds besides its settings; a replayed view op starts without them.
_GRAPH_FIELDS = frozenset(
    ("edges", "input_meta", "_saved", "_released", "trace", "pre_hooks", "post_hooks")
    + ("device", "xp")
)


def replay_view(tensor, ops: tuple):
    """``tensor`` put through the view ops ``ops`` again (fresh nodes with the same settings),
    e.g. a view's ops applied to its base after the base changed. Reshapes replay as
    ``reshape`` (logical, row-major), which is what they did when they made the view."""
    for op in ops:
        fresh = object.__new__(type(op))
        fresh.__dict__.update({k: v for k, v in op.__dict__.items() if k not in _GRAPH_FIELDS})
        if isinstance(fresh, Reshape):
            fresh.strict, fresh.is_view = False, True
        tensor = fresh(tensor)
    return tensor


@on_input_device
def view_positions(base, ops: tuple):
    """For each element of the view ``ops`` make of ``base``: its flat (row-major) position in
    ``base``, as an int64 tensor of the view's shape."""
    xp = base.device.xp
    positions = constant(xp.arange(base.numel(), dtype="int64").reshape(base.shape), base.device)
    pending = []
    for op in ops:
        if getattr(op, "splits_complex", False):  # view_as_real: the parts' positions, in
            p = replay_view(positions, tuple(pending))._data  # the base read as reals
            positions, pending = constant(xp.stack([2 * p, 2 * p + 1], -1), base.device), []
        elif view_part((op,)) is None and not getattr(op, "conjugates", False):
            pending.append(op)
    return replay_view(positions, tuple(pending))


def view_part(ops: tuple) -> str | None:
    """``"real"`` or ``"imag"`` when the view ops select one part of complex numbers (``z.real``,
    ``z.imag``: they keep positions, and a write through them replaces that part only);
    ``"pairs"`` when they view complex numbers as (real, imag) pairs (``view_as_real``: the
    positions count in the base read as reals)."""
    for op in ops:
        if getattr(op, "splits_complex", False):
            return "pairs"
        part = getattr(op, "selects_part", None)
        if part is not None:
            return part
    return None


class CopySlices(Op):
    """base' = base with the region a view covers replaced by ``src`` (the record of an in-place
    op on a view: PyTorch's CopySlices). d/dbase = dy outside the region (0 inside it);
    d/dsrc = dy read through the view.

    Not called on arrays: the write already happened in the base's memory, so
    :func:`record_copy_slices` builds the node around it.
    """

    backward_name = "torch::autograd::CopySlices"  # (PyTorch's name(); repr: CopySlices)
    supports_complex = True

    def __init__(self, positions, part: str | None = None, conjugated: bool = False):
        self.positions = positions  # int64 tensor: the base position of each view element
        self.part = part  # "real"/"imag": the view replaced that part of complex numbers only
        self.conjugated = conjugated  # a conjugate view: its values are the region's conjugate

    def backward(self, gy):
        need_base, need_src = self.needs_input_grad
        if self.part == "pairs":
            return self._pairs_backward(gy, need_base, need_src)
        g_base = g_src = None
        if need_src:
            g_src = gy.reshape(-1)[self.positions]
            if self.part is not None:
                g_src = g_src.real if self.part == "real" else g_src.imag
            if self.conjugated:  # the base got conj(src): conj(g) (for the imaginary part, -g)
                g_src = -g_src if self.part == "imag" else g_src.conj_physical()
        if need_base:
            xp = gy.device.xp
            keep = xp.ones(gy.numel(), dtype=bool)
            keep[self.positions._data.reshape(-1)] = False
            replaced = 0.0  # in the region, the part not replaced keeps its gradient
            if self.part is not None:
                replaced = gy.imag * 1j if self.part == "real" else gy.real
            g_base = where(constant(keep.reshape(gy.shape), gy.device), gy, replaced)
        return g_base, g_src

    def _pairs_backward(self, gy, need_base, need_src):
        """The gradients where the view read the complex base as (real, imag) pairs."""
        from .complex import view_as_complex, view_as_real  # complex sits above this module

        parts = view_as_real(gy)
        g_src = parts.reshape(-1)[self.positions] if need_src else None
        g_base = None
        if need_base:
            keep = gy.device.xp.ones(parts.numel(), dtype=bool)
            keep[self.positions._data.reshape(-1)] = False
            kept = where(constant(keep.reshape(parts.shape), gy.device), parts, 0.0)
            g_base = view_as_complex(kept.contiguous())
        return g_base, g_src
