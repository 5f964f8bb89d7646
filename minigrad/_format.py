"""Printing tensors the way PyTorch does: ``tensor([1.0000, 2.5000], requires_grad=True)``."""

from __future__ import annotations

import numpy as np

from . import dtypes


def tensor_repr(t) -> str:
    host = t.device.backend.to_host(t._data)
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
    return text + "".join(", " + s for s in suffix) + ")"


def format_array(a: np.ndarray) -> str:
    """Values with PyTorch's choices: ``1.`` for whole floats, 4 decimals, or scientific."""
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
    if big >= 1e8 or (small < 1e-4) or (big / max(small, 1e-300) > 1000 and not whole):
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
