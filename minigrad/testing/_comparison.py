"""``assert_close``: PyTorch's tensor comparison for tests (``torch.testing.assert_close``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .. import dtypes
from ..tensor import Tensor

# (rtol, atol) by dtype when neither is given, as PyTorch; exact for integers and bools
_TOLERANCES = {
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
    "complex64": (1.3e-6, 1e-5),
    "complex128": (1e-7, 1e-7),
}


def assert_close(
    actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
    check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None,
):  # fmt: skip
    """Raise AssertionError unless ``actual`` and ``expected`` (tensors, numbers, or sequences
    and mappings of them, compared item by item) are close: ``|a - e| <= atol + rtol·|e|``
    elementwise, with equal shapes, and equal dtypes and devices unless told not to check.
    Without ``rtol``/``atol`` the tolerances follow the dtype, as PyTorch's."""
    if (rtol is None) != (atol is None):
        missing = "rtol" if rtol is None else "atol"
        raise ValueError(
            f"Both 'rtol' and 'atol' must be either specified or omitted, but got no {missing}."
        )
    _compare(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, msg, path=())


def _compare(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, msg, path):
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        if set(actual) != set(expected):
            _fail(f"The keys do not match: {sorted(actual)} != {sorted(expected)}", msg, path)
        for key in expected:
            _compare(
                actual[key],
                expected[key],
                rtol,
                atol,
                equal_nan,
                check_device,
                check_dtype,
                msg,
                path + (key,),
            )
        return
    if _is_sequence(expected) and _is_sequence(actual):
        if len(actual) != len(expected):
            _fail(
                f"The length of the sequences mismatch: {len(actual)} != {len(expected)}", msg, path
            )
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, rtol, atol, equal_nan, check_device, check_dtype, msg, path + (i,))
        return
    a, e = _as_tensor(actual, expected), _as_tensor(expected, actual)
    if a is None or e is None:
        _fail(f"No comparison for {type(actual).__name__} and {type(expected).__name__}", msg, path)
    if tuple(a.shape) != tuple(e.shape):
        _fail(f"The values for attribute 'shape' do not match: {a.shape} != {e.shape}.", msg, path)
    if check_device and a.device is not e.device:
        _fail(
            f"The values for attribute 'device' do not match: {a.device} != {e.device}.", msg, path
        )
    if check_dtype and a.dtype is not e.dtype:
        _fail(f"The values for attribute 'dtype' do not match: {a.dtype} != {e.dtype}.", msg, path)
    if rtol is None:
        rtol, atol = max(
            _TOLERANCES.get(a.dtype.name, (0.0, 0.0)), _TOLERANCES.get(e.dtype.name, (0.0, 0.0))
        )
    _compare_values(a, e, rtol, atol, equal_nan, msg, path)


def _compare_values(a, e, rtol, atol, equal_nan, msg, path):
    kinds = (a.dtype, e.dtype)
    wide = (
        np.complex128
        if any(d.is_complex for d in kinds)
        else np.float64
        if any(d.is_floating_point for d in kinds)
        else np.int64
    )
    x = a.device.backend.to_host(a._data).astype(wide)
    y = e.device.backend.to_host(e._data).astype(wide)
    both_nan = np.isnan(x) & np.isnan(y) if x.dtype.kind in "fc" else np.zeros(x.shape, bool)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(x - y)
        close = (diff <= atol + rtol * np.abs(y)) | (x == y) | (both_nan if equal_nan else False)
    if close.all():
        return
    bad = ~close
    kind = "Tensor-likes" if x.ndim else "Scalars"
    diff = np.where(np.isnan(diff), np.inf, diff)
    where_abs = np.unravel_index(np.argmax(np.where(bad, diff, -1)), x.shape) if x.ndim else ()
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(bad, diff / np.abs(y), -1)
    where_rel = np.unravel_index(np.argmax(relative), x.shape) if x.ndim else ()
    lines = [f"{kind} are not close!", ""]
    if x.ndim:
        lines.append(f"Mismatched elements: {int(bad.sum())} / {x.size} ({100 * bad.mean():.1f}%)")
    for what, values, at, limit in (
        ("absolute", diff, where_abs, atol), ("relative", relative, where_rel, rtol)
    ):  # fmt: skip
        index = tuple(int(i) for i in at)
        lines.append(
            f"Greatest {what} difference: {values[at]} at index {index} (up to {limit} allowed)"
        )
    _fail("\n".join(lines), msg, path)


def _as_tensor(value, other):
    if isinstance(value, Tensor):
        return value.detach()
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        from .. import creation

        device = other.device if isinstance(other, Tensor) else None
        dtype = dtypes.float64 if isinstance(value, float) else None
        return creation.tensor(value, dtype=dtype, device=device)
    if isinstance(value, np.ndarray):
        from .. import creation

        return creation.from_numpy(value)
    return None


def _is_sequence(value) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)


def _fail(message: str, msg, path):
    if path:
        item = "".join(f"[{p!r}]" for p in path)
        message += f"\n\nThe failure occurred for item {item}"
    if callable(msg):
        message = msg(message)
    elif msg is not None:
        message = msg
    raise AssertionError(message)
