"""The autocast state functions PyTorch has at the top level (``torch.is_autocast_enabled``,
``torch.set_autocast_dtype``, ``torch.autocast_increment_nesting``, ...), over the thread-local
state of :mod:`minigrad.amp.autocast_mode`.

The ``*_cpu_*``/``*_gpu_*`` forms are deprecated in PyTorch and warn as there; the forms
without a device type mean CUDA, as PyTorch's.
"""

from __future__ import annotations

from . import dtypes
from ._warnings import warn_user
from .amp import autocast_mode as _mode

__all__ = [
    "autocast_decrement_nesting",
    "autocast_increment_nesting",
    "clear_autocast_cache",
    "get_autocast_cpu_dtype",
    "get_autocast_dtype",
    "get_autocast_gpu_dtype",
    "is_autocast_cache_enabled",
    "is_autocast_cpu_enabled",
    "is_autocast_enabled",
    "set_autocast_cache_enabled",
    "set_autocast_cpu_dtype",
    "set_autocast_cpu_enabled",
    "set_autocast_dtype",
    "set_autocast_enabled",
    "set_autocast_gpu_dtype",
]


def _deprecated(old: str, new: str) -> None:
    warn_user(f"torch.{old} is deprecated. Please use torch.{new} instead.", DeprecationWarning)


def _device_type(device_type) -> str:
    if not isinstance(device_type, str):
        raise TypeError(f"autocast: device_type must be a str, got {type(device_type).__name__}")
    return device_type.split(":")[0]


def is_any_autocast_enabled() -> bool:
    """True when autocast is on for any device type in this thread (PyTorch's
    ``torch._C._is_any_autocast_enabled``)."""
    return _mode.is_any_autocast_enabled()


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """True when autocast is on for ``device_type`` in this thread (CUDA when not given)."""
    return _mode.is_autocast_enabled(_device_type(device_type))


def get_autocast_dtype(device_type: str) -> dtypes.dtype:
    """The low-precision dtype autocast uses for ``device_type`` in this thread."""
    return _mode.get_autocast_dtype(_device_type(device_type))


def set_autocast_dtype(device_type: str, dtype) -> None:
    """Set the low-precision dtype of later autocast regions of ``device_type`` (and of the
    current one), in this thread."""
    device_type, dtype = _device_type(device_type), dtypes.to_dtype(dtype)
    state = _mode._state
    state.dtypes = {**state.dtypes, device_type: dtype}
    if device_type in state.enabled:
        state.enabled = {**state.enabled, device_type: dtype}


def set_autocast_enabled(*args) -> None:
    """``set_autocast_enabled(device_type, enabled)`` (or ``(enabled)`` for CUDA): switch
    autocast on or off in this thread without a context manager, as PyTorch's."""
    if len(args) == 1:
        device_type, enabled = "cuda", args[0]
    elif len(args) == 2:
        device_type, enabled = args
    else:
        raise TypeError(
            f"set_autocast_enabled() takes (device_type, enabled) or (enabled), got {len(args)} "
            "arguments"
        )
    device_type, state = _device_type(device_type), _mode._state
    if bool(enabled) == (device_type in state.enabled):
        return
    if enabled:
        state.enabled = {**state.enabled, device_type: get_autocast_dtype(device_type)}
        _change_active(+1)
    else:
        state.enabled = {k: v for k, v in state.enabled.items() if k != device_type}
        _change_active(-1)


def _change_active(step: int) -> None:
    """Install the op interposer while any thread has autocast on (as ``autocast`` does)."""
    with _mode._active_lock:
        _mode._active = max(_mode._active + step, 0)
        if _mode._active == 1 and step > 0:
            _mode._install()
        elif _mode._active == 0:
            _mode._dispatch.set_autocast(None, None, None)


def is_autocast_cache_enabled() -> bool:
    """True when autocast casts each parameter once per region (the default)."""
    return _mode._state_cache_enabled()


def set_autocast_cache_enabled(enabled: bool) -> None:
    """Switch the per-region cache of parameter casts on or off, in this thread."""
    _mode._state.cache_enabled = bool(enabled)


def clear_autocast_cache() -> None:
    """Forget the casts of parameters made in this thread's autocast regions."""
    _mode._state.cache.clear()


def autocast_increment_nesting() -> int:
    """Count one more open autocast region in this thread; returns the new depth."""
    _mode._state.depth += 1
    return _mode._state.depth


def autocast_decrement_nesting() -> int:
    """Count one autocast region closed in this thread; returns the new depth."""
    state = _mode._state
    state.depth = max(state.depth - 1, 0)
    return state.depth


def get_autocast_cpu_dtype() -> dtypes.dtype:
    """Deprecated: ``get_autocast_dtype('cpu')``."""
    _deprecated("get_autocast_cpu_dtype()", "get_autocast_dtype('cpu')")
    return get_autocast_dtype("cpu")


def get_autocast_gpu_dtype() -> dtypes.dtype:
    """Deprecated: ``get_autocast_dtype('cuda')``."""
    _deprecated("get_autocast_gpu_dtype()", "get_autocast_dtype('cuda')")
    return get_autocast_dtype("cuda")


def set_autocast_cpu_dtype(dtype) -> None:
    """Deprecated: ``set_autocast_dtype('cpu', dtype)``."""
    _deprecated("set_autocast_cpu_dtype(dtype)", "set_autocast_dtype('cpu', dtype)")
    set_autocast_dtype("cpu", dtype)


def set_autocast_gpu_dtype(dtype) -> None:
    """Deprecated: ``set_autocast_dtype('cuda', dtype)``."""
    _deprecated("set_autocast_gpu_dtype(dtype)", "set_autocast_dtype('cuda', dtype)")
    set_autocast_dtype("cuda", dtype)


def is_autocast_cpu_enabled() -> bool:
    """Deprecated: ``is_autocast_enabled('cpu')``."""
    _deprecated("is_autocast_cpu_enabled()", "is_autocast_enabled('cpu')")
    return is_autocast_enabled("cpu")


def set_autocast_cpu_enabled(enabled: bool) -> None:
    """Deprecated: ``set_autocast_enabled('cpu', enabled)``."""
    _deprecated("set_autocast_cpu_enabled(enabled)", "set_autocast_enabled('cpu', enabled)")
    set_autocast_enabled("cpu", enabled)
