"""Regression tests for what the fourteenth program round (official tutorials and recipes,
popular repositories' training loops) found different from PyTorch."""

import pytest

import minigrad


def test_reductions_take_numpys_keepdims_alias():
    """makemore writes ``P.sum(1, keepdims=True)``: PyTorch's argument parser takes NumPy's
    ``keepdims`` for ``keepdim`` (as it takes ``axis`` for ``dim``)."""
    x = minigrad.arange(6.0).reshape(2, 3)
    assert x.sum(1, keepdims=True).shape == (2, 1)
    assert minigrad.mean(x, axis=0, keepdims=True).tolist() == [[1.5, 2.5, 3.5]]
    assert x.max(1, keepdims=True).values.shape == (2, 1)
    assert x.std(0, keepdims=True).shape == (1, 3)
    with pytest.raises(TypeError, match="'keepdim' and its alias 'keepdims'"):
        x.sum(1, keepdim=True, keepdims=True)
