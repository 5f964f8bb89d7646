"""minigrad.bfloat16: the dtype, PyTorch's promotion and limits, accumulation, devices, files,
DLPack, optimizers and autocast; and the error when the optional ml_dtypes package is missing.
(Every op-table row in bfloat16: tests/test_bfloat16_ops.py.)"""

import io
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import minigrad
from minigrad import nn

ml_dtypes = pytest.importorskip("ml_dtypes")
BF16 = np.dtype(ml_dtypes.bfloat16)


def test_the_dtype_and_its_conversions():
    d = minigrad.bfloat16
    assert repr(d) == "minigrad.bfloat16" and d.is_floating_point and d.is_signed
    assert d.itemsize == 2 and d.numpy == BF16
    assert minigrad.dtypes.to_dtype("bfloat16") is d and minigrad.dtypes.to_dtype(BF16) is d
    x = minigrad.tensor([1.0, 2.5, -3.0])
    for t in (x.bfloat16(), x.to(d), x.to(dtype=d), x.type("torch.BFloat16Tensor")):
        assert t.dtype is d and t.is_floating_point() and t.tolist() == [1.0, 2.5, -3.0]
        assert t.element_size() == 2 and t.type() == "minigrad.BFloat16Tensor"
    assert isinstance(x.bfloat16(), minigrad.BFloat16Tensor)
    layer = nn.Linear(2, 3).bfloat16()
    assert layer.weight.dtype is minigrad.bfloat16 and layer.bias.dtype is minigrad.bfloat16
    assert layer(minigrad.ones(1, 2, dtype=minigrad.bfloat16)).dtype is minigrad.bfloat16
    assert x.bfloat16().float().dtype is minigrad.float32
    assert minigrad.tensor(3.0, dtype=d).item() == 3.0
    assert float(minigrad.tensor(1.0 / 3, dtype=d)) == 0.333984375  # rounded to 8 bits


@pytest.mark.parametrize(
    "make",
    [
        lambda d: minigrad.zeros(2, 3, dtype=d),
        lambda d: minigrad.ones(2, 3, dtype=d),
        lambda d: minigrad.empty(2, 3, dtype=d),
        lambda d: minigrad.full((2, 3), 1.5, dtype=d),
        lambda d: minigrad.arange(6, dtype=d),
        lambda d: minigrad.linspace(0, 1, 5, dtype=d),
        lambda d: minigrad.eye(3, dtype=d),
        lambda d: minigrad.rand(2, 3, dtype=d),
        lambda d: minigrad.randn(2, 3, dtype=d),
        lambda d: minigrad.tensor([[1.0, 2.0]], dtype=d),
        lambda d: minigrad.as_tensor([1.0, 2.0], dtype=d),
        lambda d: minigrad.zeros_like(minigrad.ones(2), dtype=d),
        lambda d: minigrad.ones(2).new_zeros(3, dtype=d),
    ],
)
def test_factories_take_dtype(make):
    t = make(minigrad.bfloat16)
    assert t.dtype is minigrad.bfloat16 and t.numpy().dtype == BF16


def test_finfo_is_pytorchs():
    torch = pytest.importorskip("torch")
    got, want = minigrad.finfo(minigrad.bfloat16), torch.finfo(torch.bfloat16)
    for name in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(got, name) == getattr(want, name), name
    assert got.dtype == "bfloat16"


_TENSORS = ["bfloat16", "float16", "float32", "float64", "int64", "int32", "uint8", "bool"]


def _operand(m, kind: str):
    """A 2-element tensor (``'float16'``), a 0-d tensor (``'0d:float16'``) or a Python number."""
    if kind in ("py_float", "py_int", "py_bool"):
        return {"py_float": 2.5, "py_int": 3, "py_bool": True}[kind]
    zero_d, name = kind.startswith("0d:"), kind.removeprefix("0d:")
    t = m.ones(()) if zero_d else m.ones(2)
    return t.to(getattr(m, name))


PAIRS = (
    [("bfloat16", other) for other in _TENSORS]
    + [(other, "bfloat16") for other in _TENSORS]
    + [("bfloat16", s) for s in ("py_float", "py_int", "py_bool")]
    + [(s, "bfloat16") for s in ("py_float", "py_int")]
    + [("bfloat16", "0d:" + d) for d in ("float16", "float32", "float64", "int64")]
    + [("0d:bfloat16", d) for d in ("float16", "int64", "uint8", "bool")]
    + [("0d:bfloat16", "0d:float16"), ("0d:bfloat16", "py_float")]
)


@pytest.mark.parametrize("a,b", PAIRS, ids=[f"{a}+{b}" for a, b in PAIRS])
def test_promotion_matches_torch(a, b):
    torch = pytest.importorskip("torch")
    got = _operand(minigrad, a) + _operand(minigrad, b)
    want = _operand(torch, a) + _operand(torch, b)
    assert got.dtype.name == str(want.dtype).removeprefix("torch.")


@pytest.mark.parametrize("other", _TENSORS)
def test_promote_types_matches_torch(other):
    torch = pytest.importorskip("torch")
    for a, b in (("bfloat16", other), (other, "bfloat16")):
        got = minigrad.dtypes.promote_types(getattr(minigrad, a), getattr(minigrad, b))
        want = torch.promote_types(getattr(torch, a), getattr(torch, b))
        assert got.name == str(want).removeprefix("torch.")


OVERFLOWS = {
    "full": lambda m: m.full((1,), 1e39, dtype=m.bfloat16),
    "fill_": lambda m: m.zeros(1, dtype=m.bfloat16).fill_(1e39),
    "masked_fill": lambda m: m.zeros(1, dtype=m.bfloat16).masked_fill(m.tensor([True]), 1e39),
    "tensor": lambda m: m.tensor([1e39, -1e39], dtype=m.bfloat16),
    "add": lambda m: m.ones(1, dtype=m.bfloat16) + 1e39,
}


@pytest.mark.filterwarnings("ignore:overflow encountered")
@pytest.mark.parametrize("name", list(OVERFLOWS))
def test_values_beyond_bfloat16s_range_as_pytorch(name):
    """PyTorch saturates to inf in ``full``/``fill_``/conversion and refuses in masked_fill."""
    torch = pytest.importorskip("torch")
    try:
        want = OVERFLOWS[name](torch)
    except RuntimeError:
        with pytest.raises(RuntimeError, match="bfloat16 without overflow"):
            OVERFLOWS[name](minigrad)
        return
    assert OVERFLOWS[name](minigrad).tolist() == want.tolist()


def test_reductions_accumulate_in_float32_as_pytorch():
    torch = pytest.importorskip("torch")
    x_m = minigrad.ones(70000, dtype=minigrad.bfloat16)
    x_t = torch.ones(70000, dtype=torch.bfloat16)
    for f in (
        lambda x: x.sum(),
        lambda x: x.mean(),
        lambda x: x.cumsum(0)[-1],
        lambda x: x.norm(),
        lambda x: (x * 0.001).var(),
        lambda x: x.softmax(0)[0] * 70000,
    ):
        got, want = f(x_m), f(x_t)
        assert got.dtype is minigrad.bfloat16
        assert got.float().item() == pytest.approx(want.float().item(), rel=1e-2, abs=1e-6)
    assert x_m.sum().float().item() == 70144.0  # 70000 rounded once: not stuck at 256


def test_gradients_flow_in_bfloat16():
    x = minigrad.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=minigrad.bfloat16, requires_grad=True)
    w = minigrad.tensor([[0.25], [-1.0]], dtype=minigrad.bfloat16, requires_grad=True)
    ((x @ w).tanh().sum() + x.exp().mean()).backward()
    assert x.grad.dtype is minigrad.bfloat16 and w.grad.dtype is minigrad.bfloat16
    torch = pytest.importorskip("torch")
    xt = torch.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=torch.bfloat16, requires_grad=True)
    wt = torch.tensor([[0.25], [-1.0]], dtype=torch.bfloat16, requires_grad=True)
    ((xt @ wt).tanh().sum() + xt.exp().mean()).backward()
    for got, want in ((x.grad, xt.grad), (w.grad, wt.grad)):
        np.testing.assert_allclose(got.float().numpy(), want.float().numpy(), rtol=2e-2, atol=2e-3)


def test_numpy_interop_returns_and_shares_ml_dtypes_arrays():
    t = minigrad.tensor([1.0, 2.0], dtype=minigrad.bfloat16)
    a = t.numpy()
    assert a.dtype == BF16 and np.asarray(t).dtype == BF16
    a[0] = 7.0  # numpy() shares memory, as in PyTorch
    assert t[0].item() == 7.0
    b = np.array([0.5, 1.5], dtype=BF16)
    s = minigrad.from_numpy(b)
    assert s.dtype is minigrad.bfloat16
    s.add_(1)
    assert b.tolist() == [1.5, 2.5]
    assert minigrad.tensor(b).dtype is minigrad.bfloat16
    assert "dtype=minigrad.bfloat16" in repr(t)


def test_dlpack_refuses_bfloat16_by_name():
    t = minigrad.ones(2, dtype=minigrad.bfloat16)
    with pytest.raises(BufferError, match="bfloat16"):
        t.__dlpack__()
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="bfloat16"):
        minigrad.from_dlpack(torch.ones(2, dtype=torch.bfloat16))
    bits = torch.tensor([1.5, -2.0], dtype=torch.bfloat16)  # the recipe the errors suggest:
    shared = minigrad.from_numpy(bits.view(torch.int16).numpy().view(BF16))
    assert shared.dtype is minigrad.bfloat16 and shared.tolist() == [1.5, -2.0]
    shared.mul_(2)
    assert bits.tolist() == [3.0, -4.0]  # zero-copy both ways
    back = torch.from_numpy(shared.numpy().view(np.int16)).view(torch.bfloat16)
    assert back.tolist() == [3.0, -4.0]


def test_gpu_devices_refuse_bfloat16_and_take_float16():
    x = minigrad.ones(2, dtype=minigrad.bfloat16)
    gpu = minigrad.ones(2, device="fakegpu")
    refusals = [
        lambda: x.to("fakegpu"),
        lambda: minigrad.zeros(2, dtype=minigrad.bfloat16, device="fakegpu"),
        lambda: minigrad.randn(2, dtype=minigrad.bfloat16, device="fakegpu"),
        lambda: minigrad.tensor([1.0], dtype=minigrad.bfloat16, device="fakegpu"),
        lambda: gpu.bfloat16(),
        lambda: gpu.new_zeros(2, dtype=minigrad.bfloat16),
        lambda: nn.Linear(2, 2).to(minigrad.bfloat16).to("fakegpu"),
    ]
    for make in refusals:
        with pytest.raises(TypeError, match="CuPy has no bfloat16"):
            make()
    h = gpu.half()  # float16 works on both devices
    y = (h * 2).sum()
    assert y.dtype is minigrad.float16 and y.item() == 4.0
    assert (
        minigrad.ones(2, dtype=minigrad.float16, device="fakegpu").cpu().dtype is minigrad.float16
    )


def test_checkpoints_round_trip(tmp_path):
    model = nn.Linear(3, 2).to(minigrad.bfloat16)
    state = model.state_dict()
    buffer = io.BytesIO()
    minigrad.save(state, buffer)
    buffer.seek(0)
    loaded = minigrad.load(buffer)
    for k, v in state.items():
        assert loaded[k].dtype is minigrad.bfloat16
        assert loaded[k].numpy().tobytes() == v.numpy().tobytes()
    pytest.importorskip("safetensors")
    minigrad.io.save_safetensors(state, tmp_path / "m.safetensors")
    back = minigrad.io.load_safetensors(tmp_path / "m.safetensors")
    assert all(back[k].dtype is minigrad.bfloat16 for k in state)
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    read = load_file(tmp_path / "m.safetensors")
    assert read["weight"].dtype is torch.bfloat16
    np.testing.assert_array_equal(read["weight"].float().numpy(), state["weight"].float().numpy())
    torch.save({"w": read["weight"]}, tmp_path / "t.pt")
    assert minigrad.load(tmp_path / "t.pt")["w"].dtype is minigrad.bfloat16


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_optimizers_keep_bfloat16_and_follow_torch(name):
    torch = pytest.importorskip("torch")
    kw = {"lr": 0.1, **({"momentum": 0.9} if name == "SGD" else {})}
    p = nn.Parameter(minigrad.tensor([1.0, -2.0, 3.0], dtype=minigrad.bfloat16))
    q = torch.nn.Parameter(torch.tensor([1.0, -2.0, 3.0], dtype=torch.bfloat16))
    opt_m, opt_t = getattr(minigrad.optim, name)([p], **kw), getattr(torch.optim, name)([q], **kw)
    for _ in range(3):
        for param, opt in ((p, opt_m), (q, opt_t)):
            opt.zero_grad()
            (param * param).sum().backward()
            opt.step()
    assert p.dtype is minigrad.bfloat16
    buffers = [v for v in opt_m.state[p].values() if isinstance(v, minigrad.Tensor) and v.ndim]
    assert buffers and all(v.dtype is minigrad.bfloat16 for v in buffers)
    # bfloat16 keeps 8 bits: one rounding in another order moves a result by a step or two
    np.testing.assert_allclose(p.detach().float().numpy(), q.detach().float().numpy(), atol=0.05)


def test_collectives_reduce_bfloat16_in_float32():
    """MPI has no bfloat16: reductions stage it as float32 and write bfloat16 back."""
    from minigrad.distributed.collectives import _Staged

    t = minigrad.tensor([1.5, 2.0], dtype=minigrad.bfloat16)
    staged = _Staged(t, reduce=True)
    assert staged.buf.dtype == np.float32
    staged.write_back(staged.buf * 2)
    assert t.dtype is minigrad.bfloat16 and t.tolist() == [3.0, 4.0]


def test_without_ml_dtypes_bfloat16_names_the_package(tmp_path):
    """minigrad imports and works without ml_dtypes; touching bfloat16 says what to install,
    and PyTorch's bfloat16 tensors load as float32 (the same values)."""
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.tensor([1.5, -3.25], dtype=torch.bfloat16)}, tmp_path / "t.pt")
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["ml_dtypes"] = None  # what an environment without the package sees
        import minigrad
        assert (minigrad.ones(2) * 2).tolist() == [2.0, 2.0]
        assert repr(minigrad.bfloat16) == "minigrad.bfloat16"
        for touch in (
            lambda: minigrad.zeros(2, dtype=minigrad.bfloat16),
            lambda: minigrad.ones(2).bfloat16(),
            lambda: minigrad.finfo(minigrad.bfloat16),
        ):
            try:
                touch()
            except ImportError as e:
                assert "ml_dtypes" in str(e) and "pip install" in str(e), e
            else:
                raise AssertionError("no ImportError")
        w = minigrad.load({str(tmp_path / "t.pt")!r})["w"]
        assert w.dtype is minigrad.float32 and w.tolist() == [1.5, -3.25], w
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
