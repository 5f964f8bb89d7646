"""The storage of a nested tensor: its components' values packed into one array, and the
structure (layout, component sizes, offsets) that says where each component lies.

A nested tensor is an ordinary :class:`~minigrad.Tensor` whose ``_data`` is a
:class:`NestedRecord`. As :mod:`minigrad._sparse_coo`'s record, it answers what the Tensor and
the engine read from an array (``shape``, ``dtype``, ``ndim``, ``size``) and refuses to act as
one, so an op's forward fails on it and :class:`minigrad.ops.base.Op` hands the op to a nested
rule (:mod:`minigrad.nested`) or refuses it by name. Dense tensors pay nothing.

Packing: the ``strided`` layout keeps the components raveled one after another in a 1-D
buffer; the ``jagged`` layout concatenates them along their one ragged dim (``ragged_idx - 1``
of a component), so the trailing dims stay dims of the buffer, as PyTorch's ``values()``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from . import _public_name
from ._memory_format import jagged, strided
from ._storage_record import StorageRecord
from ._unsupported import UnsupportedAttributeError
from ._warnings import warn_user_once

_numbers = itertools.count(1)


def warn_prototype() -> None:
    """PyTorch's warning, once a process, when a nested tensor of the ``strided`` layout is
    first made (its ``NestedTensorImpl`` constructor's ``TORCH_WARN_ONCE``)."""
    warn_user_once(
        "nested tensors prototype",
        "The PyTorch API of nested tensors is in prototype stage and will change in the near "
        f"future. We recommend specifying layout={_public_name.shown()}.jagged when constructing "
        "a nested tensor, as this layout receives active development, has better operator "
        "coverage, and works with torch.compile.",
    )


class RaggedDim:
    """The size of an irregular dim: prints as PyTorch's symbolic ``j1``; equal to another
    when the components' lengths along it are the same."""

    __slots__ = ("lengths", "number", "strided")

    def __init__(self, lengths, strided_layout: bool):
        # a jagged dim is numbered when made, as PyTorch's nested ints; the strided layout's
        # irregular dims (which PyTorch never numbers) only when first shown
        self.lengths, self.strided = tuple(lengths), strided_layout
        self.number = None if strided_layout else next(_numbers)

    def __eq__(self, other) -> bool:
        return isinstance(other, RaggedDim) and other.lengths == self.lengths

    def __hash__(self) -> int:
        return hash(self.lengths)

    def __repr__(self) -> str:
        if self.number is None:
            self.number = next(_numbers)
        return f"j{self.number}"


def _ragged_of(meta, lengths):
    """``meta``'s irregular size with these lengths (in any dim), else None."""
    for size in tuple.__iter__(meta.shape):
        if isinstance(size, RaggedDim) and size.lengths == lengths:
            return size
    return None


class IrregularDimError(RuntimeError, AttributeError):
    """The size of a strided nested tensor's irregular dim was read: a RuntimeError, as
    PyTorch's; also an AttributeError, so that an op's forward reading it (``a.shape[-1]``)
    hands the op to its nested rule (``Op.__call__``)."""


class NestedShape(tuple):
    """A nested tensor's shape: an irregular dim of the strided layout has no size."""

    def __getitem__(self, i):
        value = tuple.__getitem__(self, i)
        if isinstance(value, RaggedDim) and value.strided:
            raise IrregularDimError(
                f"Given dimension {i % len(self)} is irregular and does not have a size."
            )
        return value


class NestedMeta:
    """The structure shared by nested tensors of one shape: the layout, each component's size,
    where it starts in the packed buffer (elements for ``strided``, rows along the packed axis
    for ``jagged``), the jagged offsets/lengths and the ragged dim."""

    __slots__ = ("layout", "sizes", "starts", "offsets", "lengths", "ragged_idx", "shape")

    def __init__(self, layout_, sizes, offsets=None, lengths=None, ragged_idx=None, like=None):
        self.layout, self.sizes = layout_, tuple(tuple(int(d) for d in s) for s in sizes)
        self.ragged_idx, self.lengths = ragged_idx, lengths
        if layout_ is strided:
            counts = [math.prod(s) for s in self.sizes]
            self.starts = tuple(int(c) for c in np.cumsum([0] + counts[:-1]))
            self.offsets = None
        else:
            self.offsets = np.asarray(offsets, dtype=np.int64)
            self.starts = tuple(int(o) for o in self.offsets[:-1])
        self.shape = NestedShape(self._shape(like))

    def _shape(self, like) -> tuple:
        ndim = len(self.sizes[0]) if self.sizes else 0
        dims = [len(self.sizes)]
        for d in range(ndim):
            lengths = tuple(s[d] for s in self.sizes)
            ragged = self.layout is jagged and d == self.ragged_idx - 1
            if not ragged and len(set(lengths)) <= 1:
                dims.append(lengths[0] if lengths else 0)
            elif like is not None and _ragged_of(like, lengths) is not None:
                dims.append(_ragged_of(like, lengths))  # the same j as its source
            else:
                dims.append(RaggedDim(lengths, self.layout is strided))
        return tuple(dims)

    @property
    def numel(self) -> int:
        return sum(math.prod(s) for s in self.sizes)

    def same_structure(self, other: NestedMeta) -> bool:
        """Whether buffers of the two structures hold the same elements at the same places."""
        if self is other:
            return True
        return (
            self.layout is other.layout
            and self.sizes == other.sizes
            and self.starts == other.starts
            and self.ragged_idx == other.ragged_idx
            and _same_array(self.offsets, other.offsets)
            and _same_array(self.lengths, other.lengths)
        )

    def component(self, buffer, i: int):
        """Component ``i`` of ``buffer`` (an array, or a tensor: both index alike)."""
        size = self.sizes[i]
        if self.layout is strided:
            start = self.starts[i]
            return buffer[start : start + math.prod(size)].reshape(size)
        axis, start = self.ragged_idx - 1, self.starts[i]
        key = (slice(None),) * axis + (slice(start, start + size[axis]),)
        return buffer[key]


def _same_array(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return a.shape == b.shape and bool((a == b).all())


class NestedRecord(StorageRecord):
    """A packed ``buffer`` array and its :class:`NestedMeta`."""

    __slots__ = ("buffer", "meta")
    is_nested_record = True

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        raise UnsupportedAttributeError(
            f"this operation does not support nested tensors (it needs the array attribute "
            f"{name!r}, which a nested tensor's packed storage has not); call "
            ".to_padded_tensor(padding) or .unbind() first"
        )

    def __setitem__(self, key, value) -> None:
        """``record[...] = other``: write another record's values of the same structure (the
        in-place ops of nested tensors)."""
        if key is not Ellipsis or type(value) is not NestedRecord:
            raise TypeError("a nested tensor's storage takes record[...] = nested record only")
        if not value.meta.same_structure(self.meta):
            raise RuntimeError(
                f"in-place op: a nested result of shape {tuple(value.shape)} cannot be written "
                f"to a nested tensor of shape {tuple(self.shape)}"
            )
        self.buffer[...] = value.buffer

    def __init__(self, buffer, meta: NestedMeta):
        self.buffer, self.meta = buffer, meta

    shape = property(lambda self: self.meta.shape)
    dtype = property(lambda self: self.buffer.dtype)
    size = property(lambda self: self.meta.numel)
    itemsize = property(lambda self: self.buffer.itemsize)
    nbytes = property(lambda self: self.buffer.nbytes)

    def copy(self) -> NestedRecord:
        """A record with a copy of the buffer (``clone``)."""
        return NestedRecord(self.buffer.copy(), self.meta)

    def astype(self, dtype, copy: bool = True) -> NestedRecord:
        """The buffer converted to ``dtype`` (``Tensor.to(dtype)``)."""
        return NestedRecord(self.buffer.astype(dtype), self.meta)

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "a nested tensor has no dense array: call .to_padded_tensor(padding) or .unbind() "
            "first (this op takes dense tensors only)"
        )

    def tolist(self):
        raise TypeError("tolist() of a nested tensor: call .unbind() first")

    def __repr__(self) -> str:
        return f"NestedRecord(shape={tuple(self.shape)}, layout={self.meta.layout})"


def is_nested(t) -> bool:
    """Whether tensor ``t`` is a nested tensor (``Tensor.is_nested``)."""
    return type(t._data) is NestedRecord
