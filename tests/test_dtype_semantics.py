"""Integer, range and float16 semantics (issue 17, classes 6-9): the examples of the issue,
exactly, on every device; the gradient assignment checks; and the O(n) cost of prod's
backward. The op table (``minigrad/testing/op_db_dtypes.py``) compares the same semantics
with PyTorch over more inputs."""

import math
import tracemalloc

import numpy as np
import pytest

import minigrad
from minigrad.autograd import gradcheck, gradgradcheck

# -- class 6: integer and range semantics --------------------------------------------------------


@pytest.mark.parametrize(
    "fn",
    [
        lambda a, b: a // b,
        lambda a, b: a % b,
        lambda a, b: minigrad.div(a, b, rounding_mode="floor"),
        lambda a, b: minigrad.div(a, b, rounding_mode="trunc"),
        lambda a, b: minigrad.remainder(a, b),
    ],
    ids=["floordiv", "mod", "div_floor", "div_trunc", "remainder"],
)
@pytest.mark.parametrize("dtype", ["uint8", "int32", "int64"])
def test_integer_division_by_zero_raises(fn, dtype, device):
    a = minigrad.tensor([5, 7, 3], dtype=getattr(minigrad, dtype), device=device)
    b = minigrad.tensor([1, 0, 2], dtype=getattr(minigrad, dtype), device=device)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        fn(a, b)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        fn(a, 0)
    assert fn(a, 2).dtype is a.dtype  # a non-zero divisor still works


def test_floating_division_by_zero_follows_ieee():
    x = minigrad.tensor([5.0, -5.0, 0.0])
    assert (x / 0).tolist()[:2] == [math.inf, -math.inf] and math.isnan((x / 0)[2].item())
    assert (x // 0).tolist()[:2] == [math.inf, -math.inf]
    assert all(math.isnan(v) for v in (x % 0).tolist())


def test_out_of_range_python_values_raise_as_pytorch():
    with pytest.raises(RuntimeError, match="cannot be converted to type uint8 without overflow"):
        minigrad.tensor([300], dtype=minigrad.uint8)
    with pytest.raises(RuntimeError, match="without overflow"):
        minigrad.full((2,), 300, dtype=minigrad.uint8)
    with pytest.raises(RuntimeError, match="without overflow"):
        minigrad.zeros(2, dtype=minigrad.int8).fill_(128)
    with pytest.raises(ValueError, match="Overflow"):
        minigrad.tensor([2**63])
    # what PyTorch accepts: negative values wrap into unsigned types, floats truncate
    assert minigrad.tensor([-1, 255], dtype=minigrad.uint8).tolist() == [255, 255]
    assert minigrad.tensor([1.9, -1.9], dtype=minigrad.int32).tolist() == [1, -1]
    assert minigrad.full((1,), 1e5, dtype=minigrad.float16).isinf().all()  # fill_ saturates
    # NumPy arrays keep NumPy's conversion (PyTorch does not check them either)
    assert minigrad.tensor(np.array([300]), dtype=minigrad.uint8).tolist() == [44]


def test_python_ints_wrap_into_integer_tensors_in_arithmetic():
    u = minigrad.tensor([1, 200], dtype=minigrad.uint8)
    assert (u + 300).tolist() == [45, 244]
    assert (u - 2).tolist() == [255, 198]
    assert (u > 300).tolist() == [False, True]  # 300 wraps to 44, as in PyTorch
    assert (minigrad.tensor([1]) + 2**63).tolist() == [1 - 2**63]


def test_int64_is_exact_beyond_2_to_the_53(device):
    big = 2**53
    got = minigrad.arange(big, big + 4, device=device)
    assert got.dtype is minigrad.int64 and got.tolist() == [big, big + 1, big + 2, big + 3]
    x = minigrad.tensor(2**62 + 1, device=device)
    assert minigrad.div(x, 1, rounding_mode="trunc").item() == 2**62 + 1
    assert minigrad.div(-x, 3, rounding_mode="trunc").item() == -((2**62 + 1) // 3)
    assert minigrad.div(-x, 3, rounding_mode="floor").item() == (-(2**62) - 1) // 3
    assert (x // 7).item() == (2**62 + 1) // 7
    assert (
        x.sum().item() == 2**62 + 1
        and minigrad.tensor([2**61 + 1, 3]).prod().item() == 3 * 2**61 + 3
    )
    assert minigrad.tensor([big + 1]).cumsum(0).item() == big + 1


# -- class 7: float16 accumulates in float32 -----------------------------------------------------


def test_float16_reductions_accumulate_in_float32(device):
    ones = minigrad.ones(70000, dtype=minigrad.float16, device=device)
    assert ones.mean().item() == 1.0 and ones.mean().dtype is minigrad.float16
    assert ones.norm().item() == pytest.approx(math.sqrt(70000), rel=1e-3)
    assert ones.var().item() == 0.0 and ones.std().item() == 0.0
    assert ones.sum().isinf().item()  # 70,000 does not fit in float16, as in PyTorch
    assert ones.sum(dtype=minigrad.float32).item() == 70000.0
    zeros = minigrad.zeros(70000, dtype=minigrad.float16, device=device)
    assert zeros.softmax(0).float().sum().item() == pytest.approx(1.0, abs=2e-3)
    assert zeros.log_softmax(0)[0].item() == pytest.approx(-math.log(70000), abs=1e-2)
    cumsum = minigrad.ones(5000, dtype=minigrad.float16, device=device).cumsum(0)
    assert cumsum[-1].item() == 5000.0 and cumsum.dtype is minigrad.float16
    big = minigrad.full((4,), 300.0, dtype=minigrad.float16, device=device)
    assert big.norm().item() == 600.0  # the squares (90,000) overflow float16


def test_float16_gradients_stay_float16():
    x = minigrad.ones(70000, dtype=minigrad.float16, requires_grad=True)
    x.mean().backward()
    assert x.grad.dtype is minigrad.float16
    assert x.grad[0].item() == pytest.approx(1 / 70000, rel=1e-2)


def test_log_softmax_of_float16_is_exact_where_pytorch_cpu_is_not():
    """A difference on purpose: PyTorch's CPU kernel sums 70,000 float16 terms in float16 and
    returns -inf; minigrad accumulates in float32 as the DESIGN promises (and PyTorch's
    CUDA kernel does)."""
    y = minigrad.zeros(70000, dtype=minigrad.float16).log_softmax(0)
    assert math.isfinite(y[0].item())


# -- class 8: sorting and dtype slips ------------------------------------------------------------


def test_descending_sort_of_unsigned_and_extreme_integers(device):
    u = minigrad.tensor([0, 255, 3], dtype=minigrad.uint8, device=device)
    assert u.sort(descending=True).values.tolist() == [255, 3, 0]
    i = minigrad.tensor([-(2**63), 2**63 - 1, 0], device=device)
    assert i.argsort(descending=True).tolist() == [1, 2, 0]
    assert i.topk(1).values.tolist() == [2**63 - 1]


def test_nan_sorts_as_the_largest_value_with_stable_ties(device):
    nan = math.nan
    x = minigrad.tensor([3.0, nan, 1.0, nan, 3.0], device=device)
    assert x.sort(descending=True).indices.tolist() == [1, 3, 0, 4, 2]
    assert x.sort().indices.tolist() == [2, 0, 4, 1, 3]
    assert x.topk(2).indices.tolist() == [1, 3]


def test_dtypes_are_kept_where_pytorch_keeps_them():
    ints = minigrad.tensor([1, 2])
    assert ints.masked_fill(minigrad.tensor([True, False]), 2.5).tolist() == [2, 2]
    assert minigrad.tensor([1, 2], dtype=minigrad.uint8).sum(dtype=minigrad.int32).dtype is (
        minigrad.int32
    )
    empty = minigrad.tensor([], dtype=minigrad.float64)
    assert minigrad.cat([ints, empty]).dtype is minigrad.float64
    assert minigrad.tensor([np.float64(1.5)]).dtype is minigrad.float64
    assert minigrad.tensor([np.int32(1), 2.5]).dtype is minigrad.float32


def test_grad_assignment_is_checked(device):
    p = minigrad.zeros(3, requires_grad=True, device=device)
    with pytest.raises(RuntimeError, match="gradient of size"):
        p.grad = minigrad.zeros(4, device=device)
    with pytest.raises(RuntimeError, match="dtype"):
        p.grad = minigrad.zeros(3, dtype=minigrad.float64, device=device)
    with pytest.raises(TypeError, match="Tensor or None"):
        p.grad = 3.0
    other = "fakegpu" if device == "cpu" else "cpu"
    with pytest.raises(RuntimeError, match="device"):
        p.grad = minigrad.zeros(3, device=other)
    p.grad = minigrad.ones(3, device=device)
    (p * 2).sum().backward()
    assert p.grad.tolist() == [3.0, 3.0, 3.0]
    p.grad = None
    assert p.grad is None


# -- class 9: prod's backward in O(n) ------------------------------------------------------------


@pytest.mark.parametrize("zeros", [0, 1, 2, 3])
def test_prod_backward_memory_is_linear(zeros):
    n = 4000
    values = np.linspace(0.999, 1.001, n)
    values[:zeros] = 0.0
    x = minigrad.tensor(values, requires_grad=True)
    y = x.prod()
    tracemalloc.start()
    y.backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 40 * n * 8, f"prod backward allocated {peak / 2**20:.1f} MiB for {n} elements"
    expected = [np.prod(np.delete(values, i)) for i in range(3)]
    np.testing.assert_allclose(x.grad.numpy()[:3], expected, rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("zeros", [[0], [0, 2], [0, 1, 3]])
def test_prod_with_zeros_is_twice_differentiable(zeros):
    values = np.array([[1.5, -0.5, 2.0, 0.7], [0.3, 1.2, -1.1, 2.5]])
    values[0, zeros] = 0.0
    x = minigrad.tensor(values, requires_grad=True)
    for fn in (lambda t: t.prod(), lambda t: t.prod(1), lambda t: t.prod(0, keepdim=True)):
        assert gradcheck(fn, (x,)) and gradgradcheck(fn, (x,))


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t.zeros(2, dtype=float),
        lambda t: t.tensor([1, 2], dtype=float),
        lambda t: t.ones(2).to(float),
        lambda t: t.arange(3, dtype=float),
        lambda t: t.tensor([1.5, 2.5]).to(dtype=int),
        lambda t: t.ones(2, dtype=bool),
    ],
)
def test_python_types_as_dtypes_mean_what_pytorch_says(make):
    """``dtype=float`` is float64 (a C double), not the default dtype; int is int64."""
    torch = pytest.importorskip("torch")
    ours, theirs = make(minigrad), make(torch)
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    assert ours.tolist() == theirs.tolist()
