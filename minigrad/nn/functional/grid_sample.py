"""Spatial transformers: ``affine_grid`` (sampling positions from affine matrices) and
``grid_sample`` (read an image at those positions), for 4-D and 5-D inputs.

``grid_sample`` is composed from Tensor ops: the sampling positions are unnormalised from
[-1, 1] to pixels (and clamped or reflected for the padding modes) with differentiable
arithmetic, the neighbouring pixels (all corners or taps at once) are read in one gather, and
bilinear (trilinear on 5-D) weights are the fractional parts. So it is differentiable in the input
(through the gather, whose backward is one scatter-add) and in the grid (through the weights),
twice over, as PyTorch's. One gather rather than one per corner: a 3-D call is a few dozen
tensor ops, not hundreds.
"""

from __future__ import annotations

import math

import numpy as np

from ... import dtypes
from ..._float_rounding import fused_multiply_add
from ..._range_factories import linspace_values
from ..._warnings import warn_user
from ...autograd.graph import names_node
from ...backend import DimensionError
from ...creation import shape_constant
from ...ops import stack
from ...ops.base import autocast_op
from .interpolate import cubic_convolution_weights

__all__ = ["affine_grid", "grid_sample"]

_ALIGN_WARNING = (
    "Default grid_sample and affine_grid behavior has changed to align_corners=False since "
    "1.3.0. Please specify align_corners=True if the old behavior is desired. See the "
    "documentation of grid_sample for details."
)


def _align(align_corners) -> bool:
    if align_corners is None:
        warn_user(_ALIGN_WARNING)
        return False
    return bool(align_corners)


def _base_coords(n: int, align_corners: bool, dtype) -> np.ndarray:
    """The normalised positions of ``n`` pixel centres (PyTorch's ``linspace_from_neg_one``),
    rounded in ``dtype`` step by step as PyTorch's CPU kernel rounds them: a sampling position
    then lands on the same side of a pixel as in PyTorch (the floor that picks the neighbours,
    and so the gradient in the grid, depends on the last bit)."""
    kind = np.dtype(dtype.numpy).type
    kind = kind if kind in (np.float32, np.float64) else np.float32
    if n <= 1:
        return np.zeros(n, kind)
    steps = linspace_values(-1.0, 1.0, n, kind)
    return steps if align_corners else steps * kind(n - 1) / kind(n)


@names_node("AffineGridGeneratorBackward0")
def affine_grid(theta, size, align_corners=None):
    """The sampling grid of a batch of affine maps, for :func:`grid_sample`.

    Args:
        theta: (N, 2, 3) for 2-D (``size`` (N, C, H, W)) or (N, 3, 4) for 3-D (``size``
            (N, C, D, H, W)); maps output positions (x, y[, z], 1) to input positions.
        size: the output image's size.
        align_corners: as :func:`grid_sample` (None: False, with PyTorch's warning).

    Returns:
        (N, H, W, 2) or (N, D, H, W, 3) normalised (x, y[, z]) positions.

    Example:
        >>> theta = minigrad.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
        >>> F.affine_grid(theta, (1, 3, 4, 5), align_corners=False).shape
        minigrad.Size([1, 4, 5, 2])
    """
    align_corners = _align(align_corners)
    if not theta.dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = tuple(int(s) for s in size)
    if len(size) not in (4, 5):
        raise NotImplementedError(
            "affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
            f"respectively. Got size {list(size)}."
        )
    nd = len(size) - 2
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (nd, nd + 1):
        raise ValueError(
            f"Expected a batch of {nd}D affine matrices of shape Nx{nd}x{nd + 1} for size "
            f"{list(size)}. Got {list(theta.shape)}."
        )
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {list(size)}")
    spatial = size[2:]
    if align_corners and min(spatial) == 1:
        warn_user(
            "Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
            "align_corners=True. This is not an intended use case of affine_grid. See the "
            "documentation of affine_grid for details.",
        )
    # base[..., k] is the position along spatial dim nd-1-k: x runs along the last dim
    axes = [_base_coords(n, align_corners, theta.dtype) for n in spatial]
    mesh = np.meshgrid(*axes, indexing="ij")
    ones = np.ones(spatial, mesh[0].dtype)
    base = [m.reshape(1, -1, 1) for m in (*reversed(mesh), ones)]
    # (N, L, nd): the products summed left to right in theta's dtype, no fused multiply-add,
    # as PyTorch's CPU batched product rounds these short dot products (a BLAS matmul would not)
    columns = theta.unsqueeze(1).unbind(-1)  # theta[:, :, k] as (N, 1, nd), in one op
    grid = None
    for column, coords in zip(columns, base):
        term = shape_constant(coords, theta.dtype, theta.device) * column
        grid = term if grid is None else grid + term
    return grid.reshape(size[0], *spatial, nd)


def _per_dim(value, like):
    """``value`` as an operand of ``like``: a Python number as is, a per-dim NumPy array
    (shaped to broadcast against ``like``; small integers or halves, exact in any float dtype)
    as a constant of ``like``'s dtype, so that the arithmetic rounds as with the number."""
    if isinstance(value, np.ndarray):
        return shape_constant(value, like.dtype, like.device)
    return value


def _reflect(coord, twice_low: int, twice_high):
    """``coord`` reflected into [low, high] (PyTorch's ``reflect_coordinates``); ``twice_high``
    a number or a per-dim array (a position 0 where low = high, a size-1 dim)."""
    low = twice_low / 2
    span = (np.asarray(twice_high) - twice_low) / 2
    degenerate = span == 0
    if degenerate.all():
        return coord * 0
    span = np.where(degenerate, 1.0, span) if span.ndim else float(span)
    span = _per_dim(span, coord)
    dist = (coord - low).abs()
    flips = (dist.detach() / span).floor()
    extra = dist - flips * span  # fmod(dist, span), differentiable in dist
    even = (flips.remainder(2) == 0).to(coord.dtype)
    result = even * (extra + low) + (1 - even) * (span - extra + low)
    if degenerate.any():
        result = result * _per_dim((~degenerate).astype(np.float64), coord)
    return result


def _pixel_position(coord, n: int, align_corners: bool, nd: int):
    """A normalised grid coordinate in [-1, 1] as a pixel position along a dim of size ``n``,
    rounded as PyTorch's CPU kernels round it (the floor that picks the neighbours, and so the
    gradient in the grid, depends on the last bit): images (its vectorized 2-D kernel)
    ``(c + 1) * (n - 1) / 2`` or ``(c + 1) * n / 2 - 0.5`` as one fused multiply-add (exact in
    float64 for float32 coordinates, then rounded once; emulated exactly for float64: at an
    identity transform the positions land within an ulp of pixel centres, so one rounding
    picks the neighbours); volumes ``((c + 1) * n - 1) / 2``."""
    if nd == 3:
        return (coord + 1) / 2 * (n - 1) if align_corners else ((coord + 1) * n - 1) / 2
    if align_corners:
        return (coord + 1) * ((n - 1) / 2)
    if coord.dtype is dtypes.float32:
        return ((coord + 1).double() * (n / 2) - 0.5).float()
    plain = (coord + 1) * (n / 2) - 0.5
    if coord.dtype is not dtypes.float64:
        return plain
    fused = fused_multiply_add(coord.detach() + 1, n / 2, -0.5)
    return plain + (fused - plain.detach())  # fused's value, plain's derivative


def _padded(pos, n, padding_mode: str, align_corners: bool):
    """A pixel position moved inside [0, n - 1] as ``padding_mode`` asks (border: clamped,
    reflection: mirrored, then clamped); ``'zeros'`` leaves it (outside reads 0). ``n`` is a
    size, or a per-dim array of sizes broadcasting against ``pos`` (all dims in one pass)."""
    if padding_mode == "reflection":
        pos = _reflect(pos, 0, 2 * (n - 1)) if align_corners else _reflect(pos, -1, 2 * n - 1)
    if padding_mode in ("border", "reflection"):
        # clamped, with PyTorch's zero gradient at the limits themselves (not clamp's one)
        top = _per_dim(n - 1, pos)
        inside = (pos > 0) & (pos < top)
        limited = pos.detach().clamp(min=0)
        limited = limited.minimum(top) if isinstance(n, np.ndarray) else limited.clamp(max=top)
        pos = pos.where(inside, limited)
    return pos


def _source_coords(positions, size, padding_mode: str, align_corners: bool):
    """The pixel positions (one per spatial dim) the grid reads, padded (bilinear and nearest
    modes): all dims in one pass of the padding arithmetic (a few ops, not a few per dim)."""
    if padding_mode == "zeros":
        return positions
    sizes = np.array(size).reshape(len(size), 1)  # against (N, nd, L)
    return _padded(stack(positions, 1), sizes, padding_mode, align_corners).unbind(1)


def _bicubic(flat_input, positions, size, padding_mode: str, align_corners: bool):
    """Bicubic sampling: 4×4 taps around each position, each tap's integer position padded
    as ``padding_mode`` asks (the gradient in the grid flows through the weights)."""
    low = [p.detach().floor() for p in positions]
    taps = stack([stack([f + (o - 1) for o in range(4)], 1) for f in low], 1)  # (N, nd, 4, L)
    sizes = np.array(size).reshape(len(size), 1, 1)
    taps = _padded(taps, sizes, padding_mode, align_corners).unbind(1)
    weights = [stack(cubic_convolution_weights(p - f), 1) for p, f in zip(positions, low)]
    return _sample_taps(flat_input, taps, weights, size)


def _zero_gradient_link(coords):
    """Ones of shape (N, 1, L) that depend on ``coords`` with a zero derivative: nearest
    sampling is piecewise constant, so the grid gets a zero gradient (PyTorch's), not none."""
    link = None
    for p in coords:
        finite = p.detach().isfinite()
        term = p.where(finite, p.detach().masked_fill(~finite, 0)) * 0
        link = term if link is None else link + term
    return (link + 1).unsqueeze(1)


def _sample_taps(flat_input, taps, weights, size):
    """The (N, C, L) sum over every combination of per-dim taps of ``input[tap] · Π weight``,
    read in one gather (so the backward is one scatter-add): ``taps`` holds one (N, T_k, L)
    tensor of integer pixel positions per spatial dim (no gradient), ``weights`` the matching
    (N, T_k, L) weights (None: all ones). Taps outside the image read 0. The combinations are
    laid out by broadcasting, (N, T_0, ..., T_{nd-1}, L), the weights multiplied dim by dim and
    the taps summed in that order, as the per-corner loop this replaces did."""
    n, c, _ = flat_input.shape
    nd, length = len(size), taps[0].shape[-1]
    valid = flat = weight = None
    for k, (i, extent) in enumerate(zip(taps, size)):
        shape = (n, *(i.shape[1] if j == k else 1 for j in range(nd)), length)
        i = i.reshape(shape)
        inside = (i >= 0) & (i <= extent - 1)
        valid = inside if valid is None else valid & inside
        clipped = i.clamp(0, extent - 1).to(dtypes.int64)
        flat = clipped if flat is None else flat * extent + clipped
        if weights is not None:
            w = weights[k].reshape(shape)
            weight = w if weight is None else weight * w
    count = math.prod(flat.shape[1:-1])
    index = flat.reshape(n, 1, count * length).expand(n, c, count * length)
    values = flat_input.gather(2, index).reshape(n, c, count, length)
    mask = valid.to(flat_input.dtype)
    weight = mask if weight is None else weight * mask
    return (values * weight.reshape(n, 1, count, length)).sum(2)


@autocast_op("grid_sample")
@names_node(lambda input, *a, **k: f"GridSampler{input.ndim - 2}DBackward0")
def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` at the normalised positions of ``grid`` (spatial transformer networks).

    Args:
        input: (N, C, H_in, W_in) or (N, C, D_in, H_in, W_in).
        grid: (N, H, W, 2) or (N, D, H, W, 3): (x, y[, z]) in [-1, 1], -1 being the left/top
            edge; x indexes W.
        mode: ``'bilinear'`` (trilinear on 5-D), ``'nearest'`` (ties to even, as PyTorch) or
            ``'bicubic'`` (4-D only; Keys' cubic convolution with a = -0.75, as PyTorch).
        padding_mode: values outside the image: ``'zeros'``, ``'border'`` (the nearest edge
            pixel) or ``'reflection'`` (mirrored at the edges).
        align_corners: True: -1 and 1 are the centres of the corner pixels; False (default,
            with PyTorch's warning when not given): their outer edges.

    Returns:
        (N, C, H, W) or (N, C, D, H, W).

    Example:
        >>> theta = minigrad.tensor([[[0.5, 0.0, 0.0], [0.0, 0.5, 0.0]]])
        >>> grid = F.affine_grid(theta, (1, 1, 4, 4), align_corners=False)
        >>> F.grid_sample(minigrad.randn(1, 1, 8, 8), grid, align_corners=False).shape
        minigrad.Size([1, 1, 4, 4])
    """
    op = "grid_sample"
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(
            f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or "
            f"'bicubic', but got: '{mode}'"
        )
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(
            "nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
            f"'reflection', but got: '{padding_mode}'"
        )
    align_corners = _align(align_corners)
    _check(input, grid, op)
    if mode == "bicubic" and input.ndim != 4:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    n, c, *size = input.shape
    nd, out = len(size), tuple(grid.shape[1:-1])
    if grid.dtype in (dtypes.bfloat16, dtypes.float16):  # pixel positions need float32's bits
        grid = grid.float()
    # grid component k addresses spatial dim nd-1-k (x is the width)
    points = grid.reshape(n, math.prod(out), nd)  # sizes, not -1: N = 0 (no boxes) works
    positions = [
        _pixel_position(points[:, :, nd - 1 - k], size[k], align_corners, nd) for k in range(nd)
    ]
    flat_input = input.reshape(n, c, math.prod(size))
    if mode == "bicubic":
        result = _bicubic(flat_input, positions, size, padding_mode, align_corners)
    elif mode == "nearest":
        coords = _source_coords(positions, size, padding_mode, align_corners)
        taps = [p.detach().round().unsqueeze(1) for p in coords]  # half to even, as nearbyint
        result = _sample_taps(flat_input, taps, None, size) * _zero_gradient_link(coords)
    else:
        coords = _source_coords(positions, size, padding_mode, align_corners)
        low = [p.detach().floor() for p in coords]
        taps = [stack([f, f + 1], 1) for f in low]
        frac = [p - f for p, f in zip(coords, low)]
        weights = [stack([1 - t, t], 1) for t in frac]
        result = _sample_taps(flat_input, taps, weights, size)
    return result.reshape(n, c, *out).to(input.dtype)


def _check(input, grid, op: str) -> None:
    if input.ndim not in (4, 5):
        raise DimensionError(
            f"{op}: expected a 4-D or 5-D input (N, C, *spatial), got {list(input.shape)}"
        )
    nd = input.ndim - 2
    if grid.ndim != input.ndim or grid.shape[-1] != nd or grid.shape[0] != input.shape[0]:
        raise (DimensionError if grid.ndim != input.ndim else RuntimeError)(
            f"{op}: expected a grid of shape (N, *output, {nd}) with N = {input.shape[0]} for "
            f"input of shape {list(input.shape)}, got grid of shape {list(grid.shape)}"
        )
    if not input.dtype.is_floating_point:  # (PyTorch: its kernel has no integer dtypes)
        raise NotImplementedError(
            f'"grid_sampler_{nd}d_cpu" not implemented for {input.dtype} input (floating only)'
        )
    if input.dtype is not grid.dtype:
        raise RuntimeError(
            f"{op}: expected input and grid of one floating dtype, got {input.dtype} and "
            f"{grid.dtype}"
        )
    if any(s == 0 for s in input.shape[2:]):
        raise RuntimeError(
            f"{op}: expected input with non-empty spatial dims, got {list(input.shape)}"
        )
