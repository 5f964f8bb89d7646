# ruff: noqa: N999 - PyTorch's module name (torch._C)
"""The names PyTorch programs reach through ``torch._C`` for the ``__torch_function__``
protocol (``torch._C.DisableTorchFunctionSubclass``, ``torch._C._disabled_torch_function_impl``);
minigrad has no C extension, and this module holds nothing else but ``Generator`` (whose repr
names this module, as PyTorch's does), ``_log_api_usage_once``, which libraries built on
PyTorch (torchvision, torchmetrics, Lightning) call when they build a module or a metric, and
``_are_functorch_transforms_active``, which they ask before a fast path (kornia),
``_current_graph_task_id`` (whether a backward runs), and
``_nn._parse_to``, ``Module.to``'s argument parser (Lightning's ``DeviceDtypeModuleMixin``),
and ``ScriptMethod``, the type of a scripted module's ``forward`` (torchview tests for it)."""

import os
import sys
import types

from ._torch_function import DisableTorchFunction, DisableTorchFunctionSubclass
from ._torch_function import disabled_torch_function_impl as _disabled_torch_function_impl
from .backend import Generator
from .jit._script_method import ScriptMethod
from .ops.decompositions import LinAlgError as _LinAlgError  # noqa: F401 - linalg.LinAlgError
from .tensor import Tensor

_TensorMeta = type(Tensor)  # the metaclass of Tensor, as torch._C._TensorMeta (Lightning's hints)

_api_usage_seen: set[str] = set()


def _current_graph_task_id() -> int:
    """An id of the backward pass running in this thread, -1 outside backward
    (``torch.utils.module_tracker`` asks it whether a backward runs)."""
    from .autograd import engine

    return engine.current_task_id()


def _log_api_usage_once(event: str) -> None:
    """Logs ``event`` the first time it is seen, as PyTorch's API usage logger does: nothing
    unless ``PYTORCH_API_USAGE_STDERR`` is set (non-empty), then ``PYTORCH_API_USAGE <event>``
    on stderr."""
    if not isinstance(event, str):
        raise TypeError(
            f"_log_api_usage_once(): argument 'event' must be str, not {type(event).__name__}"
        )
    if event in _api_usage_seen:
        return
    _api_usage_seen.add(event)
    if os.environ.get("PYTORCH_API_USAGE_STDERR"):
        print(f"PYTORCH_API_USAGE {event}", file=sys.stderr)


def _are_functorch_transforms_active() -> bool:
    """Whether this thread runs inside a ``minigrad.func`` transform (vmap, grad, jvp, ...)."""
    from .func._transforms import inside_transform

    return inside_transform()


class Type:
    """TorchScript's type of a value (``torch.Type``), which library code names in annotations
    (``str | torch.DeviceObjType``). minigrad has no TorchScript, so no value is one; making
    one raises."""

    def __init__(self, *args, **kwargs) -> None:
        raise NotImplementedError(
            f"torch.{type(self).__name__}: TorchScript's types are not supported by minigrad, "
            "which has no TorchScript"
        )


class DeviceObjType(Type):
    """TorchScript's type of ``torch.device`` values (never made in minigrad: see
    :class:`Type`)."""


class TracingState:
    """What :func:`_get_tracing_state` returns while ``jit.trace`` records in this thread
    (PyTorch's holds the graph being built; libraries test only whether there is one)."""

    def __repr__(self) -> str:
        return "<TracingState: jit.trace is recording>"


def _get_tracing_state():
    """A :class:`TracingState` while ``jit.trace`` records in this thread, else None (as
    PyTorch's): libraries skip shape checks and warnings inside a trace (pyro does)."""
    from ._jit_trace import is_tracing

    return TracingState() if is_tracing() else None


def _parse_to(*args, **kwargs) -> tuple:
    """``(device, dtype, non_blocking, memory_format)`` of ``Tensor.to``/``Module.to``
    arguments (a device, a dtype, a tensor, by position or keyword), None where not given."""
    from .tensor import parse_to_args

    kwargs = dict(kwargs)
    memory_format = kwargs.pop("memory_format", None)
    positional = [a for a in args if type(a) is bool]
    non_blocking = bool(kwargs.get("non_blocking", positional[0] if positional else False))
    device, dtype, _ = parse_to_args(args, kwargs)
    return device, dtype, non_blocking, memory_format


_nn = types.SimpleNamespace(_parse_to=_parse_to)  # torch._C._nn: only its argument parser


__all__ = [
    "DisableTorchFunction",
    "Generator",
    "DisableTorchFunctionSubclass",
    "_disabled_torch_function_impl",
    "_log_api_usage_once",
    "_are_functorch_transforms_active",
    "_TensorMeta",
    "ScriptMethod",
]
