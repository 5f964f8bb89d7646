"""Process-wide runtime settings applied once at import: the BLAS thread policy, malloc tuning,
the garbage collector's young-generation threshold.

**Threads.** minigrad's CPU math is NumPy's, so its threads are those of the BLAS library NumPy
links (OpenBLAS, MKL, BLIS, ...). :func:`set_num_threads` and :func:`get_num_threads` (PyTorch's
names, exported as ``minigrad.set_num_threads``/``minigrad.get_num_threads``) control that
pool through ``threadpoolctl``. The default policy, applied when minigrad is imported:

1. ``MINIGRAD_NUM_THREADS=N`` set: BLAS runs N threads.
2. else, any of ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``,
   ``BLIS_NUM_THREADS`` or ``VECLIB_MAXIMUM_THREADS`` set: left alone (the library read it).
3. else: BLAS runs **one** thread (:data:`DEFAULT_NUM_THREADS`).

Why one: the matrices of the models minigrad trains are small to medium, where a second BLAS
thread gains little on an idle machine (≤ 1.4× on a 784×1024 GEMM, none on a 256-wide MLP),
while on a busy one OpenBLAS's workers spin and wait for a core and every GEMM waits for the
slowest: measured 10–80× slower small-MLP steps beside one CPU-bound process on a 2-core
machine. Big matrices on an idle many-core machine are the case to opt in:
``minigrad.set_num_threads(os.cpu_count())`` or ``MINIGRAD_NUM_THREADS``. The setting is
process-wide and applies to every BLAS pool loaded (NumPy's, SciPy's), as PyTorch's does to
its own pool; a BLAS loaded later gets it when threads are next asked about or set
(:func:`get_num_threads`, :func:`set_num_threads`). minigrad has no inter-op thread pool, so there is no ``set_num_interop_threads``.

**Memory.** glibc's malloc hands blocks above its mmap threshold (at most 32 MiB, adjusted at
run time) straight back to the OS when they are freed, and trims the heap top above its trim
threshold, so the large temporaries of a training step are faulted in again, page by page,
on every step (measured: 2,000 minor faults, 40% of an attention step). On Linux with glibc
the import raises both thresholds (:data:`MMAP_THRESHOLD`, :data:`TRIM_THRESHOLD`) with
``mallopt``, so freed blocks stay in the heap for the next step; the cost is that up to
``TRIM_THRESHOLD`` bytes of freed memory stay mapped. ``MINIGRAD_MALLOC_TUNING=0`` turns this
off, and so do glibc's own ``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_`` variables and
``GLIBC_TUNABLES`` (the user's choice wins). Elsewhere it does nothing.

**Garbage collector.** Every graph node and tensor is an object the cyclic collector tracks;
with CPython's default thresholds (700, 10, 10) the collector runs every 700 allocations and
its older generations rescan the whole growing graph, so a forward pass slows as the graph
grows: measured 3.7 → 9.2 µs per op from 1k to 100k ops, against 3.9 with the collector off
(the backward pauses it already, see ``autograd.engine``). When the thresholds are still
CPython's defaults, the import raises the first to :data:`GC_THRESHOLD0` (10,000): 4.5 µs per
op at 100k ops. Reference cycles are still collected, ~14× less often (minigrad's graphs hold
none; a cycle's memory waits a little longer). ``MINIGRAD_GC_TUNING=0`` keeps CPython's
thresholds, and thresholds set by the program or another library are left alone.

**Floating-point warnings.** PyTorch computes ``log(0) = -inf``, ``0 / 0 = nan`` and overflow
to ``inf`` silently, as IEEE arithmetic does; NumPy warns (``RuntimeWarning: divide by zero
encountered in log``), located in minigrad's own files, where a PyTorch program never sees one.
The import adds a warnings filter that ignores NumPy's floating-point warnings (divide by zero,
invalid value, overflow, underflow, mean of an empty slice) raised from minigrad's modules and
from NumPy's reduction helpers that minigrad's sums call; a program's own NumPy calls keep
theirs. Set ``MINIGRAD_NUMPY_WARNINGS=1`` to keep them all, or add a filter of your own
(filters added later take precedence): ``warnings.filterwarnings("default",
category=RuntimeWarning)``. NaNs are found with ``minigrad.autograd.detect_anomaly()``.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
import warnings

from ._warnings import warn_user

DEFAULT_NUM_THREADS = 1
THREAD_ENV = "MINIGRAD_NUM_THREADS"
BLAS_THREAD_ENVS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)
MALLOC_ENV = "MINIGRAD_MALLOC_TUNING"
GC_ENV = "MINIGRAD_GC_TUNING"
NUMPY_WARNINGS_ENV = "MINIGRAD_NUMPY_WARNINGS"
# NumPy's floating-point warnings, and the modules they are located in when minigrad computes
_NUMPY_FP_WORDS = (
    r"(divide by zero|invalid value|overflow|underflow) encountered|Mean of empty slice"
    r"|Degrees of freedom <= 0"
)
_SILENCED_MODULES = r"(minigrad|numpy\._core\._methods)(\..*)?$"
GC_THRESHOLD0 = 10_000  # allocations between young-generation collections (CPython: 700)
_CPYTHON_GC_THRESHOLDS = (700, 10, 10)
MMAP_THRESHOLD = 256 << 20  # bytes: blocks below this come from the heap and are reused
TRIM_THRESHOLD = 512 << 20  # bytes of free heap top kept instead of returned to the OS
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameter numbers (malloc.h)

thread_policy = "not applied"  # how the current BLAS thread count was chosen (minigrad info)
malloc_tuning = "not applied"  # what the malloc tuning did (minigrad info, tests)
gc_tuning = "not applied"  # what the collector tuning did (minigrad info, tests)
numpy_warnings = "not applied"  # whether NumPy's floating-point warnings are filtered
_applied_count = None  # the BLAS thread count minigrad set last (None: left to the library)
_applied_files: set = set()  # the BLAS libraries it was set on


def set_num_threads(num_threads: int) -> None:
    """Set the number of threads of the BLAS library that runs minigrad's CPU matrix math.

    As ``torch.set_num_threads``: process-wide, takes effect for the next op. Applies to every
    BLAS pool loaded in the process. See this module's docstring for the default.

    Args:
        num_threads: a positive int.

    Example:
        >>> minigrad.set_num_threads(4)  # big matrices on an idle 4-core machine
    """
    global thread_policy
    _check_thread_count(num_threads)
    _limit_blas(num_threads)
    thread_policy = f"set_num_threads({num_threads})"


def get_num_threads() -> int:
    """The number of threads of NumPy's BLAS, which runs minigrad's matrix math.

    As ``torch.get_num_threads``. A BLAS loaded after minigrad (SciPy's own OpenBLAS, loaded by
    ``import scipy.linalg``) starts with its library's default count, so NumPy's pool is the one
    asked (told by its file living in NumPy's folder; where no pool does, the largest). Returns 1
    when no BLAS pool is visible to threadpoolctl (threadpoolctl missing, or a BLAS it does not
    know such as Apple's Accelerate). Such a later BLAS is first given the count minigrad set
    (its default policy or the last ``set_num_threads``), as if it had been there then.
    """
    controller = _controller()
    _catch_up(controller)
    pools = blas_info(controller)
    numpys = [p for p in pools if "numpy" in os.path.basename(os.path.dirname(p["filepath"]))]
    return max((pool["num_threads"] for pool in numpys or pools), default=1)


def blas_info(controller=None) -> list[dict]:
    """threadpoolctl's description of each BLAS pool loaded: library, version, architecture,
    threading layer, thread count, file. Empty when threadpoolctl is not installed."""
    controller = _controller() if controller is None else controller
    return [] if controller is None else controller.select(user_api="blas").info()


def _catch_up(controller) -> None:
    """Give each BLAS library loaded since minigrad last set the thread count (SciPy's own
    OpenBLAS, loaded by a later ``import scipy.linalg`` with its library default) that count;
    nothing where the count was left to the library (a ``*_NUM_THREADS`` variable, which a
    later library reads too). Costs nothing beyond the controller's scan when none is new."""
    if _applied_count is None or controller is None:
        return
    for lib in controller.select(user_api="blas").lib_controllers:
        if lib.filepath not in _applied_files:
            lib.set_num_threads(_applied_count)
            _applied_files.add(lib.filepath)


def _note_applied(blas, count: int) -> None:
    """Remember ``count`` and the libraries of ``blas`` it was set on (see :func:`_catch_up`)."""
    global _applied_count
    _applied_count = count
    _applied_files.update(lib.filepath for lib in blas.lib_controllers)


def apply(environ=None) -> None:
    """Apply the thread policy, the malloc and the collector tuning (once, at import)."""
    global thread_policy, malloc_tuning, gc_tuning, numpy_warnings
    environ = os.environ if environ is None else environ
    thread_policy = _apply_thread_policy(environ)
    malloc_tuning = _tune_malloc(environ)
    gc_tuning = _tune_gc(environ)
    numpy_warnings = _filter_numpy_warnings(environ)


def _check_thread_count(num_threads) -> None:
    """PyTorch's checks and error type (RuntimeError) for a thread count."""
    if isinstance(num_threads, bool) or not isinstance(num_threads, int):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(num_threads).__name__}")
    if num_threads < 1:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {num_threads}")


def _controller():
    """A fresh threadpoolctl controller (it sees the libraries loaded now), or None."""
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl.ThreadpoolController()


def _limit_blas(num_threads: int) -> None:
    controller = _controller()
    if controller is None:
        raise RuntimeError(
            "set_num_threads needs the threadpoolctl package to reach NumPy's BLAS "
            "(pip install threadpoolctl); or set OPENBLAS_NUM_THREADS/MKL_NUM_THREADS "
            "before the process starts"
        )
    blas = controller.select(user_api="blas")
    if not blas.lib_controllers:
        warn_user(
            "minigrad.set_num_threads: threadpoolctl finds no BLAS library it can control "
            "in this process; the BLAS thread count is unchanged",
            RuntimeWarning,
        )
        return
    blas.limit(limits=num_threads)
    _note_applied(blas, num_threads)


def _apply_thread_policy(environ) -> str:
    """The import-time policy (see the module docstring); returns how the count was chosen."""
    requested = environ.get(THREAD_ENV, "").strip()
    if requested:
        try:
            count = int(requested)
            _check_thread_count(count)
        except (ValueError, RuntimeError):
            warn_user(
                f"{THREAD_ENV}={requested!r} is not a positive integer; ignored",
                RuntimeWarning,
            )
        else:
            return _limited(count, f"{THREAD_ENV}={count}")
    user_set = [name for name in BLAS_THREAD_ENVS if environ.get(name, "").strip()]
    if user_set:
        return f"{user_set[0]}={environ[user_set[0]].strip()} (left to the BLAS library)"
    return _limited(DEFAULT_NUM_THREADS, f"minigrad default ({DEFAULT_NUM_THREADS})")


def _limited(count: int, reason: str) -> str:
    controller = _controller()
    if controller is None:
        return f"{reason} not applied: threadpoolctl is not installed"
    blas = controller.select(user_api="blas")
    if not blas.lib_controllers:
        return f"{reason} not applied: threadpoolctl sees no BLAS library it can control"
    blas.limit(limits=count)
    _note_applied(blas, count)
    return reason


def _switched_off(environ, name: str) -> bool:
    return environ.get(name, "").strip().lower() in ("0", "false", "no", "off")


def _filter_numpy_warnings(environ) -> str:
    """Ignore NumPy's floating-point warnings from minigrad's code (see the module docstring)."""
    if environ.get(NUMPY_WARNINGS_ENV, "").strip() not in ("", "0"):
        return f"kept ({NUMPY_WARNINGS_ENV}={environ[NUMPY_WARNINGS_ENV]})"
    warnings.filterwarnings(
        "ignore", _NUMPY_FP_WORDS, RuntimeWarning, _SILENCED_MODULES, append=True
    )
    return "ignored inside minigrad, as PyTorch computes inf and NaN silently"


def _tune_gc(environ) -> str:
    """Raise the collector's first threshold (see the module docstring); returns what it did."""
    if _switched_off(environ, GC_ENV):
        return f"off ({GC_ENV}={environ[GC_ENV]})"
    thresholds = gc.get_threshold()
    if thresholds != _CPYTHON_GC_THRESHOLDS:
        return f"off (thresholds {thresholds} were set before minigrad: kept)"
    gc.set_threshold(GC_THRESHOLD0, *thresholds[1:])
    return f"thresholds {gc.get_threshold()}"


def _tune_malloc(environ) -> str:
    """Raise glibc's mmap and trim thresholds (see the module docstring); returns what it did."""
    if _switched_off(environ, MALLOC_ENV):
        return f"off ({MALLOC_ENV}={environ[MALLOC_ENV]})"
    if not sys.platform.startswith("linux"):
        return "not applicable (not Linux)"
    tunables = environ.get("GLIBC_TUNABLES", "")
    mine = [
        name for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_") if environ.get(name)
    ]
    mine += ["GLIBC_TUNABLES"] * ("mmap_threshold" in tunables or "trim_threshold" in tunables)
    if mine:
        return f"off ({mine[0]} is set: glibc's own setting is kept)"
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # noqa: B018 - present in glibc only (not musl)
    except (OSError, AttributeError):
        return "not applicable (the C library is not glibc)"
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    if mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) != 1:
        return "failed (glibc refused the mmap threshold)"
    if mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) != 1:
        return "failed (glibc refused the trim threshold)"
    return f"mmap threshold {MMAP_THRESHOLD >> 20} MiB, trim threshold {TRIM_THRESHOLD >> 20} MiB"
