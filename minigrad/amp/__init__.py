"""``minigrad.amp``: mixed precision, as ``torch.amp``: autocast and GradScaler.

Also makes the module paths PyTorch programs import from: ``minigrad.cuda.amp``
(``autocast(enabled=True, dtype=float16, cache_enabled=True)`` fixed to CUDA, and
``GradScaler(init_scale=...)`` for CUDA) and ``minigrad.cpu.amp`` (the same for the CPU).
"""

from __future__ import annotations

import sys
import types

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


def _device_amp_module(device_type: str, parent) -> types.ModuleType:
    """``minigrad.<device_type>.amp``: autocast and GradScaler with the device type fixed."""
    name = f"{parent.__name__}.amp"
    module = types.ModuleType(name, f"``{name}``: autocast and GradScaler for {device_type}.")

    class DeviceAutocast(autocast):
        __doc__ = f"``autocast('{device_type}', ...)`` under its {device_type}-specific name."

        def __init__(self, enabled: bool = True, dtype=None, cache_enabled: bool = True):
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
            super().__init__(
                device_type, init_scale, growth_factor, backoff_factor, growth_interval, enabled
            )

    DeviceAutocast.__name__ = DeviceAutocast.__qualname__ = "autocast"
    DeviceGradScaler.__name__ = DeviceGradScaler.__qualname__ = "GradScaler"
    DeviceAutocast.__module__ = DeviceGradScaler.__module__ = name
    module.autocast, module.GradScaler = DeviceAutocast, DeviceGradScaler
    module.custom_fwd, module.custom_bwd = custom_fwd, custom_bwd
    sys.modules[name] = module
    parent.amp = module
    return module


def _install_aliases() -> None:
    from .. import cpu, cuda

    _device_amp_module("cuda", cuda)
    _device_amp_module("cpu", cpu)


_install_aliases()
