"""``minigrad.cuda``'s memory statistics, kept from CuPy's memory pool.

CuPy's pool knows the bytes held by live arrays (``used_bytes``) and the bytes it holds in
all (``total_bytes``); the peaks and the running totals PyTorch's caching allocator also
reports are counted by an allocator minigrad installs in front of the pool on the first
statistics call, so they count from then. Without CuPy or a GPU every statistic is 0 and
the dictionaries are empty, as in PyTorch's CPU build.
"""

from __future__ import annotations

import collections

from ._cuda_common import backend_of, index_of, require, usable
from ._warnings import warn_user


class _Counts:
    """One device's counters: peaks and totals since the last reset."""

    def __init__(self, used: int, total: int):
        self.peak_used, self.peak_total = used, total
        self.allocated_bytes, self.allocations = used, 0


class _CountingAllocator:
    """CuPy's pool allocator, counting per device after each malloc."""

    def __init__(self, xp):
        self.xp, self.pool, self.counts = xp, xp.get_default_memory_pool(), {}

    def of(self, index: int) -> _Counts:
        if index not in self.counts:
            self.counts[index] = _Counts(self.pool.used_bytes(), self.pool.total_bytes())
        return self.counts[index]

    def __call__(self, size):
        memory = self.pool.malloc(size)
        counts = self.of(self.xp.cuda.get_device_id())
        counts.allocated_bytes += size
        counts.allocations += 1
        counts.peak_used = max(counts.peak_used, self.pool.used_bytes())
        counts.peak_total = max(counts.peak_total, self.pool.total_bytes())
        return memory


_allocators: dict = {}  # backend name -> _CountingAllocator


def _counts(b, index: int) -> _Counts:
    """``index``'s counters, installing the counting allocator on first use."""
    allocator = _allocators.get(b.name)
    if allocator is None:
        allocator = _allocators[b.name] = _CountingAllocator(b.xp)
        b.xp.cuda.set_allocator(allocator)
    with b.using(index):
        return allocator.of(index)


def memory_stats(device=None) -> collections.OrderedDict:
    """PyTorch's flat statistics of ``device`` that CuPy's pool can give, keys sorted:
    ``allocated_bytes.all.{allocated,current,freed,peak}``, ``allocation.all.allocated``
    (mallocs), ``reserved_bytes.all.{current,peak}``. Empty without a GPU, as PyTorch's CPU
    build."""
    if not usable(device):
        return collections.OrderedDict()
    b, index = backend_of(device), index_of(device)
    counts = _counts(b, index)
    with b.using(index):
        pool = b.xp.get_default_memory_pool()
        used, total = pool.used_bytes(), pool.total_bytes()
    stats = {
        "allocated_bytes.all.allocated": counts.allocated_bytes,
        "allocated_bytes.all.current": used,
        "allocated_bytes.all.freed": max(counts.allocated_bytes - used, 0),
        "allocated_bytes.all.peak": max(counts.peak_used, used),
        "allocation.all.allocated": counts.allocations,
        "reserved_bytes.all.current": total,
        "reserved_bytes.all.peak": max(counts.peak_total, total),
    }
    return collections.OrderedDict(sorted(stats.items()))


def memory_stats_as_nested_dict(device=None) -> dict:
    """:func:`memory_stats` nested at its dots (``{"allocated_bytes": {"all": {...}}}``)."""
    nested: dict = {}
    for key, value in memory_stats(device).items():
        *path, last = key.split(".")
        node = nested
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return nested


def memory_allocated(device=None) -> int:
    """Bytes held by live arrays on ``device`` (CuPy's pool ``used_bytes``; 0 without a GPU)."""
    return memory_stats(device).get("allocated_bytes.all.current", 0)


def max_memory_allocated(device=None) -> int:
    """The most bytes held by live arrays since :func:`reset_peak_memory_stats` (or since
    the first memory-statistics call)."""
    return memory_stats(device).get("allocated_bytes.all.peak", 0)


def memory_reserved(device=None) -> int:
    """Bytes CuPy's pool holds on ``device``, cached blocks included (``total_bytes``)."""
    return memory_stats(device).get("reserved_bytes.all.current", 0)


def max_memory_reserved(device=None) -> int:
    """The most bytes CuPy's pool held since :func:`reset_peak_memory_stats`."""
    return memory_stats(device).get("reserved_bytes.all.peak", 0)


def reset_peak_memory_stats(device=None) -> None:
    """Start the peaks again from what is allocated and reserved now (nothing without a
    GPU)."""
    if usable(device):
        b, index = backend_of(device), index_of(device)
        counts = _counts(b, index)
        with b.using(index):
            pool = b.xp.get_default_memory_pool()
            counts.peak_used, counts.peak_total = pool.used_bytes(), pool.total_bytes()


def reset_accumulated_memory_stats(device=None) -> None:
    """Start the running totals (bytes allocated and freed, mallocs) again from now."""
    if usable(device):
        b, index = backend_of(device), index_of(device)
        counts = _counts(b, index)
        with b.using(index):
            counts.allocated_bytes = b.xp.get_default_memory_pool().used_bytes()
        counts.allocations = 0


def reset_max_memory_allocated(device=None) -> None:
    """Deprecated: :func:`reset_peak_memory_stats`, with PyTorch's FutureWarning."""
    warn_user(
        "torch.cuda.reset_max_memory_allocated now calls torch.cuda.reset_peak_memory_stats, "
        "which resets /all/ peak memory stats.",
        FutureWarning,
    )
    reset_peak_memory_stats(device)


def reset_max_memory_cached(device=None) -> None:
    """Deprecated: :func:`reset_peak_memory_stats`, with PyTorch's FutureWarning."""
    warn_user(
        "torch.cuda.reset_max_memory_cached now calls torch.cuda.reset_peak_memory_stats, "
        "which resets /all/ peak memory stats.",
        FutureWarning,
    )
    reset_peak_memory_stats(device)


def memory_cached(device=None) -> int:
    """Deprecated name of :func:`memory_reserved` (PyTorch's FutureWarning)."""
    warn_user(
        "`torch.cuda.memory_cached` has been renamed to `torch.cuda.memory_reserved`", FutureWarning
    )
    return memory_reserved(device)


def max_memory_cached(device=None) -> int:
    """Deprecated name of :func:`max_memory_reserved` (PyTorch's FutureWarning)."""
    warn_user(
        "`torch.cuda.max_memory_cached` has been renamed to `torch.cuda.max_memory_reserved`",
        FutureWarning,
    )
    return max_memory_reserved(device)


def _size(n: int) -> str:
    for unit in ("B  ", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:6d} {unit}" if unit == "B  " else f"{n:6.0f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def memory_summary(device=None, abbreviated: bool = False) -> str:
    """A table of :func:`memory_stats` in the style of PyTorch's (the rows CuPy's pool can
    fill: allocated and reserved memory; zeros without a GPU, where PyTorch's CPU build fails
    with a KeyError)."""
    stats = memory_stats(device)
    line, rule = "|" + "=" * 75 + "|", "|" + "-" * 75 + "|"
    index = index_of(device) if usable(device) else 0
    head = f" minigrad CUDA memory summary, device ID {index:<17d} "
    rows = [line, "|" + head.center(75) + "|", rule]
    rows.append("|        Metric         | Cur Usage  | Peak Usage | Tot Alloc  | Tot Freed  |")
    rows.append(rule)
    for label, key, alloc, freed in (
        ("Allocated memory", "allocated_bytes", "allocated", "freed"),
        ("GPU reserved memory", "reserved_bytes", None, None),
    ):
        cells = [stats.get(f"{key}.all.{k}", 0) for k in ("current", "peak")]
        totals = [stats.get(f"{key}.all.{k}", 0) if k else 0 for k in (alloc, freed)]
        cells = " | ".join(_size(v) for v in cells + totals)
        rows.append(f"| {label:<21} | {cells} |")
    rows.append(line)
    return "\n".join(rows) + "\n"


def memory_snapshot(mempool_id=None) -> list:
    """Not in minigrad: CuPy's memory pool does not show its segments and blocks."""
    raise NotImplementedError(
        "minigrad.cuda.memory_snapshot: CuPy's memory pool does not expose its segments and "
        "blocks; use memory_stats()"
    )


def mem_get_info(device=None) -> tuple[int, int]:
    """``(free, total)`` bytes of ``device``'s memory, as the CUDA driver reports them."""
    b, index = require("mem_get_info", device), index_of(device)
    with b.using(index):
        free, total = b.xp.cuda.runtime.memGetInfo()
    return int(free), int(total)


def set_per_process_memory_fraction(fraction, device=None) -> None:
    """Limit CuPy's pool on ``device`` to ``fraction`` (0 to 1) of its memory (CuPy's
    ``MemoryPool.set_limit(fraction=...)``); an allocation past it raises out of memory."""
    b, index = require("set_per_process_memory_fraction", device), index_of(device)
    if not isinstance(fraction, float):
        raise TypeError("Invalid type for fraction argument, must be `float`")
    if fraction < 0 or fraction > 1:
        raise ValueError(f"Invalid fraction value: {fraction}. Allowed range: 0~1")
    with b.using(index):
        b.xp.get_default_memory_pool().set_limit(fraction=fraction)


def get_per_process_memory_fraction(device=None) -> float:
    """The fraction set by :func:`set_per_process_memory_fraction` (1.0: no limit)."""
    b, index = require("get_per_process_memory_fraction", device), index_of(device)
    with b.using(index):
        limit = b.xp.get_default_memory_pool().get_limit()
        total = b.xp.cuda.runtime.getDeviceProperties(index)["totalGlobalMem"]
    return limit / total if limit else 1.0


def empty_cache() -> None:
    """Give the cached, unused blocks of CuPy's memory pool back to the driver."""
    if usable():
        backend_of().xp.get_default_memory_pool().free_all_blocks()
