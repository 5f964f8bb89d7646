"""``minigrad.from_file``, as ``torch.from_file``: a 1-D CPU tensor of the raw elements of a
binary file (as ``numpy.ndarray.tofile`` writes them), read into memory or mapped shared with
the file so that writes to the tensor reach it."""

from __future__ import annotations

import os

import numpy as np  # the file's bytes as a host array (a memory map when shared)

from . import backend, dtypes
from .tensor import Tensor


def from_file(
    filename,
    shared=None,
    size=0,
    *,
    dtype=None,
    layout=None,
    device=None,
    pin_memory=False,
    requires_grad=False,
) -> Tensor:
    """The first ``size`` elements of type ``dtype`` (default: the default dtype) stored in
    ``filename``, as a 1-D tensor.

    With ``shared=True`` the tensor maps the file: its writes go to the file, which is created
    or extended (with zeros) to ``size`` elements when shorter. Otherwise (``shared=False`` or
    None) it holds a copy, and the file must have ``size`` elements at least (PyTorch's
    ``RuntimeError`` otherwise). ``device`` other than the CPU gets a copy there.

    Example:
        >>> numpy.arange(4.0).tofile("data.bin")
        >>> minigrad.from_file("data.bin", size=3, dtype=minigrad.float64)
        tensor([0., 1., 2.], dtype=minigrad.float64)
    """
    dt = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
    name, count = os.fspath(filename), int(size)
    if count < 0:
        raise RuntimeError(f"from_file: size must be non-negative, got {count}")
    if shared:
        if count == 0:  # nothing to map (a memory map of 0 bytes is an error)
            array = np.empty(0, dt.numpy)
        else:
            mode = "r+" if os.path.exists(name) else "w+"  # r+ extends a short file
            array = np.memmap(name, dtype=dt.numpy, mode=mode, shape=(count,)).view(np.ndarray)
    else:
        try:
            have = os.path.getsize(name)
        except OSError as e:
            raise RuntimeError(
                f"unable to open file <{name}> in read-only mode: {e.strerror} ({e.errno})"
            ) from None
        if have < count * dt.itemsize:
            raise RuntimeError(
                f"file <{name}> size <{have}> is smaller than the required mapping size "
                f"<{count * dt.itemsize}>"
            )
        array = np.fromfile(name, dtype=dt.numpy, count=count)
    out = Tensor._make(array, backend.CPU)
    if device is not None and backend.device(device) != backend.CPU:
        out = out.to(device)
    return out.requires_grad_(requires_grad)
