"""``minigrad.cuda``'s questions about the GPUs (properties, capability, peers), the
``device`` context, lazy initialisation and seeding, and what minigrad does not do on a GPU
(CUDA graphs, synchronisation debugging), with ``torch.cuda``'s names."""

from __future__ import annotations

from . import backend
from ._cuda_common import backend_of, index_of, require, usable
from .backend import AssertedArgumentError


def is_initialized() -> bool:
    """Whether CuPy has been loaded and found a GPU (by a GPU tensor, :func:`init`, or
    :func:`minigrad.cuda.is_available`, which PyTorch answers without initialising)."""
    return backend.CupyBackend._cupy is not None


def init() -> None:
    """Load CuPy and find the GPUs now rather than on first use; raises where there is none."""
    require("init")


def _generator(index: int):
    return backend.default_generator(backend.device(f"cuda:{index}"))


def initial_seed() -> int:
    """The seed of the current GPU's default generator."""
    require("initial_seed")
    return _generator(index_of()).initial_seed()


def seed() -> None:
    """Seed the current GPU's generator from the operating system's randomness (nothing
    without a GPU: PyTorch queues it for a CUDA initialisation that never comes)."""
    if usable():
        _generator(index_of()).seed()


def seed_all() -> None:
    """Seed every GPU's generator from the operating system's randomness."""
    if usable():
        for index in range(backend_of().device_count()):
            _generator(index).seed()


def _checked_index(what: str, device) -> tuple:
    b, index = require(what, device), index_of(device)
    if not 0 <= index < b.device_count():
        raise AssertedArgumentError(f"Invalid device id {index} ({b.device_count()} GPUs)")
    return b, index


class _CudaDeviceProperties:
    """What ``get_device_properties`` returns: PyTorch's attribute names over the CUDA runtime's
    ``cudaDeviceProp`` (CuPy's ``runtime.getDeviceProperties``); None where CuPy does not say."""

    _FIELDS = (  # PyTorch's name, cudaDeviceProp's name
        ("name", "name"), ("major", "major"), ("minor", "minor"),
        ("total_memory", "totalGlobalMem"), ("multi_processor_count", "multiProcessorCount"),
        ("is_integrated", "integrated"), ("is_multi_gpu_board", "isMultiGpuBoard"),
        ("max_threads_per_multi_processor", "maxThreadsPerMultiProcessor"),
        ("regs_per_multiprocessor", "regsPerMultiprocessor"), ("warp_size", "warpSize"),
        ("shared_memory_per_block", "sharedMemPerBlock"), ("L2_cache_size", "l2CacheSize"),
        ("clock_rate", "clockRate"), ("pci_bus_id", "pciBusID"),
        ("pci_device_id", "pciDeviceID"), ("pci_domain_id", "pciDomainID"),
    )  # fmt: skip

    def __init__(self, props: dict):
        for ours, theirs in self._FIELDS:
            setattr(self, ours, props.get(theirs))
        if isinstance(self.name, bytes):
            self.name = self.name.decode()
        self.uuid = _uuid(props.get("uuid"))

    def __repr__(self) -> str:
        mib = (self.total_memory or 0) // 2**20
        l2 = (self.L2_cache_size or 0) // 2**20
        return (
            f"_CudaDeviceProperties(name='{self.name}', major={self.major}, minor={self.minor}, "
            f"total_memory={mib}MB, multi_processor_count={self.multi_processor_count}, "
            f"uuid={self.uuid}, L2_cache_size={l2}MB)"
        )


def _uuid(raw) -> str | None:
    """The GPU's UUID as ``nvidia-smi`` writes it (8-4-4-4-12 hex digits)."""
    if not raw:
        return None
    h = bytes(raw).hex() if not isinstance(raw, str) else raw.encode("latin-1").hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def get_device_properties(device=None) -> _CudaDeviceProperties:
    """``device``'s name, compute capability, memory, multiprocessors and more."""
    b, index = _checked_index("get_device_properties", device)
    return _CudaDeviceProperties(b.xp.cuda.runtime.getDeviceProperties(index))


def get_device_capability(device=None) -> tuple[int, int]:
    """``device``'s compute capability ``(major, minor)``, e.g. ``(9, 0)`` for an H100."""
    props = get_device_properties(device)
    return props.major, props.minor


def get_arch_list() -> list[str]:
    """The architectures minigrad runs kernels for: CuPy compiles them for each GPU present,
    so its ``sm_XY`` (empty without a GPU, as PyTorch's CPU build)."""
    if not usable():
        return []
    arches = {"sm_{}{}".format(*get_device_capability(i)) for i in range(_device_count())}
    return sorted(arches, key=lambda a: int(a[3:]))


def _device_count() -> int:
    return backend_of().device_count()


def is_tf32_supported() -> bool:
    """Whether the current GPU has TF32 tensor cores (compute capability 8.0 and up)."""
    return usable() and get_device_capability() >= (8, 0)


def can_device_access_peer(device, peer_device) -> bool:
    """Whether ``device`` can read ``peer_device``'s memory directly."""
    b, index = _checked_index("can_device_access_peer", device)
    peer = index_of(peer_device)
    if not 0 <= peer < b.device_count():
        raise AssertedArgumentError(f"Invalid peer device id {peer}")
    return bool(b.xp.cuda.runtime.deviceCanAccessPeer(index, peer))


def ipc_collect() -> None:
    """Free GPU memory held for tensors shared with processes that ended: minigrad does not
    share GPU tensors between processes, so there is none to free."""
    require("ipc_collect")


_SYNC_MODES = {"default": 0, "warn": 1, "error": 2}


def set_sync_debug_mode(debug_mode) -> None:
    """Only ``"default"`` (0): minigrad does not watch for synchronising operations, so the
    ``"warn"`` and ``"error"`` modes raise NotImplementedError."""
    require("set_sync_debug_mode")
    if isinstance(debug_mode, str):
        if debug_mode not in _SYNC_MODES:
            raise RuntimeError(
                "invalid value of debug_mode, expected one of `default`, `warn`, `error`"
            )
        debug_mode = _SYNC_MODES[debug_mode]
    if debug_mode != 0:
        raise NotImplementedError(
            f"minigrad.cuda.set_sync_debug_mode({debug_mode!r}): minigrad does not detect "
            "synchronising operations; only 'default' (0) is supported"
        )


def get_sync_debug_mode() -> int:
    """0 (``"default"``): the only mode minigrad has."""
    require("get_sync_debug_mode")
    return 0


class device:  # noqa: N801 - PyTorch's name
    """A context that makes GPU ``device`` current (an index, ``"cuda:N"``; -1 or None: no
    change), as ``torch.cuda.device``."""

    def __init__(self, device):
        if device is not None and not isinstance(device, int):
            dev = backend.device(device)
            if dev.type == "cpu":
                raise ValueError(f"Expected a cuda device, but got: {dev}")
        self.device, self.idx, self.prev_idx = device, -1, -1
        if device is not None and device != -1:
            self.idx = index_of(device)

    def __enter__(self):
        if self.idx == -1:
            return None
        from . import cuda

        b = require("device", self.device)
        self.prev_idx = b.current
        if self.prev_idx != self.idx:
            cuda.set_device(self.idx if b.name == "cuda" else f"{b.name}:{self.idx}")
        return None

    def __exit__(self, *exc) -> bool:
        if self.idx != -1 and self.prev_idx != self.idx:
            from . import cuda

            b = backend_of(self.device)
            cuda.set_device(self.prev_idx if b.name == "cuda" else f"{b.name}:{self.prev_idx}")
        return False


def device_of(obj) -> device:
    """A :class:`device` context for the GPU ``obj`` (a tensor) is on; no change for a CPU
    tensor or anything else."""
    dev = getattr(obj, "device", None)
    if isinstance(dev, backend.Device) and dev.type != "cpu" and dev.type != "meta":
        return device(dev)
    return device(-1)


def graph_pool_handle():
    """Not in minigrad: it does not capture CUDA graphs."""
    raise NotImplementedError(
        "torch.cuda.graph_pool_handle: minigrad does not capture CUDA graphs; run the code eagerly"
    )


def make_graphed_callables(callables, sample_args, *args, **kwargs):
    """Not in minigrad: it does not capture CUDA graphs."""
    raise NotImplementedError(
        "torch.cuda.make_graphed_callables: minigrad does not capture CUDA graphs; run the "
        "callables eagerly"
    )


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
