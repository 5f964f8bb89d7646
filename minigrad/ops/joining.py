"""Joining and cutting along a dimension: cat, stack (and the h/v/d/column variants with
``atleast_*d``), split, tensor_split (and h/v/dsplit), chunk, unbind, and constant pad."""

from __future__ import annotations

from .. import _memory_format
from ..autograd import engine, grad_mode, graph
from ..autograd.function import Function
from ..autograd.graph import named_as, names_node, version_counter
from ._size import as_int, parse_size
from .base import (
    Op,
    accepts_axis,
    autocast_inputs,
    normalize_dim,
    on_input_device,
    refuse_dtype,
    tensor_args,
)
from .elementwise import promote


class Cat(Op):
    """y = the inputs joined along dim; each dx is its slice of dy

    A legacy empty tensor of shape (0,) joins any shape (PyTorch skips it, after it took part
    in type promotion); its gradient is empty too.
    """

    supports_complex = True

    def __init__(self, dim: int):
        self.dim = dim

    def forward(self, *arrays):
        kept = [a for a in arrays if not _legacy_empty(a.shape)] or arrays[:1]
        out = self.xp.concatenate(kept, axis=self.dim)
        # PyTorch lays the result out in the inputs' common format (channels-last where all
        # are), else row-major: NumPy would follow transposed inputs' order
        formats = {_memory_format.suggest(a) for a in kept}
        fmt = formats.pop() if len(formats) == 1 else _memory_format.contiguous_format
        if _memory_format.is_in_format(out, fmt):
            return out
        return _memory_format.lay_out(
            self.xp, out, _memory_format.permutation(fmt, out.ndim, "cat")
        )

    def backward(self, gy):
        grads, start = [], 0
        lead = (slice(None),) * self.dim
        skip = gy.ndim != 1
        for (shape, _, _), edge in zip(self.input_meta, self.edges):
            if skip and _legacy_empty(shape):
                grads.append(gy.new_zeros((0,)) if edge is not None else None)
                continue
            stop = start + shape[self.dim]
            grads.append(gy[lead + (slice(start, stop),)] if edge is not None else None)
            start = stop
        return tuple(grads)


def _legacy_empty(shape) -> bool:
    return len(shape) == 1 and shape[0] == 0


class Pad(Op):
    """y = x padded (or cropped, for negative widths) with a constant; dx = dy cropped back"""

    backward_name = "ConstantPadNdBackward0"
    supports_complex = True

    def __init__(self, widths: tuple, value):
        self.widths, self.value = widths, value

    def forward(self, x):
        pairs = _pad_pairs(self.widths, x.ndim)
        shape = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape, pairs))
        if any(n + min(lo, 0) + min(hi, 0) < 0 for n, (lo, hi) in zip(x.shape, pairs)):
            raise RuntimeError(  # (PyTorch crops first, with narrow)
                f"pad: widths {list(self.widths)} crop input of shape {list(x.shape)} below "
                f"zero: narrow(): length must be non-negative."
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


# -- functions --------------------------------------------------------------------------------


def _tensor_list(tensors, op: str) -> list:
    """``tensors`` as a list, checked as PyTorch checks a ``tensors`` argument: a sequence
    (a single Tensor is not one: its rows would be joined by mistake) of Tensors only."""
    tensor_cls = graph.Tensor
    if isinstance(tensors, tensor_cls) or not isinstance(tensors, (list, tuple)):
        if isinstance(tensors, tensor_cls) or not hasattr(tensors, "__iter__"):
            raise TypeError(
                f"{op}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                f"{type(tensors).__name__}"
            )
    tensors = list(tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, tensor_cls):
            raise TypeError(
                f"{op}(): expected Tensor as element {i} in argument 'tensors', but got "
                f"{type(t).__name__}"
            )
    return tensors


@accepts_axis
def cat(tensors, dim=0):
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("cat(): expected a non-empty list of Tensors")  # (PyTorch's type)
    tensors = list(autocast_inputs("cat", *tensors))  # checks dtypes only, as PyTorch's
    # every tensor takes part in type promotion, also an empty one (as in PyTorch) ...
    tensors = list(promote(*tensors)) if len({t.dtype for t in tensors}) > 1 else tensors
    # ... but a legacy empty tensor of shape (0,) is not held to the others' shape
    shaped = [t for t in tensors if not _legacy_empty(t.shape)] or tensors[:1]
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(
                f"cat(): zero-dimensional tensor (at position {i}) cannot be concatenated"
            )
    ref = shaped[0]
    d = normalize_dim(dim, ref.ndim, "cat")
    for i, t in enumerate(tensors):
        if _legacy_empty(t.shape):
            continue
        if t.ndim != ref.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ref.ndim} and {t.ndim}"
            )
        for j, (a, b) in enumerate(zip(ref.shape, t.shape)):
            if j != d and a != b:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size {a} "
                    f"but got size {b} for tensor number {i} in the list."
                )
    return Cat(d)(*tensors)


@accepts_axis
def stack(tensors, dim=0):
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} at "
                f"entry 0 and {list(t.shape)} at entry {i}"
            )
    d = normalize_dim(dim, tensors[0].ndim + 1, "stack")
    return named_as(cat([t.unsqueeze(d) for t in tensors], d), "StackBackward0")


engine.stack = stack  # for autograd.grad(is_grads_batched=True)


def _at_least_1d(t, op: str) -> None:
    if t.ndim == 0:  # (PyTorch's words: a 0-d tensor has no dim to cut)
        raise RuntimeError(f"{op} expects at least a 1-dimensional tensor")


def split(tensor, split_size_or_sections, dim=0):
    _at_least_1d(tensor, "split")
    d = normalize_dim(dim, tensor.ndim, "split")
    n = tensor.shape[d]
    if not isinstance(split_size_or_sections, (list, tuple)):
        step = as_int(split_size_or_sections, "split", "split_size")
        if step <= 0:
            raise RuntimeError(f"split expects split_size be positive, but got {step}")
        sizes = [min(step, n - s) for s in range(0, n, step)] or [0]
    else:
        sizes = list(parse_size((split_size_or_sections,), "split", "split_sizes"))
        if sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                f"at dimension {d}), but got split_sizes={sizes}"
            )
        pieces = _pieces(tensor, d, sizes, squeeze=False)
        for piece in pieces[:1]:  # the pieces share one node: PyTorch's split_with_sizes
            named_as(piece, "SplitWithSizesBackward0")
        return pieces
    return _pieces(tensor, d, sizes, squeeze=False)


@accepts_axis
def chunk(input, chunks, dim=0):
    chunks = as_int(chunks, "chunk", "chunks")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    _at_least_1d(input, "chunk")
    n = input.shape[normalize_dim(dim, input.ndim, "chunk")]
    if n == 0:  # an empty dim gives `chunks` empty pieces, as in PyTorch
        return split(input, [0] * chunks, dim)
    return split(input, max(1, -(-n // chunks)), dim)


@accepts_axis
def unbind(input, dim=0):
    d = normalize_dim(dim, input.ndim, "unbind")
    return _pieces(input, d, [1] * input.shape[d], squeeze=True)


def atleast_1d(*tensors):
    """Each tensor with at least one dimension (a 0-d tensor becomes shape (1,))."""
    return _atleast(tensors, lambda t: t.reshape(1) if t.ndim == 0 else t, "atleast_1d")


def atleast_2d(*tensors):
    """Each tensor with at least two dimensions: (n,) becomes (1, n)."""
    return _atleast(
        tensors,
        lambda t: t.reshape(1, 1) if t.ndim == 0 else t.unsqueeze(0) if t.ndim == 1 else t,
        "atleast_2d",
    )


def atleast_3d(*tensors):
    """Each tensor with at least three dimensions: (n,) becomes (1, n, 1), (m, n) (m, n, 1)."""

    def lift(t):
        if t.ndim == 0:
            return t.reshape(1, 1, 1)
        if t.ndim == 1:
            return t.unsqueeze(0).unsqueeze(-1)
        return t.unsqueeze(-1) if t.ndim == 2 else t

    return _atleast(tensors, lift, "atleast_3d")


def _atleast(tensors, lift, op: str):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(lift(t) for t in tensor_args(tensors[0], op))
    tensor_args(tensors, op)
    return lift(tensors[0]) if len(tensors) == 1 else tuple(lift(t) for t in tensors)


def hstack(tensors):
    """Join along columns: dim 1, or dim 0 for 1-D tensors."""
    tensors = atleast_1d(_tensor_list(tensors, "hstack"))
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Join along rows (dim 0), 1-D tensors as rows."""
    return cat(atleast_2d(_tensor_list(tensors, "vstack")), 0)


row_stack = vstack


def dstack(tensors):
    """Join along depth (dim 2), after lifting each tensor to three dimensions."""
    return cat(atleast_3d(_tensor_list(tensors, "dstack")), 2)


def column_stack(tensors):
    """Join as columns: 0-d and 1-D tensors become columns, the rest join along dim 1."""
    tensors = _tensor_list(tensors, "column_stack")
    return cat([t.reshape(-1, 1) if t.ndim <= 1 else t for t in tensors], 1)


@names_node("SliceBackward0")
def tensor_split(input, indices_or_sections, dim=0):
    """Views of ``input`` cut along ``dim`` into ``n`` near-equal pieces (the first ``size % n``
    one longer) or at the given indices, as ``numpy.array_split``."""
    _at_least_1d(input, "tensor_split")
    d = normalize_dim(dim, input.ndim, "tensor_split")
    n = input.shape[d]
    cuts = indices_or_sections
    if isinstance(cuts, graph.Tensor):
        if cuts.dtype.is_floating_point or cuts.ndim > 1:
            raise RuntimeError(
                "tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                f"one-dimensional tensor of integers, but got a tensor of {cuts.ndim} dims and "
                f"dtype {cuts.dtype}"
            )
        cuts = cuts.item() if cuts.ndim == 0 else cuts.tolist()
    if isinstance(cuts, (list, tuple)):
        # a negative index counts from the end, as a slice's bound (PyTorch's), then clamps
        cuts = [as_int(c, "tensor_split", "indices") for c in cuts]
        bounds = [0] + [min(max(c + n if c < 0 else c, 0), n) for c in cuts] + [n]
        sizes = [max(b - a, 0) for a, b in zip(bounds, bounds[1:])]
        starts = bounds[:-1]
        return tuple(input.narrow(d, min(s, n), k) for s, k in zip(starts, sizes))
    sections = as_int(cuts, "tensor_split", "sections")
    if sections <= 0:
        raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
    sizes = [n // sections + (1 if i < n % sections else 0) for i in range(sections)]
    return _pieces(input, d, sizes, squeeze=False)


def _split_evenly(input, sections, dim, name):
    if isinstance(sections, int) and input.shape[dim] % sections:
        raise RuntimeError(
            f"torch.{name} attempted to split along dimension {dim}, but the size of the "
            f"dimension {input.shape[dim]} is not divisible by the split_size {sections}!"
        )
    return tensor_split(input, sections, dim)


def hsplit(input, indices_or_sections):
    """:func:`tensor_split` along dim 1 (dim 0 for 1-D); sections must divide evenly."""
    if input.ndim < 1:
        raise RuntimeError("torch.hsplit requires a tensor with at least 1 dimension, but got 0")
    return _split_evenly(input, indices_or_sections, 0 if input.ndim == 1 else 1, "hsplit")


def vsplit(input, indices_or_sections):
    """:func:`tensor_split` along dim 0 of a tensor of at least 2 dims."""
    if input.ndim < 2:
        raise RuntimeError(
            f"torch.vsplit requires a tensor with at least 2 dimension, but got {input.ndim}"
        )
    return _split_evenly(input, indices_or_sections, 0, "vsplit")


def dsplit(input, indices_or_sections):
    """:func:`tensor_split` along dim 2 of a tensor of at least 3 dims."""
    if input.ndim < 3:
        raise RuntimeError(
            f"torch.dsplit requires a tensor with at least 3 dimension, but got {input.ndim}"
        )
    return _split_evenly(input, indices_or_sections, 2, "dsplit")


class Split(Function):
    """ys = the pieces of x along dim (views); dx = the pieces' gradients joined, zeros for
    pieces that got none. One node for all the pieces: a node per piece would give each piece's
    backward a full-size zero tensor, quadratic in the number of pieces (an LSTM's time steps)."""

    backward_name = "SplitBackward0"

    @staticmethod
    def forward(ctx, x, dim, sizes, squeeze):
        ctx.dim, ctx.squeeze = dim, squeeze
        lead, start, pieces = (slice(None),) * dim, 0, []
        for size in sizes:
            piece = x[lead + ((start,) if squeeze else (slice(start, start + size),))]
            pieces.append(piece)
            start += size
        return tuple(pieces)

    @staticmethod
    def backward(ctx, *grads):
        if ctx.squeeze:
            grads = [g.unsqueeze(ctx.dim) for g in grads]
        return cat(list(grads), ctx.dim), None, None, None


class Unbind(Split):
    """The pieces of width 1, without the split dim (see :class:`Split`)."""

    backward_name = "UnbindBackward0"


def _pieces(tensor, dim: int, sizes: list, squeeze: bool) -> tuple:
    from .indexing import GetItem  # indexing imports this module

    pieces = (Unbind if squeeze else Split).apply(tensor, dim, sizes, squeeze)
    counter, base = version_counter(tensor), tensor._base if tensor._base is not None else tensor
    chain = tensor._view[0] if tensor._base is not None else ()
    lead, start, made_with_grad = (slice(None),) * dim, 0, grad_mode._state.enabled
    for piece, size in zip(pieces, sizes):
        # views of the input: in-place changes show in its version, and an in-place change of
        # a piece is recorded on the base through the piece's view op (see CopySlices)
        key = lead + ((start,) if squeeze else (slice(start, start + size),))
        piece._version_counter, piece._base = counter, base
        piece._view = (chain + (GetItem(key),), counter.value, made_with_grad)
        start += size
    return pieces


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_node(input, pad, mode="constant", value=None) -> str:
    """PyTorch's node of a padding: a node per mode and padded dims (ReflectionPad2DBackward0),
    and for circular padding the in-place copies into a new tensor (CopySlices)."""
    kind = {"reflect": "Reflection", "replicate": "Replication"}.get(mode)
    if kind is not None:
        return f"{kind}Pad{len(pad) // 2}DBackward0"
    return "torch::autograd::CopySlices" if mode == "circular" else "ConstantPadNdBackward0"


@names_node(_pad_node)
def pad(input, pad, mode="constant", value=None):
    """Pad with widths given last dim first, (left, right, top, bottom, ...) as F.pad.

    ``mode``: ``'constant'`` (``value``, default 0; negative widths crop), ``'reflect'``
    (mirror without repeating the edge), ``'replicate'`` (repeat the edge) or ``'circular'``
    (wrap around). The last three gather source positions along each padded dim, so their
    gradients add up where a position was copied several times.
    """
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"pad: mode {mode!r} is not one of {list(_PAD_MODES)}")
    widths = parse_size((pad,), "pad", "pad")
    if mode == "constant":
        return _memory_format.keep_layout(input, Pad(widths, 0 if value is None else value)(input))
    if value:
        raise RuntimeError(f"pad: padding mode {mode!r} doesn't take in value argument")
    _check_pad_rank(input.ndim, len(widths))
    if mode != "circular":
        kind = {"reflect": "reflection", "replicate": "replication"}[mode]
        kernel = f"{kind}_pad{len(widths) // 2}d"  # PyTorch's kernel: autocast may cast for it
        (input,) = autocast_inputs(kernel, input)
        refuse_dtype(input.dtype, kernel, "pad", bools_only=True)
    out = input
    pairs = _pad_pairs(widths, input.ndim)
    for dim, (before, after) in enumerate(pairs):
        if before or after:
            name = "WHD"[input.ndim - 1 - dim] if input.ndim - dim <= 3 else f"dim {dim}"
            positions = _source_positions(out, dim, before, after, mode, name)
            out = out.index_select(dim, positions)
    return out if mode == "circular" else _memory_format.keep_layout(input, out)


def _check_pad_rank(ndim: int, size: int) -> None:
    """PyTorch's reflect/replicate/circular kernels pad the last 1, 2 or 3 dims of an input
    with or without its batch dim, and refuse other combinations."""
    if ndim not in {2: (2, 3), 4: (3, 4), 6: (4, 5)}.get(size, ()):
        raise NotImplementedError(
            f"Padding size {size} is not supported for {ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
        )


@on_input_device
def _source_positions(x, dim: int, before: int, after: int, mode: str, name: str):
    """Where each position of the padded dim reads from, as an int64 tensor on x's device.
    A negative width crops that side; reflect and replicate read about the uncropped edges,
    circular wraps around what is left after cropping, as PyTorch's kernels do."""
    n = x.shape[dim]
    if mode == "reflect" and (before >= n or after >= n):
        raise RuntimeError(
            f"pad: Argument #4: Padding size should be less than the corresponding input "
            f"dimension, but got: padding ({before}, {after}) at dimension {dim} of input "
            f"{list(x.shape)}"
        )
    if mode != "circular" and n + before + after <= 0:
        raise RuntimeError(
            f"pad: input ({name}: {n}) is too small. Calculated output {name}: {n + before + after}"
        )
    if mode == "circular":
        kept = n + min(before, 0) + min(after, 0)
        if kept < 0 or before > kept or after > kept:
            raise RuntimeError(
                f"pad: Padding value causes wrapping around more than once: padding "
                f"({before}, {after}) of a dimension of size {n}"
            )
        first = max(-before, 0)
        positions = range(-before, n + after)
        source = [first + (i - first) % kept for i in positions]
    elif mode == "replicate":
        source = [min(max(i, 0), n - 1) for i in range(-before, n + after)]
    else:  # reflect: mirror about the first and last element
        positions = range(-before, n + after)
        source = [-i if i < 0 else (2 * (n - 1) - i if i >= n else i) for i in positions]
    return graph.Tensor._make(x.device.xp.asarray(source, dtype="int64"), x.device)
