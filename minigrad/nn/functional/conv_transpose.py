"""Transposed convolution (``conv_transpose1d/2d/3d``): the adjoint of convolution, composed from
a matrix product and :func:`fold`, so its gradients are the convolution's own. A batch whose
columns would outgrow ``conv.SCRATCH_BYTES`` runs in chunks of samples (:func:`conv.in_chunks`)."""

from __future__ import annotations

import functools
import math

from ... import dtypes
from ..._memory_format import output_layout
from ...autograd.graph import names_node
from ...ops.base import autocast_op
from ._windows import Geometry, pair, refuse_dtype
from .conv import (
    Col2Im,
    check_spatial_sizes,
    check_weight_groups,
    conv_channel_mismatch,
    conv_node,
    conv_rank_mismatch,
    fold_columns,
    in_chunks,
)


def _bfloat16_in_float32(fn):
    """PyTorch's bfloat16 transposed convolutions (oneDNN's) compute in float32 and round once;
    this composite would round the product, the fold's sums and the bias add each. (Its
    float16 ones take the slow path, rounding at each step as the composite does.)"""

    @functools.wraps(fn)
    def run(input, weight, bias=None, *args, **kwargs):
        low = dtypes.bfloat16
        if input.dtype is low and weight.dtype is low and (bias is None or bias.dtype is low):
            wide = None if bias is None else bias.float()
            return fn(input.float(), weight.float(), wide, *args, **kwargs).to(low)
        return fn(input, weight, bias, *args, **kwargs)

    return run


@autocast_op("conv_transpose")
@output_layout(weighted=True)
@names_node(conv_node(2))
@_bfloat16_in_float32
def conv_transpose2d(
    input,
    weight,
    bias=None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
):
    """2-D transposed convolution ("deconvolution"), as ``torch.nn.functional.conv_transpose2d``.

    Each input pixel scatters ``weight``-weighted copies of itself onto a ``stride``-spaced
    grid: H_out = (H - 1)·stride - 2·padding + dilation·(k - 1) + output_padding + 1.

    Args:
        input: (N, C_in, H, W) or (C_in, H, W).
        weight: (C_in, C_out / groups, kH, kW).
        bias: optional (C_out,).
        output_padding: extra rows/columns on one side of the output (< stride or dilation).

    Example:
        >>> F.conv_transpose2d(minigrad.randn(1, 4, 5, 5), minigrad.randn(4, 2, 3, 3), stride=2).shape
        minigrad.Size([1, 2, 11, 11])
    """
    op = "conv_transpose2d"
    input, unbatched = _batched(input, weight, 2, groups, op)
    check_spatial_sizes(input)
    n, c_in, h, w = input.shape
    stride, padding = pair(stride, "stride", op), pair(padding, "padding", op)
    dilation, extra = pair(dilation, "dilation", op), pair(output_padding, "output_padding", op)
    _check_output_padding(extra, stride, dilation, op)
    kernel = tuple(weight.shape[2:])
    out_size = tuple(
        (size - 1) * s - 2 * p + d * (k - 1) + e + 1
        for size, s, p, d, k, e in zip((h, w), stride, padding, dilation, kernel, extra)
    )
    c_out_g = weight.shape[1]
    # columns of windows: per group, weightᵀ (C_out_g·k, C_in_g) times the input (C_in_g, H·W)
    w_g = weight.reshape(groups, c_in // groups, c_out_g * kernel[0] * kernel[1]).mT

    def run(part):
        x_g = part.reshape(part.shape[0], groups, c_in // groups, h * w)
        cols = (w_g @ x_g).reshape(part.shape[0], groups * c_out_g * kernel[0] * kernel[1], h * w)
        out = fold_columns(cols, out_size, kernel, dilation, padding, stride)
        return out if bias is None else out + bias.reshape(1, -1, 1, 1)

    # a sample's scratch: its columns and the frame fold sums them into
    per_sample = groups * c_out_g * (kernel[0] * kernel[1] * h * w + math.prod(out_size))
    out = in_chunks(run, input, per_sample * input.element_size())
    return out.squeeze(0) if unbatched else out


@autocast_op("conv_transpose")
@names_node(conv_node(1))
def conv_transpose1d(
    input,
    weight,
    bias=None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
):
    """1-D transposed convolution: input (N, C_in, L), weight (C_in, C_out / groups, k); see
    :func:`conv_transpose2d`."""
    x, unbatched = _batched(input, weight, 1, groups, "conv_transpose1d")
    one = (1,)
    out = conv_transpose2d(
        x.unsqueeze(2),
        weight.unsqueeze(2),
        bias,
        one + tuple(pair(stride, "stride", "conv_transpose1d", 1)),
        (0,) + tuple(pair(padding, "padding", "conv_transpose1d", 1)),
        (0,) + tuple(pair(output_padding, "output_padding", "conv_transpose1d", 1)),
        groups,
        one + tuple(pair(dilation, "dilation", "conv_transpose1d", 1)),
    ).squeeze(2)
    return out.squeeze(0) if unbatched else out


@autocast_op("conv_transpose")
@output_layout(weighted=True, volumes=False)
@names_node(conv_node(3))
@_bfloat16_in_float32
def conv_transpose3d(
    input,
    weight,
    bias=None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
):
    """3-D transposed convolution: input (N, C_in, D, H, W), weight (C_in, C_out / groups, kD,
    kH, kW); see :func:`conv_transpose2d`.

    Each input depth slice goes through one :func:`conv_transpose2d` whose output channels
    carry the kD depth offsets; a 1-D :func:`fold` along depth then adds the slices into place
    (stride, dilation and padding along depth), so the gradients are those ops' own.

    Example:
        >>> F.conv_transpose3d(minigrad.randn(1, 4, 2, 3, 3), minigrad.randn(4, 2, 3, 3, 3)).shape
        minigrad.Size([1, 2, 4, 5, 5])
    """
    op = "conv_transpose3d"
    x, unbatched = _batched(input, weight, 3, groups, op)
    check_spatial_sizes(x)
    stride, padding = pair(stride, "stride", op, 3), pair(padding, "padding", op, 3)
    dilation = pair(dilation, "dilation", op, 3)
    extra = pair(output_padding, "output_padding", op, 3)
    n, c_in, d = x.shape[:3]
    kd, c_out_g = weight.shape[2], weight.shape[1]
    w2 = weight.reshape(weight.shape[0], c_out_g * kd, *weight.shape[3:])
    d_out = (d - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kd - 1) + extra[0] + 1
    _check_output_padding(extra[:1], stride[:1], dilation[:1], op, (extra, stride, dilation))
    c_out = groups * c_out_g

    def run(part):
        n = part.shape[0]
        # (N·D, C_in, H, W) through conv_transpose2d, output channels (group, c_out, depth offset)
        slices = part.permute(0, 2, 1, 3, 4).reshape(n * d, c_in, *part.shape[3:])
        y = conv_transpose2d(
            slices, w2, None, stride[1:], padding[1:], extra[1:], groups, dilation[1:]
        )
        ho, wo = y.shape[2:]
        # the depth fold is a 2-D fold over (depth, H·W) with a (kD, 1) kernel, read in place
        # from the slices' layout (N, D, C, kD, 1, H·W): the result comes out contiguous in
        # (N, C, D, H, W), and every add moves whole planes
        hw = ho * wo
        geom = Geometry(
            (d_out, hw), (kd, 1), (stride[0], 1), (dilation[0], 1), (padding[0], 0), (d, hw)
        )
        out = Col2Im(geom, "nhcijw")(y.reshape(n, d, c_out, kd, 1, hw))
        out = out.reshape(n, c_out, d_out, ho, wo)
        return out if bias is None else out + bias.reshape(1, -1, 1, 1, 1)

    # a sample's scratch: the depth slices' 2-D results (the depth fold reads them in place)
    # and the output; each slice's own columns are conv_transpose2d's to chunk
    plane = math.prod(
        (size - 1) * s - 2 * p + dl * (k - 1) + e + 1
        for size, s, p, dl, k, e in zip(
            x.shape[3:], stride[1:], padding[1:], dilation[1:], weight.shape[3:], extra[1:]
        )
    )
    out = in_chunks(run, x, c_out * plane * (d * kd + d_out) * x.element_size())
    return out.squeeze(0) if unbatched else out


def _batched(input, weight, dims: int, groups: int, op: str):
    """(input with a batch dim, whether it had none), checking the ranks of ``input`` and
    ``weight`` and that the weight's input channels match the input's and divide by groups."""
    unbatched = input.ndim == dims + 1
    x = input.unsqueeze(0) if unbatched else input
    if x.ndim != dims + 2:
        raise RuntimeError(conv_rank_mismatch(op, dims, input.shape))
    if weight.ndim != dims + 2:
        raise RuntimeError(
            f"{op}: expected a {dims + 2}D weight (C_in, C_out/groups, kernel...), but got weight "
            f"of size {list(weight.shape)}"
        )
    kernel = f"slow_conv_transpose{3 if dims == 3 else 2}d_out_cpu"
    refuse_dtype(x, kernel, (dtypes.int64,), complex_ok=True)  # (integers: int64 only)
    if weight.dtype is not x.dtype:
        raise RuntimeError(
            f"expected scalar type {dtypes.scalar_type_name(x.dtype)} but found "
            f"{dtypes.scalar_type_name(weight.dtype)}"
        )
    check_weight_groups(weight, groups)
    c_in = x.shape[1]
    if weight.shape[0] != c_in:
        raise RuntimeError(
            conv_channel_mismatch("transposed=1", weight.shape, input.shape, dims, weight.shape[0])
        )
    if c_in % groups:
        raise RuntimeError(
            f"{op}: expected the input's {c_in} channels to be divisible by groups={groups}"
        )
    return x, unbatched


def _check_output_padding(extra, stride, dilation, op: str, shown=None) -> None:
    """PyTorch's rule: each output padding below its stride or its dilation. ``shown``: the
    full (output_padding, stride, dilation) to name in the message, when only some are checked."""
    for e, s, d in zip(extra, stride, dilation):
        if e >= max(s, d):
            extra_all, stride_all, dilation_all = shown or (extra, stride, dilation)
            raise RuntimeError(
                f"{op}: output padding must be smaller than either stride or dilation, got "
                f"output_padding={list(extra_all)}, stride={list(stride_all)}, "
                f"dilation={list(dilation_all)}"
            )
