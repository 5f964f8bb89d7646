"""DLPack and from_numpy: zero-copy exchange with NumPy and PyTorch (CuPy on a GPU)."""

import numpy as np
import pytest

import minigrad


def test_from_numpy_shares_memory_both_ways():
    a = np.arange(4.0)
    t = minigrad.from_numpy(a)
    t.add_(1)
    assert a.tolist() == [1.0, 2.0, 3.0, 4.0]
    a[0] = 9
    assert t[0].item() == 9 and t.dtype == minigrad.float64
    with pytest.raises(TypeError, match=r"expected np\.ndarray \(got list\)"):
        minigrad.from_numpy([1, 2])
    with pytest.raises(TypeError, match="unsupported element type"):
        minigrad.from_numpy(np.array([1.0], dtype=np.longdouble))
    c = np.array([1j])
    assert minigrad.from_numpy(c).dtype is minigrad.complex128
    minigrad.from_numpy(c).mul_(2)
    assert c.tolist() == [2j]


def test_numpy_round_trip_is_zero_copy():
    t = minigrad.arange(6, dtype=minigrad.float32).reshape(2, 3)
    a = np.from_dlpack(t)
    assert t.__dlpack_device__() == (1, 0) and np.shares_memory(a, t.numpy())
    back = minigrad.from_dlpack(a)
    back[0, 0] = 42.0
    assert t[0, 0].item() == 42.0
    src = np.ones((2, 2), dtype=np.int16)
    u = minigrad.from_dlpack(src)
    src[1, 1] = 7
    assert u.dtype == minigrad.int16 and u[1, 1].item() == 7


def test_pytorch_round_trip_is_zero_copy():
    torch = pytest.importorskip("torch")
    t = minigrad.zeros(3)
    tt = torch.from_dlpack(t)
    tt[1] = 5.0
    assert t.tolist() == [0.0, 5.0, 0.0]
    src = torch.arange(4, dtype=torch.int64)
    m = minigrad.from_dlpack(src)
    src[0] = -1
    assert m.tolist() == [-1, 1, 2, 3] and m.dtype == minigrad.int64
    with pytest.raises(RuntimeError, match="require gradient"):
        torch.from_dlpack(minigrad.ones(2, requires_grad=True))


def test_bad_inputs():
    with pytest.raises(TypeError, match="implementing __dlpack__"):
        minigrad.from_dlpack([1, 2])
    fake = minigrad.ones(2, device="fakegpu")
    with pytest.raises(BufferError, match="fakegpu"):
        fake.__dlpack__()


@pytest.mark.gpu
def test_cupy_round_trip_is_zero_copy():
    if not minigrad.cuda.is_available():
        pytest.skip("needs CuPy and a CUDA device")
    import cupy

    t = minigrad.zeros(3, device="cuda")
    c = cupy.from_dlpack(t)
    c[0] = 3.0
    assert t.tolist() == [3.0, 0.0, 0.0] and t.__dlpack_device__() == (2, 0)
    back = minigrad.from_dlpack(cupy.arange(3.0))
    assert back.device == "cuda:0" and back.tolist() == [0.0, 1.0, 2.0]
