"""Layers that only rearrange or combine: ``pixel_shuffle``/``pixel_unshuffle``, ``channel_shuffle``
and ``bilinear``."""

from __future__ import annotations

import math

from ... import dtypes
from ...autograd.graph import names_node
from ...backend import DimensionError
from ...ops.base import autocast_op


def _check_factor(x, r: int, op: str) -> None:
    if isinstance(r, bool) or not isinstance(r, int):
        raise TypeError(f"{op}(): the factor must be an int, got {type(r).__name__}")
    if r <= 0:  # (PyTorch: RuntimeError)
        raise RuntimeError(f"{op}: expects a positive factor, but got {r}")
    if x.ndim < 3:
        raise RuntimeError(f"{op}: expected an input of at least 3 dims (*, C, H, W), got {x.ndim}")


@names_node("PixelShuffleBackward0")
def pixel_shuffle(input, upscale_factor: int):
    """(*, C·r², H, W) → (*, C, H·r, W·r): channel c·r² + i·r + j goes to pixel offset (i, j)."""
    r, op = upscale_factor, "pixel_shuffle"
    _check_factor(input, r, op)
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(
            f"{op} expects its input's 'channel' dimension to be divisible by the square of "
            f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}"
        )
    n = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


@names_node("PixelUnshuffleBackward0")
def pixel_unshuffle(input, downscale_factor: int):
    """(*, C, H·r, W·r) → (*, C·r², H, W), the inverse of :func:`pixel_shuffle`."""
    r, op = downscale_factor, "pixel_unshuffle"
    _check_factor(input, r, op)
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(f"{op}: height ({h}) and width ({w}) must be divisible by {r}")
    n = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)


@autocast_op("bilinear")
def bilinear(input1, input2, weight, bias=None):
    """y_o = x1ᵀ·W_o·x2 + b_o for x1 (*, in1), x2 (*, in2), weight (out, in1, in2).

    Example:
        >>> F.bilinear(minigrad.randn(4, 3), minigrad.randn(4, 5), minigrad.randn(2, 3, 5)).shape
        minigrad.Size([4, 2])
    """
    _check_bilinear(input1, input2, weight, bias)
    out, in1, in2 = weight.shape
    lead = input1.shape[:-1]
    rows = math.prod(lead)  # (-1 is ambiguous for an empty input)
    x1, x2 = input1.reshape(rows, in1), input2.reshape(rows, in2)
    mixed = (x1 @ weight.permute(1, 0, 2).reshape(in1, out * in2)).reshape(rows, out, in2)
    y = (mixed * x2.unsqueeze(1)).sum(-1, dtype=mixed.dtype)  # (integers stay in their dtype)
    y = y.reshape(*lead, out)
    return y if bias is None else y + bias  # (as PyTorch: the bias added last)


def _check_bilinear(input1, input2, weight, bias) -> None:
    """PyTorch's checks of bilinear's operands, in its order and words."""
    named = [("input1", input1), ("input2", input2), ("weight", weight), ("bias", bias)]
    named = [(n, t) for n, t in named if t is not None]
    if len({t.dtype for _, t in named}) > 1:
        got = ", ".join(f"{n}: {dtypes.cpp_type_name(t.dtype)}" for n, t in named)
        raise RuntimeError(f"bilinear(): All tensors must have the same dtype, got {got}")
    if input1.ndim != input2.ndim:
        raise RuntimeError(
            f"bilinear(): input dimensions do not match: got {input1.ndim} and {input2.ndim}"
        )
    if input1.ndim == 0 or weight.ndim != 3:
        raise DimensionError(
            f"bilinear(): expected inputs of at least 1 dim and a 3-D weight (out, in1, in2), "
            f"got {input1.ndim}-D inputs and weight of shape {list(weight.shape)}"
        )
    for i, (a, b) in enumerate(zip(input1.shape[:-1], input2.shape[:-1])):
        if a != b:
            raise RuntimeError(
                f"bilinear(): input batch dimensions do not match at dim {i}: got {a} and {b}"
            )
    for k, x in ((1, input1), (2, input2)):
        if x.shape[-1] != weight.shape[k]:
            raise RuntimeError(
                f"bilinear(): input{k} size does not match weight size: got {x.shape[-1]} but "
                f"expected {weight.shape[k]}"
            )
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != weight.shape[0]):
        raise RuntimeError(
            f"bilinear(): bias size does not match weight size: got {list(bias.shape)} but "
            f"expected {weight.shape[0]}"
        )


@names_node("ChannelShuffleBackward0")
def channel_shuffle(input, groups: int):
    """(N, g·k, *) → (N, k·g, *): channel i·k + j goes to j·g + i, mixing the channels of
    grouped convolutions (ShuffleNet), as ``torch.nn.functional.channel_shuffle``.

    Example:
        >>> F.channel_shuffle(minigrad.arange(4.0).reshape(1, 4, 1), 2).flatten().tolist()
        [0.0, 2.0, 1.0, 3.0]
    """
    op = "channel_shuffle"
    if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
        raise RuntimeError(f"{op}: Number of groups to divide channels in must be positive. "
                           f"Value of groups:{groups}")  # fmt: skip
    if input.ndim < 3:
        raise RuntimeError(
            f"{op}: expected input of at least 3 dims (N, C, *), got {list(input.shape)}"
        )
    n, c, *rest = input.shape
    if c % groups:
        raise RuntimeError(
            f"{op}: Number of channels must be divisible by groups. Got {c} channels and "
            f"{groups} groups."
        )
    x = input.reshape(n, groups, c // groups, *rest).transpose(1, 2)
    return x.reshape(n, c, *rest)
