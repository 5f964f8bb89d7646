"""The layouts of results that ops allocate, as PyTorch's kernels allocate them: pointwise
results as TensorIterator orders them (:func:`iterator_layout`), reductions row-major
(:func:`reduction_layout`), sort's like its input (:func:`dense_like`), topk's and median's
row-major (:func:`row_major`). NumPy's own choices differ where inputs are transposed,
channels-last or have size-1 dims; values never depend on it, ``stride()`` and ``view`` do."""

from __future__ import annotations

import numpy as np

from ._memory_format import channels_last, format_strides, is_in_format, lay_out

_NUMBERS = (float, int)
_ndarray = np.ndarray


def pair_layout(xp, out, a, b):
    """:func:`iterator_layout` for a binary op, its common cases decided by a type test and a
    flag or strides read (its ``getattr`` loops cost a third of a small add's time): row-major
    NumPy arrays of one or more dims keep ``out``, and so does a row-major array with a number
    when ``out`` has its strides (size-1 dims' included); the rest as :func:`iterator_layout`.
    First, at once: an array with a number, or with an array, laid out as ``out`` (every
    branch of :func:`iterator_layout` keeps ``out`` then)."""
    if type(a) is _ndarray:
        strides = a.strides
        if strides == out.strides:
            kind = type(b)
            if kind is float or kind is int or (kind is _ndarray and b.strides == strides):
                return out
    x, y = (b, a) if type(a) in _NUMBERS else (a, b)
    if type(x) is np.ndarray and x.flags.c_contiguous:
        if type(y) in _NUMBERS:
            if x.strides == out.strides:
                return out
        elif type(y) is np.ndarray and y.flags.c_contiguous and x.ndim and y.ndim:
            return out
    return iterator_layout(xp, out, a, b)


def iterator_layout(xp, out, *inputs):
    """``out``, the fresh result of a pointwise op of ``inputs`` (arrays or numbers), laid out as
    PyTorch's TensorIterator lays out a result it allocates where NumPy's choice differs: inputs
    of one shape laid out differently (a channels-last plus a row-major tensor, a transposed
    plus a row-major one). NumPy then writes row-major; PyTorch orders the dims by the inputs'
    strides, the first input with a strict order deciding each pair (equal strides put the
    smaller dim faster), and all channels-last inputs give channels-last. Row-major inputs
    return ``out`` at once (one flag read each); so do broadcasts (a bias: the two agree there
    unless the inputs' orders conflict). Values do not change."""
    for a in inputs:
        flags = getattr(a, "flags", None)
        if flags is not None and not flags.c_contiguous:
            break
    else:
        return _size1_strides(xp, out, inputs)
    if not _is_strided(out) or out.ndim < 2:  # (vmap's batched records have no strides)
        return out
    shape, same = out.shape, True
    for a in inputs:
        if getattr(a, "ndim", 0):  # (numbers and 0-d arrays broadcast: no say)
            if not _is_strided(a) or a.shape != shape:
                return out
            same = same and a.strides == out.strides
    if same:
        return out  # one layout for all (TensorIterator's fast path keeps its strides)
    arrays = [a for a in inputs if getattr(a, "ndim", 0)]
    if out.ndim == 4 and all(is_in_format(a, channels_last) for a in arrays):
        order = (0, 2, 3, 1)  # all channels-last (TensorIterator's fast path): the formula's
    else:
        order = _iteration_order(shape, [[s // a.itemsize for s in a.strides] for a in arrays])
    if tuple(s // out.itemsize for s in out.strides) == _strides_in_order(shape, order):
        return out
    return lay_out(xp, out, order)


def _size1_strides(xp, out, inputs):
    """``out`` of row-major ``inputs`` (strides may still differ at size-1 dims: a (3, 1)
    transpose's are (1, 3)). With a number (or 0-d) operand TensorIterator leaves its fast path
    and writes the result in the inputs' stride order, size-1 dims' strides included (``t + 1``
    keeps (1, 3)); same-shape tensors alone take the fast path's row-major strides, as NumPy."""
    if out.ndim < 2 or not _is_strided(out):
        return out
    arrays = [a for a in inputs if getattr(a, "ndim", 0)]
    if len(arrays) == len(inputs) or all(a.strides == out.strides for a in arrays):
        return out
    if any(a.shape != out.shape or not _is_strided(a) for a in arrays):
        return out  # (a broadcast operand: NumPy's layout, as the general rule keeps it)
    order = _iteration_order(out.shape, [[s // a.itemsize for s in a.strides] for a in arrays])
    return with_strides(xp, out, _strides_in_order(out.shape, order))


def reduction_layout(xp, out, input):
    """``out``, a reduction's (or scan's) fresh result over ``input``, row-major with PyTorch's
    strides (a kept size-1 dim's stride included), as its reductions allocate them; NumPy's
    follow a channels-last or transposed input. Row-major inputs return ``out`` at once."""
    flags = getattr(input, "flags", None)
    if flags is None or flags.c_contiguous or not _is_strided(out) or out.ndim < 2:
        return out
    if not out.flags.c_contiguous:
        out = xp.ascontiguousarray(out)
    want = tuple(s * out.itemsize for s in format_strides(out.shape, None))
    if out.strides != want and out.dtype.type.__module__ == "numpy":  # (size-1 dims' strides;
        out = xp.lib.stride_tricks.as_strided(out, out.shape, want)  # ml_dtypes' types: kept)
    return out


def dense_like(xp, out, input):
    """``out``, a fresh result of ``input``'s shape, with the strides PyTorch's ``sort`` (and
    ``empty_like``'s preserve format) give it: ``input``'s own where ``input`` is
    non-overlapping and dense (size-1 dims' strides included), else dense strides in the order
    of ``input``'s (``infer_dense_strides``). Values do not change."""
    if not (_is_strided(out) and _is_strided(input)) or out.shape != input.shape:
        return out
    return with_strides(xp, out, _dense_strides(input))


def dense_copy(xp, array):
    """A copy of ``array`` (never ``array`` itself) laid out as :func:`dense_like` says: what
    PyTorch's ``clone()`` in its default ``preserve_format`` makes (a transpose stays one)."""
    if not _is_strided(array) or (array.flags.c_contiguous and 1 not in array.shape):
        return lay_out(xp, array, None)  # (the common case: a row-major copy)
    strides = _dense_strides(array)
    if strides == format_strides(array.shape, None):
        return lay_out(xp, array, None)
    return _copy_with_strides(xp, array, strides)


def _dense_strides(input) -> tuple:
    """The strides (elements) :func:`dense_like` gives a result like ``input``."""
    strides = [s // input.itemsize for s in input.strides]
    if not _non_overlapping_and_dense(input.shape, strides):
        strides = _strides_in_order(input.shape, _iteration_order(input.shape, [strides]))
    return tuple(strides)


def row_major(xp, out):
    """``out``, a fresh result, with PyTorch's row-major strides (a size-1 dim's included), as
    kernels that allocate their results contiguous write them (``topk``, ``median``)."""
    if not _is_strided(out):
        return out
    return with_strides(xp, out, format_strides(out.shape, None))


def with_strides(xp, array, strides: tuple):
    """``array``'s values in memory with exactly ``strides`` (in elements, non-overlapping and
    dense): ``array`` itself when it has them."""
    if array.strides == tuple(s * array.itemsize for s in strides):
        return array
    return _copy_with_strides(xp, array, strides)


def _copy_with_strides(xp, array, strides: tuple):
    want = tuple(s * array.itemsize for s in strides)
    order = sorted(range(array.ndim), key=lambda d: (-strides[d], d))
    out = lay_out(xp, array, order)
    if out.strides != want and out.dtype.type.__module__ == "numpy":  # (size-1 dims' strides;
        out = xp.lib.stride_tricks.as_strided(out, out.shape, want)  # ml_dtypes' types: kept)
    return out


def _strides_in_order(shape, order) -> tuple:
    """Dense strides (elements) of ``shape`` laid out in ``order`` (slowest dim first)."""
    want = format_strides(tuple(shape[d] for d in order), None)
    strides = [0] * len(shape)
    for k, d in enumerate(order):
        strides[d] = want[k]
    return tuple(strides)


def _non_overlapping_and_dense(shape, strides) -> bool:
    """PyTorch's ``is_non_overlapping_and_dense``: the dims of size > 1, by stride, tile the
    memory with no gap and no overlap."""
    expected = 1
    for d in sorted((d for d in range(len(shape)) if shape[d] != 1), key=lambda d: strides[d]):
        if strides[d] != expected:
            return False
        expected *= shape[d]
    return True


def _is_strided(a) -> bool:
    return isinstance(a, np.ndarray) or type(a).__name__ == "ndarray"  # NumPy's or CuPy's


def _iteration_order(shape, operands) -> tuple:
    """TensorIterator's ``reorder_dimensions``: an insertion sort of the dims (fastest first)
    with its ambiguous comparisons; returned slowest first."""

    def should_swap(d0, d1) -> int:
        for strides in operands:
            s0, s1 = strides[d0], strides[d1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 != s1:
                return -1 if s0 < s1 else 1
            if shape[d0] > shape[d1]:
                return 1
        return 0

    perm = list(range(len(shape) - 1, -1, -1))
    for i in range(1, len(perm)):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            comparison = should_swap(perm[d0], perm[d1])
            if comparison > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif comparison < 0:
                break
    return tuple(reversed(perm))
