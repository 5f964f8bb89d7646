"""uint16/32/64, the float8 dtypes and complex32 compared with PyTorch: limits, promotion,
conversions bit for bit, and which ops run or raise."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")
pytest.importorskip("ml_dtypes")

UINTS = ["uint16", "uint32", "uint64"]
FLOAT8 = ["float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu"]


def _values():
    rng = np.random.default_rng(0)
    scale = 10.0 ** rng.integers(-12, 12, 3000)
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 500.0, 448.0, 464.0, 240.0, 1e30]
    special += [-1e30, 57344.0, 61440.0, 1e-40, -2.5, 300.0]
    return np.concatenate([rng.standard_normal(3000) * scale, special])


@pytest.mark.parametrize("name", FLOAT8)
def test_float8_conversions_match_torch_bits(name):
    mine, theirs = getattr(minigrad, name), getattr(torch, name)
    for src in (np.float32, np.float64):
        values = _values().astype(src)
        bits = minigrad.tensor(values).to(mine).numpy().view(np.uint8)
        expected = torch.from_numpy(values).to(theirs).view(torch.uint8).numpy()
        np.testing.assert_array_equal(bits, expected)
    every = np.arange(256, dtype=np.uint8)
    decoded = minigrad.from_numpy(every.view(mine.numpy)).float().numpy()
    expected = torch.from_numpy(every).view(theirs).float().numpy()
    np.testing.assert_array_equal(decoded, expected)  # (NaNs compare equal here)
    made = minigrad.tensor([300.0, 500.0, -1.0], dtype=mine).numpy().view(np.uint8)
    assert (
        made.tolist() == torch.tensor([300.0, 500.0, -1.0], dtype=theirs).view(torch.uint8).tolist()
    )
    for fill in (0.0, 1.0, 0.5, -1.0, 500.0, 1e6, 1e-40, float("inf")):
        assert _filled(minigrad, mine, fill) == _filled(torch, theirs, fill), fill


def _filled(lib, dt, fill):
    try:
        out = lib.full((2,), fill, dtype=dt)
    except RuntimeError as e:
        return "overflow" if "without overflow" in str(e) else str(e)
    return out.view(torch.uint8).tolist() if lib is torch else out.numpy().view(np.uint8).tolist()


@pytest.mark.parametrize("name", FLOAT8 + UINTS)
def test_info_and_flags_match_torch(name):
    mine, theirs = getattr(minigrad, name), getattr(torch, name)
    info = minigrad.finfo if theirs.is_floating_point else minigrad.iinfo
    tinfo = torch.finfo if theirs.is_floating_point else torch.iinfo
    assert repr(info(mine)) == repr(tinfo(theirs))
    assert (mine.is_floating_point, mine.is_signed, mine.itemsize) == (
        theirs.is_floating_point,
        theirs.is_signed,
        theirs.itemsize,
    )
    legacy = minigrad.zeros(1, dtype=mine).type().split(".")[-1]
    assert legacy == torch.zeros(1, dtype=theirs).type().split(".")[-1]


def _outcome(fn):
    try:
        out = fn()
    except (NotImplementedError, RuntimeError) as e:
        return type(e).__name__
    return str(out.dtype).split(".")[-1], np.asarray(out.float().tolist()).tolist()


def _cases(lib, name):
    dt = getattr(lib, name)
    x = lib.tensor([1, 2, 3], dtype=dt)
    return {
        "add": lambda: x + x,
        "sub": lambda: x - x,
        "mul": lambda: x * x,
        "mul_scalar": lambda: x * 2,
        "neg": lambda: -x,
        "eq": lambda: x == x,
        "lt": lambda: x < x,
        "cat": lambda: lib.cat([x, x]),
        "index": lambda: x[[0, 2]],
        "view": lambda: x.reshape(3, 1).expand(3, 2).permute(1, 0).reshape(-1),
        "clone": lambda: x.clone(),
        "max": lambda: x.max(),
        "abs": lambda: x.abs(),
        "float": lambda: x.float(),
        "where": lambda: lib.where(lib.tensor([True, False, True]), x, x),
        "promote_int64": lambda: x * lib.tensor([1, 1, 1]),
        "promote_float32": lambda: x * lib.tensor([1.0, 1.0, 1.0]),
        "matmul": lambda: x.reshape(3, 1) @ x.reshape(1, 3),
    }


@pytest.mark.parametrize("name", UINTS + FLOAT8)
def test_which_ops_run_match_torch(name):
    mine, theirs = _cases(minigrad, name), _cases(torch, name)
    for case in mine:
        assert _outcome(mine[case]) == _outcome(theirs[case]), case


@pytest.mark.parametrize("name", UINTS)
def test_uint_sums_div_and_big_values(name):
    x = minigrad.tensor([1, 2, 3], dtype=getattr(minigrad, name))
    assert x.sum().dtype is minigrad.int64 and x.cumsum(0).tolist() == [1, 3, 6]
    assert (x / 2).dtype is minigrad.float32 and (x & x).dtype is x.dtype
    assert (
        minigrad.full((1,), -1, dtype=x.dtype).tolist()
        == torch.full((1,), -1, dtype=getattr(torch, name)).tolist()
    )
    assert x.sort().values.tolist() == [1, 2, 3]
    big = minigrad.tensor([2**64 - 1], dtype=minigrad.uint64)
    assert big.tolist() == [2**64 - 1]


def test_promotion_errors_match_torch():
    pairs = [("uint16", "int64"), ("uint16", "bool"), ("uint8", "uint32"), ("uint64", "float16")]
    pairs += [
        ("float8_e4m3fn", "float32"),
        ("float8_e5m2", "float8_e4m3fn"),
        ("float8_e5m2", "bfloat16"),
    ]
    for a, b in pairs:
        try:
            expected = str(torch.promote_types(getattr(torch, a), getattr(torch, b))).split(".")[1]
        except RuntimeError as e:
            with pytest.raises(RuntimeError, match=str(e).split(",")[0]):
                minigrad.promote_types(getattr(minigrad, a), getattr(minigrad, b))
            continue
        assert minigrad.promote_types(getattr(minigrad, a), getattr(minigrad, b)).name == expected


def test_complex32_is_a_name_that_refuses_use():
    assert minigrad.chalf is minigrad.complex32 and minigrad.complex32.is_complex
    with pytest.raises(NotImplementedError, match="complex32"):
        minigrad.zeros(2, dtype=minigrad.complex32)
    with pytest.raises(NotImplementedError, match="complex32"):
        minigrad.ones(2).to(minigrad.chalf)


@pytest.mark.parametrize("name", ["uint16", "uint64", "float8_e4m3fn", "float8_e8m0fnu"])
def test_factories_refuse_as_torch(name):
    for make in (
        lambda lib, d: lib.arange(3, dtype=d),
        lambda lib, d: lib.linspace(0, 1, 3, dtype=d),
        lambda lib, d: lib.eye(2, dtype=d),
        lambda lib, d: lib.randperm(3, dtype=d),
        lambda lib, d: lib.rand(2, dtype=d) if d.is_floating_point else lib.zeros(2, dtype=d),
        lambda lib, d: lib.randint(0, 3, (2,), dtype=d),
    ):
        outcomes = []
        for lib in (minigrad, torch):
            try:
                outcomes.append(str(make(lib, getattr(lib, name)).dtype).split(".")[-1])
            except NotImplementedError:
                outcomes.append("NotImplementedError")
        assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize(
    "name", ["uint16", "uint64", "float8_e4m3fn", "float8_e5m2", "float8_e8m0fnu"]
)
def test_checkpoints_keep_the_dtype(name, tmp_path):
    values = [1, 2, 4] if name.startswith("uint") else [1.0, -3.0, 0.5]
    mine = minigrad.tensor(values, dtype=getattr(minigrad, name))
    minigrad.save({"x": mine}, tmp_path / "m.pt")
    back = minigrad.load(tmp_path / "m.pt")["x"]
    assert back.dtype is mine.dtype and back.tolist() == mine.tolist()
    theirs = torch.tensor(values, dtype=getattr(torch, name))
    torch.save({"x": theirs, "tail": theirs[1:]}, tmp_path / "t.pt")
    loaded = minigrad.load(tmp_path / "t.pt")
    assert loaded["x"].dtype is mine.dtype and loaded["x"].tolist() == theirs.tolist()
    assert loaded["tail"].tolist() == theirs[1:].tolist()


def test_on_every_device(device):
    x = minigrad.tensor([1, 2, 3], dtype=minigrad.uint32, device=device)
    assert (x * x).tolist() == [1, 4, 9] and x.sum().item() == 6
    assert minigrad.cat([x, x]).dtype is minigrad.uint32
    with pytest.raises(NotImplementedError, match="UInt32"):
        x + x
    if device == "cpu":
        assert minigrad.ones(2, device=device).to(minigrad.float8_e4m3fn).tolist() == [1.0, 1.0]
    else:  # CuPy has no float8 dtypes
        with pytest.raises(TypeError, match="float8_e4m3fn"):
            minigrad.ones(2, device=device).to(minigrad.float8_e4m3fn)
