"""Nested tensors' two primitives, which cross between a nested tensor and its packed values,
and the conversions built from them: components in and out, padding, jagged views.

Every differentiable computation on a nested tensor reads its buffer with :class:`NestedBuffer`
and builds a nested result with :class:`NestedFromBuffer`; in between run ordinary dense ops
(``cat``, indexing, arithmetic), so gradients, double backward and gradcheck come from them.
A nested input's gradient is a nested tensor of the input's structure, as PyTorch gives.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend, dtypes
from .._memory_format import strided
from .._nested_record import NestedMeta, NestedRecord, is_nested, jagged, warn_prototype
from ..autograd.graph import names_node, version_counter
from ..ops import Op, cat, split
from ..ops.base import constant
from ..ops.indexing import IndexAdd
from ..tensor import Tensor


class NestedFromBuffer(Op):
    """y = the nested tensor of structure m whose packed values are v; dv = dy's packed
    values"""

    backward_name = "NestedTensorFromBufferBackward0"

    def __init__(self, meta: NestedMeta):
        self.meta = meta

    def forward(self, buffer):
        return NestedRecord(buffer, self.meta)

    def backward(self, gy):
        return buffer_like(gy, self.meta)


class NestedBuffer(Op):
    """v = the packed values of nested x; dx = the nested tensor of dv, with x's structure"""

    backward_name = "NestedGetValuesBackward0"  # (PyTorch's name; a sparse tensor's is Values)

    def forward(self, x):
        if type(x) is not NestedRecord:
            raise RuntimeError("values: expected a nested tensor, got a dense (strided) tensor")
        self.meta = x.meta
        return x.buffer

    def backward(self, gv):
        return make(gv, self.meta)


def expect_nested(t, op: str) -> NestedMeta:
    """``t``'s structure; a clear error when ``t`` is not a nested tensor."""
    if not isinstance(t, Tensor) or not is_nested(t):
        kind = type(t).__name__ if not isinstance(t, Tensor) else "a dense tensor"
        raise RuntimeError(f"{op}: expected a nested tensor, got {kind}")
    return t._data.meta


def buffer_of(x: Tensor) -> Tensor:
    """The packed values of nested ``x`` as a dense tensor, in the graph. The two share their
    memory and their version counter, so that an in-place change of one is seen by backward
    formulas that saved the other."""
    out = NestedBuffer()(x)
    out._version_counter = version_counter(x)
    return out


def make(buffer: Tensor, meta: NestedMeta, quiet: bool = False) -> Tensor:
    """The nested tensor of structure ``meta`` over ``buffer`` (a tensor, in the graph; they
    share memory and version counter, as :func:`buffer_of`). The first of the ``strided``
    layout in the process warns, as PyTorch's constructor of them (``quiet``: its view of a
    dense tensor, which does not)."""
    if meta.layout is strided and not quiet:
        warn_prototype()
    out = NestedFromBuffer(meta)(buffer)
    out._version_counter = version_counter(buffer)
    return out


def buffer_like(x: Tensor, meta: NestedMeta) -> Tensor:
    """Nested ``x``'s values packed as ``meta`` packs them (``x``'s own buffer when the two
    structures agree)."""
    own = expect_nested(x, "backward")
    if own.same_structure(meta):
        return buffer_of(x)
    if own.sizes != meta.sizes:
        raise RuntimeError(
            f"nested tensor: expected a gradient of component sizes {list(meta.sizes)}, got "
            f"{list(own.sizes)}"
        )
    return buffer_of(pack(components(x), meta.layout, meta.ragged_idx, meta, lengths=None))


def components(x: Tensor) -> list:
    """The components of nested ``x`` as dense tensors, in the graph (``unbind``)."""
    meta = expect_nested(x, "unbind")
    buffer = buffer_of(x)
    if meta.layout is strided:  # one Split node: its backward is one concatenation
        counts = [math.prod(s) for s in meta.sizes]
        return [p.reshape(s) for p, s in zip(split(buffer, counts), meta.sizes)]
    axis = meta.ragged_idx - 1
    counts = [s[axis] for s in meta.sizes]
    if meta.lengths is None and meta.starts[0] == 0 and sum(counts) == buffer.shape[axis]:
        return list(split(buffer, counts, axis))
    return [meta.component(buffer, i) for i in range(len(meta.sizes))]  # (holes between)


def _ragged_axis(tensors, op: str) -> int:
    """The one component dim along which the sizes differ (0 when none does)."""
    shapes = [tuple(t.shape) for t in tensors]
    ndims = {len(s) for s in shapes}
    if len(ndims) != 1:
        raise RuntimeError(f"{op}: all tensors must have the same dim, got {sorted(ndims)}")
    differing = [d for d in range(len(shapes[0])) if len({s[d] for s in shapes}) > 1]
    if len(differing) > 1:
        raise RuntimeError(
            f"{op}: the jagged layout allows one ragged dim, but the component shapes "
            f"{[list(s) for s in shapes]} differ in dims {differing}"
        )
    return differing[0] if differing else 0


def pack(tensors, layout, ragged_idx=None, like=None, lengths=None, quiet=False) -> Tensor:
    """The nested tensor of dense ``tensors`` (in the graph): raveled one after another
    (``strided``; ``quiet`` as :func:`make`) or concatenated along their ragged dim
    (``jagged``)."""
    tensors = list(tensors)
    sizes = [tuple(t.shape) for t in tensors]
    if layout is strided:
        buffer = cat([t.reshape(-1) for t in tensors])
        return make(buffer, NestedMeta(strided, sizes, like=like), quiet)
    if ragged_idx is None:
        ragged_idx = _ragged_axis(tensors, "nested_tensor") + 1
    axis = ragged_idx - 1
    offsets = np.cumsum([0] + [s[axis] for s in sizes])
    meta = NestedMeta(jagged, sizes, offsets, lengths, ragged_idx, like=like)
    return make(cat(tensors, dim=axis), meta)


def check_components(tensors, layout, op: str) -> list:
    """PyTorch's checks of a component list."""
    tensors = list(tensors)
    if layout is not strided and layout is not jagged:
        raise RuntimeError(
            f"{op}: expected layout=minigrad.strided or minigrad.jagged, got {layout!r}"
        )
    if not tensors:
        raise NotImplementedError(f"{op}: minigrad does not build a nested tensor of no tensors")
    ndims = {t.ndim for t in tensors}
    if len(ndims) != 1:
        raise RuntimeError(
            f"{op}: all tensors in a nested tensor must have the same dim, got "
            f"{[t.ndim for t in tensors]}"
        )
    if layout is jagged and ndims == {0}:
        raise RuntimeError(f"{op}: the jagged layout needs components of at least one dim")
    kinds = {t.dtype for t in tensors}
    if len(kinds) != 1:
        raise RuntimeError(
            f"{op}: all tensors must have the same dtype, got {sorted(map(str, kinds))}"
        )
    return tensors


def padded_positions(meta: NestedMeta, out_shape: tuple):
    """Host int64 array of the buffer's shape: each element's flat position in a padded
    tensor of ``out_shape`` (-1 where a jagged buffer holds no component)."""
    batch = math.prod(out_shape[1:])
    inner = out_shape[1:]
    parts = []
    for i, size in enumerate(meta.sizes):
        grid = np.indices(size, dtype=np.int64).reshape(len(size), -1) if size else None
        flat = np.ravel_multi_index(grid, inner) if size else np.zeros(1, np.int64)
        parts.append((flat + i * batch).reshape(size))
    if meta.layout is strided:
        return np.concatenate([p.reshape(-1) for p in parts] or [np.zeros(0, np.int64)])
    return np.concatenate(parts, axis=meta.ragged_idx - 1)


@names_node("ToPaddedTensorBackward0")
def to_padded_tensor(input: Tensor, padding: float, output_size=None) -> Tensor:
    """The nested tensor as a dense tensor, each component padded with ``padding`` up to the
    largest size in each dim (or to ``output_size``), as ``torch.nested.to_padded_tensor``.

    Example:
        >>> nt = minigrad.nested.nested_tensor([minigrad.ones(2), minigrad.ones(3)])
        >>> nt.to_padded_tensor(0.0)
        tensor([[1., 1., 0.],
                [1., 1., 1.]])
    """
    meta = expect_nested(input, "to_padded_tensor")
    if meta.lengths is not None:
        input = pack(components(input), jagged, meta.ragged_idx, meta)
        meta = input._data.meta
    ndim = len(meta.shape)
    largest = tuple(max((s[d] for s in meta.sizes), default=0) for d in range(ndim - 1))
    out_shape = (len(meta.sizes),) + largest
    if output_size is not None:
        out_shape = tuple(int(s) for s in output_size)
        if len(out_shape) != ndim or any(o < m for o, m in zip(out_shape, (0,) + largest)):
            raise RuntimeError(
                f"to_padded_tensor: output_size {list(out_shape)} must have {ndim} dims, each at "
                f"least the largest size of the components, {[len(meta.sizes), *largest]}"
            )
        if out_shape[0] != len(meta.sizes):
            raise RuntimeError(
                f"to_padded_tensor: output_size's first dim must be the batch size "
                f"{len(meta.sizes)}, got {out_shape[0]}"
            )
        if meta.layout is jagged:  # PyTorch's jagged layout pads the ragged dim alone
            r = meta.ragged_idx
            out_shape = (out_shape[0],) + largest[: r - 1] + (out_shape[r],) + largest[r:]
    dev = input.device
    positions = padded_positions(meta, out_shape)
    key = (backend.as_array(positions.reshape(-1), dtypes.int64, dev),)
    count = math.prod(out_shape)
    flat = IndexAdd((count,), key, False)(buffer_of(input).reshape(-1))
    if padding != 0:
        with backend.on(dev):
            mask = dev.xp.full((count,), padding, dtype=input._data.dtype)
            mask[key[0]] = 0
        flat = flat + constant(mask, dev)
    return flat.reshape(out_shape)
