"""Printing tensors the way PyTorch does: ``tensor([1.0000, 2.5000], requires_grad=True)``."""

from __future__ import annotations

import contextlib

import numpy as np

from . import dtypes
from .autograd.graph import class_name


def tensor_repr(t) -> str:
    # a Tensor subclass is printed under its own name, as in PyTorch (Sub([1., 2.]), also with
    # __torch_function__ disabled); Tensor and Parameter themselves print as tensor(...)
    cls = type(t)
    prefix = ("tensor" if cls.__dict__.get("_prints_as_tensor") else cls.__name__) + "("
    host = _printable(t)
    body = format_array(host, prefix)
    suffix = []
    if t.device.type != "cpu":
        suffix.append(f"device='{t.device}'")
    default_dtype = (
        dtypes.get_default_dtype()
        if t.dtype.is_floating_point
        else dtypes.default_complex(strict=False)
        if t.dtype.is_complex
        else dtypes.int64
    )
    if t.dtype is not default_dtype and t.dtype is not dtypes.bool and host.size:
        suffix.append(f"dtype={t.dtype}")
    elif host.size == 0 and t.dtype is not dtypes.get_default_dtype():
        suffix.append(f"dtype={t.dtype}")
    if host.size == 0 and host.ndim != 1:
        suffix.insert(0, f"size={tuple(host.shape)}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{class_name(t.grad_fn)}>")
    elif t.requires_grad:
        suffix.append("requires_grad=True")
    text = prefix + body  # array2string already indents continuation lines for the prefix
    text = _add_suffixes(text, suffix, len(prefix)) + ")"
    # a subclass tensor made a parameter (nn.Parameter(sub)) is shown as PyTorch shows it
    wrapped = getattr(t, "_is_param", False) and not cls.__dict__.get("_prints_as_tensor")
    return f"Parameter({text})" if wrapped else text


def _printable(t) -> np.ndarray:
    """``t``'s values on the host, in a dtype NumPy prints."""
    host = t.device.backend.to_host(t._data)
    if t.dtype is dtypes.bfloat16 or t.dtype in dtypes.FLOAT8:
        host = host.astype(np.float32)  # exact; NumPy's printing knows only its own floats
    return host


def tensor_str(t, indent: int) -> str:
    """The values part of ``t``'s repr, continuation lines indented by ``indent`` spaces
    (PyTorch's ``torch._tensor_str._tensor_str``)."""
    return format_array(_printable(t), " " * indent)


def _add_suffixes(text: str, suffixes: list, indent: int) -> str:
    """``text, suffix, ...``, a suffix going to a new line where it would pass 80 columns
    (PyTorch's rule)."""
    parts = [text]
    last = len(text) - text.rfind("\n") + 1
    for s in suffixes:
        if last + len(s) + 2 > OPTIONS.linewidth:
            parts.append(",\n" + " " * indent + s)
            last = indent + len(s)
        else:
            parts.append(", " + s)
            last += len(s) + 2
    return "".join(parts)


class PrintOptions:
    """PyTorch's print options (``set_printoptions``): decimals, the element count past which
    a tensor is summarized, the items shown at each edge of a summary, the line width, and
    scientific notation forced on (True), off (False) or chosen from the values (None)."""

    PROFILES = {
        "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
        "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
        "full": dict(precision=4, threshold=float("inf"), edgeitems=3, linewidth=80),
    }

    def __init__(self):
        self.sci_mode = None
        self.update(**self.PROFILES["default"])

    def update(self, precision=None, threshold=None, edgeitems=None, linewidth=None):
        for name, value in (
            ("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
            ("linewidth", linewidth),
        ):  # fmt: skip
            if value is not None:
                setattr(self, name, value)


OPTIONS = PrintOptions()


def set_printoptions(
    precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None
):
    """Set how tensors print, as ``torch.set_printoptions``: ``profile`` ("default", "short",
    "full") first, then the given options over it; ``sci_mode`` True/False forces scientific
    notation on/off, None lets the values decide."""
    if profile is not None:
        if profile not in PrintOptions.PROFILES:
            raise ValueError("set_printoptions: profile must be one of default, short, full")
        OPTIONS.update(**PrintOptions.PROFILES[profile])
    OPTIONS.update(precision, threshold, edgeitems, linewidth)
    OPTIONS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """The current print options, as keyword arguments of :func:`set_printoptions`."""
    names = ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")
    return {name: getattr(OPTIONS, name) for name in names}


@contextlib.contextmanager
def printoptions(**kwargs):
    """Print options set for a ``with`` block, then put back (``torch._tensor_str``'s;
    sentence-transformers' model cards print with it)."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


def format_array(a: np.ndarray, prefix: str = "tensor(") -> str:
    """Values with PyTorch's choices: ``1.`` for whole floats, 4 decimals, or scientific."""
    if a.size > OPTIONS.threshold:
        return _summarized(a, prefix)
    if a.ndim and a.size and a.dtype.kind in "biufc":  # PyTorch's elements per line
        fmt = _element_formatter(a)
        return _nested(a, fmt, len(prefix), fmt.width + 2, summarize=False)
    if a.dtype.kind == "b":
        width = 4 if a.all() else 5  # PyTorch pads True to the width of False: [ True, False]
        formatter = {"bool": lambda v: ("True" if v else "False").rjust(width)}
    elif a.dtype.kind == "f":
        formatter = {"float_kind": _float_formatter(a)}
    elif a.dtype.kind == "c":
        formatter = {"complex_kind": _complex_formatter(a)}
    else:
        formatter = None
    return np.array2string(
        a,
        separator=", ",
        formatter=formatter,
        threshold=a.size + 1,
        edgeitems=OPTIONS.edgeitems,
        max_line_width=OPTIONS.linewidth,
        prefix=prefix,
    )


def _float_formatter(a: np.ndarray):
    """PyTorch's float layout, decided from the finite non-zero values alone (with none, plain
    ``0.``-style elements): whole numbers as ``1.``, else ``precision`` decimals; scientific
    where the largest exceeds 1e8, is over 1000 times the smallest or the smallest is below
    1e-4 (or as ``set_printoptions(sci_mode=)`` says); every element padded to the widest of
    those values in that layout (zeros, nan and inf do not widen it)."""
    digits = OPTIONS.precision
    values = a[np.isfinite(a) & (a != 0)].astype(np.float64).ravel()
    if not values.size:
        return _sized(lambda v: _special(v) or f"{v:.0f}.", 1)
    big, small = np.abs(values).max(), np.abs(values).min()
    whole = bool(np.all(values == np.ceil(values)))
    scientific = OPTIONS.sci_mode
    if scientific is None:
        scientific = big > 1000.0 * small or big > 1.0e8 or small < 1.0e-4  # (no overflow)
    if scientific:
        width = max(len(f"{v:.{digits}e}") for v in values)
        return _sized(lambda v: f"{v:{width}.{digits}e}".rjust(width), width)
    if whole:
        width = max(len(f"{v:.0f}") + 1 for v in values)
        return _sized(lambda v: (_special(v) or f"{v:.0f}.").rjust(width), width)
    width = max(len(f"{v:.{digits}f}") for v in values)
    return _sized(lambda v: f"{v:.{digits}f}".rjust(width), width)


def _sized(fmt, width: int):
    """``fmt`` carrying the width PyTorch lays elements out by (``fmt.width``): the widest
    value it was made from, which some elements (zeros, nan) may exceed."""
    fmt.width = width
    return fmt


def _complex_formatter(a: np.ndarray):
    """PyTorch's complex elements: the real parts formatted together (as a float tensor
    would be), then the imaginary parts' sign and value, unpadded, and ``j``: ``1.5000-2.j``."""
    real, imag = _float_formatter(a.real), _float_formatter(a.imag)

    def fmt(v):
        im = imag(v.imag).lstrip()
        return real(v.real) + ("" if im[0] == "-" else "+") + im + "j"

    return _sized(fmt, real.width + imag.width + 1)


def _special(v) -> str | None:
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def _edges(a: np.ndarray) -> np.ndarray:
    """The values a summarized print shows: the first and last ``edgeitems`` along every dim."""
    for axis, n in enumerate(a.shape):
        if n > 2 * OPTIONS.edgeitems:
            keep = np.r_[0 : OPTIONS.edgeitems, n - OPTIONS.edgeitems : n]
            a = np.take(a, keep, axis=axis)
    return a


def _summarized(a: np.ndarray, prefix: str) -> str:
    """A tensor past 1000 elements as PyTorch prints it: the first and last 3 entries of each
    dim around ``...``, formatted (fixed or scientific, width) from the shown values only, and
    lines wrapped at 80 columns."""
    shown = _edges(a)
    fmt = _element_formatter(shown)
    return _nested(a, fmt, len(prefix), fmt.width + 2)


def _element_formatter(shown: np.ndarray):
    """One element's text, padded to the width of the widest of ``shown``."""
    if shown.dtype.kind == "b":
        width = max(len(str(bool(v))) for v in shown.ravel()) if shown.size else 4
        return _sized(lambda v: str(bool(v)).rjust(width), width)
    if shown.dtype.kind == "f":
        return _float_formatter(shown)
    if shown.dtype.kind == "c":
        return _complex_formatter(shown)
    width = max(len(str(v)) for v in shown.ravel()) if shown.size else 1
    return _sized(lambda v: str(v).rjust(width), width)


def _nested(a: np.ndarray, fmt, indent: int, element: int, summarize: bool = True) -> str:
    """PyTorch's layout: ``(linewidth - indent) // element`` elements on a line, the indent
    growing by one per dim (``summarize``: ``...`` past the edge items of a long dim)."""
    n = a.shape[0]
    cut = summarize and n > 2 * OPTIONS.edgeitems
    if a.ndim == 1:
        picks = (
            [*range(OPTIONS.edgeitems), None, *range(n - OPTIONS.edgeitems, n)] if cut else range(n)
        )
        items = [" ..." if i is None else fmt(a[i]) for i in picks]
        per_line = max(1, (OPTIONS.linewidth - indent) // element)
        lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    picks = [*range(OPTIONS.edgeitems), None, *range(n - OPTIONS.edgeitems, n)] if cut else range(n)
    rows = [
        "..." if i is None else _nested(a[i], fmt, indent + 1, element, summarize) for i in picks
    ]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def meta_repr(t) -> str:
    """A meta tensor, which has no values: ``tensor(..., device='meta', size=(3, 4))``, the
    dtype shown unless it is the default one, as PyTorch prints it."""
    suffix = [f"device='{t.device}'", f"size={tuple(t.shape)}"]
    if t.dtype is not dtypes.get_default_dtype():
        suffix.append(f"dtype={t.dtype}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{class_name(t.grad_fn)}>")
    elif t.requires_grad:
        suffix.append("requires_grad=True")
    return "tensor(..., " + ", ".join(suffix) + ")"
