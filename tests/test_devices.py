"""Device plumbing, checked on the CuPy stand-in (``fakegpu``) and on CUDA when present."""

import numpy as np
import pytest

import minigrad
from minigrad import backend
from minigrad.autograd import gradcheck
from minigrad.testing.fake_device import HostTransfers


def test_device_parsing():
    assert minigrad.device("cuda") == minigrad.device("cuda:0") == "cuda:0"
    assert str(minigrad.device("cpu")) == "cpu" and minigrad.device("cpu") is backend.CPU
    with pytest.raises(RuntimeError, match="unknown device type 'tpu'"):
        minigrad.device("tpu")
    with pytest.raises(NotImplementedError, match="'mps' device is not implemented"):
        minigrad.zeros(2).to("mps")  # a PyTorch device type minigrad lacks
    for bad in ("cuda:x", "cpu:x", "cuda:01", "cuda:1:2"):
        with pytest.raises(RuntimeError, match=f"Invalid device string: '{bad}'"):
            minigrad.device(bad)


def test_a_cpu_named_with_an_index_keeps_it_but_tensors_are_on_the_cpu():
    """As PyTorch: ``device("cpu", 0)`` is ``device(type='cpu', index=0)``, unequal to
    ``device("cpu")`` and kept through pickling; a tensor asked to go there is on ``cpu``."""
    import pickle

    named = minigrad.device("cpu", 0)
    assert repr(named) == "device(type='cpu', index=0)" and str(named) == "cpu:0"
    assert named.index == 0 and named is minigrad.device("cpu:0") and named != "cpu"
    assert named != minigrad.device("cpu") and isinstance(named, minigrad.device)
    assert pickle.loads(pickle.dumps(named)) == named
    assert minigrad.zeros(2, device=named).device is backend.CPU
    assert minigrad.zeros(2, device="cpu:0").to(named).device is backend.CPU
    with pytest.raises(RuntimeError, match="must not be negative"):
        minigrad.device("cpu", -1)


def test_set_default_device_moves_factories_and_layers_but_not_explicit_devices(device):
    """``torch.set_default_device`` / ``with torch.device(...)``: factories and layers called
    without ``device=`` allocate there (this thread only); ``device=``, ``from_numpy`` and
    ``*_like`` keep their own device."""
    import threading

    assert minigrad.get_default_device() is backend.CPU
    minigrad.set_default_device(device)
    try:
        made = [
            minigrad.zeros(2),
            minigrad.tensor([1, 2]),
            minigrad.randn(3),
            minigrad.arange(4),
            minigrad.linspace(0, 1, 3),
            minigrad.eye(2),
            minigrad.tril_indices(3, 3),
            minigrad.nn.Linear(2, 3).weight,
        ]
        assert all(t.device == device for t in made)
        assert minigrad.get_default_device() == device
        assert minigrad.zeros(1, device="cpu").device is backend.CPU
        assert minigrad.from_numpy(np.zeros(2)).device is backend.CPU
        cpu = minigrad.ones(2, device="cpu")
        assert minigrad.zeros_like(cpu).device is backend.CPU
        seen = []
        worker = threading.Thread(target=lambda: seen.append(minigrad.zeros(1).device))
        worker.start()
        worker.join()
        assert seen == [backend.CPU]  # per thread, as in PyTorch
    finally:
        minigrad.set_default_device(None)
    assert minigrad.get_default_device() is backend.CPU
    with minigrad.device(device) as dev:
        assert dev == device and minigrad.ones(1).device == device
        with minigrad.device("cpu"):
            assert minigrad.ones(1).device is backend.CPU
        assert minigrad.get_default_device() == device
    assert minigrad.ones(1).device is backend.CPU


def test_default_device_matches_pytorch_on_cpu():
    torch = pytest.importorskip("torch")
    assert repr(minigrad.get_default_device()) == repr(torch.get_default_device())
    torch.set_default_device("cpu")
    minigrad.set_default_device("cpu")
    try:
        assert repr(minigrad.zeros(1).device) == repr(torch.zeros(1).device)
        assert repr(minigrad.get_default_device()) == repr(torch.get_default_device())
    finally:
        torch.set_default_device(None)
        minigrad.set_default_device(None)


def test_cuda_unavailable_is_reported_cleanly():
    if minigrad.cuda.is_available():
        pytest.skip("a GPU is present")
    assert minigrad.cuda.device_count() == 0


def test_moving_between_devices_keeps_values(device):
    t = minigrad.tensor([[1.0, 2.0]], device=device)
    assert t.device == device
    back = t.to("cpu")
    assert back.device == "cpu" and back.tolist() == [[1.0, 2.0]]


def test_mixing_devices_names_both():
    a, b = minigrad.ones(2), minigrad.ones(2, device="fakegpu")
    with pytest.raises(RuntimeError, match="cpu and fakegpu:0"):
        a + b


def test_gradient_crosses_devices():
    x = minigrad.tensor([1.0, 2.0], dtype=minigrad.float64, requires_grad=True)
    assert gradcheck(lambda t: (t.to("fakegpu") * 3).exp().to("cpu"), (x,))
    y = (x.to("fakegpu") * 3).sum()
    y.backward()
    assert x.grad.device == "cpu" and x.grad.tolist() == [3.0, 3.0]


def test_stand_in_refuses_numpy_arrays():
    t = minigrad.ones(3, device="fakegpu")
    with pytest.raises(TypeError, match="NumPy array was mixed"):
        t._data + np.ones(3)
    with pytest.raises(TypeError, match="hidden host transfer"):
        np.asarray(t._data)


def _training_step(device):
    minigrad.manual_seed(0)  # data drawn on the CPU, so every device sees the same numbers
    w = minigrad.randn(4, 3).to(device).requires_grad_()
    b = minigrad.zeros(3, device=device, requires_grad=True)
    x = minigrad.randn(8, 4).to(device)
    target = minigrad.randint(0, 3, (8,)).to(device)
    logits = (x @ w + b).relu()
    logp = logits - logits.logsumexp(1, keepdim=True)
    loss = -logp.gather(1, target.unsqueeze(1)).mean()
    loss.backward()
    with minigrad.no_grad():
        for p in (w, b):
            p.sub_(p.grad, alpha=0.1)
            p.grad = None
    return loss


def test_training_step_makes_no_host_transfers():
    _training_step("fakegpu")  # warm up: generators, caches
    before = HostTransfers.count
    loss = _training_step("fakegpu")
    assert HostTransfers.count == before, "a training step copied data to the host"
    # .item() copies the value, plus one read of the device-side flags of the step's index
    # checks (gather) for all of them together; a second .item() is one copy again.
    assert loss.item() > 0 and HostTransfers.count == before + 2
    loss.item()
    assert HostTransfers.count == before + 3


def test_same_results_on_cpu_and_stand_in():
    assert _training_step("cpu").item() == pytest.approx(_training_step("fakegpu").item())


def test_seeding_covers_every_device():
    minigrad.manual_seed(7)
    a = minigrad.randn(3, device="fakegpu").tolist()
    minigrad.manual_seed(7)
    assert minigrad.randn(3, device="fakegpu").tolist() == a


@pytest.mark.gpu
def test_cuda_training_step():
    loss = _training_step("cuda")
    assert loss.device == "cuda:0" and np.isfinite(loss.item())


def test_erf_without_scipy_is_exact(monkeypatch):
    import math
    import sys

    monkeypatch.setitem(sys.modules, "scipy.special", None)  # import fails: the fallback runs
    cpu = backend.get_backend("cpu")
    for values in (np.array(0.5), np.array([-2.0, 0.0, 0.3, 3.0])):
        out = cpu.erf(values)
        assert isinstance(out, np.ndarray) and out.shape == values.shape
        np.testing.assert_array_equal(out, np.vectorize(math.erf)(values))


def test_ops_on_a_second_device_run_with_it_current():
    from minigrad.testing.fake_device import FakeBackend

    FakeBackend.seen_current.clear()
    x = minigrad.randn(3, device="fakegpu:1", requires_grad=True)
    assert FakeBackend.seen_current == {1}  # drawn with device 1 current
    FakeBackend.seen_current.clear()
    (x.exp() * 2).sum().backward()
    assert x.grad.device == "fakegpu:1" and FakeBackend.seen_current == {1}
    with pytest.raises(RuntimeError, match="fakegpu:0 and fakegpu:1"):
        minigrad.ones(3, device="fakegpu:0") + x


# -- issue 11: the stand-in fails as CuPy fails, and the backend works around each failure ----


def test_stand_in_flags_lack_writeable_and_first_backward_works():
    """CuPy's flags have no ``writeable``: the first backward after zero_grad must not read it."""
    x = minigrad.ones(3, device="fakegpu", requires_grad=True)
    assert not hasattr(x._data.flags, "writeable")
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("dtype", ["bool", "int8", "int16", "uint8", "int32", "int64"])
def test_scatter_add_on_dtypes_cupy_cannot_add_atomically(dtype):
    torch = pytest.importorskip("torch")
    from minigrad.testing.fake_device import _CUPYX

    fake = minigrad.device("fakegpu").backend.xp
    target = fake.zeros(3, dtype=dtype)
    if dtype not in ("int32",):  # the stand-in rejects what CuPy's atomicAdd rejects
        with pytest.raises(TypeError, match="Wrong type"):
            _CUPYX.scatter_add(target, (fake.asarray(np.array([0, 0])),), fake.ones(2, dtype=dtype))
    values = [100, 100, 1, 3] if dtype != "bool" else [True, True, False, True]
    index = [0, 0, 2, 2]
    results = []
    for device in ("cpu", "fakegpu"):
        base = minigrad.tensor([1, 0, 0], dtype=getattr(minigrad, dtype), device=device)
        src = minigrad.tensor(values, dtype=getattr(minigrad, dtype), device=device)
        out = base.scatter_add(0, minigrad.tensor(index, device=device), src)
        results.append(out.tolist())
    expected = torch.zeros(3, dtype=getattr(torch, dtype))
    expected[0] = 1
    expected = expected.scatter_add(
        0, torch.tensor(index), torch.tensor(values, dtype=expected.dtype)
    )
    assert results[0] == results[1] == expected.tolist()  # int8 wraps to -55 + ... as PyTorch


def test_int64_scatter_add_is_exact_beyond_float64():
    big = 2**60 + 1
    for device in ("cpu", "fakegpu"):
        out = minigrad.zeros(2, dtype=minigrad.int64, device=device).scatter_add(
            0,
            minigrad.tensor([1, 1, 1], device=device),
            minigrad.tensor([big, big, -3], device=device),
        )
        assert out.tolist() == [0, 2 * big - 3]


def test_index_backward_on_int_like_repeats_goes_through_sorted_scatter():
    x = minigrad.tensor([[1.0, 2.0], [3.0, 4.0]], device="fakegpu", requires_grad=True)
    idx = minigrad.tensor([0, 0, 1, 0], device="fakegpu")
    x[idx].sum().backward()
    assert x.grad.tolist() == [[3.0, 3.0], [1.0, 1.0]]


def test_gpu_generator_draws_in_the_requested_dtype():
    gen = minigrad.Generator("fakegpu").manual_seed(3)
    u32 = gen.uniform((1000,), np.float32)
    host = minigrad.device("fakegpu").backend.to_host(u32)
    assert host.dtype == np.float32 and 0 <= host.min() and host.max() < 1
    assert np.all(host * 2**24 == np.round(host * 2**24))  # 24 random bits, not a cast float64
    u64 = minigrad.device("fakegpu").backend.to_host(gen.uniform((1000,), np.float64))
    assert u64.dtype == np.float64 and len(np.unique(u64 * 2**24 % 1)) > 900  # 53 bits
    z = minigrad.randn(20000, device="fakegpu", dtype=minigrad.float16)
    assert z.dtype == minigrad.float16 and abs(z.float().mean().item()) < 0.03
    assert abs(z.float().std().item() - 1) < 0.03
    r = minigrad.randint(-5, 5, (20000,), device="fakegpu").cpu().numpy()
    assert r.min() == -5 and r.max() == 4 and abs(r.mean() + 0.5) < 0.1
    p = minigrad.randperm(50, device="fakegpu").cpu().numpy()
    assert sorted(p.tolist()) == list(range(50))


@pytest.mark.parametrize("seed", [0, 2**45, 2**63 - 1, 2**64 - 1])
def test_manual_seed_is_reproducible_on_a_gpu_for_any_seed(seed):
    minigrad.manual_seed(seed)
    a = minigrad.randn(5, device="fakegpu").tolist()
    b = minigrad.rand(5, device="fakegpu:1").tolist()
    minigrad.manual_seed(seed)
    assert minigrad.randn(5, device="fakegpu").tolist() == a
    assert minigrad.rand(5, device="fakegpu:1").tolist() == b
    assert a != minigrad.randn(5, device="fakegpu").tolist()


def test_gpu_rng_state_round_trips():
    minigrad.manual_seed(11)
    minigrad.randn(7, device="fakegpu")
    state = minigrad.cuda.get_rng_state("fakegpu")
    a = minigrad.randn(4, 3, device="fakegpu").tolist()
    minigrad.rand(9, device="fakegpu")
    minigrad.cuda.set_rng_state(state, "fakegpu")
    assert minigrad.randn(4, 3, device="fakegpu").tolist() == a
    with pytest.raises(ValueError, match="not the state of a CUDA generator"):
        minigrad.cuda.set_rng_state(backend.default_generator(backend.CPU).get_state(), "fakegpu")


def test_cpu_rng_state_round_trips():
    gen = backend.default_generator(backend.CPU)
    state = gen.get_state()
    a = minigrad.randn(3).tolist()
    gen.set_state(state)
    assert minigrad.randn(3).tolist() == a


def test_fused_ops_and_optimizers_run_on_the_second_gpu():
    """The stand-in refuses a kernel whose operands are not on the current device, as CuPy
    does between GPUs without peer access: everything must run with cuda:1 current."""
    import minigrad.nn.functional as F

    dev = "fakegpu:1"
    model = minigrad.nn.Sequential(
        minigrad.nn.Linear(4, 8),
        minigrad.nn.GELU(),
        minigrad.nn.LayerNorm(8),
        minigrad.nn.Linear(8, 3),
    ).to(dev)
    for opt_cls in (minigrad.optim.SGD, minigrad.optim.Adam, minigrad.optim.AdamW):
        kwargs = {"momentum": 0.9} if opt_cls is minigrad.optim.SGD else {}
        opt = opt_cls(model.parameters(), lr=0.01, **kwargs)
        for _ in range(2):
            x = minigrad.randn(5, 4, device=dev)
            loss = F.cross_entropy(model(x), minigrad.tensor([0, 1, 2, 1, 0], device=dev))
            loss = loss + F.mse_loss(x.sigmoid(), x.tanh()) + F.softmax(x, 1).sum() * 0
            opt.zero_grad()
            loss.backward()
            minigrad.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
    assert all(p.device == dev and p._data.device.id == 1 for p in model.parameters())
    with pytest.raises(ValueError, match="different from the current device"):
        minigrad.ones(2, device=dev)._data + minigrad.ones(2, device="fakegpu:0")._data
    before = HostTransfers.count
    moved = minigrad.ones(2, device=dev).to("fakegpu:0")
    assert moved._data.device.id == 0 and HostTransfers.count == before  # peer copy, no host


# -- training loops: the stand-in computes what the CPU computes --------------------------


def _mlp_adam(device):
    minigrad.manual_seed(0)
    model = minigrad.nn.Sequential(
        minigrad.nn.Linear(6, 16), minigrad.nn.ReLU(), minigrad.nn.Linear(16, 3)
    )
    model.to(device)
    opt = minigrad.optim.Adam(model.parameters(), lr=0.01)
    x, y = minigrad.randn(32, 6).to(device), minigrad.randint(0, 3, (32,)).to(device)
    losses = []
    for _ in range(4):
        loss = minigrad.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def _cnn_batchnorm(device):
    nn = minigrad.nn
    minigrad.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(4 * 4 * 4, 3),
    )  # fmt: skip
    model.to(device)
    opt = minigrad.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x, y = minigrad.randn(8, 1, 8, 8).to(device), minigrad.randint(0, 3, (8,)).to(device)
    losses = []
    for _ in range(3):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    losses.append(model(x).sum().item())
    return losses


def _embedding_attention_adamw(device):
    nn = minigrad.nn
    minigrad.manual_seed(0)
    emb, attn, head = (
        nn.Embedding(11, 8),
        nn.MultiheadAttention(8, 2, batch_first=True),
        nn.Linear(8, 11),
    )
    params = [*emb.parameters(), *attn.parameters(), *head.parameters()]
    for m in (emb, attn, head):
        m.to(device)
    opt = minigrad.optim.AdamW(params, lr=0.01)
    tokens = minigrad.randint(0, 11, (4, 6)).to(device)
    mask = minigrad.ones(6, 6, dtype=minigrad.bool).triu(1).to(device)
    losses = []
    for _ in range(3):
        h = emb(tokens)
        out, _ = attn(h, h, h, attn_mask=mask)
        loss = nn.functional.cross_entropy(head(out).reshape(-1, 11), tokens.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def _create_graph(device):
    x = minigrad.tensor([0.5, -1.0, 2.0], dtype=minigrad.float64, device=device, requires_grad=True)
    (g,) = minigrad.autograd.grad((x.tanh() * x).sum(), x, create_graph=True)
    (h,) = minigrad.autograd.grad(g.sum(), x)
    return g.tolist() + h.tolist()


@pytest.mark.parametrize(
    "loop", [_mlp_adam, _cnn_batchnorm, _embedding_attention_adamw, _create_graph]
)
def test_training_loops_on_the_stand_in_match_the_cpu(loop):
    expected = loop("cpu")
    for device in ("fakegpu", "fakegpu:1"):
        np.testing.assert_allclose(loop(device), expected, rtol=1e-6, atol=1e-7)


def test_save_and_load_of_gpu_tensors(tmp_path):
    t = minigrad.randn(3, 2, device="fakegpu:1")
    minigrad.save({"t": t, "i": minigrad.arange(4, device="fakegpu")}, tmp_path / "x.mg")
    back = minigrad.load(tmp_path / "x.mg")
    assert back["t"].device == "fakegpu:1" and back["t"].tolist() == t.tolist()
    assert back["i"].device == "fakegpu:0" and back["i"].tolist() == [0, 1, 2, 3]


# -- minigrad.cuda on the stand-in -----------------------------------------------------------


def test_cuda_module_functions_on_the_stand_in():
    cuda = minigrad.cuda
    assert cuda.get_device_name("fakegpu:1") == "minigrad fakegpu"
    assert cuda.current_device() == 0
    cuda.synchronize("fakegpu:1")
    cuda.reset_peak_memory_stats("fakegpu")
    base = cuda.memory_allocated("fakegpu")
    big = minigrad.zeros(1000, dtype=minigrad.float64, device="fakegpu")
    assert cuda.memory_allocated("fakegpu") >= base + 8000
    del big
    assert cuda.memory_allocated("fakegpu") < base + 8000
    assert cuda.max_memory_allocated("fakegpu") >= base + 8000
    cuda.reset_peak_memory_stats("fakegpu")
    assert cuda.max_memory_allocated("fakegpu") < base + 8000
    start, end = (
        cuda.Event(enable_timing=True, device="fakegpu"),
        cuda.Event(enable_timing=True, device="fakegpu"),
    )
    start.record()
    minigrad.ones(100, device="fakegpu").sum()
    end.record()
    end.synchronize()
    assert start.elapsed_time(end) >= 0 and end.query()
    s = cuda.Stream("fakegpu")
    with cuda.stream(s) as entered:  # (PyTorch's StreamContext enters as None)
        s.synchronize()
    assert entered is None


def test_set_device_makes_new_kernels_run_there():
    from minigrad.testing.fake_device import FakeBackend

    try:
        minigrad.cuda.set_device("fakegpu:1")
        FakeBackend.seen_current.clear()
        x = minigrad.ones(2, device="fakegpu:0")
        (x + 1).sum()  # runs with fakegpu:0 current although 1 is the default now
        assert 0 in FakeBackend.seen_current
        with pytest.raises(RuntimeError, match="invalid device 5"):
            minigrad.cuda.set_device("fakegpu:5")
    finally:
        minigrad.cuda.set_device("fakegpu:0")


def _run_case(op, index, device):
    from helpers import build, outputs, to_numpy

    args, grad_args = build(op, index, minigrad, "float64", device)
    outs = outputs(op.fn(minigrad, *args, **op.samples[index].kwargs))
    row = [to_numpy(o) for o in outs if isinstance(o, minigrad.Tensor)]
    diff = [o for o in outs if isinstance(o, minigrad.Tensor) and o.requires_grad]
    if diff and grad_args:
        grads = minigrad.autograd.grad(
            diff, grad_args, [o.new_ones(o.shape) * 0.5 for o in diff], allow_unused=True
        )
        row += [to_numpy(g) for g in grads if g is not None]
    return row


def test_op_table_on_a_second_gpu_matches_the_cpu():
    """Every op-table sample on fakegpu:1, forward and backward: the stand-in refuses a kernel
    whose arrays are not on the current device, so an op that runs xp outside its device
    context fails here as it would on cuda:1. The differentiable rows are checked there by
    test_ops.py's test_devices_agree (outputs, gradients and second-order gradients): here the
    others."""
    from minigrad.testing.op_db import OP_DB

    failures = []
    for op in OP_DB:
        for index in range(len(op.samples) if not op.grad or op.raises is not None else 0):
            if op.raises is not None:  # refused on every device alike
                with pytest.raises(op.raises):
                    _run_case(op, index, "fakegpu:1")
                continue
            try:
                got = _run_case(op, index, "fakegpu:1")
            except Exception as e:  # collect them all: one report names every op
                failures.append(f"{op.sample_id(index)}: {type(e).__name__}: {e}")
                continue
            for a, b in zip(_run_case(op, index, "cpu"), got):
                np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)
    assert not failures, "\n".join(failures)


# -- on a real GPU (run by .ci/gpu) ----------------------------------------------------------


def _op_cases():
    """Every op-table sample, where a CUDA device is present; none elsewhere (the cases would
    only be skipped: 1,500 items each worker collects, reports and skips for nothing)."""
    from minigrad.testing.op_db import OP_DB

    if not minigrad.cuda.is_available():
        return []
    return [(op, i) for op in OP_DB for i in range(len(op.samples))]


CUDA_CASES = _op_cases()


@pytest.mark.gpu
@pytest.mark.parametrize("op,index", CUDA_CASES, ids=[op.sample_id(i) for op, i in CUDA_CASES])
def test_op_table_on_cuda_matches_cpu(op, index):
    """Every op-table sample on cuda: forward and gradients equal the CPU's (float64)."""
    if op.raises is not None:
        with pytest.raises(op.raises):
            _run_case(op, index, "cuda")
        return
    for a, b in zip(_run_case(op, index, "cpu"), _run_case(op, index, "cuda")):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-9)


@pytest.mark.gpu
def test_cuda_index_error_at_sync_and_rng_state():
    x = minigrad.randn(4, 3, device="cuda")
    y = x.gather(1, minigrad.tensor([[0], [5], [1], [2]], device="cuda"))
    with pytest.raises(IndexError, match=r"gather\(\): index 5 is out of bounds"):
        y.sum().item()
    state = minigrad.cuda.get_rng_state()
    a = minigrad.randn(8, device="cuda").tolist()
    minigrad.cuda.set_rng_state(state)
    assert minigrad.randn(8, device="cuda").tolist() == a
    out = minigrad.zeros(3, dtype=minigrad.int8, device="cuda").scatter_add(
        0,
        minigrad.tensor([0, 0], device="cuda"),
        minigrad.tensor([100, 100], dtype=minigrad.int8, device="cuda"),
    )
    assert out.tolist() == [-56, 0, 0]
    minigrad.cuda.reset_peak_memory_stats()
    big = minigrad.zeros(2**20, device="cuda")
    assert minigrad.cuda.max_memory_allocated() >= 4 * 2**20
    del big
    minigrad.cuda.empty_cache()
    assert minigrad.cuda.get_device_name()


def test_float32_matmul_precision_is_tied_to_allow_tf32_as_in_pytorch():
    torch = pytest.importorskip("torch")
    seen = []
    for lib in (torch, minigrad):
        flags, log = lib.backends.cuda.matmul, []
        try:
            log.append(lib.get_float32_matmul_precision())
            for precision in ("high", "medium", "highest"):
                lib.set_float32_matmul_precision(precision)
                log.append((lib.get_float32_matmul_precision(), flags.allow_tf32))
            flags.allow_tf32 = True
            log.append(lib.get_float32_matmul_precision())
            with pytest.warns(UserWarning, match="is not one of 'highest', 'high', or 'medium'"):
                lib.set_float32_matmul_precision("fastest")
            log.append(lib.get_float32_matmul_precision())
        finally:
            lib.set_float32_matmul_precision("highest")
        seen.append(log)
    assert seen[0] == seen[1]


def test_version_and_multiprocessing_without_an_explicit_import():
    assert minigrad.version.__version__ == minigrad.__version__ and minigrad.version.hip is None
    cuda = minigrad.version.cuda
    assert cuda is None or (isinstance(cuda, str) and cuda[0].isdigit())
    assert callable(minigrad.multiprocessing.Process)
