"""``torch.autograd.profiler``'s path and signature (older programs and tutorials use it):
registered as ``minigrad.autograd.profiler``, the same recording as :mod:`minigrad.profiler`."""

from __future__ import annotations

from . import EventList, FunctionEventAvg, record_function
from . import profile as _profile

__all__ = ["EventList", "FunctionEventAvg", "emit_itt", "emit_nvtx", "profile", "record_function"]


class profile(_profile):  # noqa: N801 - PyTorch spells it in lower case
    """``torch.autograd.profiler.profile(enabled=True, *, use_cuda=False, record_shapes=False,
    ...)``: records while ``enabled``; ``prof.table()`` is ``key_averages().table()``."""

    def __init__(self, enabled: bool = True, *, record_shapes: bool = False, **options):
        super().__init__(record_shapes=record_shapes)
        self.enabled = enabled

    def start(self) -> None:
        if self.enabled:
            super().start()

    def __enter__(self):
        entered = super().__enter__()
        return entered if self.enabled else None  # as PyTorch: ``as prof`` binds None when off

    def table(self, sort_by: str | None = None, row_limit: int = 100, **options) -> str:
        return self.key_averages().table(sort_by=sort_by, row_limit=row_limit)

    @property
    def self_cpu_time_total(self) -> float:
        """The time of all recorded events, nested ones counted once (µs)."""
        return sum(r.self_cpu_time_total for r in self.key_averages())


class _VendorRanges:
    """Context managers that mark each autograd op as a range of a vendor's profiler (Intel
    VTune's ITT, NVIDIA Nsight's NVTX): minigrad's ops are NumPy/CuPy calls with no such
    instrumentation, so entering one raises, naming what to use instead."""

    _api = ""

    def __init__(self, enabled: bool = True, record_shapes: bool = False):
        self.enabled, self.record_shapes = enabled, record_shapes

    def __enter__(self):
        if self.enabled:
            raise NotImplementedError(
                f"{type(self).__name__}: minigrad emits no {self._api} ranges (its ops are "
                f"NumPy/CuPy calls); record them with minigrad.profiler.profile instead"
            )
        return None  # as PyTorch's, switched off

    def __exit__(self, *exc):
        return False


class emit_itt(_VendorRanges):  # noqa: N801 - PyTorch's name
    """``torch.autograd.profiler.emit_itt`` (Intel VTune ITT ranges): not available."""

    _api = "Intel ITT"


class emit_nvtx(_VendorRanges):  # noqa: N801 - PyTorch's name
    """``torch.autograd.profiler.emit_nvtx`` (NVIDIA NVTX ranges): not available."""

    _api = "NVTX"
