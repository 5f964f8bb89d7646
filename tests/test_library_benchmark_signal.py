"""minigrad.library (custom ops), minigrad.utils.benchmark (Timer, Measurement, Compare) and
minigrad.signal.windows, each compared with PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad
from minigrad.signal import windows as mw

torch = pytest.importorskip("torch")

# -- minigrad.signal.windows ----------------------------------------------------------------

_WINDOW_KW = {
    "general_cosine": {"a": [0.4, 0.35, 0.25]},
    "general_hamming": {"alpha": 0.6},
    "kaiser": {"beta": 5.0},
    "gaussian": {"std": 1.7},
    "exponential": {"tau": 2.5},
}


@pytest.mark.parametrize("name", mw.__all__)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_window_values_match_torch(name, dtype):
    kw = _WINDOW_KW.get(name, {})
    for M in (0, 1, 2, 5, 8):
        for sym in (True, False):
            want = getattr(torch.signal.windows, name)(
                M, sym=sym, dtype=getattr(torch, dtype), **kw
            )
            got = getattr(mw, name)(M, sym=sym, dtype=getattr(minigrad, dtype), **kw)
            assert got.dtype == getattr(minigrad, dtype)
            tol = 1e-6 if dtype == "float32" else 1e-12
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=tol, atol=tol)


def test_window_defaults_and_periodic_center():
    assert mw.hann(5).dtype == minigrad.get_default_dtype()
    w = mw.hann(4, requires_grad=True)
    assert w.requires_grad and w.is_leaf
    got = mw.exponential(5, center=1.3, sym=False, dtype=minigrad.float64)
    want = torch.signal.windows.exponential(5, center=1.3, sym=False, dtype=torch.float64)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


_BAD_WINDOWS = [
    ("hann", (-1,), {}),
    ("bartlett", (-2,), {}),
    ("kaiser", (3,), {"dtype": "int64"}),
    ("cosine", (3,), {"dtype": "float16"}),
    ("nuttall", (3,), {"dtype": "int64"}),
    ("gaussian", (4,), {"std": 0.0}),
    ("exponential", (4,), {"tau": 0.0}),
    ("exponential", (4,), {"center": 1.0}),
    ("kaiser", (4,), {"beta": -1.0}),
    ("general_cosine", (4,), {"a": []}),
]


@pytest.mark.parametrize("name, args, kw", _BAD_WINDOWS)
def test_window_errors_match_torch(name, args, kw):
    def call(lib, fns):
        kwargs = {k: getattr(lib, v) if k == "dtype" else v for k, v in kw.items()}
        with pytest.raises(Exception) as info:
            getattr(fns, name)(*args, **kwargs)
        return info

    want, got = call(torch, torch.signal.windows), call(minigrad, mw)
    assert got.type is want.type
    assert str(want.value).replace("torch.", "minigrad.") in str(got.value)


def test_window_type_errors():
    with pytest.raises(TypeError, match="list/tuple"):
        mw.general_cosine(4, a=1)
    with pytest.raises(TypeError, match="must be an int"):
        mw.hann(2.5)
    with pytest.raises(ValueError, match="strided"):
        mw.hann(3, layout=torch.sparse_coo)
