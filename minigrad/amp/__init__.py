"""``minigrad.amp``: mixed precision, as ``torch.amp``: autocast and GradScaler.

Also makes the module paths PyTorch programs import from: ``minigrad.cuda.amp``
(``autocast(enabled=True, dtype=float16, cache_enabled=True)`` fixed to CUDA, and
``GradScaler(init_scale=...)`` for CUDA) and ``minigrad.cpu.amp`` (the same for the CPU).
"""

from __future__ import annotations

import functools
import sys
import types

from .._public_name import public_path
from .._warnings import warn_user
from .autocast_mode import (
    autocast,
    custom_bwd,
    custom_fwd,
    get_autocast_dtype,
    is_autocast_enabled,
)
from .grad_scaler import GradScaler

__all__ = [
    "GradScaler",
    "autocast",
    "custom_bwd",
    "custom_fwd",
    "get_autocast_dtype",
    "is_autocast_enabled",
]


def _warn_deprecated(module: str, what: str, replacement: str) -> None:
    """PyTorch's FutureWarning for the device-specific spellings (``torch.cuda.amp.autocast``
    and the rest), which it keeps working but deprecates in favour of ``torch.amp``'s."""
    module, replacement = public_path(module), public_path(replacement)
    warn_user(
        f"`{module}.{what}(args...)` is deprecated. Please use `{replacement}` instead.",
        FutureWarning,
    )


def _device_amp_module(device_type: str, parent) -> types.ModuleType:
    """``minigrad.<device_type>.amp``: autocast and GradScaler with the device type fixed;
    each warns as PyTorch's that it is deprecated."""
    name = f"{parent.__name__}.amp"
    top = parent.__name__.split(".")[0]
    module = types.ModuleType(name, f"``{name}``: autocast and GradScaler for {device_type}.")

    class DeviceAutocast(autocast):
        __doc__ = f"``autocast('{device_type}', ...)`` under its {device_type}-specific name."

        def __init__(self, enabled: bool = True, dtype=None, cache_enabled: bool = True):
            replacement = f"{top}.amp.autocast('{device_type}', args...)"
            _warn_deprecated(name, "autocast", replacement)
            super().__init__(device_type, dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)

        def __call__(self, fn):
            import functools

            @functools.wraps(fn)
            def wrapper(*args, **kwargs):
                with autocast(device_type, self.fast_dtype, self._enabled, self._cache_enabled):
                    return fn(*args, **kwargs)

            return wrapper

    class DeviceGradScaler(GradScaler):
        __doc__ = f"``GradScaler('{device_type}', ...)`` under its {device_type}-specific name."

        def __init__(
            self,
            init_scale: float = 2.0**16,
            growth_factor: float = 2.0,
            backoff_factor: float = 0.5,
            growth_interval: int = 2000,
            enabled: bool = True,
        ):
            replacement = f"{top}.amp.GradScaler('{device_type}', args...)"
            _warn_deprecated(name, "GradScaler", replacement)
            super().__init__(
                device_type, init_scale, growth_factor, backoff_factor, growth_interval, enabled
            )

    DeviceAutocast.__name__ = DeviceAutocast.__qualname__ = "autocast"
    DeviceGradScaler.__name__ = DeviceGradScaler.__qualname__ = "GradScaler"
    DeviceAutocast.__module__ = DeviceGradScaler.__module__ = name
    module.autocast, module.GradScaler = DeviceAutocast, DeviceGradScaler
    if device_type == "cuda":  # (PyTorch's torch.cpu.amp has no custom_fwd/custom_bwd)
        module.custom_fwd = _deprecated_decorator(custom_fwd, name, device_type, top)
        module.custom_bwd = _deprecated_decorator(custom_bwd, name, device_type, top)
    sys.modules[name] = module
    parent.amp = module
    return module


def _deprecated_decorator(decorator, module: str, device_type: str, top: str):
    """``<module>.custom_fwd``/``custom_bwd``: ``minigrad.amp``'s, fixed to ``device_type``."""
    what = decorator.__name__

    @functools.wraps(decorator)
    def device_decorator(fn=None, **kwargs):
        replacement = f"{top}.amp.{what}(args..., device_type='{device_type}')"
        _warn_deprecated(module, what, replacement)
        return decorator(fn, device_type=device_type, **kwargs)

    return device_decorator


def _install_aliases() -> None:
    from .. import cpu, cuda

    _device_amp_module("cuda", cuda)
    _device_amp_module("cpu", cpu)


_install_aliases()
