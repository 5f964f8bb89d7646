"""``minigrad.cpu``, as ``torch.cpu``: the CPU under the device-module names programs call
on every device type (``torch.cpu.synchronize()``, ``torch.cpu.amp.autocast``). The CPU runs
every op when it is called, so synchronising and streams have nothing to wait for."""

from __future__ import annotations

import contextlib

from ._cpu_capabilities import get_capabilities

__all__ = [
    "Stream",
    "current_device",
    "current_stream",
    "device_count",
    "get_capabilities",
    "is_available",
    "is_initialized",
    "set_device",
    "stream",
    "synchronize",
]


def is_available() -> bool:
    """Always True."""
    return True


def is_initialized() -> bool:
    """Always True."""
    return True


def device_count() -> int:
    """One CPU device (as PyTorch's)."""
    return 1


def current_device() -> str:
    """``"cpu"``."""
    return "cpu"


def set_device(device) -> None:
    """Accepted for ``"cpu"`` (the only CPU device), as PyTorch."""
    if str(device) != "cpu":
        raise ValueError(f"set_device: the CPU device is 'cpu', got {device!r}")


def synchronize(device=None) -> None:
    """Nothing to wait for: CPU ops finish before they return."""


class Stream:
    """The CPU's one stream (a placeholder PyTorch also has): waiting on it returns at once."""

    def __init__(self, priority: int = -1):
        self.priority = priority

    def synchronize(self) -> None:
        """Nothing to wait for."""

    def wait_stream(self, stream) -> None:
        """Nothing to wait for."""


_DEFAULT_STREAM = Stream()


def current_stream(device=None) -> Stream:
    """The CPU's stream."""
    return _DEFAULT_STREAM


def stream(stream: Stream | None):
    """A context manager doing nothing (the CPU has one stream)."""
    return contextlib.nullcontext(stream)
