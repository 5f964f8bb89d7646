"""Convolution ops and functions: conv1d/conv2d through im2col and GEMM, unfold and fold.

Convolution copies the windows of its input once into an im2col array laid out
``(C, kh, kw, N, Ho, Wo)`` and multiplies the weight with it, one GEMM per sample and group on
a strided view, so the output comes out in NCHW. Its backward is written with Tensor ops
(matmul, :class:`Im2Col`, :class:`Col2Im`), so it is differentiable again. 1-D convolution
is 2-D convolution over a height of 1.

A batch whose windows would take more than :data:`SCRATCH_BYTES` is convolved in chunks of
samples (:func:`in_chunks`, also used by conv3d and the transposed convolutions), so the
scratch memory of forward and backward stays bounded whatever the input size.
"""

from __future__ import annotations

import contextvars
import itertools
import math

from ... import backend, dtypes
from ..._memory_format import output_layout
from ...autograd.graph import named_as, names_node
from ...ops import Op, cat, split
from ...ops import base as op_base
from ...ops import pad as pad_op
from ...ops.base import autocast_inputs
from ...ops.complex import conjugates
from ...ops.joining import Cat
from ._windows import INTEGERS, Geometry, add_windows, im2col, make_geometry, pair, refuse_dtype

__all__ = ["conv1d", "conv2d", "conv3d", "fold", "unfold"]

# The im2col matrix of a forward pass is kept for the weight gradient when it is at most this
# large; bigger ones are rebuilt in backward (one copy), as PyTorch does, to bound memory.
CACHE_BYTES = 64 * 2**20

# The most scratch memory (im2col windows, transposed-convolution columns) one convolution
# takes at once: a larger batch runs in chunks of samples. PyTorch's own Conv3d and
# ConvTranspose3d docstring examples (a (20, 16, 10, 50, 100) input) need 3-4 GB of windows in
# one piece; 64 MB chunks keep each GEMM large enough to run at full speed, and small inputs
# (below the budget) take the unchunked path unchanged.
SCRATCH_BYTES = 64 * 2**20

# True while a convolution runs chunk by chunk: the chunks then keep no im2col cache (all the
# chunks' caches together would be the whole im2col matrix the chunking avoids).
_CHUNKED = contextvars.ContextVar("conv_chunked", default=False)


# -- ops -----------------------------------------------------------------------------------------


class Im2Col(Op):
    """cols = the windows of x, cols[c, i, j, n, h, w] = x_padded[n, c, h·s + i·d, w·s + j·d]
    (axes in ``order``); dx = Col2Im(dcols)"""

    supports_complex = True

    def __init__(self, geom: Geometry, order: str = "cijnhw"):
        self.geom, self.order = geom, order

    def forward(self, x):
        return im2col(self.xp, x, self.geom, self.order)

    def backward(self, gcols):
        return Col2Im(self.geom, self.order)(gcols)


class Col2Im(Op):
    """x = for each pixel, the sum of cols over the windows covering it (the adjoint of
    im2col); dcols = Im2Col(dx)"""

    supports_complex = True

    def __init__(self, geom: Geometry, order: str = "cijnhw"):
        self.geom, self.order = geom, order

    def forward(self, cols):
        order = self.order
        shape = (cols.shape[order.index("n")], cols.shape[order.index("c")]) + self.geom.size
        parts = cols.transpose(tuple(order.index(a) for a in "ijnchw"))
        return add_windows(
            self.xp, lambda i, j: parts[i, j], self.geom, shape, cols.dtype, views=True
        )

    def backward(self, gx):
        return Im2Col(self.geom, self.order)(gx)


class Convolution(Op):
    """y = w ⋆ x + b (2-D cross-correlation by im2col and GEMM);
    dx = Col2Im(wᵀ·dy), dw = Σₙ dy·Im2Col(x)ᵀ, db = Σ dy over (N, H, W) (w and x conjugated
    for complex tensors)"""

    save_inputs = True
    supports_complex = True
    input_names = ("input", "weight")  # grad_fn._saved_input, as PyTorch's (its bias: unnamed)

    def __init__(self, geom: Geometry, groups: int):
        self.geom, self.groups = geom, groups

    def forward(self, x, w, b):
        xp, g, (ho, wo) = self.xp, self.groups, self.geom.out
        n, o = x.shape[0], w.shape[0]
        cols = im2col(xp, x, self.geom)  # (C, kh, kw, N, Ho, Wo)
        k = math.prod(w.shape[1:])  # (C_in / groups)·kh·kw, also for an empty batch
        # One GEMM per sample and group on a view: the output comes out in NCHW, no transpose.
        per_sample = cols.reshape(g, k, n, ho * wo).transpose(2, 0, 1, 3)
        wm = w.reshape(g, o // g, k)
        if x.dtype == "float16":  # as PyTorch's: float32 products and bias, one rounding
            wm, per_sample = wm.astype("float32"), per_sample.astype("float32")
            b = None if b is None else b.astype("float32")
        y = xp.matmul(wm, per_sample).reshape(n, o, ho, wo)
        if b is not None:
            y += b.reshape(1, o, 1, 1)
        y = y.astype(x.dtype, copy=False)  # bfloat16: NumPy's matmul gives float32; float16
        needs = self.needs_input_grad  # empty when not recorded
        if needs and needs[1] and cols.nbytes <= CACHE_BYTES and not _CHUNKED.get():  # dw reads
            self.keep(cols=cols)
        return y

    def meta_shape(self, x, w, b):
        """The output's shape and dtype on meta inputs, from the geometry alone."""
        return (x.shape[0], w.shape[0], *self.geom.out), x._data.dtype

    def backward(self, gy):
        x, w, _ = self.saved
        complex_grad = gy._data.dtype.kind == "c"
        if complex_grad:
            (w,) = conjugates(w)
        need_x, need_w, need_b = self.needs_input_grad
        g, (n, o), (ho, wo), (kh, kw) = self.groups, gy.shape[:2], self.geom.out, self.geom.kernel
        k = math.prod(w.shape[1:])
        gy4 = gy.reshape(n, g, o // g, ho * wo)
        gx = gw = gb = None
        low = gy.dtype if gy.dtype in (dtypes.float16, dtypes.bfloat16) else None
        if need_x:
            wide = low is dtypes.bfloat16  # (oneDNN's: float32 throughout, one rounding)
            wt = w.reshape(g, o // g, k).mT
            gcols = (wt.float() @ gy4.float()) if wide else wt @ gy4  # (N, G, K, L)
            gcols = gcols.reshape(n, x.shape[1], kh, kw, ho, wo)
            gx = Col2Im(self.geom, "ncijhw")(gcols)
            gx = gx.to(low) if wide else gx
        if need_w:
            # Recomputed (and recorded) when dw must be differentiable in x.
            cols = self.reuse("cols", lambda: Im2Col(self.geom)(x), x)
            if complex_grad:
                (cols,) = conjugates(cols)
            per_sample = cols.reshape(g, k, n, ho * wo).permute(2, 0, 3, 1)  # (N, G, L, K)
            gw = _weight_grad(gy4, per_sample, low).reshape(w.shape)
        if need_b:
            gb = gy.sum((0, 2, 3))
        return gx, gw, gb


def _weight_grad(gy4, per_sample, low):
    """Σₙ gyₙ·colsₙᵀ rounded as PyTorch's CPU kernels round it: bfloat16 (oneDNN) in float32
    and once; float16 (its slow path) one fused multiply-add per sample into a float16 sum."""
    if low is dtypes.bfloat16:
        return (gy4.float() @ per_sample.float()).sum(0).to(low)
    if low is dtypes.float16 and gy4.shape[0]:
        total = None
        for i in range(gy4.shape[0]):
            step = gy4[i].float() @ per_sample[i].float()
            total = (step if total is None else total.float() + step).to(low)
        return total
    return (gy4 @ per_sample).sum(0)


# -- chunks of a batch ---------------------------------------------------------------------------


def in_chunks(run, x, per_sample: int, node: str = "ConvolutionBackward0"):
    """``run(x)`` for a batch ``x``, or, when ``per_sample`` bytes of scratch a sample would
    take more than :data:`SCRATCH_BYTES` for the whole batch, ``run`` on chunks of samples
    joined along the batch (one :func:`split` node, so each chunk's input gradient is written
    into place once). The result's node shows PyTorch's ``node``. Results equal the unchunked
    ones up to the rounding of the weight gradient's sum over chunks."""
    n = x.shape[0]
    step = max(1, SCRATCH_BYTES // max(1, per_sample))
    if step >= n or x.is_meta:  # (meta tensors hold no scratch)
        return run(x)
    token = _CHUNKED.set(True)
    try:
        chunks = (run(part) for part in split(x, step))
        if op_base.interposer is None and op_base.tracer is None and not x.is_meta:
            out = _join(chunks, n)
        else:  # (vmap, autocast and jit.trace see one plain cat)
            out = cat(list(chunks), 0)
    finally:
        _CHUNKED.reset(token)
    return named_as(out, node)


class JoinChunks(Cat):
    """y = the chunks joined along dim 0, as :class:`Cat`, whose arrays :func:`_join` has
    already placed into ``result`` (so forward copies nothing); each dx is its slice of dy"""

    backward_name = "CatBackward0"

    def __init__(self, result):
        super().__init__(0)
        self.result = result

    def forward(self, *arrays):
        result, self.result = self.result, None  # (the node keeps no reference to it)
        return result


def _join(chunks, n: int):
    """``cat(chunks, 0)`` for chunk results of ``n`` rows in all. A result larger than
    :data:`SCRATCH_BYTES` is preallocated: each chunk is copied into it as soon as it is made
    and then pointed at its rows there, so its own array is freed and at most one chunk lives
    beside the result (a cat holds every chunk and their join at once). A smaller result is
    joined by cat, whose peak is then the lower one."""
    first = next(chunks)
    if first._data.nbytes // first.shape[0] * n <= SCRATCH_BYTES:
        return cat([first, *chunks], 0)
    result = first.device.xp.empty((n,) + tuple(first.shape[1:]), dtype=first._data.dtype)
    parts, start = [], 0
    for y in itertools.chain((first,), chunks):
        rows = result[start : start + y.shape[0]]
        rows[...] = y._data
        start += y.shape[0]
        owner = y if y._base is None else y._base  # (a view's array lives in its base)
        if owner is y or _same_layout(y._data, owner._data):
            owner._data = rows.reshape(owner._data.shape)
            y._data = rows
        parts.append(y)  # (a view in another layout keeps its base until the join)
    return JoinChunks(result)(*parts)


def _same_layout(view, base) -> bool:
    """Whether ``view`` is all of ``base``'s memory in its order (both C-contiguous from one
    address), so that a copy of the view reshaped is the base."""
    if view.size != base.size or not (view.flags.c_contiguous and base.flags.c_contiguous):
        return False
    key = (
        "__array_interface__"
        if hasattr(view, "__array_interface__")
        else "__cuda_array_interface__"
    )
    return getattr(view, key)["data"][0] == getattr(base, key)["data"][0]


# -- argument parsing -----------------------------------------------------------------------------


def _kernel_too_big(op: str, size, kernel, dilation) -> str:
    """PyTorch's words for a (dilated) kernel larger than the padded input, then ``op``."""
    dilated = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
    return (
        f"Calculated padded input size per channel: ({' x '.join(map(str, size))}). Kernel size: "
        f"({' x '.join(map(str, dilated))}). Kernel size can't be greater than actual input size "
        f"({op})"
    )


def conv_padding(padding, kernel, stride, dilation, op: str):
    """(before, after) padding tuples from an int, a tuple, ``'valid'`` or ``'same'``."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * n, (0,) * n
        if padding != "same":
            raise RuntimeError(  # (PyTorch's kernel: a RuntimeError, as the next)
                f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}} ({op})"
            )
        if any(s != 1 for s in stride):
            raise RuntimeError(f"{op}: padding='same' is not supported for strided convolutions")
        total = tuple(d * (k - 1) for d, k in zip(dilation, kernel))
        before = tuple(t // 2 for t in total)  # an odd total pads one more after, as PyTorch
        return before, tuple(t - b for t, b in zip(total, before))
    pad = pair(padding, "padding", op, n)
    if any(p < 0 for p in pad):
        raise RuntimeError(f"{op}: negative padding is not supported, got {padding!r}")
    return pad, pad


def _positive(values: tuple, name: str, op: str) -> None:
    if any(v <= 0 for v in values):
        raise RuntimeError(f"{op}: {name} should be greater than zero, got {list(values)}")


# -- functions ------------------------------------------------------------------------------------


@output_layout(weighted=True)
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as PyTorch) over an (N, C, H, W) input.

    Args:
        input: (N, C_in, H, W), or (C_in, H, W) unbatched.
        weight: (C_out, C_in / groups, kH, kW).
        bias: (C_out,) or None.
        stride, dilation: an int or a pair.
        padding: an int, a pair, ``'valid'`` (no padding) or ``'same'`` (output as large as the
            input; stride 1 only; an odd total pads one more at the bottom/right).
        groups: split the channels into this many independent convolutions.

    Returns:
        (N, C_out, H_out, W_out) with ``H_out = (H + 2·pad - dilation·(kH - 1) - 1) // stride + 1``.

    Example:
        >>> x = minigrad.randn(2, 3, 8, 8)
        >>> conv2d(x, minigrad.randn(4, 3, 3, 3), padding=1).shape
        minigrad.Size([2, 4, 8, 8])
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, "conv2d", 2)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over an (N, C, L) input: conv2d over a height of 1.

    Args:
        input: (N, C_in, L), or (C_in, L) unbatched.
        weight: (C_out, C_in / groups, k).
        bias: (C_out,) or None.
        stride, padding, dilation, groups: as :func:`conv2d`, with single ints.

    Returns:
        (N, C_out, L_out).

    Example:
        >>> conv1d(minigrad.randn(2, 3, 10), minigrad.randn(4, 3, 5), stride=2).shape
        minigrad.Size([2, 4, 3])
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, "conv1d", 1)


def _conv(x, weight, bias, stride, padding, dilation, groups, op, dims):
    x, weight, bias = autocast_inputs("conv", x, weight, bias)
    _check_conv_args(x, weight, bias, groups, op, dims, dilation)
    unbatched = x.ndim == dims + 1
    if unbatched:
        x = x.unsqueeze(0)
    kernel = tuple(weight.shape[2:])
    stride = pair(stride, "stride", op, dims)
    dilation = pair(dilation, "dilation", op, dims)
    _positive(stride, "stride", op), _positive(dilation, "dilation", op)
    before, after = conv_padding(padding, kernel, stride, dilation, op)
    if dims == 1:  # a height of 1: the same op, one fewer code path
        x, weight = x.unsqueeze(2), weight.unsqueeze(2)
        kernel, stride, dilation = (1, *kernel), (1, *stride), (1, *dilation)
        before, after = (0, *before), (0, *after)
    geom = make_geometry(x.shape[2:], kernel, stride, dilation, before, after)
    if any(o <= 0 for o in geom.out):
        size = [n + a + b for n, a, b in zip(x.shape[2:], before, after)][-dims:]
        raise RuntimeError(_kernel_too_big(op, size, kernel[-dims:], dilation[-dims:]))
    check_spatial_sizes(x)
    cols = x.shape[1] * math.prod(kernel) * math.prod(geom.out) * x.element_size()
    out = in_chunks(lambda part: Convolution(geom, groups)(part, weight, bias), x, cols)
    if dims == 1:  # (PyTorch: one node of its own 1-D convolution)
        out = named_as(out.squeeze(2), "ConvolutionBackward0")
    return out.squeeze(0) if unbatched else out


def check_weight_groups(weight, groups: int) -> None:
    """PyTorch's check that the weight has at least one output (transposed: input) channel per
    group."""
    if weight.shape[0] < groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, "
            f"but got weight of size {list(weight.shape)} instead"
        )


def check_spatial_sizes(x) -> None:
    """PyTorch refuses a batched input with an empty spatial dim (that its padding made
    convolvable); an empty batch or channel dim convolves."""
    if 0 in x.shape[2:]:
        raise RuntimeError(
            "Only zero batch or zero channel inputs are supported, but got input shape: "
            f"{list(x.shape)}"
        )


def conv_rank_mismatch(op: str, dims: int, shape) -> str:
    """PyTorch's words for a convolution input of the wrong rank."""
    return (
        f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to {op}, but got input "
        f"of size: {list(shape)}"
    )


def conv_channel_mismatch(given: str, weight_shape, input_shape, dims: int, channels: int) -> str:
    """PyTorch's words for an input whose channels do not fit the weight; ``given`` is
    ``"groups=G"`` (convolution) or ``"transposed=1"``. An unbatched input is shown with the
    batch dimension of one that PyTorch gives it."""
    shape = [1, *input_shape] if len(input_shape) == dims + 1 else list(input_shape)
    return (
        f"Given {given}, weight of size {list(weight_shape)}, expected input{shape} to have "
        f"{channels} channels, but got {shape[1]} channels instead"
    )


def _refuse_integers(x, dilation: tuple, dims: int) -> None:
    """PyTorch's CPU convolutions of integers: int64 always; int8/16/32 and uint8 without
    dilation (its dilated kernel takes int64 only); bool never. Raises its error otherwise."""
    if any(d != 1 for d in dilation):
        refuse_dtype(x, "slow_conv_dilated<>", (dtypes.int64,), complex_ok=True)
    else:
        kernel = "compute_columns3d" if dims == 3 else "slow_conv2d_cpu"
        refuse_dtype(x, kernel, INTEGERS, complex_ok=True)


def _check_conv_args(x, weight, bias, groups, op, dims, dilation):
    if x.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(conv_rank_mismatch(op, dims, x.shape))
    if weight.ndim != dims + 2:
        raise RuntimeError(
            f"{op}: expected a {dims + 2}D weight (C_out, C_in/groups, kernel...), but got weight "
            f"of size {list(weight.shape)}"
        )
    if not isinstance(groups, int) or groups <= 0:
        raise RuntimeError(f"{op}: non-positive groups is not supported, got {groups!r}")
    channels = x.shape[-dims - 1]
    check_weight_groups(weight, groups)
    if weight.shape[0] % groups:
        raise RuntimeError(
            f"{op}: expected weight of size {list(weight.shape)} to have C_out = "
            f"{weight.shape[0]} divisible by groups={groups}"
        )
    if channels != weight.shape[1] * groups:
        raise RuntimeError(
            conv_channel_mismatch(
                f"groups={groups}", weight.shape, x.shape, dims, weight.shape[1] * groups
            )
        )
    _refuse_integers(x, pair(dilation, "dilation", op, dims), dims)
    if bias is not None and bias.dtype is not x.dtype:  # (PyTorch's words and order)
        raise RuntimeError(
            f"Input type ({dtypes.cpp_type_name(x.dtype)}) and bias type "
            f"({dtypes.cpp_type_name(bias.dtype)}) should be the same"
        )
    if weight.dtype is not x.dtype:  # (PyTorch's words)
        raise RuntimeError(
            f"expected scalar type {dtypes.scalar_type_name(x.dtype)} but found "
            f"{dtypes.scalar_type_name(weight.dtype)}"
        )
    if bias is not None and bias.dtype is not x.dtype:
        raise RuntimeError(
            f"{op}: expected input and bias of one dtype, got input {x.dtype} and bias {bias.dtype}"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(
            f"{op}: expected bias of shape [{weight.shape[0]}], got {list(bias.shape)}"
        )


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """The sliding windows of a batched image as columns (``torch.nn.functional.unfold``).

    Args:
        input: (N, C, H, W).
        kernel_size, dilation, padding, stride: ints or pairs.

    Returns:
        (N, C·kH·kW, L) where L is the number of windows; column l holds window l, channel-major.

    Example:
        >>> unfold(minigrad.randn(1, 2, 4, 4), 2, stride=2).shape
        minigrad.Size([1, 8, 4])
    """
    if input.ndim < 2:  # (PyTorch: an IndexError)
        raise backend.DimensionError(
            f"unfold: expected a 4D (batched image) input, got shape {list(input.shape)}"
        )
    if input.ndim != 4:
        raise NotImplementedError(
            f"unfold: only 4D (batched image) input is supported, got shape {list(input.shape)}"
        )
    refuse_dtype(input, "im2col_out_cpu", (dtypes.bool,), complex_ok=True)
    if not all(input.shape[1:]):
        raise RuntimeError(
            "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
            f"dimensions for input, but got: {list(input.shape)}"
        )
    geom = _fold_geometry(input.shape[2:], kernel_size, dilation, padding, stride, "unfold")
    n, c = input.shape[:2]
    cols = Im2Col(geom, "ncijhw")(input)
    blocks = math.prod(geom.kernel)
    return named_as(cols.reshape(n, c * blocks, math.prod(geom.out)), "Im2ColBackward0")


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum columns of windows back into an image, the adjoint of :func:`unfold`.

    Args:
        input: (N, C·kH·kW, L).
        output_size: (H, W) of the image.

    Returns:
        (N, C, H, W); positions covered by several windows get the sum.

    Example:
        >>> fold(minigrad.randn(1, 8, 4), (4, 4), 2, stride=2).shape
        minigrad.Size([1, 2, 4, 4])
    """
    if input.ndim != 3:
        raise NotImplementedError(
            f"fold: only 3D (batched) input is supported, got shape {list(input.shape)}"
        )
    refuse_dtype(input, "col2im_out_cpu", (dtypes.bool,), complex_ok=True)
    return fold_columns(input, output_size, kernel_size, dilation, padding, stride)


def fold_columns(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """:func:`fold` of any dtype: the transposed convolutions sum their integer columns too
    (PyTorch has integer kernels for them, not for ``F.fold``)."""
    size = pair(output_size, "output_size", "fold")
    geom = _fold_geometry(size, kernel_size, dilation, padding, stride, "fold")
    n, ck, length = input.shape
    k = math.prod(geom.kernel)
    if ck % k or length != math.prod(geom.out):
        raise RuntimeError(
            f"fold: expected input of shape (N, C·{k}, {math.prod(geom.out)}) for output_size "
            f"{list(size)} and kernel_size {list(geom.kernel)}, got {list(input.shape)}"
        )
    return Col2Im(geom, "ncijhw")(input.reshape(n, ck // k, *geom.kernel, *geom.out))


def _fold_geometry(size, kernel_size, dilation, padding, stride, op):
    kernel = pair(kernel_size, "kernel_size", op)
    dilation, stride = pair(dilation, "dilation", op), pair(stride, "stride", op)
    pad = pair(padding, "padding", op)
    for name, v in (("kernel_size", kernel), ("dilation", dilation), ("stride", stride)):
        _positive(v, name, op)
    geom = make_geometry(size, kernel, stride, dilation, pad, pad)
    if any(o <= 0 for o in geom.out):
        raise RuntimeError(f"{op}: kernel {list(kernel)} does not fit input of size {list(size)}")
    return geom


def conv_node(dims: int):
    """PyTorch's node of a ``dims``-D (transposed) convolution: its own node for a batch,
    that node's result squeezed for an unbatched input."""
    return lambda input, *args, **kwargs: (
        "SqueezeBackward1" if input.ndim == dims + 1 else "ConvolutionBackward0"
    )


@output_layout(weighted=True, volumes=False)
@names_node(conv_node(3))
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution over an (N, C, D, H, W) input, as ``torch.nn.functional.conv3d``.

    The depth axis is folded into the channels: the kD depth slices each output depth reads
    are stacked as channels ``(c, i)``, and one :func:`conv2d` with the weight reshaped to
    (C_out, C_in/groups·kD, kH, kW) does the rest (so its gradients are conv2d's own).

    Args:
        input: (N, C_in, D, H, W), or (C_in, D, H, W) unbatched.
        weight: (C_out, C_in / groups, kD, kH, kW).
        bias: (C_out,) or None.
        stride, padding, dilation, groups: as :func:`conv2d`, with triples.

    Returns:
        (N, C_out, D_out, H_out, W_out).

    Example:
        >>> conv3d(minigrad.randn(1, 2, 5, 6, 6), minigrad.randn(4, 2, 3, 3, 3), padding=1).shape
        minigrad.Size([1, 4, 5, 6, 6])
    """
    op = "conv3d"
    x, weight, bias = autocast_inputs("conv", input, weight, bias)
    _check_conv_args(x, weight, bias, groups, op, 3, dilation)
    unbatched = x.ndim == 4
    if unbatched:
        x = x.unsqueeze(0)
    kernel = tuple(weight.shape[2:])
    stride, dilation = pair(stride, "stride", op, 3), pair(dilation, "dilation", op, 3)
    _positive(stride, "stride", op), _positive(dilation, "dilation", op)
    before, after = conv_padding(padding, kernel, stride, dilation, op)
    geom = make_geometry(x.shape[2:], kernel, stride, dilation, before, after)
    if any(o <= 0 for o in geom.out):
        size = [n + a + b for n, a, b in zip(x.shape[2:], before, after)]
        raise RuntimeError(_kernel_too_big(op, size, kernel, dilation))
    check_spatial_sizes(x)
    if before[0] or after[0]:
        x = pad_op(x, (0, 0, 0, 0, before[0], after[0]))
    (kd, sd, dd), d_out = (kernel[0], stride[0], dilation[0]), geom.out[0]
    w2 = weight.reshape(weight.shape[0], -1, *kernel[1:])
    hw_padding = padding if isinstance(padding, str) else before[1:]

    def run(part):
        n, c = part.shape[:2]
        # the depth windows as one strided view (N, C, D_out, H, W, kD): two ops, whatever kD
        windows = part.unfold(2, dd * (kd - 1) + 1, sd)
        if dd > 1:
            windows = windows[..., ::dd]
        stacked = windows.permute(0, 2, 1, 5, 3, 4)  # (N, D_out, C, kD, H, W)
        stacked = stacked.reshape(n * d_out, c * kd, *part.shape[3:])
        y = conv2d(stacked, w2, bias, stride[1:], hw_padding, dilation[1:], groups)
        return y.reshape(n, d_out, *y.shape[1:]).permute(0, 2, 1, 3, 4)

    # a sample's scratch: its stacked depth slices and their windows (conv2d chunks those)
    depth_slices = d_out * x.shape[1] * kd * x.element_size()
    y = in_chunks(
        run, x, depth_slices * (math.prod(x.shape[3:]) + math.prod(kernel[1:] + geom.out[1:]))
    )
    return y.squeeze(0) if unbatched else y
