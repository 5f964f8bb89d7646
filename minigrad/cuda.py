"""``minigrad.cuda``: whether a CUDA GPU (through CuPy) can be used."""

from __future__ import annotations

from . import backend


def is_available() -> bool:
    """True if CuPy imports and sees at least one GPU."""
    return backend.get_backend("cuda").is_available()


def device_count() -> int:
    return backend.get_backend("cuda").device_count()


def manual_seed(seed: int) -> None:
    """Seed every generator (CPU included, as minigrad.manual_seed)."""
    backend.manual_seed(seed)


manual_seed_all = manual_seed


def synchronize() -> None:
    """Wait for all queued GPU work (for timing)."""
    if is_available():
        backend.get_backend("cuda").synchronize()
