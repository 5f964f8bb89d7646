"""DLPack: zero-copy exchange of tensors with NumPy, CuPy, PyTorch, JAX (``torch.utils.dlpack``).

``minigrad.from_dlpack(x)`` wraps the memory of any array that implements ``__dlpack__`` and
``__dlpack_device__`` (host memory as a CPU tensor, CUDA memory as a ``cuda`` tensor through
the device's array module); a minigrad tensor's ``__dlpack__`` exports its memory the same way,
so ``torch.from_dlpack(t)`` and ``numpy.from_dlpack(t)`` share it.
"""

from __future__ import annotations

import ctypes

import numpy as np  # a capsule's host memory (see _Capsule.writable)

from .. import backend, dtypes
from .._surface import to_dlpack
from ..tensor import Tensor

__all__ = ["from_dlpack", "to_dlpack"]

# DLPack's device types (dlpack.h, DLDeviceType)
_CPU, _CUDA, _CUDA_HOST, _CUDA_MANAGED = 1, 2, 3, 13


def from_dlpack(ext_tensor) -> Tensor:
    """A tensor sharing memory with ``ext_tensor``, any array with ``__dlpack__`` (zero-copy).

    Args:
        ext_tensor: a NumPy, CuPy, PyTorch or JAX array (or a minigrad tensor), on the CPU or
            a CUDA device, or a DLPack capsule (:func:`to_dlpack`'s), which can be read once.
            A PyTorch tensor that requires grad must be detached first.

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
    if type(ext_tensor).__name__ == "PyCapsule":
        ext_tensor = _Capsule(ext_tensor)
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
    if isinstance(ext_tensor, _Capsule):
        array = ext_tensor.writable(array)
    dtypes.from_numpy(array.dtype)  # a clear error for element types minigrad lacks
    return Tensor._make(array, dev)


class _Capsule:
    """A DLPack capsule (``"dltensor"``, as ``to_dlpack`` gives) as the array protocol that
    ``xp.from_dlpack`` reads: the capsule itself, and the device written in its ``DLTensor``."""

    def __init__(self, capsule):
        get = ctypes.pythonapi.PyCapsule_GetPointer
        get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
        if not ctypes.pythonapi.PyCapsule_IsValid(ctypes.py_object(capsule), b"dltensor"):
            raise RuntimeError(
                "from_dlpack: the capsule is not a DLPack tensor, or was consumed already (a "
                "capsule can be read once)"
            )
        # DLManagedTensor starts with DLTensor {void *data; DLDevice {int32 type, int32 id}; ...}
        address = get(capsule, b"dltensor") + ctypes.sizeof(ctypes.c_void_p)
        self.device = tuple((ctypes.c_int32 * 2).from_address(address))
        self.capsule = capsule

    def __dlpack__(self, **kwargs):
        return self.capsule

    def __dlpack_device__(self) -> tuple:
        return self.device

    @staticmethod
    def writable(array):
        """``array`` as PyTorch reads a capsule: writable. NumPy marks the arrays of legacy
        (unversioned) capsules read-only, as they carry no read-only flag; the memory is the
        exporter's tensor's, which PyTorch's importer shares writable."""
        if getattr(array, "flags", None) is None or array.flags.writeable:
            return array
        return np.asarray(_WritableView(array))


class _WritableView:
    """The ``__array_interface__`` of a read-only array with its memory marked writable; keeps
    the array (and so the capsule's owner) alive as the new array's base."""

    def __init__(self, array):
        self.array = array
        interface = dict(array.__array_interface__)
        interface["data"] = (interface["data"][0], False)
        self.__array_interface__ = interface
