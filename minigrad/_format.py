"""Printing tensors the way PyTorch does: ``tensor([1.0000, 2.5000], requires_grad=True)``."""

from __future__ import annotations

import numpy as np

from . import dtypes


def tensor_repr(t) -> str:
    host = t.device.backend.to_host(t._data)
    if t.dtype is dtypes.bfloat16:
        host = host.astype(np.float32)  # exact; NumPy's printing knows only its own floats
    body = format_array(host)
    suffix = []
    if t.device.type != "cpu":
        suffix.append(f"device='{t.device}'")
    default_dtype = dtypes.get_default_dtype() if t.dtype.is_floating_point else dtypes.int64
    if t.dtype is not default_dtype and t.dtype is not dtypes.bool and host.size:
        suffix.append(f"dtype={t.dtype}")
    elif host.size == 0 and t.dtype is not dtypes.get_default_dtype():
        suffix.append(f"dtype={t.dtype}")
    if host.size == 0 and host.ndim != 1:
        suffix.insert(0, f"size={tuple(host.shape)}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffix.append("requires_grad=True")
    text = "tensor(" + body  # array2string already indents continuation lines for the prefix
    return _add_suffixes(text, suffix, len("tensor(")) + ")"


def _add_suffixes(text: str, suffixes: list, indent: int) -> str:
    """``text, suffix, ...``, a suffix going to a new line where it would pass 80 columns
    (PyTorch's rule)."""
    parts = [text]
    last = len(text) - text.rfind("\n") + 1
    for s in suffixes:
        if last + len(s) + 2 > LINE_WIDTH:
            parts.append(",\n" + " " * indent + s)
            last = indent + len(s)
        else:
            parts.append(", " + s)
            last += len(s) + 2
    return "".join(parts)


SUMMARY_THRESHOLD, EDGE_ITEMS, LINE_WIDTH = 1000, 3, 80  # PyTorch's print options


def format_array(a: np.ndarray) -> str:
    """Values with PyTorch's choices: ``1.`` for whole floats, 4 decimals, or scientific."""
    if a.size > SUMMARY_THRESHOLD:
        return _summarized(a)
    if a.dtype.kind == "b":
        formatter = {"bool": lambda v: "True" if v else "False"}
    elif a.dtype.kind == "f":
        formatter = {"float_kind": _float_formatter(a)}
    else:
        formatter = None
    return np.array2string(
        a,
        separator=", ",
        formatter=formatter,
        threshold=1000,
        edgeitems=3,
        max_line_width=80,
        prefix="tensor(",
    )


def _float_formatter(a: np.ndarray):
    finite = a[np.isfinite(a)].astype(np.float64)
    if finite.size == 0:
        return lambda v: _special(v) or f"{v:.4f}"
    whole = np.all(finite == np.round(finite))
    big, small = np.abs(finite).max(), np.abs(finite[finite != 0]).min() if np.any(finite) else 1.0
    if big >= 1e8 or (small < 1e-4 and not whole) or big / max(small, 1e-300) > 1000:
        width = max(len(f"{v:.4e}") for v in finite.ravel()[:1000])
        return lambda v: (_special(v) or f"{v:.4e}").rjust(width)
    if whole:
        width = max(len(f"{v:.0f}.") for v in finite.ravel()[:1000])
        return lambda v: (_special(v) or f"{v:.0f}.").rjust(width)
    width = max(len(f"{v:.4f}") for v in finite.ravel()[:1000])
    return lambda v: (_special(v) or f"{v:.4f}").rjust(width)


def _special(v) -> str | None:
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def _edges(a: np.ndarray) -> np.ndarray:
    """The values a summarized print shows: the first and last EDGE_ITEMS along every dim."""
    for axis, n in enumerate(a.shape):
        if n > 2 * EDGE_ITEMS:
            keep = np.r_[0:EDGE_ITEMS, n - EDGE_ITEMS : n]
            a = np.take(a, keep, axis=axis)
    return a


def _summarized(a: np.ndarray) -> str:
    """A tensor past 1000 elements as PyTorch prints it: the first and last 3 entries of each
    dim around ``...``, formatted (fixed or scientific, width) from the shown values only, and
    lines wrapped at 80 columns."""
    shown = _edges(a)
    if a.dtype.kind == "b":
        width = max(len(str(bool(v))) for v in shown.ravel()) if shown.size else 4
        fmt = lambda v: str(bool(v)).rjust(width)  # noqa: E731
    elif a.dtype.kind == "f":
        fmt = _float_formatter(shown)
    else:
        width = max(len(str(v)) for v in shown.ravel()) if shown.size else 1
        fmt = lambda v: str(v).rjust(width)  # noqa: E731
    element = len(fmt(shown.ravel()[0])) + 2 if shown.size else 2
    return _nested(a, fmt, len("tensor("), element)


def _nested(a: np.ndarray, fmt, indent: int, element: int) -> str:
    n = a.shape[0]
    cut = n > 2 * EDGE_ITEMS
    if a.ndim == 1:
        picks = [*range(EDGE_ITEMS), None, *range(n - EDGE_ITEMS, n)] if cut else range(n)
        items = [" ..." if i is None else fmt(a[i]) for i in picks]
        per_line = max(1, (LINE_WIDTH - indent) // element)
        lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    picks = [*range(EDGE_ITEMS), None, *range(n - EDGE_ITEMS, n)] if cut else range(n)
    rows = ["..." if i is None else _nested(a[i], fmt, indent + 1, element) for i in picks]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(rows) + "]"
