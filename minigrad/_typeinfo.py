"""``minigrad.finfo`` and ``minigrad.iinfo``: the numeric limits of float and integer dtypes,
with PyTorch's attribute names."""

from __future__ import annotations

import numpy as np

from . import dtypes


class finfo:  # noqa: N801 - PyTorch's name
    """Limits of a floating dtype (the default dtype when none is given): ``bits``, ``eps``,
    ``max``, ``min``, ``tiny`` (= ``smallest_normal``), ``resolution``, ``dtype`` (its name).

    Example:
        >>> minigrad.finfo(minigrad.float32).eps  # 1.1920928955078125e-07
    """

    def __init__(self, type=None):
        dt = dtypes.to_dtype(type) if type is not None else dtypes.get_default_dtype()
        if not dt.is_floating_point:
            raise TypeError(f"finfo: expected a floating point dtype, got {dt}")
        info = np.finfo(dt.numpy)
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0**-info.precision  # PyTorch's: a power of ten, not rounded
        if dt.itemsize == 1:
            self.resolution = 1.0  # float8: PyTorch's digits10 is 0
        if dt.name == "float8_e5m2fnuz":
            self.eps = 0.125  # PyTorch's epsilon for this type (2**-3, not 2**-2)
        self.dtype = dt.name

    def __repr__(self) -> str:
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
            f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, "
            f"dtype={self.dtype})"
        )


class iinfo:  # noqa: N801
    """Limits of an integer (or bool) dtype: ``bits``, ``max``, ``min``, ``dtype`` (its name).

    Example:
        >>> minigrad.iinfo(minigrad.int64).max  # 9223372036854775807
    """

    def __init__(self, type):
        dt = dtypes.to_dtype(type)
        if dt.is_floating_point:
            raise TypeError(f"iinfo: expected an integer dtype, got {dt}")
        if dt is dtypes.bool:
            self.bits, self.min, self.max = 8, 0, 1
        else:
            info = np.iinfo(dt.numpy)
            self.bits, self.min, self.max = int(info.bits), int(info.min), int(info.max)
        self.dtype = dt.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
