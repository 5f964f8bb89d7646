"""``Tensor.share_memory_`` and ``is_shared``: CPU storage in shared memory, so that processes
started with ``fork`` (``minigrad.multiprocessing``, Hogwild training) update the same values."""

from __future__ import annotations

import mmap

import numpy as np


def _root(array):
    """The object at the bottom of a NumPy array's chain of bases (None for an owning array)."""
    while isinstance(array, np.ndarray) and array.base is not None:
        array = array.base
    if isinstance(array, memoryview):
        return array.obj
    return array if not isinstance(array, np.ndarray) else None


def is_shared(tensor) -> bool:
    """True if the tensor's storage is in shared memory. GPU tensors count as shared, as in
    PyTorch (CUDA memory can be handed to other processes)."""
    if tensor.device.type != "cpu":
        return True
    return isinstance(_root(tensor._data), mmap.mmap)


def share_memory_(tensor):
    """Move a CPU tensor's storage to anonymous shared memory (``MAP_SHARED``) and return it.

    Processes forked afterwards see and make the same writes: PyTorch's ``share_memory_``
    for the ``fork`` start method (Linux's default). A no-op when already shared and on a GPU,
    as in PyTorch. Differences: only the tensor itself moves, so call it before making views
    or optimizers of it (``model.share_memory()`` right after building the model, as the
    Hogwild example does); a view raises ``NotImplementedError``; and a shared tensor cannot be
    pickled (a ``TypeError``, never a silent copy), so children started with ``spawn`` or
    ``forkserver`` cannot receive it.
    """
    if is_shared(tensor):
        return tensor
    if tensor._base is not None:
        raise NotImplementedError(
            "share_memory_: the tensor is a view of another; call share_memory_() on the tensor "
            "it views (minigrad moves one tensor's storage, not the whole storage of its base)"
        )
    array = tensor._data
    buffer = mmap.mmap(-1, max(array.nbytes, 1))  # anonymous mappings are MAP_SHARED
    shared = np.frombuffer(buffer, dtype=array.dtype, count=array.size).reshape(array.shape)
    shared[...] = array
    tensor._data = shared
    return tensor
