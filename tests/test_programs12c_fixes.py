"""Regression tests for what the twelfth round's third set of programs
(tests/test_programs12c.py) found differing from PyTorch in minigrad, each compared with
PyTorch."""

import numpy as np
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


def _double_well(lib):
    return lambda s: (s**4).sum() / 4 + (s[0] * s[1]) ** 2


@pytest.mark.parametrize("lib", [minigrad, torch])
@pytest.mark.parametrize("batched", [False, True])
def test_func_hessian_of_a_function_of_its_input_only_has_no_graph(lib, batched):
    # Lagrangian networks solve with it and then backpropagate a loss: a leaked graph of the
    # transforms' own leaves made the second backward fail ("backward through the graph a
    # second time")
    hessian = lib.func.hessian(_double_well(lib))
    x = lib.tensor([[1.0, 0.3], [0.2, -0.7]])
    out = lib.func.vmap(hessian)(x) if batched else hessian(x[0])
    assert not out.requires_grad and out.grad_fn is None


@pytest.mark.parametrize("lib", [minigrad, torch])
def test_func_hessian_keeps_the_graph_to_a_closed_over_parameter(lib):
    w = lib.tensor([2.0, 0.5], requires_grad=True)
    h = lib.func.hessian(lambda s: ((s * w) ** 4).sum())(lib.tensor([1.0, 0.3]))
    h.trace().backward()
    assert w.grad.tolist() == pytest.approx([384.0, 0.54], rel=1e-5)


@pytest.mark.parametrize("lib", [minigrad, torch])
@pytest.mark.parametrize("name", ["hessian", "jacfwd_of_grad"])
def test_func_transforms_ignore_an_outer_no_grad(lib, name):
    # forward-over-reverse under torch.no_grad() gave a zero Hessian (the inner gradient lost
    # its tangents); PyTorch's transforms ignore the outer no_grad
    f = _double_well(lib)
    transform = {
        "hessian": lib.func.hessian(f),
        "jacfwd_of_grad": lib.func.jacfwd(lib.func.grad(f)),
    }[name]
    with lib.no_grad():
        out = transform(lib.tensor([1.0, 0.3]))
    assert out.flatten().tolist() == pytest.approx([3.18, 1.2, 1.2, 2.27], rel=1e-5)
    assert not out.requires_grad


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("scale", [1e-3, 0.3, 1.0, 6.0])
def test_matrix_exp_with_fewer_taylor_terms_agrees_with_pytorch(dtype, scale):
    # the variational circuit's 2x2 rotations stop the series where the next term is below
    # rounding (9 products in float32) instead of always taking 17
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 4, 4)) * scale
    if dtype.startswith("complex"):
        a = a + 1j * rng.standard_normal((2, 4, 4)) * scale
    a = a.astype(dtype)
    ours = minigrad.linalg.matrix_exp(minigrad.tensor(a)).numpy()
    theirs = torch.linalg.matrix_exp(torch.tensor(a)).numpy()
    tol = 1e-5 if dtype in ("float32", "complex64") else 1e-12
    assert np.abs(ours - theirs).max() <= tol * np.abs(theirs).max()


def test_matrix_exp_takes_fewer_products_for_a_small_float32_matrix():
    from minigrad.linalg import _taylor_degree

    assert _taylor_degree(0.5, np.dtype("float32")) < _taylor_degree(0.5, np.dtype("float64"))
    assert _taylor_degree(0.5, np.dtype("float64")) <= 18 and _taylor_degree(0.0, np.float32) == 1
    assert _taylor_degree(float("nan"), np.dtype("float32")) == 18


@pytest.mark.parametrize("lib", [minigrad, torch])
def test_lbfgs_state_has_al_only_after_a_two_loop_recursion(lib):
    # a run that stops after its first iteration never made the recursion's buffer
    x = lib.tensor([1.5, -0.5], requires_grad=True)
    optimizer = lib.optim.LBFGS([x], max_iter=1)

    def closure():
        optimizer.zero_grad()
        loss = ((x - 1) ** 4).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    assert "al" not in optimizer.state[x]
    optimizer.step(closure)
    al = optimizer.state[x]["al"]
    assert len(al) == 100 and al[1] is None and float(al[0]) == pytest.approx(0.0488648, rel=1e-4)
