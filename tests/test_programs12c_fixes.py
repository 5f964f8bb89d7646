"""Regression tests for what the twelfth round's third set of programs
(tests/test_programs12c.py) found differing from PyTorch in minigrad, each compared with
PyTorch."""

import pytest

import minigrad

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("lib", [minigrad, torch])
def test_vector_to_parameters_points_the_parameters_at_the_vector(lib):
    # evolution strategies write each candidate with it; PyTorch rebinds ``.data`` to views
    params = [lib.nn.Parameter(lib.zeros(2, 2)), lib.nn.Parameter(lib.zeros(3))]
    vec = lib.arange(8.0, dtype=lib.float64)
    lib.nn.utils.vector_to_parameters(vec, params)
    vec[0] = 100.0  # shared storage: the parameter sees it
    assert params[0].tolist() == [[100.0, 1.0], [2.0, 3.0]] and params[1].tolist() == [4, 5, 6]
    assert params[0].dtype == lib.float64 and params[0].requires_grad  # the vector's dtype


@pytest.mark.parametrize("lib", [minigrad, torch])
def test_vector_to_parameters_ignores_extra_elements_and_refuses_too_few(lib):
    params = [lib.zeros(3)]
    lib.nn.utils.vector_to_parameters(lib.arange(5.0), params)
    assert params[0].tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(RuntimeError, match=r"shape '\[3\]' is invalid for input of size 2"):
        lib.nn.utils.vector_to_parameters(lib.zeros(2), params)


@pytest.mark.parametrize("lib", [minigrad, torch])
def test_vector_to_parameters_wants_a_tensor(lib):
    with pytest.raises(TypeError, match="^expected torch.Tensor, but got: list$"):
        lib.nn.utils.vector_to_parameters([0.0, 1.0], [lib.zeros(2)])
