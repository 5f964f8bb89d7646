"""F.grouped_mm (forward against PyTorch, gradients by gradcheck: PyTorch has no CPU backward),
F.conv_tbc, and the float8 products that raise."""

import numpy as np
import pytest

import minigrad
from minigrad.autograd import gradcheck
from minigrad.nn import functional as F

torch = pytest.importorskip("torch")


def _pair(rng, shape, transpose=False):
    a = rng.standard_normal(shape).astype(np.float32)
    t = torch.tensor(a.T.copy()).t() if transpose else torch.tensor(a)  # PyTorch's stride rules
    return minigrad.tensor(a), t


@pytest.mark.parametrize(
    "shapes,ends,transpose_a",
    [
        (((10, 8), (3, 8, 8)), [3, 3, 8], False),  # rows per expert; two rows after the last
        (((3, 8, 8), (8, 12)), [4, 8, 12], False),
        (((8, 12), (12, 8)), [4, 8, 12], True),
        (((3, 6, 8), (3, 8, 8)), None, False),
    ],
)
def test_grouped_mm_matches_torch(shapes, ends, transpose_a):
    rng = np.random.default_rng(0)
    am, at = _pair(rng, shapes[0], transpose_a)
    bm, bt = _pair(rng, shapes[1])
    offs_m = None if ends is None else minigrad.tensor(ends, dtype=minigrad.int32)
    offs_t = None if ends is None else torch.tensor(ends, dtype=torch.int32)
    out_m = F.grouped_mm(am, bm, offs=offs_m).numpy()
    out_t = torch.nn.functional.grouped_mm(at, bt, offs=offs_t).numpy()
    if shapes == ((10, 8), (3, 8, 8)):  # PyTorch leaves the rows after the last offset unset
        out_t, out_m, tail = out_t[:8], out_m[:8], out_m[8:]
        assert np.all(tail == 0)
    np.testing.assert_allclose(out_m, out_t, rtol=1e-5, atol=1e-5)
    a64, b64 = (
        minigrad.tensor(x.numpy(), dtype=minigrad.float64, requires_grad=True) for x in (am, bm)
    )
    assert gradcheck(lambda a, b: F.grouped_mm(a, b, offs=offs_m), (a64, b64))


def test_grouped_mm_errors_conv_tbc_and_scaled_mm():
    a, b = minigrad.randn(4, 8), minigrad.randn(2, 8, 8)
    with pytest.raises(RuntimeError, match="offsets"):
        F.grouped_mm(a, b)
    with pytest.raises(RuntimeError, match="int32"):
        F.grouped_mm(a, b, offs=minigrad.tensor([2, 4]))
    with pytest.raises(RuntimeError, match="non-decreasing"):
        F.grouped_mm(a, b, offs=minigrad.tensor([3, 2], dtype=minigrad.int32))
    with pytest.raises(RuntimeError, match="bias"):
        F.grouped_mm(a, b, offs=minigrad.tensor([2, 4], dtype=minigrad.int32), bias=a)
    with pytest.raises(NotImplementedError, match="float8"):
        F.scaled_mm(a, a.t(), 1.0, F.ScalingType.TensorWise, 1.0, F.ScalingType.TensorWise)
    with pytest.raises(NotImplementedError, match="float8"):
        F.scaled_grouped_mm(a, b, 1.0, F.ScalingType.RowWise, 1.0, F.ScalingType.RowWise)
    rng = np.random.default_rng(1)
    x, w, bias = (
        rng.standard_normal((7, 2, 3)),
        rng.standard_normal((3, 3, 4)),
        rng.standard_normal(4),
    )
    out_m = F.conv_tbc(*(minigrad.tensor(v) for v in (x, w, bias)), 1)
    out_t = torch.nn.functional.conv_tbc(*(torch.tensor(v) for v in (x, w, bias)), 1)
    np.testing.assert_allclose(out_m.numpy(), out_t.numpy(), rtol=1e-10)
