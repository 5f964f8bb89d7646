"""Shape ops: reshape, permute, expand, flip, triangular masks, copies, and the compositions
built on them (squeeze, unsqueeze, flatten, transpose, repeat, ...)."""

from __future__ import annotations

import math

from .base import Op, normalize_dim, normalize_dims


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


def reshape(input, *shape):
    shape = _shape_arg(shape)
    if shape == tuple(input.shape):
        return Reshape(shape)(input) if input.requires_grad else input
    if sum(1 for s in shape if s == -1) > 1:
        raise RuntimeError(f"reshape: only one dimension can be inferred, got shape {list(shape)}")
    return Reshape(shape)(input)


def permute(input, *dims):
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


def transpose(input, dim0, dim1):
    order = list(range(input.ndim))
    d0, d1 = (
        normalize_dim(dim0, input.ndim, "transpose"),
        normalize_dim(dim1, input.ndim, "transpose"),
    )
    order[d0], order[d1] = order[d1], order[d0]
    return Permute(tuple(order))(input)


def movedim(input, source, destination):
    src = normalize_dim(source, input.ndim, "movedim")
    dst = normalize_dim(destination, input.ndim, "movedim")
    order = [d for d in range(input.ndim) if d != src]
    order.insert(dst, src)
    return Permute(tuple(order))(input)


def expand(input, *sizes):
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


def broadcast_to(input, shape):
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


def squeeze(input, dim=None):
    dims = normalize_dims(dim, input.ndim, "squeeze") if dim is not None else range(input.ndim)
    shape = tuple(n for i, n in enumerate(input.shape) if not (i in dims and n == 1))
    return reshape(input, shape)


def unsqueeze(input, dim):
    dim = normalize_dim(dim, input.ndim + 1, "unsqueeze")
    shape = list(input.shape)
    shape.insert(dim, 1)
    return Reshape(tuple(shape))(input)


def flatten(input, start_dim=0, end_dim=-1):
    if input.ndim == 0:
        return reshape(input, 1)
    start = normalize_dim(start_dim, input.ndim, "flatten")
    end = normalize_dim(end_dim, input.ndim, "flatten")
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input.shape
    return reshape(input, shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :])


def unflatten(input, dim, sizes):
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


def flip(input, dims):
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


def repeat(input, *sizes):
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


def tile(input, dims):
    dims = tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def clone(input):
    return Clone()(input)


def contiguous(input):
    return input if input._data.flags.c_contiguous else Clone()(input)
