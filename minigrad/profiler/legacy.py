"""``torch.autograd.profiler``'s path and signature (older programs and tutorials use it):
registered as ``minigrad.autograd.profiler``, the same recording as :mod:`minigrad.profiler`."""

from __future__ import annotations

from . import EventList, FunctionEventAvg, record_function
from . import profile as _profile

__all__ = ["EventList", "FunctionEventAvg", "profile", "record_function"]


class profile(_profile):  # noqa: N801 - PyTorch spells it in lower case
    """``torch.autograd.profiler.profile(enabled=True, *, use_cuda=False, record_shapes=False,
    ...)``: records while ``enabled``; ``prof.table()`` is ``key_averages().table()``."""

    def __init__(self, enabled: bool = True, *, record_shapes: bool = False, **options):
        super().__init__(record_shapes=record_shapes)
        self.enabled = enabled

    def start(self) -> None:
        if self.enabled:
            super().start()

    def table(self, sort_by: str | None = None, row_limit: int = 100, **options) -> str:
        return self.key_averages().table(sort_by=sort_by, row_limit=row_limit)

    @property
    def self_cpu_time_total(self) -> float:
        """The time of all recorded events, nested ones counted once (µs)."""
        return sum(r.self_cpu_time_total for r in self.key_averages())
