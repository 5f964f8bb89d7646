"""``assert_close``: PyTorch's tensor comparison for tests (``torch.testing.assert_close``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

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
    Without ``rtol``/``atol`` the tolerances follow the dtype, as PyTorch's. Tensors of
    types that are not subclasses of one another (a tensor and a NumPy array), or of different
    types with ``allow_subclasses=False`` (a ``Parameter`` and a tensor), raise TypeError."""
    if (rtol is None) != (atol is None):
        missing = "rtol" if rtol is None else "atol"
        raise ValueError(
            f"Both 'rtol' and 'atol' must be either specified or omitted, but got no {missing}."
        )
    _compare(
        actual, expected, rtol, atol, equal_nan, check_device, check_dtype, msg, path=(),
        allow_subclasses=allow_subclasses,
    )  # fmt: skip


def _compare(
    actual, expected, rtol, atol, equal_nan, check_device, check_dtype, msg, path,
    allow_subclasses=True,
):  # fmt: skip
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
                allow_subclasses,
            )
        return
    if _is_sequence(expected) and _is_sequence(actual):
        if len(actual) != len(expected):
            _fail(
                f"The length of the sequences mismatch: {len(actual)} != {len(expected)}", msg, path
            )
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(
                a, e, rtol, atol, equal_nan, check_device, check_dtype, msg, path + (i,),
                allow_subclasses,
            )  # fmt: skip
        return
    if _is_number(actual) and _is_number(expected):
        actual, expected = _python_number(actual), _python_number(expected)
        _compare_numbers(actual, expected, rtol, atol, equal_nan, check_dtype, msg, path)
        return
    a, e = _as_tensor(actual), _as_tensor(expected)
    related = isinstance(actual, type(expected)) or isinstance(expected, type(actual))
    if a is None or e is None or not related:
        _fail_type(actual, expected)  # (a NumPy array is compared with another one only)
    if not allow_subclasses and type(actual) is not type(expected):
        _fail_type(actual, expected)
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


def _is_number(value) -> bool:
    return isinstance(value, (bool, int, float, complex, np.number, np.bool_))


def _python_number(value):
    return value.item() if isinstance(value, (np.number, np.bool_)) else value


def _fail_type(actual, expected):
    raise TypeError(
        f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}."
    )


def _compare_numbers(actual, expected, rtol, atol, equal_nan, check_dtype, msg, path):
    """Two Python numbers, as PyTorch compares them: exact for bools, by type unless
    ``check_dtype=False``, with the tolerances of the wider type's dtype."""
    if isinstance(actual, bool) and isinstance(expected, bool):
        if actual != expected:
            _fail(f"Booleans mismatch: {actual} is not {expected}", msg, path)
        return
    if check_dtype and type(actual) is not type(expected):
        _fail(f"The (d)types do not match: {type(actual)} != {type(expected)}.", msg, path)
    if rtol is None:
        kinds = {type(actual), type(expected)}
        name = "complex128" if complex in kinds else "float64" if float in kinds else ""
        rtol, atol = _TOLERANCES.get(name, (0.0, 0.0))
    if actual == expected or (equal_nan and _nan(actual) and _nan(expected)):
        return
    diff = abs(actual - expected)
    if math.isfinite(diff) and diff <= atol + abs(rtol * expected):  # as torch.isclose
        return
    rel = float("inf") if expected == 0 else diff / abs(expected)
    lines = _diff_lines("Scalars", rtol, atol, (("absolute", diff, None), ("relative", rel, None)))
    lines.insert(2, f"Expected {expected} but got {actual}.")
    _fail("\n".join(lines), msg, path)


def _nan(value) -> bool:
    return value != value


def _diff_lines(kind, rtol, atol, diffs) -> list:
    """PyTorch's mismatch report: "not equal" and no tolerances when both are zero."""
    exact = rtol == 0 and atol == 0
    lines = [f"{kind} are not {'equal' if exact else 'close'}!", ""]
    for what, value, index in diffs:
        tol = "" if exact else f" (up to {atol if what == 'absolute' else rtol} allowed)"
        if index is None:
            lines.append(f"{what.title()} difference: {value}{tol}")
        else:
            lines.append(f"Greatest {what} difference: {value} at index {index}{tol}")
    return lines


def _common_dtype(a, e):
    """The dtype both are compared in (PyTorch promotes them; integers and bools as int64)."""
    x = a.device.backend.to_host(a._data)
    y = e.device.backend.to_host(e._data)
    wide = np.result_type(x.dtype, y.dtype)
    if wide.kind in "biu":
        wide = np.dtype(np.int64)
    return x.astype(wide), y.astype(wide)


def _first_max(values):
    """``torch.max(values, 0)`` of a flat array: a NaN wins (the first one), else the first
    largest."""
    nan = np.isnan(values) if values.dtype.kind in "fcV" else None
    if nan is not None and nan.any():
        i = int(np.argmax(nan))
    else:
        i = int(np.argmax(values))
    return values[i].item(), i


def _compare_values(a, e, rtol, atol, equal_nan, msg, path):
    x, y = _common_dtype(a, e)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        diff = np.abs(x - y)
        # as torch.isclose: equal values (infinities too), else a finite error within tolerance
        close = (x == y) | (np.isfinite(diff) & (diff <= atol + np.abs(rtol * y)))
        if equal_nan and x.dtype.kind in "fcV":
            close |= np.isnan(x) & np.isnan(y)
    if close.all():
        return
    if not x.shape:  # a 0-d tensor is reported as PyTorch reports two numbers
        actual, expected = x.item(), y.item()
        with np.errstate(invalid="ignore", over="ignore"):
            diff = abs(actual - expected)
        rel = float("inf") if expected == 0 else diff / abs(expected)
        lines = _diff_lines(
            "Scalars", rtol, atol, (("absolute", diff, None), ("relative", rel, None))
        )
        lines.insert(2, f"Expected {expected} but got {actual}.")
        _fail("\n".join(lines), msg, path)
    flat_close = close.reshape(-1)
    abs_flat = diff.reshape(-1).copy()
    expected_abs = np.abs(y.reshape(-1))
    if expected_abs.dtype.kind in "iu":  # integer division gives the default float dtype
        abs_flat_f, expected_abs = abs_flat.astype(np.float32), expected_abs.astype(np.float32)
    else:
        abs_flat_f = abs_flat
    with np.errstate(invalid="ignore", divide="ignore"):
        rel_flat = abs_flat_f / expected_abs
    abs_flat[flat_close] = 0
    rel_flat[flat_close] = 0
    bad = int((~close).sum())
    diffs = []
    for what, values in (("absolute", abs_flat), ("relative", rel_flat)):
        value, i = _first_max(values)
        diffs.append((what, value, tuple(int(k) for k in np.unravel_index(i, x.shape))))
    lines = _diff_lines("Tensor-likes", rtol, atol, diffs)
    lines.insert(2, f"Mismatched elements: {bad} / {x.size} ({bad / x.size:.1%})")
    _fail("\n".join(lines), msg, path)


def _as_tensor(value):
    if isinstance(value, Tensor):
        return value.detach()
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
