"""Layers that only rearrange or combine: ``pixel_shuffle``/``pixel_unshuffle``, ``channel_shuffle``
and ``bilinear``."""

from __future__ import annotations

from ...autograd.graph import names_node


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
            f"{op}: the channels ({c}) must be divisible by the square of upscale_factor ({r * r})"
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


def bilinear(input1, input2, weight, bias=None):
    """y_o = x1ᵀ·W_o·x2 + b_o for x1 (*, in1), x2 (*, in2), weight (out, in1, in2).

    Example:
        >>> F.bilinear(minigrad.randn(4, 3), minigrad.randn(4, 5), minigrad.randn(2, 3, 5)).shape
        minigrad.Size([4, 2])
    """
    out, in1, in2 = weight.shape
    if input1.shape[-1] != in1 or input2.shape[-1] != in2 or input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(
            f"bilinear: expected inputs (*, {in1}) and (*, {in2}) with the same leading dims for "
            f"weight {list(weight.shape)}, got {list(input1.shape)} and {list(input2.shape)}"
        )
    lead = input1.shape[:-1]
    x1, x2 = input1.reshape(-1, in1), input2.reshape(-1, in2)
    mixed = (x1 @ weight.permute(1, 0, 2).reshape(in1, out * in2)).reshape(-1, out, in2)
    y = (mixed * x2.unsqueeze(1)).sum(-1, dtype=mixed.dtype)  # (integers stay in their dtype)
    y = y.reshape(*lead, out)
    return y if bias is None else y + bias  # (as PyTorch: the bias added last)


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
