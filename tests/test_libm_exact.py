"""Float64 samplers and ``minigrad._libm.libm``: the C library's last bits (PyTorch's scalar
kernels) also where NumPy's ufuncs run SVML code (AVX-512 CPUs)."""

import math

import numpy as np
import pytest

import minigrad
from minigrad._libm import libm

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(
    "name, args",
    [
        ("exponential_", (0.5,)),
        ("geometric_", (0.3,)),
        ("cauchy_", (1.0, 2.0)),
        ("log_normal_", ()),
    ],
)
def test_float64_samplers_are_pytorchs_bit_for_bit(name, args):
    minigrad.manual_seed(11), torch.manual_seed(11)
    m, t = minigrad.empty(2000, dtype=minigrad.float64), torch.empty(2000, dtype=torch.float64)
    getattr(m, name)(*args), getattr(t, name)(*args)
    np.testing.assert_array_equal(m.numpy(), t.numpy())


def test_libm_is_math_elementwise_with_numpys_edge_values():
    x = np.linspace(-3.0, 40.0, 257)
    for name in ("log1p", "exp", "tan", "sin", "cos"):
        with np.errstate(all="ignore"):
            want = [getattr(math, name)(v) if v > -1 or name != "log1p" else np.nan for v in x]
        np.testing.assert_array_equal(libm(name, x), want, err_msg=name)
    np.testing.assert_array_equal(libm("log", np.array([0.0, -1.0, 1.0])), [-np.inf, np.nan, 0])
    np.testing.assert_array_equal(libm("exp", np.array([1000.0])), [np.inf])
    np.testing.assert_array_equal(libm("power", 10.0, np.array([2.0, 400.0])), [100.0, np.inf])
    assert libm("power", 2.0, 3.0).shape == ()
