"""Mixed precision: autocast's per-op dtypes and GradScaler's scale sequence against torch.amp."""

import threading
import warnings

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.amp import autocast_mode
from minigrad.autograd.graph import is_node_subclass
from minigrad.testing.fake_device import HostTransfers


def _ops(m):
    """One line per op, the same for minigrad and torch (``m``): name -> fn(x) with x (4, 4)."""
    F = m.nn.functional
    t = m.tensor([0, 1, 2, 3])
    return {
        "matmul": lambda a: a @ a,
        "matmul_mixed": lambda a: a @ a.float(),  # (MultiheadAttention's weights @ v)
        "mm": lambda a: a.mm(a),
        "bmm": lambda a: m.bmm(a.unsqueeze(0), a.unsqueeze(0)),
        "linear": lambda a: F.linear(a, a),
        "linear_bias": lambda a: F.linear(a, a, a[0]),
        "einsum": lambda a: m.einsum("ij,jk->ik", a, a),
        "conv1d": lambda a: F.conv1d(a.unsqueeze(0), a.unsqueeze(-1)),
        "sdpa": lambda a: F.scaled_dot_product_attention(a[None], a[None], a[None]),
        "add": lambda a: a + a,
        "mul": lambda a: a * a,
        "exp": lambda a: a.exp(),
        "log": lambda a: a.abs().log(),
        "pow": lambda a: a**2,
        "sum": lambda a: a.sum(),
        "mean": lambda a: a.mean(),
        "prod": lambda a: a.prod(),
        "softmax": lambda a: a.softmax(-1),
        "log_softmax": lambda a: a.log_softmax(-1),
        "cumsum": lambda a: a.cumsum(0),
        "norm": lambda a: a.norm(),
        "layer_norm": lambda a: F.layer_norm(a, (4,)),
        "group_norm": lambda a: F.group_norm(a, 2),
        "cross_entropy": lambda a: F.cross_entropy(a, t),
        "nll_loss": lambda a: F.nll_loss(a, t),
        "mse_loss": lambda a: F.mse_loss(a, a),
        "l1_loss": lambda a: F.l1_loss(a, a),
        "smooth_l1_loss": lambda a: F.smooth_l1_loss(a, a),
        "huber_loss": lambda a: F.huber_loss(a, a),
        "kl_div": lambda a: F.kl_div(a, a, reduction="batchmean"),
        "bce_logits": lambda a: F.binary_cross_entropy_with_logits(a, a.sigmoid()),
        "bce": lambda a: F.binary_cross_entropy(a.sigmoid(), a.sigmoid()),
        "logsumexp": lambda a: a.logsumexp(0),
        "tanh": lambda a: a.tanh(),
        "relu": lambda a: a.relu(),
        "gelu": lambda a: F.gelu(a),
        "softplus": lambda a: F.softplus(a),
        "rsqrt": lambda a: a.abs().rsqrt(),
        "var": lambda a: a.var(),
        "amax": lambda a: a.amax(0),
        "cat_widest": lambda a: m.cat([a, a.double()]),
        "stack": lambda a: m.stack([a, a]),
        "float64_matmul": lambda a: a.double() @ a.double(),
    }


NAMES = list(_ops(minigrad))


@pytest.mark.parametrize("input_dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("fast_dtype", ["float16", "bfloat16", None])
def test_cpu_autocast_dtypes_match_torch(name, input_dtype, fast_dtype):
    """Each op's output dtype under CPU autocast (float16, bfloat16 and the default, which is
    bfloat16 on the CPU) equals PyTorch's."""
    torch = pytest.importorskip("torch")
    if input_dtype == "bfloat16" or fast_dtype == "bfloat16":
        pytest.importorskip("ml_dtypes")
    x = np.random.default_rng(0).uniform(0.1, 1.0, (4, 4))
    a_m = minigrad.tensor(x, dtype=getattr(minigrad, input_dtype))
    a_t = torch.tensor(x, dtype=getattr(torch, input_dtype))
    kw_m = {} if fast_dtype is None else {"dtype": getattr(minigrad, fast_dtype)}
    kw_t = {} if fast_dtype is None else {"dtype": getattr(torch, fast_dtype)}
    try:
        with torch.autocast("cpu", **kw_t):
            want = _ops(torch)[name](a_t)
    except RuntimeError:  # cat/stack of the other low-precision dtype: both refuse
        with pytest.raises(RuntimeError, match="autocast"):
            with minigrad.autocast("cpu", **kw_m):
                _ops(minigrad)[name](a_m)
        return
    with minigrad.autocast("cpu", **kw_m):
        got = _ops(minigrad)[name](a_m)
    assert got.dtype.name == str(want.dtype).split(".")[-1]
    np.testing.assert_allclose(
        got.float().detach().numpy(), want.float().detach().numpy(), rtol=2e-2, atol=2e-2
    )


# (autocast dtype or None for the CPU default, bfloat16; loss rtol; gradient rtol, atol)
STEP_CASES = [("float16", 1e-3, 2e-2, 2e-3), (None, 1e-2, 5e-2, 1e-2)]


@pytest.mark.parametrize("fast,loss_rtol,rtol,atol", STEP_CASES, ids=["float16", "default"])
def test_training_step_under_autocast_matches_torch(fast, loss_rtol, rtol, atol):
    torch = pytest.importorskip("torch")
    if fast is None:
        pytest.importorskip("ml_dtypes")
    kw_m = {} if fast is None else {"dtype": getattr(minigrad, fast)}
    kw_t = {} if fast is None else {"dtype": getattr(torch, fast)}
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(8, 5)), rng.integers(0, 3, 8)
    mm = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3))
    tm = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
    with torch.no_grad():
        for p, q in zip(mm.parameters(), tm.parameters()):
            q.copy_(torch.tensor(p.detach().numpy()))
    with minigrad.autocast("cpu", **kw_m):
        out_m = mm(minigrad.tensor(x, dtype=minigrad.float32))
        loss_m = nn.functional.cross_entropy(out_m, minigrad.tensor(y))
    with torch.autocast("cpu", **kw_t):
        out_t = tm(torch.tensor(x, dtype=torch.float32))
        loss_t = torch.nn.functional.cross_entropy(out_t, torch.tensor(y))
    assert out_m.dtype.name == str(out_t.dtype).removeprefix("torch.")  # bfloat16 by default
    assert loss_m.dtype is minigrad.float32
    loss_m.backward()
    loss_t.backward()
    np.testing.assert_allclose(loss_m.item(), loss_t.item(), rtol=loss_rtol)
    for p, q in zip(mm.parameters(), tm.parameters()):
        assert p.grad.dtype is minigrad.float32  # the cast's backward casts back
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=rtol, atol=atol)


def test_parameter_casts_are_cached_within_a_region():
    lin = nn.Linear(4, 4)
    x = minigrad.randn(2, 4)
    with minigrad.autocast("cpu", dtype=minigrad.float16):
        a, b = lin(x), lin(x)
        cached = dict(autocast_mode._state.cache)
        assert {k[0] for k in cached} == {id(lin.weight), id(lin.bias)}
        assert a.grad_fn.next_functions[1][0] is b.grad_fn.next_functions[1][0]  # one cast node
    assert not autocast_mode._state.cache  # dropped with the outermost region
    with minigrad.autocast("cpu", dtype=minigrad.float16, cache_enabled=False):
        lin(x)
        assert not autocast_mode._state.cache


def test_nesting_decorator_threads_and_device_types():
    x = minigrad.randn(3, 3)

    @minigrad.autocast("cpu", dtype=minigrad.float16)
    def f(t):
        return t @ t

    assert f(x).dtype is minigrad.float16
    with minigrad.autocast("cpu", dtype=minigrad.float16):
        assert minigrad.amp.is_autocast_enabled("cpu")
        with minigrad.autocast("cpu", enabled=False):
            assert (x @ x).dtype is minigrad.float32
        seen = []
        thread = threading.Thread(target=lambda: seen.append((x @ x).dtype))
        thread.start()
        thread.join()
        assert seen == [minigrad.float32]  # autocast is thread-local
        assert (x @ x).dtype is minigrad.float16
    with minigrad.autocast("cuda"):  # another device type: CPU tensors are left alone
        assert (x @ x).dtype is minigrad.float32
    assert not minigrad.amp.is_autocast_enabled("cpu")
    assert minigrad.ops.base.interposer is None  # nothing left on the hot path
    with minigrad.autocast("cpu"):  # the CPU's default is bfloat16, as in PyTorch
        assert minigrad.amp.get_autocast_dtype("cpu") is minigrad.bfloat16
        assert (x @ x).dtype is minigrad.bfloat16
    with pytest.warns(UserWarning, match="target dtype is not supported. Disabling autocast"):
        region = minigrad.autocast("cpu", dtype=minigrad.float64)  # as PyTorch: warns, disables
    with region:
        assert not minigrad.amp.is_autocast_enabled("cpu") and (x @ x).dtype is minigrad.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        minigrad.autocast("cpu", dtype=minigrad.float32, enabled=False)  # disabled: no warning


def test_fakegpu_follows_the_cuda_policy():
    x = minigrad.randn(4, 4, device="fakegpu")
    w = nn.Linear(4, 4).to("fakegpu")
    with minigrad.autocast("fakegpu"):  # default dtype float16, as on CUDA
        h = w(x)
        assert h.dtype is minigrad.float16
        assert h.softmax(-1).dtype is minigrad.float32  # CUDA list: softmax in float32
        assert h.exp().dtype is minigrad.float32
        assert (h + h).dtype is minigrad.float16
        assert minigrad.randn(4, 4) @ minigrad.randn(4, 4) is not None
        assert (minigrad.randn(2, 2) @ minigrad.randn(2, 2)).dtype is minigrad.float32


def test_aliases_as_pytorch_programs_import_them():
    from minigrad.cpu.amp import autocast as cpu_autocast
    from minigrad.cuda.amp import GradScaler, autocast

    x = minigrad.randn(2, 2)
    with cpu_autocast(dtype=minigrad.float16):
        assert (x @ x).dtype is minigrad.float16
    with autocast(enabled=False):
        assert (x @ x).dtype is minigrad.float32
    if not minigrad.cuda.is_available():
        with pytest.warns(UserWarning, match="Disabling"):
            scaler = GradScaler()
        assert not scaler.is_enabled()
        loss = x.sum()
        assert scaler.scale(loss) is loss and scaler.get_scale() == 1.0
    assert minigrad.amp.autocast is minigrad.autocast


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.cuda.amp.autocast(enabled=False),
        lambda m: m.cpu.amp.autocast(),
        lambda m: m.cuda.amp.GradScaler(enabled=False),
        lambda m: m.cpu.amp.GradScaler(),
        lambda m: m.cuda.amp.custom_fwd(lambda x: x),
        lambda m: m.cuda.amp.custom_bwd(lambda x: x),
    ],
)
def test_device_specific_spellings_warn_as_pytorchs(make):
    """``torch.cuda.amp.*`` and ``torch.cpu.amp.*`` work but warn FutureWarning, as PyTorch's."""
    with pytest.warns(FutureWarning) as ours:
        make(minigrad)
    torch = pytest.importorskip("torch")
    with pytest.warns(FutureWarning) as theirs:
        make(torch)
    assert str(ours[0].message) == str(theirs[0].message).replace("torch", "minigrad")


# -- GradScaler ---------------------------------------------------------------------------------


def _scaler_run(m, steps: int, inf_steps: set, device=None):
    """A small regression trained with a GradScaler; gradients get an inf at ``inf_steps``."""
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(16, 4)), rng.normal(size=(16, 1))
    w0 = rng.normal(size=(1, 4))
    kw = {} if device is None else {"device": device}
    model = m.nn.Linear(4, 1)
    with m.no_grad():
        model.weight.copy_(m.tensor(w0, dtype=m.float32, **kw))
        model.bias.zero_()
    if device is not None:
        model.to(device)
    opt = m.optim.SGD(model.parameters(), lr=0.01)
    dev = "cpu" if m.__name__ == "torch" else device or "cpu"
    scaler = m.amp.GradScaler(dev, init_scale=2.0**10, growth_interval=3)
    xt, yt = m.tensor(x, dtype=m.float32, **kw), m.tensor(y, dtype=m.float32, **kw)
    scales = []
    for step in range(steps):
        opt.zero_grad()
        loss = ((model(xt) - yt) ** 2).mean()
        scaler.scale(loss).backward()
        if step in inf_steps:
            with m.no_grad():
                model.weight.grad[0, step % 4] = float("inf") if step % 2 else float("nan")
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
    return scales, model.weight.detach().cpu().numpy(), scaler


def test_grad_scaler_scale_sequence_matches_torch():
    torch = pytest.importorskip("torch")
    inf_steps = {4, 5, 11, 30, 31, 32, 60, 77, 90}
    scales_m, w_m, scaler_m = _scaler_run(minigrad, 100, inf_steps)
    scales_t, w_t, scaler_t = _scaler_run(torch, 100, inf_steps)
    assert scales_m == scales_t
    np.testing.assert_allclose(w_m, w_t, rtol=1e-5, atol=1e-6)
    assert scaler_m.state_dict() == scaler_t.state_dict()


def test_grad_scaler_state_dict_round_trip_and_misuse():
    torch = pytest.importorskip("torch")
    _, _, scaler = _scaler_run(minigrad, 7, {2})
    fresh = minigrad.amp.GradScaler("cpu")
    fresh.load_state_dict(scaler.state_dict())
    assert fresh.state_dict() == scaler.state_dict()
    theirs = torch.amp.GradScaler("cpu")
    theirs.load_state_dict(scaler.state_dict())  # PyTorch reads ours as its own
    assert theirs.state_dict() == scaler.state_dict()
    with pytest.raises(RuntimeError, match="empty"):
        fresh.load_state_dict({})
    p = nn.Parameter(minigrad.ones(2))
    opt = minigrad.optim.SGD([p], lr=0.1)
    s = minigrad.amp.GradScaler("cpu")
    s.scale(p.sum()).backward()
    s.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called"):
        s.unscale_(opt)
    s.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        s.step(opt)
    s.update(4.0)
    assert s.get_scale() == 4.0
    with pytest.raises(RuntimeError, match="Closure"):
        s.step(opt, closure=lambda: None)
    off = minigrad.amp.GradScaler("cpu", enabled=False)
    assert off.state_dict() == {} and off.step(opt) is None


def test_grad_scaler_one_host_round_trip_per_step_on_device():
    scales, _, _ = _scaler_run(minigrad, 8, {3}, device="fakegpu")
    assert scales == [1024.0, 1024.0, 2048.0, 1024.0, 1024.0, 1024.0, 2048.0, 2048.0]
    model = nn.Linear(4, 1).to("fakegpu")
    opt = minigrad.optim.SGD(model.parameters(), lr=0.01)
    scaler = minigrad.amp.GradScaler("fakegpu")
    x = minigrad.randn(5, 4, device="fakegpu")
    for _ in range(2):
        before = HostTransfers.count
        opt.zero_grad()
        scaler.scale(model(x).pow(2).mean()).backward()
        scaler.unscale_(opt)
        scaler.step(opt)
        scaler.update()
        assert HostTransfers.count - before == 1  # the inf check in step, nothing else


def test_autocast_off_costs_one_lookup():
    """With no autocast or vmap anywhere, the op hook is None: ops take the old path."""
    assert minigrad.ops.base.interposer is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = minigrad.randn(3, 3) @ minigrad.randn(3, 3)
    assert y.dtype is minigrad.float32


@pytest.mark.slow
def test_gpt_example_trains_with_amp(tmp_path):
    """The GPT example's --amp path (autocast + GradScaler) runs and its loss stays finite."""
    import math

    from test_examples import _example

    train_gpt_chars = _example("train_gpt_chars")
    argv = ["--smoke", "--no-progress", "--amp", "--batch-size", "4", "--block-size", "16"]
    metrics = train_gpt_chars.main(argv + ["--out", str(tmp_path)])
    assert metrics["amp"] is True
    assert math.isfinite(metrics["final"]["val_loss"])


def test_policy_names_name_existing_ops():
    from minigrad.func._dispatch import op_name
    from minigrad.ops.base import Op

    seen, stack = set(), [Op]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen and not is_node_subclass(sub):  # (recorded nodes' classes)
                seen.add(sub)
                stack.append(sub)
    names = {op_name(c) for c in seen}
    for table in autocast_mode.POLICY.values():
        classes = {k for k in table if k[0].isupper()}
        assert classes <= names, classes - names
