"""``minigrad.accelerator``, as ``torch.accelerator``: the GPU if there is one, device-agnostic.

PyTorch's tutorials pick their device with
``torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"``;
minigrad's only accelerator is CUDA through CuPy.
"""

from __future__ import annotations

from . import backend, cuda


def is_available() -> bool:
    """True if a CUDA GPU can be used."""
    return cuda.is_available()


def device_count() -> int:
    """The number of GPUs (0 without one)."""
    return cuda.device_count() if is_available() else 0


def current_accelerator(check_available: bool = False):
    """``minigrad.device('cuda')`` when a GPU can be used, else None (as a CPU-only PyTorch)."""
    return backend.device("cuda") if is_available() else None


def current_device_index() -> int:
    """The index of the current GPU."""
    return cuda.current_device()


def synchronize(device=None) -> None:
    """Wait for the GPU's queued work."""
    cuda.synchronize(device)
