"""Converters for movement ops: reshape, permute, expand, slicing, joining, padding (see
:mod:`._ops`)."""

from __future__ import annotations

import math

import numpy as np

from ._graph import INT64_MAX, dynamic_shape
from ._ops import converter

# -- movement ---------------------------------------------------------------------------------


@converter("Reshape")
def _reshape(c):
    shape2 = c.op2.shape if c.op2 is not None else None
    target = dynamic_shape(c.op.shape, shape2, c.shape(0), "Reshape")
    ins = c.shape(0)
    kind = c.op.name()[: -len("Backward0")]
    if kind in ("Squeeze", "Unsqueeze"):  # as PyTorch emits squeeze/unsqueeze
        axes = _squeezed(ins, c.op.shape) if kind == "Squeeze" else _squeezed(c.op.shape, ins)
        # (a dynamic dim of size 1 in the example would be squeezed there only: ranks differ)
        if axes is not None and (shape2 is None or len(shape2) == len(c.op.shape)):
            return c.g.node(kind, [c.input(0), c.g.ints(axes)])
    if len(ins) > 2 and target[0] in (ins[0], 0) and target[1:] == [int(np.prod(ins[1:]))]:
        return c.g.node("Flatten", [c.input(0)], axis=1)  # flatten(1), as PyTorch emits it
    return c.g.node("Reshape", [c.input(0), c.g.ints(target)])


def _squeezed(longer, shorter):
    """The axes of ``longer`` that are size-1 dims dropped to give ``shorter``, or None."""
    longer, shorter = list(longer), list(shorter)
    axes, j = [], 0
    for i, n in enumerate(longer):
        if j < len(shorter) and shorter[j] == n:
            j += 1
        elif n == 1:
            axes.append(i)
        else:
            return None
    return axes if j == len(shorter) and axes else None


@converter("Permute")
def _permute(c):
    return c.g.node("Transpose", [c.input(0)], perm=[int(d) for d in c.op.dims])


@converter("Expand")
def _expand(c):
    shape, ins = list(c.op.shape), c.shape(0)
    # Broadcasting keeps an input dim wherever the target says 1, so copied dims stay dynamic.
    lead = len(shape) - len(ins)
    target = [1 if i >= lead and ins[i - lead] == s else s for i, s in enumerate(shape)]
    if c.op2 is not None:
        for i, (a, b) in enumerate(zip(shape, c.op2.shape)):
            if a != b and target[i] != 1:
                c.unsupported("a dynamic expanded size not taken from its input")
    return c.g.node("Expand", [c.input(0), c.g.ints(target)])


@converter("Tril", "Triu")
def _trilu(c):
    k = c.g.const(np.asarray(c.op.diagonal, np.int64))
    return c.g.node("Trilu", [c.input(0), k], upper=int(c.name == "Triu"))


@converter("Flip")
def _flip(c):
    g, x = c.g, c.input(0)
    dims = list(c.op.dims)
    n = len(dims)
    return g.node(
        "Slice",
        [x, g.ints([-1] * n), g.ints([-INT64_MAX] * n), g.ints(dims), g.ints([-1] * n)],
    )


@converter("GetItem")
def _getitem(c):
    g, x = c.g, c.input(0)
    key = list(c.op.key)
    key2 = list(c.op2.key) if c.op2 is not None else list(key)  # a copy: both are edited below
    shape = c.shape(0)
    if any(k is Ellipsis for k in key):
        at = next(i for i, k in enumerate(key) if k is Ellipsis)
        fill = len(shape) - sum(1 for k in key if not (k is None or k is Ellipsis))
        key[at : at + 1] = [slice(None)] * fill
        key2[at : at + 1] = [slice(None)] * fill
    arrays = [i for i, k in enumerate(key) if isinstance(k, np.ndarray)]
    if arrays:
        return _take(c, key, key2, arrays)
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    dim = out_dim = 0
    for k, k2 in zip(key, key2):
        if k is None:
            unsqueeze.append(out_dim)
            out_dim += 1
            continue
        if isinstance(k, (int, np.integer)):
            if k != k2 and (k < 0) == (k2 < 0):
                c.unsupported("an index that depends on a dynamic axis")
            starts.append(int(k))
            ends.append(int(k) + 1 if k != -1 else INT64_MAX)
            axes.append(dim)
            steps.append(1)
            squeeze.append(dim)
        elif isinstance(k, slice):
            start, stop, step = k.start, k.stop, k.step
            size = shape[dim]
            if (start, stop, step) != (None, None, None):
                step = 1 if step is None else int(step)
                if stop is not None and k2.stop != stop and stop >= size:
                    stop = None  # a slice to the end of a dynamic dim
                if k2.start != start and start is not None:
                    c.unsupported("a slice start that depends on a dynamic axis")
                starts.append(int(start) if start is not None else (0 if step > 0 else -1))
                far = INT64_MAX if step > 0 else -INT64_MAX
                ends.append(int(stop) if stop is not None else far)
                axes.append(dim)
                steps.append(step)
            out_dim += 1
        else:
            c.unsupported(f"index {k!r}")
        dim += 1
    if axes:
        x = g.node("Slice", [x, g.ints(starts), g.ints(ends), g.ints(axes), g.ints(steps)])
    if squeeze:
        x = g.node("Squeeze", [x, g.ints(squeeze)])
    if unsqueeze:
        x = g.node("Unsqueeze", [x, g.ints(unsqueeze)])
    if not (axes or squeeze or unsqueeze):
        x = g.node("Identity", [x])
    return x


@converter("Cat")
def _cat(c):
    rank = max(len(c.shape(i)) for i in range(len(c.args)))
    # PyTorch skips 1-D empty tensors joined with higher-rank ones (legacy behaviour).
    keep = [i for i in range(len(c.args)) if len(c.shape(i)) == rank or c.shape(i) != (0,)]
    return c.g.node("Concat", [c.input(i) for i in keep], axis=int(c.op.dim))


@converter("Pad")
def _pad(c):
    rank = len(c.shape(0))
    pairs = [(0, 0)] * rank
    w = list(c.op.widths)
    for i in range(len(w) // 2):  # widths come last dim first, as F.pad
        pairs[rank - 1 - i] = (w[2 * i], w[2 * i + 1])
    pads = [p[0] for p in pairs] + [p[1] for p in pairs]
    value = c.g.const(np.asarray(c.op.value, c.dtype))
    return c.g.node("Pad", [c.input(0), c.g.ints(pads), value], mode="constant")


def _take(c, key, key2, arrays):
    """``x[:, ..., index]``: one integer index array, every other entry a full slice (as
    ``index_select`` makes), as ``Gather``, or as ``Resize`` where it is a nearest resize."""
    dim = arrays[0]
    index, index2 = key[dim], key2[dim]
    full = all(isinstance(k, slice) and k == slice(None) for i, k in enumerate(key) if i != dim)
    if len(arrays) != 1 or not full or index.dtype.kind not in "iu":
        c.unsupported("index arrays (advanced indexing) other than one integer array")
    shape = c.shape(0)
    if c.g.traced(index) is None:  # a constant index: maybe a nearest resize
        resized = _nearest_resize(c, dim, index, index2, shape)
        if resized is not None:
            return resized
    if (index < 0).any():
        index = np.where(index < 0, index + shape[dim], index)
    return c.g.node("Gather", [c.input(0), c.g.index_value(index, index2)], axis=dim)


def _nearest_resize(c, dim, index, index2, shape):
    """``Resize`` (mode nearest, asymmetric, floor: PyTorch's ``F.interpolate`` nearest) of
    ``dim`` where ``index`` picks row ⌊i·n_in/n_out⌋ for each output row i; else None."""
    if dim < 2 or index.ndim != 1 or not _is_nearest(index, shape[dim]):
        return None
    ratio = len(index) / shape[dim]
    if index2 is not None and not _is_nearest(index2, round(len(index2) / ratio)):
        return None  # (a dynamic size whose rows are not a resize by the same factor)
    scales = np.ones(len(shape), np.float32)
    scales[dim] = ratio
    if math.floor(shape[dim] * float(scales[dim])) != len(index):
        return None  # (a factor float32 cannot hold closely enough)
    return c.g.node(
        "Resize",
        [c.input(0), "", c.g.const(scales)],
        coordinate_transformation_mode="asymmetric",
        cubic_coeff_a=-0.75,
        mode="nearest",
        nearest_mode="floor",
    )


def _is_nearest(index, n_in: int) -> bool:
    n_out = len(index)
    if n_in == 0 or n_out == 0:
        return False
    want = np.minimum(np.floor(np.arange(n_out) * (n_in / n_out)).astype(np.int64), n_in - 1)
    return bool(np.array_equal(index, want))
