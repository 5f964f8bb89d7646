"""minigrad._c_log.c_log is the C library's log (math.log) bit for bit, vectorized."""

import math

import numpy as np
import pytest

from minigrad._c_log import c_log


def _numbers(rng, n):
    return {
        "one_minus_uniform": 1.0 - rng.integers(0, 2**53, n) * 2.0**-53,  # Box-Muller's input
        "wide_range": np.exp(rng.uniform(-700, 700, n)),
        "near_one": 1 + rng.uniform(-1e-3, 1e-3, n),
        "any_bits": rng.integers(1, 0x7FF0000000000000, n, dtype=np.uint64).view(np.float64),
        "special": np.array([1.0, 2.0, 0.5, 5e-324, 2.0**-1022, 1.7976931348623157e308, 2**-53]),
    }


@pytest.mark.parametrize("kind", ["one_minus_uniform", "wide_range", "near_one", "any_bits"])
def test_c_log_equals_math_log(kind):
    x = _numbers(np.random.default_rng(0), 50_000)[kind]
    expected = np.array([math.log(v) for v in x.tolist()])
    assert np.array_equal(c_log(x).view(np.uint64), expected.view(np.uint64))


def test_c_log_special_values_and_shape():
    x = _numbers(np.random.default_rng(0), 1)["special"]
    assert c_log(x).tolist() == [math.log(v) for v in x.tolist()]
    assert c_log(np.full((3, 4), 2.0)).shape == (3, 4)
