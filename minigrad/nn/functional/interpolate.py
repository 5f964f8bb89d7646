"""Resampling: ``F.interpolate`` (nearest, nearest-exact, linear, bilinear, bicubic, trilinear,
area).

Each mode works one spatial dim at a time (they are separable), as gathers of source rows whose
positions are computed on the host from the sizes alone, so gradients flow through the gathers.
The index and weight arrays depend only on sizes and arguments: they are cached (read-only) and
become tensors through ``shape_constant``, so ``minigrad.compile`` keeps them as constants.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ... import dtypes
from ..._memory_format import output_layout
from ..._warnings import warn_user
from ...autograd.graph import named_as
from ...creation import shape_constant
from ...ops.complex import real_only
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d
from .pooling3d import adaptive_avg_pool3d

_LINEAR = {"linear": 3, "bilinear": 4, "trilinear": 5}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "area", "bicubic")


def _output_sizes(x, size, scale_factor, recompute: bool, op: str):
    """The output size of each spatial dim, and the scale (input/output) each position uses."""
    spatial = x.ndim - 2
    in_sizes = tuple(x.shape[2:])
    if size is not None:
        sizes = (size,) * spatial if isinstance(size, int) else tuple(size)
        sizes = tuple(int(s) for s in sizes)
        return sizes, [i / o if o > 0 else 0.0 for i, o in zip(in_sizes, sizes)]
    factors = (
        (scale_factor,) * spatial if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
    )
    sizes = tuple(int(math.floor(i * f)) for i, f in zip(in_sizes, factors))
    if recompute:  # (an empty or negative size is refused by _check_nonempty)
        return sizes, [i / o if o > 0 else 0.0 for i, o in zip(in_sizes, sizes)]
    return sizes, [1.0 / f if f else 0.0 for f in factors]  # the given factor, not in/out


def _check_size_or_scale(size, scale_factor, op: str) -> None:
    """Exactly one of ``size`` and ``scale_factor``: PyTorch's ValueError, before the input's
    rank is looked at."""
    if size is None and scale_factor is None:
        raise ValueError(f"either size or scale_factor should be defined ({op})")
    if size is not None and scale_factor is not None:
        raise ValueError(f"only one of size or scale_factor should be defined ({op})")


def _check_spatial_count(x, size, scale_factor, op: str) -> None:
    """A ``size`` or ``scale_factor`` sequence gives one value per spatial dim of ``x``, in
    PyTorch's words (its ValueError, checked before the input's rank)."""
    forms = ((size, "output", "output size of", "output size", "o"),)
    forms += ((scale_factor, "scale_factor", "scale_factor of shape", "scale_factor", "s"),)
    for given, what, got, name, letter in forms:
        if isinstance(given, (tuple, list)) and len(given) != x.ndim - 2:
            raise ValueError(
                f"{op}: Input and {what} must have the same number of spatial dimensions, but "
                f"got input with spatial dimensions of {list(x.shape[2:])} and {got} "
                f"{tuple(given)}. Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                f"and {name} in ({letter}1, {letter}2, ...,{letter}K) format."
            )


def _cached(fn):
    """``fn`` (a pure function of sizes and arguments returning arrays) memoised, its arrays
    made read-only so that no caller can change the cached values."""

    @functools.lru_cache(maxsize=256)
    def cached(*args):
        result = fn(*args)
        for a in _arrays(result):
            a.flags.writeable = False
        return result

    return functools.wraps(fn)(cached)


def _arrays(obj):
    if isinstance(obj, np.ndarray):
        return [obj]
    return [a for o in obj for a in _arrays(o)] if isinstance(obj, (tuple, list)) else []


@_cached
def _nearest_index(n_in: int, n_out: int, scale: float, exact: bool) -> np.ndarray:
    positions = np.arange(n_out, dtype=np.float64)
    src = np.floor((positions + 0.5) * scale if exact else positions * scale)
    return np.minimum(src.astype(np.int64), n_in - 1)


@_cached
def _linear_weights(n_in: int, n_out: int, scale: float, align_corners: bool):
    """Left and right source index and the right one's weight, for each output position."""
    positions = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = positions * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    else:
        src = np.maximum((positions + 0.5) * scale - 0.5, 0.0)
    left = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    right = np.minimum(left + 1, n_in - 1)
    return left, right, src - left


def cubic_convolution_weights(t, a: float = -0.75):
    """The weights of the taps at offsets -1, 0, 1, 2 from a position a fraction ``t`` in
    [0, 1) past a pixel (Keys' cubic convolution; PyTorch's bicubic modes take a = -0.75,
    antialiased resizing a = -0.5): near taps ((a+2)|x| − (a+3))x² + 1, far ones
    a(|x|³ − 5|x|² + 8|x| − 4). ``t`` may be an array or a tensor (grid_sample's positions)."""

    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


@_cached
def _cubic_weights(n_in: int, n_out: int, scale: float, align_corners: bool):
    """The four source indices (clamped to the edge) and their weights, for each output position.

    Positions are not clamped at 0 (unlike the linear modes), as PyTorch's bicubic does."""
    positions = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = positions * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    else:
        src = (positions + 0.5) * scale - 0.5
    floor = np.floor(src)
    indices = tuple(np.clip(floor.astype(np.int64) - 1 + k, 0, n_in - 1) for k in range(4))
    return indices, tuple(cubic_convolution_weights(src - floor))


def _filter(mode: str, x: np.ndarray) -> np.ndarray:
    """The antialiasing filter at distances ``x`` (in output pixels): a triangle (bilinear)
    or the cubic convolution with a = -0.5 (bicubic), as PyTorch's (and PIL's)."""
    x = np.abs(x)
    if mode == "bilinear":
        return np.maximum(1 - x, 0.0)
    # the cubic's taps: at |x| < 1 the near weight of fraction |x|, at 1 <= |x| < 2 the far
    # weight of fraction |x| - 1 (its first weight)
    near = cubic_convolution_weights(x, -0.5)[1]
    far = cubic_convolution_weights(x - 1, -0.5)[0]
    return np.where(x < 1, near, np.where(x < 2, far, 0.0))


@_cached
def _antialias_matrix(n_in: int, n_out: int, scale: float, align_corners: bool, mode: str):
    """The (n_out, n_in) matrix of antialiased resizing along one dim: each output pixel a
    normalised sum of the input pixels under the filter stretched by the scale (when
    shrinking), as PyTorch's ``antialias=True``."""
    if align_corners:
        scale = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    half = 1.0 if mode == "bilinear" else 2.0  # the filter's support at scale 1
    support, stretch = (half * scale, 1.0 / scale) if scale >= 1.0 else (half, 1.0)
    matrix = np.zeros((n_out, n_in))
    for i in range(n_out):
        center = scale * (i + 0.5)
        low = max(int(center - support + 0.5), 0)
        high = min(int(center + support + 0.5), n_in)
        taps = np.arange(low, high)
        w = _filter(mode, (taps - center + 0.5) * stretch)
        total = w.sum()
        matrix[i, low:high] = w / total if total != 0 else w
    return matrix


def _take(x, dim: int, index: np.ndarray):
    return x.index_select(dim, shape_constant(index, dtypes.int64, x.device))


def _weights(w, shape, x):
    """Host weights ``w`` as a tensor of ``shape`` in ``x``'s dtype, on its device."""
    return shape_constant(w.reshape(shape), x.dtype, x.device)


@output_layout()
@real_only
def interpolate(
    input,
    size=None,
    scale_factor=None,
    mode: str = "nearest",
    align_corners=None,
    recompute_scale_factor=None,
    antialias: bool = False,
):
    """Resize (N, C, *spatial) to ``size`` or by ``scale_factor``, as ``F.interpolate``.

    Args:
        input: (N, C, L), (N, C, H, W) or (N, C, D, H, W); floating point, or uint8 for the
            nearest modes (PyTorch's other integer and bool refusals are raised in its words;
            its uint8 bilinear and bicubic kernels round fixed-point weights, which minigrad
            does not reproduce: NotImplementedError).
        size: the output's spatial size (an int or one per dim).
        scale_factor: multiplier(s) for the spatial size (the output size is floored).
        mode: ``'nearest'``, ``'nearest-exact'``, ``'linear'`` (3-D), ``'bilinear'`` (4-D),
            ``'bicubic'`` (4-D; cubic convolution with A = -0.75, which can overshoot the
            input's range, as in PyTorch), ``'trilinear'`` (5-D) or ``'area'``.
        align_corners: for the linear and cubic modes, map the corner pixels' centres onto
            each other.
        recompute_scale_factor: compute positions from the output size, not ``scale_factor``.
        antialias: for ``'bilinear'`` and ``'bicubic'`` on 4-D inputs, filter as PyTorch (and
            PIL) do when shrinking: each output pixel averages every input pixel under the
            filter stretched by the scale.

    Example:
        >>> F.interpolate(minigrad.randn(1, 3, 4, 4), scale_factor=2, mode="bilinear").shape
        minigrad.Size([1, 3, 8, 8])
    """
    op = "interpolate"
    if mode not in _MODES:
        raise NotImplementedError(f"{op}: mode {mode!r} is not one of {list(_MODES)}")
    if antialias and (mode not in ("bilinear", "bicubic") or input.ndim != 4):
        raise ValueError(
            "Anti-alias option is restricted to bilinear and bicubic modes and requires a 4-D "
            "tensor as input"
        )
    _check_size_or_scale(size, scale_factor, op)
    _check_spatial_count(input, size, scale_factor, op)
    if input.ndim not in (3, 4, 5):  # (PyTorch's type and words)
        raise NotImplementedError(
            f"{op}: Input Error: Only 3D, 4D and 5D input Tensors supported (got "
            f"{input.ndim}D) for the modes: {' | '.join(_MODES)} (got {mode}); an input is "
            f"(N, C, *spatial), got shape {list(input.shape)}"
        )
    needs = 4 if mode == "bicubic" else _LINEAR.get(mode)
    if needs is not None and input.ndim != needs:
        raise NotImplementedError(  # PyTorch's words
            f"Got {input.ndim}D input, but {mode} mode needs {needs}D input"
        )
    if align_corners is not None and mode not in _LINEAR and mode != "bicubic":
        raise ValueError(
            f"{op}: align_corners option can only be set with the interpolating modes: linear "
            f"| bilinear | bicubic | trilinear"
        )
    sizes, scales = _output_sizes(input, size, scale_factor, bool(recompute_scale_factor), op)
    if mode == "area":
        return _area(input, sizes, op)
    _check_dtype(input, mode, antialias)
    _check_nonempty(input, sizes)
    if antialias:
        out = _antialiased(input, sizes, scales, bool(align_corners), mode)
        return named_as(out, _upsample_node(mode, input.ndim, True))
    out = input
    for i, (n_out, scale) in enumerate(zip(sizes, scales)):
        dim, n_in = 2 + i, input.shape[2 + i]
        if mode.startswith("nearest"):
            out = _take(out, dim, _nearest_index(n_in, n_out, scale, mode == "nearest-exact"))
            continue
        shape = [1] * input.ndim
        shape[dim] = n_out
        if mode == "bicubic":
            indices, weights = _cubic_weights(n_in, n_out, scale, bool(align_corners))
            taps = [
                _take(out, dim, index) * _weights(w, shape, input)
                for index, w in zip(indices, weights)
            ]
            out = taps[0] + taps[1] + taps[2] + taps[3]
            continue
        left, right, weight = _linear_weights(n_in, n_out, scale, bool(align_corners))
        w = _weights(weight, shape, input)
        out = _take(out, dim, left) * (1 - w) + _take(out, dim, right) * w
    return named_as(out, _upsample_node(mode, input.ndim, False))


def _kernel(mode: str, ndim: int, antialias: bool) -> str:
    """The CPU kernel PyTorch names when it refuses an input's dtype for ``mode``."""
    if antialias:
        return "compute_index_ranges_weights"
    if mode.startswith("nearest"):
        return (
            "upsample_nearest2d_channels_last" if ndim == 4 else "compute_indices_weights_nearest"
        )
    if mode == "bilinear":
        return "upsample_bilinear2d_channels_last"
    return (
        "compute_indices_weights_cubic" if mode == "bicubic" else "compute_indices_weights_linear"
    )


def _check_dtype(x, mode: str, antialias: bool) -> None:
    """PyTorch resizes floating-point tensors, and uint8 in every mode but linear and
    trilinear; other integers and bool raise its NotImplementedError. Its uint8 kernels of the
    interpolating modes round fixed-point weights, pass by pass, which minigrad does not
    reproduce: they raise rather than differ."""
    d = x.dtype
    if d.is_floating_point or getattr(x, "is_quantized", False):
        return
    if d is not dtypes.uint8 or mode in ("linear", "trilinear"):
        raise NotImplementedError(
            f'"{_kernel(mode, x.ndim, antialias)}" not implemented for '
            f"'{dtypes.scalar_type_name(d)}'"
        )
    if not mode.startswith("nearest"):
        raise NotImplementedError(
            f"interpolate: mode {mode!r} of a uint8 tensor is not implemented in minigrad "
            "(PyTorch's uint8 kernel rounds fixed-point weights pass by pass); resize "
            "x.float() and round"
        )


def _check_nonempty(x, sizes) -> None:
    """PyTorch's RuntimeError for an empty spatial input or an output size below 1 (a negative
    ``scale_factor`` gives a negative one)."""
    in_sizes = tuple(x.shape[2:])
    if all(in_sizes) and all(n > 0 for n in sizes):
        return
    names = "DHW"[3 - len(sizes) :]
    fmt = lambda ns: ", ".join(f"{a}: {n}" for a, n in zip(names, ns))  # noqa: E731
    joint = " and " if len(sizes) == 1 else " "
    raise RuntimeError(
        f"Input and output sizes should be greater than 0, but got input ({fmt(in_sizes)})"
        f"{joint}output ({fmt(sizes)})"
    )


_KINDS = {"nearest": "Nearest", "nearest-exact": "NearestExact", "linear": "Linear",
          "bilinear": "Bilinear", "bicubic": "Bicubic", "trilinear": "Trilinear"}  # fmt: skip


def _upsample_node(mode: str, ndim: int, antialias: bool) -> str:
    """PyTorch's node of a resize: ``UpsampleBilinear2DBackward0``, ``UpsampleNearest1D...``,
    with ``Aa`` for anti-aliasing (``UpsampleBicubic2DAaBackward0``)."""
    return f"Upsample{_KINDS[mode]}{ndim - 2}D{'Aa' if antialias else ''}Backward0"


def _antialiased(x, sizes, scales, align_corners: bool, mode: str):
    """``antialias=True``: one constant matrix per spatial dim, ``W_h @ x @ W_wᵀ``."""
    (h, w), (scale_h, scale_w) = sizes, scales
    rows = _antialias_matrix(x.shape[2], h, scale_h, align_corners, mode)
    cols = _antialias_matrix(x.shape[3], w, scale_w, align_corners, mode)
    return _weights(rows, rows.shape, x) @ x @ _weights(cols.T, cols.T.shape, x)


def _area(x, sizes, op: str):
    if x.ndim == 3:
        return adaptive_avg_pool1d(x, sizes[0])
    if x.ndim == 4:
        return adaptive_avg_pool2d(x, sizes)
    return adaptive_avg_pool3d(x, sizes)


def _deprecated(name: str) -> None:
    warn_user(
        f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` instead.",
    )


def upsample(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None):
    """Deprecated alias of :func:`interpolate` (warns, as PyTorch)."""
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: :func:`interpolate` with ``mode='nearest'`` (warns, as PyTorch)."""
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: :func:`interpolate` with ``mode='bilinear', align_corners=True`` (warns)."""
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
