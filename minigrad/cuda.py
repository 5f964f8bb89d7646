"""``minigrad.cuda``: NVIDIA GPUs through CuPy, with ``torch.cuda``'s names.

Devices, synchronisation, memory statistics (CuPy's memory pool), random-generator state,
events and streams for timing. Every function that takes ``device`` accepts an index, a
string (``"cuda:1"``) or a device, as PyTorch does; ``None`` means the current device.
Differences from PyTorch: ``"cuda"`` always means ``cuda:0`` for tensors (``set_device``
changes where CuPy allocates, not what ``"cuda"`` names), and the peak memory statistics
count from the first call of a memory-statistics function (CuPy keeps no peak, so minigrad
installs a counting allocator then).
"""

from __future__ import annotations

import types as _types

from . import backend
from .backend import OutOfMemoryError  # noqa: F401  (torch.cuda.OutOfMemoryError)


def _backend(device=None):
    if device is None or isinstance(device, int):
        return backend.get_backend("cuda")
    return backend.device(device).backend


def _index(device=None) -> int:
    """The GPU index meant by ``device`` (an int, a string, a Device, or None: the current)."""
    if device is None:
        return _backend().current
    if isinstance(device, int):
        return device
    dev = backend.device(device)
    if dev.type == "cpu":
        raise ValueError(f"expected a GPU device, got {dev}")
    return dev.index


def is_available() -> bool:
    """True if CuPy imports and sees at least one GPU."""
    return backend.get_backend("cuda").is_available()


def is_initialized() -> bool:
    """Whether minigrad has started CUDA (imported CuPy to run on a GPU), as
    ``torch.cuda.is_initialized``: False on a machine without CuPy."""
    return backend.get_backend("cuda")._cupy is not None


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False: CuPy has no bfloat16 dtype, so minigrad keeps bfloat16 on the CPU (programs that
    ask pick float16 for GPU autocast instead)."""
    return False


def device_count() -> int:
    """How many GPUs CuPy sees (0 without CuPy or a driver)."""
    return backend.get_backend("cuda").device_count()


def current_device() -> int:
    """The index of the GPU that kernels run on unless a tensor's device says otherwise."""
    return _backend().current


def set_device(device) -> None:
    """Make ``device`` (an index or ``"cuda:N"``) current, as ``torch.cuda.set_device``."""
    b, index = _backend(device), _index(device)
    if not 0 <= index < b.device_count():
        raise RuntimeError(f"set_device: invalid device {index}; {b.device_count()} GPUs present")
    b.xp.cuda.runtime.setDevice(index)
    type(b).current = index


def get_device_name(device=None) -> str:
    """The GPU's name, e.g. ``'NVIDIA H100 80GB HBM3'``."""
    name = _backend(device).xp.cuda.runtime.getDeviceProperties(_index(device))["name"]
    return name.decode() if isinstance(name, bytes) else name


def synchronize(device=None) -> None:
    """Wait for all queued work on ``device`` (every GPU when None and none is current);
    raises any index error found on the GPU since the last synchronisation."""
    b = _backend(device)
    if b.name == "cuda" and not b.is_available():
        return
    b.synchronize(None if device is None else _index(device))


def manual_seed(seed: int) -> None:
    """Seed every generator (CPU included, as ``minigrad.manual_seed``)."""
    backend.manual_seed(seed)


manual_seed_all = manual_seed


def _generator(device):
    dev = backend.device(device if not isinstance(device, int) else f"cuda:{device}")
    return backend.default_generator(dev)


def get_rng_state(device="cuda"):
    """The state of ``device``'s default generator (a dict: seed and offset), for
    :func:`set_rng_state`. PyTorch returns a byte tensor; minigrad's state is two integers."""
    return _generator(device).get_state()


def set_rng_state(new_state, device="cuda") -> None:
    """Restore a state from :func:`get_rng_state`: the next draws repeat exactly."""
    _generator(device).set_state(new_state)


def get_rng_state_all() -> list:
    """The generator state of every GPU, in index order."""
    return [get_rng_state(i) for i in range(device_count())]


def set_rng_state_all(new_states) -> None:
    """Restore the states from :func:`get_rng_state_all`."""
    for i, state in enumerate(new_states):
        set_rng_state(state, i)


class _PeakAllocator:
    """CuPy's pool allocator, noting the largest ``used_bytes`` per device after each malloc."""

    def __init__(self, xp):
        self.xp, self.pool, self.peak = xp, xp.get_default_memory_pool(), {}

    def __call__(self, size):
        memory = self.pool.malloc(size)
        index = self.xp.cuda.get_device_id()
        used = self.pool.used_bytes()
        if used > self.peak.get(index, 0):
            self.peak[index] = used
        return memory


_peaks: dict = {}  # backend name -> _PeakAllocator


def _peak_allocator(b) -> _PeakAllocator:
    tracker = _peaks.get(b.name)
    if tracker is None:
        tracker = _peaks[b.name] = _PeakAllocator(b.xp)
        b.xp.cuda.set_allocator(tracker)
    return tracker


def memory_allocated(device=None) -> int:
    """Bytes held by live arrays on ``device`` (CuPy's pool ``used_bytes``)."""
    b, index = _backend(device), _index(device)
    _peak_allocator(b)
    with b.using(index):
        return b.xp.get_default_memory_pool().used_bytes()


def memory_reserved(device=None) -> int:
    """Bytes CuPy's pool holds on ``device``, cached blocks included (``total_bytes``)."""
    b, index = _backend(device), _index(device)
    with b.using(index):
        return b.xp.get_default_memory_pool().total_bytes()


def max_memory_allocated(device=None) -> int:
    """The most bytes held by live arrays since :func:`reset_peak_memory_stats` (or since
    the first memory-statistics call)."""
    b, index = _backend(device), _index(device)
    tracker = _peak_allocator(b)
    return max(tracker.peak.get(index, 0), memory_allocated(device))


def reset_peak_memory_stats(device=None) -> None:
    """Start :func:`max_memory_allocated` again from what is allocated now."""
    b, index = _backend(device), _index(device)
    _peak_allocator(b).peak[index] = memory_allocated(device)


def empty_cache() -> None:
    """Give the cached, unused blocks of CuPy's memory pool back to the driver."""
    b = _backend()
    if b.is_available():
        b.xp.get_default_memory_pool().free_all_blocks()


class Stream:
    """A CUDA stream (CuPy's): ``with minigrad.cuda.stream(s):`` queues kernels on it."""

    def __init__(self, device=None, priority: int = 0):
        b = _backend(device)
        with b.using(_index(device)):
            self._stream = b.xp.cuda.Stream(non_blocking=False)

    def synchronize(self) -> None:
        self._stream.synchronize()

    def __enter__(self):
        self._stream.__enter__()
        return self

    def __exit__(self, *exc):
        return self._stream.__exit__(*exc)


class StreamContext:
    """The context :func:`stream` returns: kernels queue on ``stream`` inside it (``None``:
    no change)."""

    def __init__(self, stream: Stream | None):
        self.stream = stream

    def __enter__(self) -> None:
        """Queue kernels on the stream; ``with cuda.stream(s) as x`` binds None, as PyTorch's."""
        if self.stream is not None:
            self.stream.__enter__()

    def __exit__(self, *exc):
        return self.stream.__exit__(*exc) if self.stream is not None else False


def stream(s: Stream | None) -> StreamContext:
    """A context that queues kernels on ``s`` (``None``: no change)."""
    return StreamContext(s)


class Event:
    """A CUDA event, for timing GPU work as ``torch.cuda.Event(enable_timing=True)``.

    Example:
        >>> start, end = cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)
        >>> start.record(); y = x @ x; end.record(); end.synchronize()
        >>> start.elapsed_time(end)  # milliseconds
    """

    def __init__(
        self, enable_timing: bool = False, blocking: bool = False, interprocess: bool = False,
        device=None,
    ):  # fmt: skip
        if interprocess:
            raise NotImplementedError("cuda.Event(interprocess=True) is not supported in minigrad")
        self._backend = _backend(device)
        self._event = self._backend.xp.cuda.Event(block=blocking, disable_timing=not enable_timing)

    def record(self, stream: Stream | None = None) -> None:
        self._event.record(None if stream is None else stream._stream)

    def synchronize(self) -> None:
        self._event.synchronize()

    def query(self) -> bool:
        return bool(self._event.done)

    def elapsed_time(self, end_event: Event) -> float:
        """Milliseconds between this event and ``end_event`` (both recorded)."""
        return float(self._backend.xp.cuda.get_elapsed_time(self._event, end_event._event))


class CUDAGraph:
    """A captured CUDA graph (``torch.cuda.CUDAGraph``): minigrad does not capture CUDA
    graphs, so making one raises (the class is here for code that names it)."""

    def __init__(self, keep_graph: bool = False):
        raise NotImplementedError(
            "torch.cuda.CUDAGraph: minigrad does not capture CUDA graphs; run the code eagerly"
        )


class graph:  # noqa: N801 - PyTorch's name
    """``torch.cuda.graph``, the context that captures a :class:`CUDAGraph`: not in minigrad
    (making one raises)."""

    def __init__(self, cuda_graph, pool=None, stream=None, capture_error_mode: str = "global"):
        raise NotImplementedError(
            "torch.cuda.graph: minigrad does not capture CUDA graphs; run the code eagerly"
        )


# torch.cuda.random: the generator functions above, as an attribute (torchattacks calls
# ``torch.cuda.random.manual_seed``); ``import torch.cuda.random`` needs minigrad.cuda to be a
# package, which it is not yet.
random = _types.ModuleType(__name__ + ".random", "``torch.cuda.random``: the GPU generators.")
for _name in (
    "manual_seed", "manual_seed_all", "get_rng_state", "set_rng_state", "get_rng_state_all",
    "set_rng_state_all",
):  # fmt: skip
    setattr(random, _name, globals()[_name])
