"""The device modules of accelerators minigrad has no backend for (``minigrad.xpu``,
``minigrad.mps``, ``minigrad.mtia``), as PyTorch's are in a build without that accelerator.

Programs probe every accelerator before choosing one (``"xpu" if torch.xpu.is_available()
else ...``) and seed them all, so the probes answer (not available, no devices) and seeding
is accepted and does nothing, as PyTorch's lazy seeding of an absent device. Every other
function of the device module exists and says, when called, that the accelerator is not
built in, as PyTorch's raise.
"""

from __future__ import annotations

# the functions of torch.<device> that need the device (each raises when called)
_NEEDS_DEVICE = (
    "current_device",
    "current_stream",
    "empty_cache",
    "get_device_capability",
    "get_device_name",
    "get_device_properties",
    "get_rng_state",
    "get_rng_state_all",
    "max_memory_allocated",
    "memory_allocated",
    "memory_reserved",
    "reset_peak_memory_stats",
    "set_device",
    "set_rng_state",
    "set_rng_state_all",
    "set_stream",
    "stream",
    "synchronize",
)


def absent_device_functions(name: str) -> dict:
    """The probing and seeding functions of device module ``name``, for its globals."""

    def is_available() -> bool:
        """False: minigrad has no backend for this accelerator."""
        return False

    def is_initialized() -> bool:
        """False: nothing to initialise."""
        return False

    def device_count() -> int:
        """0: no devices of this kind."""
        return 0

    def manual_seed(seed: int) -> None:
        """Accepted and ignored: there is no generator of this kind to seed."""

    def seed() -> None:
        """Accepted and ignored: there is no generator of this kind to seed."""

    functions = {
        "is_available": is_available,
        "is_initialized": is_initialized,
        "device_count": device_count,
        "manual_seed": manual_seed,
        "manual_seed_all": manual_seed,
        "seed": seed,
        "seed_all": seed,
    }
    for function in functions.values():
        function.__module__ = f"minigrad.{name}"
    return functions


def absent_device_getattr(name: str):
    """A module ``__getattr__`` giving the device-needing functions of ``minigrad.<name>``:
    each raises ``RuntimeError`` when called."""

    def module_getattr(attr: str):
        if attr not in _NEEDS_DEVICE:
            raise AttributeError(f"module 'minigrad.{name}' has no attribute {attr!r}")

        def needs_device(*args, **kwargs):
            raise RuntimeError(
                f"minigrad.{name}.{attr}: minigrad has no {name!r} backend (as PyTorch built "
                f"without it); its devices are 'cpu', 'cuda' and 'meta'"
            )

        needs_device.__name__ = needs_device.__qualname__ = attr
        return needs_device

    return module_getattr
