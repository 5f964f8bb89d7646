"""What the parts of ``minigrad.cuda`` share: the backend and device index an argument
means, and the error for a call that needs a GPU where there is none."""

from __future__ import annotations

from . import backend


class CudaUnavailableError(AssertionError, RuntimeError):
    """A ``minigrad.cuda`` call that needs a GPU, made where CuPy or a GPU is missing. An
    ``AssertionError`` as PyTorch's CPU build raises ("Torch not compiled with CUDA
    enabled"), and a ``RuntimeError`` as its CUDA build without a GPU raises, so code written
    for either catches it."""


def backend_of(device=None):
    """The backend of ``device``: an index or None means CUDA; a string or device its own
    (the test stand-in ``fakegpu`` included)."""
    if device is None or isinstance(device, int):
        return backend.get_backend("cuda")
    return backend.device(device).backend


def index_of(device=None) -> int:
    """The GPU index meant by ``device`` (an int, a string, a Device, or None: the current)."""
    if device is None:
        return backend_of().current
    if isinstance(device, int):
        return device
    dev = backend.device(device)
    if dev.type == "cpu":
        raise ValueError(f"expected a GPU device, got {dev}")
    return dev.index


def usable(device=None) -> bool:
    """Whether ``device``'s backend has a GPU (CuPy imports and sees one)."""
    return backend_of(device).is_available()


def require(what: str, device=None):
    """The backend of ``device``, or :class:`CudaUnavailableError` naming ``what`` where CuPy
    or a GPU is missing (PyTorch's ``_lazy_init`` check)."""
    b = backend_of(device)
    try:
        b.xp  # noqa: B018 - imports CuPy and counts the GPUs
    except RuntimeError as e:
        raise CudaUnavailableError(
            f"minigrad.cuda.{what}: CUDA is not available ({e}); PyTorch built without CUDA "
            f"raises 'Torch not compiled with CUDA enabled' here"
        ) from None
    return b
