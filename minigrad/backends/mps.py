"""``minigrad.backends.mps``, as ``torch.backends.mps``: Apple's Metal backend, which minigrad
does not have. Programs ask ``torch.backends.mps.is_available()`` when they pick a device;
here the answer is always False, so they fall back to the CPU (or CUDA)."""

from __future__ import annotations


def is_available() -> bool:
    """False: minigrad has no Metal backend."""
    return False


def is_built() -> bool:
    """False: minigrad is not built with Metal support."""
    return False
