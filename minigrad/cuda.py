"""``minigrad.cuda``: NVIDIA GPUs through CuPy, with ``torch.cuda``'s names.

Devices, synchronisation, memory statistics (CuPy's memory pool), random-generator state,
events and streams for timing. Every function that takes ``device`` accepts an index, a
string (``"cuda:1"``) or a device, as PyTorch does; ``None`` means the current device.
Without CuPy or a GPU the module answers as PyTorch's CPU build: the probes say no, the
memory statistics are 0 or empty, and what needs a GPU raises :class:`CudaUnavailableError`
(an ``AssertionError`` and a ``RuntimeError``). The parts live in ``_cuda_*`` modules by
topic (memory, streams, devices, NVML, NVTX, legacy types). Differences from PyTorch: ``"cuda"`` always means ``cuda:0`` for tensors (``set_device``
changes where CuPy allocates, not what ``"cuda"`` names), and the peak memory statistics
count from the first call of a memory-statistics function (CuPy keeps no peak, so minigrad
installs a counting allocator then).
"""

from __future__ import annotations

import sys
import types as _types

from . import _cuda_device, backend
from . import _cuda_nvtx as nvtx
from ._cuda_common import CudaUnavailableError, backend_of, index_of, require  # noqa: F401
from ._cuda_device import (  # noqa: F401 - torch.cuda's names
    CUDAGraph,
    can_device_access_peer,
    device_of,
    get_arch_list,
    get_device_capability,
    get_device_properties,
    get_sync_debug_mode,
    graph,
    graph_pool_handle,
    init,
    initial_seed,
    ipc_collect,
    is_initialized,
    is_tf32_supported,
    make_graphed_callables,
    seed_all,
    set_sync_debug_mode,
)
from ._cuda_legacy import TYPES as _LEGACY_TYPES
from ._cuda_memory import (  # noqa: F401 - torch.cuda's names
    empty_cache,
    get_per_process_memory_fraction,
    max_memory_allocated,
    max_memory_cached,
    max_memory_reserved,
    mem_get_info,
    memory_allocated,
    memory_cached,
    memory_reserved,
    memory_snapshot,
    memory_stats,
    memory_stats_as_nested_dict,
    memory_summary,
    reset_accumulated_memory_stats,
    reset_max_memory_allocated,
    reset_max_memory_cached,
    reset_peak_memory_stats,
    set_per_process_memory_fraction,
)
from ._cuda_nvml import (  # noqa: F401 - torch.cuda's names
    clock_rate,
    device_memory_used,
    list_gpu_processes,
    memory_usage,
    power_draw,
    temperature,
    utilization,
)
from ._cuda_streams import (  # noqa: F401 - torch.cuda's names
    Event,
    ExternalStream,
    Stream,
    StreamContext,
    current_stream,
    default_stream,
    is_current_stream_capturing,
    set_stream,
    stream,
)
from .backend import OutOfMemoryError  # noqa: F401  (torch.cuda.OutOfMemoryError)

sys.modules[f"{__name__}.nvtx"] = nvtx  # ``import minigrad.cuda.nvtx``, as torch.cuda.nvtx
globals().update(_LEGACY_TYPES)  # FloatTensor, LongTensor, ... on the GPU


_backend, _index = backend_of, index_of


def is_available() -> bool:
    """True if CuPy imports and sees at least one GPU."""
    return backend.get_backend("cuda").is_available()


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
    b = require("get_device_name", device)
    name = b.xp.cuda.runtime.getDeviceProperties(_index(device))["name"]
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
    require("get_rng_state", device if not isinstance(device, int) else None)
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


# torch.cuda's names that minigrad.cuda's parameters would shadow if imported above
device, seed = _cuda_device.device, _cuda_device.seed


# torch.cuda.random: the generator functions above, as an attribute (torchattacks calls
# ``torch.cuda.random.manual_seed``); ``import torch.cuda.random`` needs minigrad.cuda to be a
# package, which it is not yet.
random = _types.ModuleType(__name__ + ".random", "``torch.cuda.random``: the GPU generators.")
for _name in (
    "manual_seed", "manual_seed_all", "get_rng_state", "set_rng_state", "get_rng_state_all",
    "set_rng_state_all",
):  # fmt: skip
    setattr(random, _name, globals()[_name])


def __getattr__(name: str):
    """``default_generators``: each GPU's default generator, as ``torch.cuda.default_generators``
    (empty where CuPy sees no GPU; read when asked: CuPy is imported lazily)."""
    if name == "default_generators":
        return tuple(_generator(i) for i in range(device_count()))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
