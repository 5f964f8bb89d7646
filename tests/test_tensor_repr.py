"""Tensors print as PyTorch prints them: the layout (fixed, whole or scientific), the widths,
the elements per line and the wrapping, for every dtype and print option, compared with
PyTorch on random tensors of mixed magnitudes, zeros, nan and inf."""

import re

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")

_SPECIAL = [0.0, -0.0, 1.0, np.nan, np.inf, -np.inf, 0.5, 1e-5, 1e8, 123456.0, 1e9]
_DTYPES = ["float32", "float64", "float16", "int64", "int16", "bool", "complex64"]
_OPTIONS = [{}, {"sci_mode": False}, {"sci_mode": True}, {"precision": 2, "linewidth": 60}]


def _values(rng):
    shape = tuple(int(n) for n in rng.integers(1, 5, rng.integers(1, 3)))
    kind = rng.integers(0, 6)
    if kind == 0:
        a = rng.normal(size=shape) * 10.0 ** rng.integers(-10, 10)
    elif kind == 1:
        a = np.round(rng.normal(size=shape) * 10.0 ** rng.integers(0, 9))
    elif kind == 2:
        a = rng.choice(_SPECIAL, size=shape)
    elif kind == 3:
        a = rng.integers(-1000, 1000, shape) * rng.choice([1, 0.25, 1e-3])
    elif kind == 4:  # summarized: more than 1000 elements
        a = rng.normal(size=(int(rng.integers(30, 60)), int(rng.integers(30, 60))))
    else:
        a = rng.choice([0.0, -0.0], size=(int(rng.integers(1, 50)),))
    dtype = rng.choice(_DTYPES)
    if dtype.startswith("int"):
        a = np.nan_to_num(a, posinf=7, neginf=-7) % 30000
    with np.errstate(all="ignore"):
        if dtype == "complex64":
            a = a + 1j * np.roll(a, 1)
        return a.astype(dtype)


def _text(module, values) -> str:
    # (the dtype suffix wraps by the length of the module's name: compared unwrapped)
    text = repr(module.tensor(values)).replace(module.__name__ + ".", "")
    return re.sub(r",\n +dtype=", ", dtype=", text)


@pytest.mark.parametrize("options", _OPTIONS, ids=str)
def test_prints_as_pytorch(options):
    rng = np.random.default_rng(len(str(options)))
    try:
        for _ in range(60):
            values = _values(rng)
            torch.set_printoptions(**options)
            minigrad.set_printoptions(**options)
            assert _text(minigrad, values) == _text(torch, values), (values.dtype, values)
    finally:
        torch.set_printoptions(profile="default", sci_mode=None)
        minigrad.set_printoptions(profile="default", sci_mode=None)


def test_zeros_and_specials_do_not_widen_the_columns():
    assert repr(minigrad.tensor([-0.0, 0.0])) == "tensor([-0., 0.])"
    assert repr(minigrad.tensor([1.5, float("nan")])) == "tensor([1.5000,    nan])"
    assert repr(minigrad.tensor([1e8])) == "tensor([100000000.])"
    assert str(minigrad.zeros(30)).count("\n") == 1  # 24 on the first line, as PyTorch
