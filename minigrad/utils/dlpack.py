"""DLPack: zero-copy exchange of tensors with NumPy, CuPy, PyTorch, JAX (``torch.utils.dlpack``).

``minigrad.from_dlpack(x)`` wraps the memory of any array that implements ``__dlpack__`` and
``__dlpack_device__`` (host memory as a CPU tensor, CUDA memory as a ``cuda`` tensor through
the device's array module); a minigrad tensor's ``__dlpack__`` exports its memory the same way,
so ``torch.from_dlpack(t)`` and ``numpy.from_dlpack(t)`` share it.
"""

from __future__ import annotations

from .. import backend, dtypes
from ..tensor import Tensor

__all__ = ["from_dlpack"]

# DLPack's device types (dlpack.h, DLDeviceType)
_CPU, _CUDA, _CUDA_HOST, _CUDA_MANAGED = 1, 2, 3, 13


def from_dlpack(ext_tensor) -> Tensor:
    """A tensor sharing memory with ``ext_tensor``, any array with ``__dlpack__`` (zero-copy).

    Args:
        ext_tensor: a NumPy, CuPy, PyTorch or JAX array (or a minigrad tensor), on the CPU or
            a CUDA device. A PyTorch tensor that requires grad must be detached first.

    Returns:
        A tensor on ``cpu`` or ``cuda:N`` whose writes the other library sees, and vice versa.

    Raises:
        TypeError: ``ext_tensor`` does not implement DLPack, or its element type has no
            minigrad dtype.
        RuntimeError: it lives on a device minigrad has no backend for.

    Example:
        >>> a = numpy.arange(3.0)
        >>> t = minigrad.from_dlpack(a); t[0] = 7.0
        >>> a[0]
        7.0
    """
    if isinstance(ext_tensor, Tensor):
        return Tensor._make(ext_tensor._data, ext_tensor.device)
    if not hasattr(ext_tensor, "__dlpack_device__") or not hasattr(ext_tensor, "__dlpack__"):
        raise TypeError(
            f"from_dlpack expects an array implementing __dlpack__ and __dlpack_device__ (NumPy, "
            f"CuPy, PyTorch, JAX), got {type(ext_tensor).__name__}"
        )
    kind, index = ext_tensor.__dlpack_device__()
    if kind in (_CPU, _CUDA_HOST):
        dev = backend.CPU
    elif kind in (_CUDA, _CUDA_MANAGED):
        dev = backend.device("cuda", int(index))
    else:
        raise RuntimeError(
            f"from_dlpack: the array lives on DLPack device type {int(kind)}; minigrad reads "
            f"host memory (1, 3) and CUDA memory (2, 13)"
        )
    if "bfloat16" in str(getattr(ext_tensor, "dtype", "")):
        raise TypeError(
            "from_dlpack: NumPy's DLPack import has no bfloat16; convert with .float() first, or "
            "share the bits of a PyTorch tensor x as minigrad.from_numpy("
            "x.view(torch.int16).numpy().view(ml_dtypes.bfloat16))"
        )
    with backend.on(dev):
        array = dev.xp.from_dlpack(ext_tensor)
    dtypes.from_numpy(array.dtype)  # a clear error for element types minigrad lacks
    return Tensor._make(array, dev)
