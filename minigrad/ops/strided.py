"""``as_strided``'s op: a strided window over a contiguous tensor's elements, as a view."""

from __future__ import annotations

import math

import numpy as np  # the window's flat positions are host-side (shapes, not tensor data)

from .base import Op, constant
from .scatter import index_add


class AsStrided(Op):
    """y = the window of ``size`` and ``stride`` over contiguous x's elements, a view sharing
    x's memory (writes through it reach x); dx = dy summed into the positions it was read from
    (overlapping windows add up, as PyTorch's)."""

    is_view = True
    supports_complex = True
    backward_name = "AsStridedBackward0"

    def __init__(self, positions: np.ndarray, size: tuple, stride: tuple):
        self.positions = positions  # flat position in x of each element of y
        self.size, self.stride = size, stride
        # an in-place write through a window that reads one element twice is refused
        self.overlaps = bool(positions.size) and np.unique(positions).size < positions.size

    def forward(self, x):
        strides = tuple(s * x.itemsize for s in self.stride)
        if x.flags.c_contiguous or not self.positions.size:
            flat = x.reshape(-1)  # a view
            start = int(self.positions.flat[0]) if self.positions.size else 0
            origin = flat[start:]
        else:  # a strided view: the window starts at the element its first position names
            first = np.unravel_index(int(self.positions.flat[0]), x.shape)
            origin = x[tuple(slice(i, i + 1) for i in first)]
        return self.xp.lib.stride_tricks.as_strided(origin, shape=self.size, strides=strides)

    def backward(self, gy):
        shape = self.input_meta[0][0]
        xp = gy.device.xp
        index = constant(xp.asarray(self.positions.reshape(-1)), gy.device)
        zeros = constant(xp.zeros(math.prod(shape), dtype=gy._data.dtype), gy.device)
        return index_add(zeros, 0, index, gy.reshape(-1)).reshape(shape)
