"""``minigrad.testing.make_tensor``: a random tensor of a given shape and dtype for tests, with
PyTorch's default ranges, bounds checks and options."""

from __future__ import annotations

import math

from .. import dtypes
from .._warnings import warn_user

# the value ranges used when low/high are not given: (low, high), high exclusive for integers
_DEFAULTS = {"bool": (0, 2), "uint8": (0, 10)}
_INTEGRAL_DEFAULT, _FLOATING_DEFAULT = (-9, 10), (-9, 9)


def _bounds(dtype, low, high):
    """``(low, high)`` with defaults filled in, checked, and clamped to what ``dtype`` holds."""
    import minigrad

    integral = not (dtype.is_floating_point or dtype.is_complex)
    default = _DEFAULTS.get(dtype.name, _INTEGRAL_DEFAULT if integral else _FLOATING_DEFAULT)
    low = default[0] if low is None else low
    high = default[1] if high is None else high
    if (isinstance(low, float) and math.isnan(low)) or (
        isinstance(high, float) and math.isnan(high)
    ):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low > high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    if low == high and not integral:
        warn_user(
            "Passing `low==high` to `minigrad.testing.make_tensor` for floating or complex types "
            "is deprecated since 2.1 and will be removed in 2.3. Use `minigrad.full(...)` "
            "instead.",
            FutureWarning,
        )
    info = minigrad.iinfo(dtype) if integral and dtype.name != "bool" else None
    if info is None and not integral:
        info = minigrad.finfo(dtypes.to_real(dtype))
    if info is not None:
        low, high = max(low, info.min), min(high, info.max)
    return low, high, integral


def make_tensor(
    *shape,
    dtype,
    device,
    low=None,
    high=None,
    requires_grad: bool = False,
    noncontiguous: bool = False,
    exclude_zero: bool = False,
    memory_format=None,
):
    """A tensor of ``shape`` filled with values drawn uniformly from ``[low, high)``.

    Defaults as PyTorch's: bool any, uint8 ``[0, 10)``, other integers ``[-9, 10)``, floating
    point and both parts of complex numbers ``[-9, 9)``; bounds outside the dtype's range are
    clamped to it. ``exclude_zero`` replaces zeros by 1 (integers) or the smallest normal
    number; ``noncontiguous`` gives a tensor with the same values laid out with a stride.

    Example::

        >>> x = make_tensor(2, 3, dtype=minigrad.float64, device="cpu", low=-1, high=1)
    """
    import minigrad

    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = tuple(shape[0])
    low, high, integral = _bounds(dtype, low, high)
    if dtype.name == "bool":
        result = minigrad.randint(0, 2, shape, device=device).to(dtype)
    elif integral:
        result = minigrad.randint(int(math.ceil(low)), int(math.ceil(high)), shape, device=device)
        result = result.to(dtype)
    else:
        result = minigrad.rand(shape, dtype=dtype, device=device) * (high - low)
        if dtype.is_complex:  # rand's complex draw fills each part from [0, 1)
            result = result + complex(low, low)
        else:
            result = result + low
    if exclude_zero:
        tiny = 1 if integral else minigrad.finfo(result.real.dtype).tiny
        replacement = complex(tiny, tiny) if dtype.is_complex else tiny
        result = minigrad.where(result == 0, minigrad.tensor(replacement, dtype=dtype), result)
    if noncontiguous and result.numel() > 1:
        wide = minigrad.repeat_interleave(result, 2, dim=-1)
        result = wide[..., ::2]
    elif memory_format is not None:
        result = result.contiguous(memory_format=memory_format)
    if requires_grad:
        result.requires_grad_(True)
    return result
