"""Top-level functions PyTorch programs call that fit no family of ops: global switches
(warn-always, deterministic debug mode, anomaly mode, threads, denormals), small factories
(``range``, ``scalar_tensor``, ``empty_strided``, ``frombuffer``), ``torch.cond``/
``torch.while_loop`` in eager mode, and type helpers. Sampling (``poisson``, ``binomial``)
lives in :mod:`minigrad._sampling`."""

from __future__ import annotations

import math

import numpy as np  # frombuffer reads host memory

from . import _legacy, backend, creation, dtypes
from . import _torch_function as _tf
from ._out import with_out
from ._warnings import is_warn_always_enabled, set_warn_always, warn_user
from .autograd import anomaly
from .autograd.graph import named_as, names_node
from .ops import sub, where
from .ops._size import Size
from .ops.base import check_number_arg
from .ops.elementwise import positional_alpha
from .tensor import Tensor

_FLAGS = {"interop_threads": None}


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode) -> None:
    """``0``/``"default"``: no check; ``1``/``"warn"``: warn on nondeterministic ops;
    ``2``/``"error"``: refuse them (:func:`use_deterministic_algorithms` underneath)."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(
                "invalid value of debug_mode, expected one of `default`, `warn`, `error`, "
                f"but got {debug_mode}"
            )
        debug_mode = _DEBUG_MODES[debug_mode]
    elif not isinstance(debug_mode, int):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode).__name__}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(
            f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}"
        )
    backend.use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    """The mode :func:`set_deterministic_debug_mode` set: 0, 1 (warn) or 2 (error)."""
    if not backend.are_deterministic_algorithms_enabled():
        return 0
    return 1 if backend.is_deterministic_algorithms_warn_only_enabled() else 2


def is_anomaly_enabled() -> bool:
    """True while anomaly mode is on in this thread."""
    return anomaly.is_anomaly_enabled()


def is_anomaly_check_nan_enabled() -> bool:
    """True when anomaly mode also stops at NaN gradients (PyTorch's ``check_nan``)."""
    return anomaly._state.check_nan


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Switch anomaly mode on or off in this thread without a context manager; ``check_nan``
    says whether backward then stops at NaN gradients."""
    anomaly._state.enabled = bool(enabled)
    anomaly._state.check_nan = bool(check_nan)


def get_num_interop_threads() -> int:
    """Threads for work between ops: minigrad runs ops one after another, so this is the
    number set with :func:`set_num_interop_threads` (1 by default); it changes nothing."""
    found = _FLAGS["interop_threads"]
    return 1 if found is None else found


def set_num_interop_threads(num: int) -> None:
    """Record the inter-op thread count (once, before other work, as PyTorch asks)."""
    if not isinstance(num, int) or isinstance(num, bool) or num <= 0:
        raise RuntimeError(f"Expected positive number of threads, got {num!r}")
    if _FLAGS["interop_threads"] is not None:
        raise RuntimeError(
            "Error: cannot set number of interop threads after parallel work has started or "
            "set_num_interop_threads called"
        )
    _FLAGS["interop_threads"] = num


def init_num_threads() -> None:
    """Thread pools start with the library here: nothing to do."""


def get_device_module(device=None):
    """The module of a device type: ``minigrad.cuda`` for ``"cuda"``, ``minigrad.cpu`` for
    ``"cpu"`` (the default device's when not given)."""
    import importlib

    if device is None:
        device = backend.get_default_device()
    kind = device.type if isinstance(device, backend.Device) else str(device).split(":")[0]
    if kind not in ("cpu", "cuda"):
        raise RuntimeError(f"Device '{kind}' does not have a corresponding module registered")
    return importlib.import_module(f"minigrad.{kind}")


def set_flush_denormal(mode: bool) -> bool:
    """NumPy keeps denormal numbers; returns False (not supported) as PyTorch does on CPUs
    without the switch, except that turning it off always succeeds."""
    return not mode


def set_default_tensor_type(t) -> None:
    """Deprecated: the default dtype from a floating legacy type (``minigrad.DoubleTensor``)
    or its name (``"torch.FloatTensor"``); use :func:`set_default_dtype`."""
    warn_user(
        "torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
        "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
        UserWarning,
    )
    if isinstance(t, str):
        dtype = dtypes.from_legacy_type_name(t)
    elif isinstance(t, _legacy.LegacyType):
        dtype = t.dtype
    else:
        raise TypeError(
            f"invalid type object: expected a legacy tensor type like torch.FloatTensor, got {t!r}"
        )
    if not dtype.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    dtypes.set_default_dtype(dtype)


def typename(obj) -> str:
    """The type name of ``obj``: :meth:`Tensor.type` for tensors (``'minigrad.FloatTensor'``),
    else ``module.QualifiedName`` of a class or function, or of the class of an instance
    (builtins without a module prefix)."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if name is None:
        module, name = type(obj).__module__ or "", type(obj).__qualname__
    return name if module in ("", "builtins") else f"{module}.{name}"


@_tf.dispatching
def _assert(condition, message) -> None:
    """``assert condition, message`` as a function, as ``torch._assert`` (model code such as
    torchvision's ViT calls it): raises ``AssertionError(message)`` when ``condition`` (a bool
    or a one-element tensor) is false; unlike ``assert``, ``python -O`` does not remove it,
    and ``fx.symbolic_trace`` records it as a call instead of failing on a traced condition."""
    if not condition:
        raise AssertionError(message)


_assert._fx_impure = True  # fx's dead-code elimination keeps the check, as PyTorch's


def is_storage(obj) -> bool:
    """True for the storage objects :meth:`Tensor.untyped_storage` returns."""
    from .storage import TypedStorage, UntypedStorage

    return isinstance(obj, (TypedStorage, UntypedStorage))


def broadcast_shapes(*shapes) -> Size:
    """The shape that tensors of ``shapes`` broadcast to (an int is a 1-D shape).

    Example:
        >>> minigrad.broadcast_shapes((2, 1), (3,))
        minigrad.Size([2, 3])
    """
    out: list[int] = []
    for index, given in enumerate(shapes):
        shape = (given,) if isinstance(given, int) else tuple(given)
        for size in shape:
            if not isinstance(size, int) or size < 0:
                raise RuntimeError(f"broadcast_shapes: shape {shape} has an invalid size {size}")
        if len(shape) > len(out):
            out = [1] * (len(shape) - len(out)) + out
        for back, size in enumerate(reversed(shape), 1):
            have = out[-back]
            if size != have and size != 1 and have != 1:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {size} at {-back}! "
                    f"Mismatching argument at index {index} had {given}; but expected shape "
                    f"should be broadcastable to {out}"
                )
            out[-back] = have if size == 1 else size
    return Size(out)


@with_out
def range(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Deprecated: values from ``start`` to ``end`` *inclusive* by ``step``, in the default
    floating dtype; use :func:`arange` (which stops before ``end``)."""
    warn_user(
        "torch.range is deprecated and will be removed in a future release because its "
        "behavior is inconsistent with Python's range builtin. Instead, use torch.arange, "
        "which produces values in [start, end).",
        UserWarning,
    )
    if end is None:
        start, end = 0, start
    creation.number_args("range", start=start, end=end, step=step)
    if step == 0:
        raise RuntimeError("range: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"upper bound and lower bound inconsistent with step sign (range: start={start}, "
            f"end={end}, step={step})"
        )
    count = int(math.floor((end - start) / step)) + 1
    dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    values = creation.arange(count, dtype=dtypes.float64, device=device) * step + start
    return values.to(dtype).requires_grad_(requires_grad)


def rsub(input, other, *args, alpha=1) -> Tensor:
    """``other - alpha * input`` (``sub`` with its operands swapped); ``alpha`` positional only
    after a number ``other``, as PyTorch's overloads."""
    alpha = positional_alpha("rsub", other, args, alpha)
    if isinstance(other, Tensor):  # (sub's checks: bool operands, alpha's type)
        out = sub(other, input, alpha=alpha)
    else:
        out = other - input * alpha if alpha != 1 else other - input
    return named_as(out, f"RsubBackward{int(not isinstance(other, Tensor))}")  # (two overloads)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False, **_layout) -> Tensor:
    """A 0-dim tensor holding the number ``s``, in the default floating dtype unless given."""
    check_number_arg(s, "scalar_tensor", "s", "Number", 0)
    if isinstance(s, (list, tuple)):  # (torch.tensor's job: scalar_tensor makes 0-dim ones)
        raise TypeError(
            f"scalar_tensor(): argument 's' (position 1) must be Number, not {type(s).__name__}"
        )
    dtype = dtype if dtype is not None else dtypes.get_default_dtype()
    return creation.tensor(s, dtype=dtype, device=device, requires_grad=requires_grad)


def empty_strided(
    size, stride, *, dtype=None, device=None, requires_grad=False, **_layout
) -> Tensor:
    """An uninitialised tensor of ``size`` whose ``stride()`` is ``stride`` (zeros here)."""
    from ._strided import strided_zeros

    return strided_zeros(size, stride, dtype, device).requires_grad_(requires_grad)


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False) -> Tensor:
    """A 1-D CPU tensor sharing memory with an object of the buffer protocol (``bytearray``,
    ``array.array``, ``memoryview``): writes through either show in the other."""
    dtype = dtypes.to_dtype(dtype)
    view = memoryview(buffer).cast("B")
    size, item = view.nbytes, np.dtype(dtype.numpy).itemsize
    if size == 0 and count == -1 or count == 0:
        raise ValueError(f"both buffer length ({size}) and count ({count}) must not be 0")
    if not 0 <= offset < size:
        raise ValueError(
            f"offset ({offset} bytes) must be non-negative and no greater than buffer length "
            f"({size} bytes) minus 1"
        )
    if count < 0:
        if (size - offset) % item:
            raise ValueError(
                f"buffer length ({size - offset} bytes) after offset ({offset} bytes) must be a "
                f"multiple of element size ({item})"
            )
        count = (size - offset) // item
    elif offset + count * item > size:
        raise ValueError(
            f"requested buffer length ({count} * {item} bytes) after offset ({offset} bytes) "
            f"must not be greater than actual buffer length ({size} bytes)"
        )
    array = np.frombuffer(view, dtype=dtype.numpy, count=count, offset=offset)
    if not array.flags.writeable:
        warn_user("frombuffer: the buffer is not writable; the tensor reads it only")
    return Tensor._make(array, backend.CPU).requires_grad_(requires_grad)


def cond(pred, true_fn, false_fn, operands=()):
    """``true_fn(*operands)`` if ``pred`` else ``false_fn(*operands)``: PyTorch's control-flow
    op run eagerly (``pred`` a bool, a number or a one-element tensor). Gradients flow through
    the branch taken. Met by symbolic tracing (minigrad.fx, minigrad.export), it records
    both branches, each traced into a GraphModule."""
    from .fx._control_flow import has_proxy, trace_cond

    if has_proxy(pred, operands):
        return trace_cond(pred, true_fn, false_fn, operands)
    if isinstance(pred, Tensor):
        if pred.numel() != 1:
            raise RuntimeError(
                f"Expected pred to be bool or single-element tensor, but got {pred}."
            )
        pred = bool(pred.item())
    elif not isinstance(pred, (bool, int, float)):
        raise RuntimeError(
            f"Expected pred to be bool or single-element tensor, but got {type(pred).__name__}."
        )
    if not isinstance(operands, (tuple, list)):
        raise RuntimeError(f"Expected operands to be a tuple or list, but got {type(operands)}.")
    return true_fn(*operands) if pred else false_fn(*operands)


def while_loop(cond_fn, body_fn, carried_inputs):
    """Run ``carried = body_fn(*carried)`` while ``cond_fn(*carried)`` holds, eagerly, and
    return the last ``carried`` (a tuple). ``body_fn`` returns as many values as it takes."""
    if not isinstance(carried_inputs, (tuple, list)):
        raise RuntimeError(
            f"carried_inputs must be a tuple or list, got {type(carried_inputs).__name__}"
        )
    carried = tuple(carried_inputs)
    while bool(cond_fn(*carried)):
        out = body_fn(*carried)
        out = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        if len(out) != len(carried):
            raise RuntimeError(
                "while_loop: expected body_fn output and carried_inputs to have the same number "
                f"of values, but got {len(out)} and {len(carried)}"
            )
        carried = out
    return carried


def to_dlpack(tensor):
    """The tensor as a DLPack capsule (its ``__dlpack__()``), for ``from_dlpack`` elsewhere."""
    return tensor.__dlpack__()


@names_node(lambda input, value: f"FillBackward{int(isinstance(value, Tensor))}")
def fill(input, value) -> Tensor:
    """A new tensor of ``input``'s shape, dtype and device filled with ``value`` (a number or
    a 0-dim tensor, through which gradients flow)."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                "fill only supports 0-dimension value tensor but got tensor with "
                f"{value.ndim} dimensions."
            )
        everywhere = creation.ones(input.shape, dtype=dtypes.bool, device=input.device)
        return where(everywhere, value.to(input.dtype), input)  # input's gradient: zeros
    return creation.full_like(input, value)


# -- the symbolic-shape helpers, on plain numbers --------------------------------------------
# PyTorch's tracing compilers pass symbolic sizes through these; minigrad's sizes are always
# plain Python numbers, so they compute directly (export-friendly model code calls them).


def _sym_number(fn: str, a):
    if not isinstance(a, (int, float, np.integer, np.floating)):  # (bool is an int)
        raise TypeError(f"{fn}: expected an int or a float, got {type(a).__name__}")
    return a


def sym_int(a) -> int:
    """``a`` truncated toward zero to an int, as ``int(a)``."""
    return math.trunc(_sym_number("sym_int", a))


def sym_float(a) -> float:
    """``a`` as a float."""
    return float(_sym_number("sym_float", a))


def sym_max(a, b):
    """The larger of ``a`` and ``b``; a float if either is one (``sym_max(2, 1.0) == 2.0``)."""
    return _sym_widest(max(_sym_number("sym_max", a), _sym_number("sym_max", b)), a, b)


def sym_min(a, b):
    """The smaller of ``a`` and ``b``; a float if either is one."""
    return _sym_widest(min(_sym_number("sym_min", a), _sym_number("sym_min", b)), a, b)


def _sym_widest(value, a, b):
    either_float = isinstance(a, (float, np.floating)) or isinstance(b, (float, np.floating))
    return float(value) if either_float else value


def sym_not(a) -> bool:
    """``not a``."""
    return not a


def sym_ite(b: bool, t, f):
    """``t if b else f``; ``b`` must be a bool."""
    if not isinstance(b, (bool, np.bool_)):
        raise TypeError(f"sym_ite: the condition must be a bool, got {type(b).__name__}")
    return t if b else f


def sym_sum(args):
    """The sum of the numbers in ``args`` (0 for none)."""
    return sum(args)


def sym_sqrt(a) -> float:
    """The square root of ``a``, as ``math.sqrt``."""
    return math.sqrt(_sym_number("sym_sqrt", a))


__all__ = [
    name
    for name, obj in dict(globals()).items()
    if callable(obj) and not name.startswith("_") and getattr(obj, "__module__", None) == __name__
]
__all__ += ["is_warn_always_enabled", "set_warn_always"]  # kept with the warnings they control
