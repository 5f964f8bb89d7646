"""Scans along a dimension: cumulative product, running max/min with their indices, finite
differences and the trapezoid rule (``cumsum`` lives with the reductions)."""

from __future__ import annotations

from .. import dtypes, return_types
from ..autograd.graph import names_node
from ._size import as_int, with_size
from .base import Op, accepts_axis, constant, method_on_batched, normalize_dim, on_input_device
from .complex import holomorphic, refuse_complex
from .elementwise import where
from .joining import cat


@holomorphic
class Cumprod(Op):
    """yᵢ = Π_{j≤i} xⱼ along dim; dxₖ = Σ_{i≥k} dyᵢ·Π_{j≤i, j≠k} xⱼ (exact also at zeros;
    conjugated for complex tensors)"""

    save_inputs = True
    save_output = True
    supports_complex = True

    def __init__(self, dim: int, dtype_given: bool = False):
        self.dim, self.dtype_given = dim, dtype_given

    def forward(self, x):  # integers multiply in int64 unless a dtype was asked for
        dtype = x.dtype if self.dtype_given or x.dtype.kind not in "biu" else "int64"
        return self.xp.cumprod(x, axis=self.dim, dtype=dtype)  # (NumPy's own: int32 to int64)

    def backward(self, gy):
        x, y = self.saved
        return _cumprod_backward(x, y, gy, self.dim)


def _cumprod_backward(x, y, gy, d):
    """dx for y = cumprod(x) along d, exact (to every order) when x holds zeros.

    Per slice with its first zero at z: for k < z, dxₖ = Σ_{i≥k} dyᵢ·yᵢ / xₖ (no zero divides);
    for k ≥ z, dxₖ = G̃ₖ·(x_z if k > z else 1), where G̃ is this same gradient for x with x_z
    set to 1 (a product over j ≠ k keeps the factor x_z exactly when k ≠ z). The value at
    k > z is 0, but its derivative in x_z is not, which second derivatives need.
    """
    if bool((x._data != 0).all()):  # the common case: reverse cumsum of dy·y, over x
        return _reverse_cumsum(gy * y, d) / x
    xp = x.device.xp
    is_zero = x._data == 0
    zeros_so_far = xp.cumsum(is_zero, axis=d)
    before = constant(zeros_so_far == 0, x.device)
    first = is_zero & (zeros_so_far == 1)
    first_zero = constant(first, x.device)
    x_skip = where(first_zero, 1.0, x)
    g_skip = _cumprod_backward(x_skip, Cumprod(d)(x_skip), gy, d)
    x_z = (x * constant(first.astype(x._data.dtype), x.device)).sum(d, keepdim=True)
    part_before = _reverse_cumsum(gy * y, d) / where(before, x, 1.0)
    return where(before, part_before, where(first_zero, g_skip, x_z * g_skip))


def _reverse_cumsum(t, d):
    return t.flip(d).cumsum(d).flip(d)


CummaxResult = return_types.cummax
CumminResult = return_types.cummin


@accepts_axis
def cumprod(input, dim, *, dtype=None):
    """Cumulative product along ``dim``: ``y[i] = x[0]·x[1]···x[i]``.

    Example:
        >>> minigrad.tensor([1.0, 2.0, 3.0]).cumprod(0)  # tensor([1., 2., 6.])
    """
    if dtype is not None:
        input = input.to(dtype)
    d = normalize_dim(dim, input.ndim, "cumprod")
    given = dtype is not None
    if input.ndim == 0:  # as a 1-element row: the same dtype rules (integers in int64)
        return Cumprod(0, given)(input.reshape(1)).reshape(())
    return Cumprod(d, given)(input)


def _running_extreme(input, dim, largest: bool, name: str, result_type):
    refuse_complex(input, name)
    d = normalize_dim(dim, input.ndim, name)
    if input.ndim == 0:
        return result_type(
            input.clone(), constant(input.device.xp.zeros((), "int64"), input.device)
        )
    xp = input.device.xp
    a = xp.moveaxis(input._data, d, -1)
    n = a.shape[-1]
    values = a
    index = xp.broadcast_to(xp.arange(n, dtype="int64"), a.shape)
    step = 1
    while step < n:  # Hillis-Steele scan: each pass merges a run with the run ``step`` before it
        pv, pi, cv, ci = (
            values[..., :-step],
            index[..., :-step],
            values[..., step:],
            index[..., step:],
        )
        # the earlier run wins only when strictly better (ties go to the later index, as
        # PyTorch); NaN counts as the extreme and propagates
        better = (pv > cv) if largest else (pv < cv)
        better = better | (xp.isnan(pv) & ~xp.isnan(cv)) if dtypes.is_floating(a.dtype) else better
        values = xp.concatenate([values[..., :step], xp.where(better, pv, cv)], axis=-1)
        index = xp.concatenate([index[..., :step], xp.where(better, pi, ci)], axis=-1)
        step *= 2
    indices = constant(xp.ascontiguousarray(xp.moveaxis(index, -1, d)), input.device)
    return result_type(input.gather(d, indices), indices)


@accepts_axis
@method_on_batched
@on_input_device
@names_node("CummaxBackward0")
def cummax(input, dim):
    """Running maximum along ``dim`` as ``(values, indices)``; the gradient flows to the entry
    each value came from (the last one on ties, as PyTorch)."""
    return _running_extreme(input, dim, True, "cummax", CummaxResult)


@accepts_axis
@method_on_batched
@on_input_device
@names_node("CumminBackward0")
def cummin(input, dim):
    """Running minimum along ``dim`` as ``(values, indices)``."""
    return _running_extreme(input, dim, False, "cummin", CumminResult)


@accepts_axis
def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim``: ``y[i] = x[i+1] - x[i]``, applied n times.

    ``prepend``/``append`` are joined to ``input`` along ``dim`` first.

    Example:
        >>> minigrad.tensor([1.0, 4.0, 9.0]).diff()  # tensor([3., 5.])
    """
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    n = as_int(n, "diff", "n")
    if n < 0:
        raise RuntimeError(f"diff: order must be non-negative but got {n}")
    d = normalize_dim(dim, input.ndim, "diff")
    parts = [p for p in (prepend, input, append) if p is not None]
    if any(hasattr(p, "ndim") and p.ndim != input.ndim for p in parts):
        raise RuntimeError(
            f"diff expects prepend or append to be the same dimension as input (got shapes "
            f"{[list(p.shape) for p in parts]})"
        )
    parts = [p if hasattr(p, "ndim") else input.new_full((), p) for p in parts]
    parts = [
        p.unsqueeze(d).expand(*with_size(input.shape, d, 1)) if p.ndim == 0 else p for p in parts
    ]
    x = cat(parts, d) if len(parts) > 1 else input
    lead = (slice(None),) * d
    for _ in range(n):
        if x.shape[d] == 0:
            break
        if x.dtype is dtypes.bool:
            x = x[lead + (slice(1, None),)] ^ x[lead + (slice(None, -1),)]
        else:
            x = x[lead + (slice(1, None),)] - x[lead + (slice(None, -1),)]
    return x


def _trapezoid_areas(y, x, dx, dim: int, op: str):
    """The areas of the trapezoids between neighbouring samples along ``dim``."""
    if y.ndim == 0:
        raise IndexError(f"{op}: y must have at least one dimension")
    d = normalize_dim(dim, y.ndim, op)
    if y.dtype is dtypes.bool or getattr(x, "dtype", None) is dtypes.bool:
        raise RuntimeError(
            f"{op}: received a bool input for `x` or `y`, but bool is not supported (convert "
            "with .float())"
        )
    if not y.dtype.is_floating_point:
        y = y.to(dtypes.get_default_dtype())
    lead = (slice(None),) * d
    heights = (y[lead + (slice(1, None),)] + y[lead + (slice(None, -1),)]) / 2
    if x is None:
        return heights * (1.0 if dx is None else dx), d
    if x.ndim == 1:
        if x.shape[0] != y.shape[d]:
            raise RuntimeError(f"{op}: There must be one `x` value for each sample point")
        widths = diff(x).reshape(with_size((1,) * y.ndim, d, -1))
    else:
        widths = diff(x, dim=dim)
    return heights * widths, d


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The integral of ``y`` along ``dim`` by the trapezoid rule, at sample points ``x`` (a
    1-D tensor as long as that dim, or one broadcasting with ``y``) or evenly ``dx`` apart
    (default 1), as ``torch.trapezoid``. Integer ``y`` integrates in the default dtype.

    Example:
        >>> minigrad.trapezoid(minigrad.tensor([1.0, 2.0, 3.0]))  # tensor(4.)
    """
    areas, d = _trapezoid_areas(y, x, dx, dim, "trapezoid")
    return areas.sum(d)


def trapz(y, x=None, *, dx=None, dim=-1):
    """:func:`trapezoid` under its older name (``torch.trapz``)."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoid-rule integral of ``y`` along ``dim`` (one value fewer than ``y``
    has samples), as ``torch.cumulative_trapezoid``.

    Example:
        >>> minigrad.cumulative_trapezoid(minigrad.tensor([1.0, 2.0, 3.0]))  # [1.5, 4.0]
    """
    areas, d = _trapezoid_areas(y, x, dx, dim, "cumulative_trapezoid")
    return areas.cumsum(d)
