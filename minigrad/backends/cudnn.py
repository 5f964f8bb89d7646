"""``minigrad.backends.cudnn``: PyTorch's cuDNN switches. minigrad never calls cuDNN, so
``enabled``, ``benchmark``, ``deterministic`` and ``allow_tf32`` have no effect: results on
the GPU are deterministic for a given input whatever they say."""

from __future__ import annotations

from .. import backend

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """True if CuPy sees a GPU and ships its cuDNN bindings (what PyTorch reports)."""
    return backend.get_backend("cuda").has_cudnn()


def version():
    """cuDNN's version as an int, or None where it is not available."""
    return backend.get_backend("cuda").cudnn_version() if is_available() else None
