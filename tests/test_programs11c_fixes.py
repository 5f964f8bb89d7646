"""Regression tests for what the eleventh round's third set of programs
(tests/test_programs11c.py) found missing in minigrad, each compared with PyTorch."""

import pytest

import minigrad

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("condition", [True, 1, minigrad.tensor(True), minigrad.tensor([2.0])])
def test_assert_passes_on_true_conditions(condition):
    assert minigrad._assert(condition, "unused") is None


@pytest.mark.parametrize("lib", [minigrad, torch])
@pytest.mark.parametrize("make", [lambda lib: False, lambda lib: lib.tensor(False)])
def test_assert_raises_assertion_error_with_the_message_as_pytorch(lib, make):
    # torchvision's ViT checks its input shapes with torch._assert
    with pytest.raises(AssertionError, match="^expected 4 patches$"):
        lib._assert(make(lib), "expected 4 patches")


@pytest.mark.parametrize("lib", [minigrad, torch])
def test_assert_on_a_many_element_tensor_is_ambiguous_as_pytorch(lib):
    with pytest.raises(RuntimeError, match="ambiguous"):
        lib._assert(lib.tensor([True, False]), "unused")


@pytest.mark.parametrize("lib", [minigrad, torch])
def test_assert_is_recorded_by_symbolic_trace_and_survives_dead_code_elimination(lib):
    class Model(lib.nn.Module):
        def forward(self, x):
            lib._assert(x.dim() == 2, "two dims")
            return x + 1

    traced = lib.fx.symbolic_trace(Model())
    traced.graph.eliminate_dead_code()
    traced.recompile()
    assert "_assert" in traced.code
    assert traced(lib.ones(2, 2)).tolist() == [[2.0, 2.0], [2.0, 2.0]]
    with pytest.raises(AssertionError, match="two dims"):
        traced(lib.ones(2))
