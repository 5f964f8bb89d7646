"""Padding layers over :func:`F.pad`: constant (``ZeroPad*``, ``ConstantPad*``), reflection,
replication and circular, for 1-D, 2-D and 3-D inputs (``torch.nn.modules.padding``)."""

from __future__ import annotations

from .. import functional as F
from .module import Module


def _widths(padding, dims: int, name: str) -> tuple:
    if isinstance(padding, int) and not isinstance(padding, bool):
        return (padding,) * (2 * dims)
    widths = tuple(int(w) for w in padding)
    if len(widths) != 2 * dims:
        raise ValueError(f"{name}: padding must be an int or {2 * dims} ints, got {padding!r}")
    return widths


class _PadNd(Module):
    dims = 2
    mode = "constant"

    def __init__(self, padding, value: float = 0.0):
        super().__init__()
        self.padding = _widths(padding, self.dims, type(self).__name__)
        self.value = value

    def forward(self, input):
        if self.mode == "constant":
            return F.pad(input, self.padding, "constant", self.value)
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        if self.mode == "constant" and not isinstance(self, _ZeroPad):
            return f"padding={self.padding}, value={self.value}"
        return f"{self.padding}"


class _ZeroPad(_PadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ConstantPad1d(_PadNd):
    """Pad the last dim with ``value``."""

    dims, mode = 1, "constant"


class ConstantPad2d(_PadNd):
    """Pad the last 2 dims with ``value``."""

    dims, mode = 2, "constant"


class ConstantPad3d(_PadNd):
    """Pad the last 3 dims with ``value``."""

    dims, mode = 3, "constant"


class ZeroPad1d(_ZeroPad):
    """Pad the last dim with zeros."""

    dims, mode = 1, "constant"


class ZeroPad2d(_ZeroPad):
    """Pad the last 2 dims with zeros."""

    dims, mode = 2, "constant"


class ZeroPad3d(_ZeroPad):
    """Pad the last 3 dims with zeros."""

    dims, mode = 3, "constant"


class ReflectionPad1d(_ZeroPad):
    """Mirror the last dim at its ends."""

    dims, mode = 1, "reflect"


class ReflectionPad2d(_ZeroPad):
    """Mirror the last 2 dims at their ends."""

    dims, mode = 2, "reflect"


class ReflectionPad3d(_ZeroPad):
    """Mirror the last 3 dims at their ends."""

    dims, mode = 3, "reflect"


class ReplicationPad1d(_ZeroPad):
    """Repeat the edge values of the last dim."""

    dims, mode = 1, "replicate"


class ReplicationPad2d(_ZeroPad):
    """Repeat the edge values of the last 2 dims."""

    dims, mode = 2, "replicate"


class ReplicationPad3d(_ZeroPad):
    """Repeat the edge values of the last 3 dims."""

    dims, mode = 3, "replicate"


class CircularPad1d(_ZeroPad):
    """Wrap the last dim around."""

    dims, mode = 1, "circular"


class CircularPad2d(_ZeroPad):
    """Wrap the last 2 dims around."""

    dims, mode = 2, "circular"


class CircularPad3d(_ZeroPad):
    """Wrap the last 3 dims around."""

    dims, mode = 3, "circular"
