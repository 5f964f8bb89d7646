"""``minigrad.cuda`` as ``torch.cuda``: without a GPU each call is compared with PyTorch's CPU
build (return values, warnings, exception types); on the CuPy stand-in (``fakegpu``) the
GPU paths (memory pool statistics and limits, device properties, streams, the device
context); and ``torch._C.ScriptMethod``, what a scripted module's ``forward`` is."""

import importlib
import sys
import warnings

import pytest

import minigrad
from minigrad import cuda

no_gpu = pytest.mark.skipif(cuda.is_available(), reason="compares the no-GPU answers")


def _outcome(module, call):
    """``("ok", value, warnings)`` or ``("raised", exception type, None)`` of ``call(module)``."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            value = call(module)
        except Exception as e:
            return "raised", type(e), None
    return "ok", value, [(w.category, str(w.message)) for w in seen]


# calls that answer the same on both without a GPU (equal values, warnings, exception kinds)
SAME = {
    "is_initialized": lambda c: c.is_initialized(),
    "init": lambda c: c.init(),
    "initial_seed": lambda c: c.initial_seed(),
    "seed": lambda c: c.seed(),
    "seed_all": lambda c: c.seed_all(),
    "get_device_properties": lambda c: c.get_device_properties(0),
    "get_device_capability": lambda c: c.get_device_capability(),
    "get_arch_list": lambda c: c.get_arch_list(),
    "mem_get_info": lambda c: c.mem_get_info(),
    "memory_stats": lambda c: dict(c.memory_stats()),
    "memory_stats_as_nested_dict": lambda c: c.memory_stats_as_nested_dict(),
    "max_memory_reserved": lambda c: c.max_memory_reserved(),
    "memory_allocated": lambda c: c.memory_allocated(),
    "memory_cached": lambda c: c.memory_cached(),
    "max_memory_cached": lambda c: c.max_memory_cached(),
    "current_stream": lambda c: c.current_stream(),
    "default_stream": lambda c: c.default_stream(),
    "set_stream": lambda c: c.set_stream(None),
    "device(-1)": lambda c: c.device(-1).__enter__(),
    "device('cpu')": lambda c: c.device("cpu"),
    "device(0)": lambda c: c.device(0).__enter__(),
    "device_of": lambda c: c.device_of(sys.modules[c.__name__.split(".")[0]].zeros(1)).__enter__(),
    "nvtx.range_push": lambda c: c.nvtx.range_push("a"),
    "nvtx.range_pop": lambda c: c.nvtx.range_pop(),
    "nvtx.mark": lambda c: c.nvtx.mark("a"),
    "nvtx.range": lambda c: c.nvtx.range("a").__enter__(),
    "ipc_collect": lambda c: c.ipc_collect(),
    "is_tf32_supported": lambda c: c.is_tf32_supported(),
    "set_per_process_memory_fraction": lambda c: c.set_per_process_memory_fraction(0.5),
    "get_per_process_memory_fraction": lambda c: c.get_per_process_memory_fraction(),
    "can_device_access_peer": lambda c: c.can_device_access_peer(0, 1),
    "list_gpu_processes": lambda c: c.list_gpu_processes(),
    "set_sync_debug_mode": lambda c: c.set_sync_debug_mode("warn"),
    "get_sync_debug_mode": lambda c: c.get_sync_debug_mode(),
    "graph_pool_handle": lambda c: c.graph_pool_handle(),
    "FloatTensor()": lambda c: c.FloatTensor([1.0]),
    "LongTensor(2)": lambda c: c.LongTensor(2),
    "isinstance FloatTensor": lambda c: isinstance(
        sys.modules[c.__name__.split(".")[0]].zeros(1), c.FloatTensor
    ),
}
if importlib.util.find_spec("pynvml") is None:  # (PyTorch reads these through NVML)
    for name in ("utilization", "temperature", "power_draw", "clock_rate", "memory_usage"):
        SAME[name] = lambda c, name=name: getattr(c, name)()


@no_gpu
@pytest.mark.parametrize("name", sorted(SAME))
def test_without_a_gpu_as_pytorchs_cpu_build(name):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("PyTorch sees a GPU")
    ours = _outcome(cuda, SAME[name])
    theirs = _outcome(torch.cuda, SAME[name])
    assert ours[0] == theirs[0], (ours, theirs)
    if ours[0] == "raised":
        assert issubclass(ours[1], theirs[1]), (ours, theirs)
    else:
        assert ours[1] == theirs[1] and ours[2] == theirs[2], (ours, theirs)


# where PyTorch's CPU build fails on a missing binding or a bug, minigrad answers
@no_gpu
def test_without_a_gpu_where_pytorch_fails_on_its_own_bindings():
    for reset in (cuda.reset_peak_memory_stats, cuda.reset_accumulated_memory_stats):
        assert reset() is None  # (PyTorch: AttributeError for a missing _C function)
    with pytest.warns(FutureWarning, match="now calls torch.cuda.reset_peak_memory_stats"):
        cuda.reset_max_memory_allocated()
    assert "Allocated memory" in cuda.memory_summary()  # (PyTorch: KeyError)
    with pytest.raises(NotImplementedError, match="memory_snapshot"):
        cuda.memory_snapshot()
    with pytest.raises(AssertionError, match="ExternalStream: CUDA is not available"):
        cuda.ExternalStream(0)
    with pytest.raises(RuntimeError, match="is_current_stream_capturing"):
        cuda.is_current_stream_capturing()
    with pytest.raises(NotImplementedError, match="make_graphed_callables"):
        cuda.make_graphed_callables(minigrad.nn.Linear(2, 2), (minigrad.zeros(1, 2),))
    assert repr(cuda.FloatTensor) == "<class 'minigrad.cuda.FloatTensor'>"
    assert importlib.import_module("minigrad.cuda.nvtx") is cuda.nvtx


# -- the GPU paths, on the CuPy stand-in -------------------------------------------------------


def test_memory_statistics_from_the_pool():
    cuda.reset_peak_memory_stats("fakegpu")
    cuda.reset_accumulated_memory_stats("fakegpu")
    base = cuda.memory_allocated("fakegpu")
    big = minigrad.zeros(1000, dtype=minigrad.float64, device="fakegpu")
    stats = cuda.memory_stats("fakegpu")
    assert list(stats) == sorted(stats)
    assert stats["allocated_bytes.all.current"] >= base + 8000
    assert stats["allocated_bytes.all.allocated"] >= base + 8000
    assert stats["allocation.all.allocated"] >= 1
    del big
    stats = cuda.memory_stats("fakegpu")
    assert stats["allocated_bytes.all.freed"] >= 8000
    assert stats["allocated_bytes.all.peak"] >= base + 8000
    assert cuda.max_memory_reserved("fakegpu") >= base + 8000
    nested = cuda.memory_stats_as_nested_dict("fakegpu")
    assert nested["allocated_bytes"]["all"]["peak"] == stats["allocated_bytes.all.peak"]
    assert "GPU reserved memory" in cuda.memory_summary("fakegpu")
    with pytest.warns(FutureWarning, match="renamed to `torch.cuda.memory_reserved`"):
        assert cuda.memory_cached("fakegpu") == cuda.memory_reserved("fakegpu")
    cuda.reset_peak_memory_stats("fakegpu")
    assert cuda.max_memory_allocated("fakegpu") < base + 8000


def test_memory_info_and_fraction_limit():
    free, total = cuda.mem_get_info("fakegpu:1")
    assert total == 2**34 and 0 < free <= total
    assert cuda.get_per_process_memory_fraction("fakegpu") == 1.0
    try:
        cuda.set_per_process_memory_fraction(0.25, "fakegpu")
        assert cuda.get_per_process_memory_fraction("fakegpu") == 0.25
        assert cuda.get_per_process_memory_fraction("fakegpu:1") == 1.0  # per device
    finally:
        cuda.set_per_process_memory_fraction(0.0, "fakegpu")  # (CuPy: 0 is no limit)
    with pytest.raises(TypeError, match="must be `float`"):
        cuda.set_per_process_memory_fraction(1, "fakegpu")
    with pytest.raises(ValueError, match="Allowed range: 0~1"):
        cuda.set_per_process_memory_fraction(1.5, "fakegpu")


def test_device_properties_capability_and_peers():
    props = cuda.get_device_properties("fakegpu:1")
    assert (props.name, props.major, props.minor, props.total_memory) == (
        "minigrad fakegpu", 9, 0, 2**34,
    )  # fmt: skip
    assert "name='minigrad fakegpu'" in repr(props)
    assert cuda.get_device_capability("fakegpu") == (9, 0)
    assert cuda.can_device_access_peer("fakegpu:0", 1)
    assert not cuda.can_device_access_peer("fakegpu:0", 0)
    with pytest.raises(AssertionError, match="Invalid peer device id"):
        cuda.can_device_access_peer("fakegpu:0", 7)
    with pytest.raises(AssertionError, match="Invalid device id"):
        cuda.get_device_properties("fakegpu:5")


def test_streams_current_default_external():
    default = cuda.default_stream("fakegpu")
    assert default.cuda_stream == 0 and default == cuda.current_stream("fakegpu")
    s = cuda.Stream("fakegpu")
    assert s != default and s.query() and "device=fakegpu:0" in repr(s)
    try:
        cuda.set_stream(s)
        assert cuda.current_stream("fakegpu") == s
    finally:
        cuda.set_stream(default)
    assert cuda.current_stream("fakegpu") == default
    event = s.record_event()
    s.wait_stream(default)
    assert event.query()
    assert cuda.ExternalStream(1234, "fakegpu").cuda_stream == 1234
    assert cuda.is_current_stream_capturing.__module__ == "minigrad._cuda_streams"


def test_device_context_and_device_of():
    from minigrad.testing.fake_device import FakeBackend

    assert FakeBackend.current == 0
    with cuda.device("fakegpu:1"):
        assert FakeBackend.current == 1
        assert minigrad.ones(2, device="fakegpu").device.index == 0  # (a tensor's own device)
    assert FakeBackend.current == 0
    with cuda.device_of(minigrad.ones(1, device="fakegpu:1")):
        assert FakeBackend.current == 1
    assert FakeBackend.current == 0
    with cuda.device_of(minigrad.ones(1)):
        assert FakeBackend.current == 0


# -- torch._C.ScriptMethod ----------------------------------------------------------------------


class _Net(minigrad.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = minigrad.nn.Linear(2, 2)

    def forward(self, x, scale: float = 2.0) -> minigrad.Tensor:
        return self.lin(x).relu() * scale


def test_scripted_forward_is_a_script_method():
    from minigrad._C import ScriptMethod

    net = _Net()
    scripted = minigrad.jit.script(net)
    method = scripted.forward
    assert isinstance(method, ScriptMethod) and isinstance(scripted.lin.forward, ScriptMethod)
    assert method.name == "forward" and method.owner is scripted and method == scripted.forward
    assert str(method.schema) == (
        "forward(__torch__.test_cuda_surface22._Net self, Tensor x, float scale=2.) -> Tensor"
    )
    x = minigrad.randn(3, 2)
    assert minigrad.equal(method(x), net(x)) and minigrad.equal(scripted(x), net(x))
    assert method.code == scripted.code and "relu" in method.code
    with pytest.raises(TypeError, match="No constructor defined"):
        ScriptMethod()
    assert not isinstance(net.forward, ScriptMethod)  # the original module is left alone
