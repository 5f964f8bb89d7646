"""Fixes found running the twenty-second helper's third-party libraries (POT, ...) on minigrad:
each test fails without its fix."""

import warnings

import pytest

import minigrad
import minigrad._warnings


@pytest.fixture
def fresh_once(monkeypatch):
    """Forget the once-per-process warnings already given (restored afterwards)."""
    monkeypatch.setattr(minigrad._warnings, "_said_once", set())


def _messages(f):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f()
        f()  # PyTorch's TORCH_WARN_ONCE: the second call says nothing
    return [str(w.message) for w in caught], [w.filename for w in caught]


@pytest.mark.parametrize("shape", [(3,), (2, 3, 4)])
def test_T_of_a_non_matrix_warns_once_as_pytorch(fresh_once, shape):
    """POT's ``wasserstein_1d`` takes ``x.T`` of a 1-D tensor: PyTorch's deprecation warning."""
    x = minigrad.randn(shape)
    said, where = _messages(lambda: x.T)
    assert len(said) == 1 and said[0].startswith("The use of `x.T` on tensors of dimension other")
    assert "`x.permute(*torch.arange(x.ndim - 1, -1, -1))`" in said[0]
    assert where == [__file__]
    assert x.T.shape == shape[::-1]
    assert _messages(lambda: minigrad.randn(2, 3).T)[0] == []


@pytest.mark.parametrize(
    "name, hint",
    [
        ("T", "This function is the identity in these cases."),
        ("mT", "This function is the identity in these cases."),
        ("H", "Consider using x.conj()."),
        ("mH", "Consider using x.conj()."),
    ],
)
def test_matrix_transposes_of_a_0d_tensor_warn_once_as_pytorch(fresh_once, name, hint):
    z = minigrad.tensor(2.0, requires_grad=True)
    said, _ = _messages(lambda: getattr(z, name))
    assert said == [f"Tensor.{name} is deprecated on 0-D tensors. {hint}"]
    out = getattr(z, name)
    if name == "T":  # a permute, as PyTorch's
        assert out.grad_fn.name() == "PermuteBackward0" and out._base is z
    else:  # the tensor itself, as PyTorch's
        assert out is z


def test_adjoint_of_a_0d_tensor_warns_as_pytorch(fresh_once):
    z = minigrad.tensor(1 + 2j)
    said, _ = _messages(lambda: z.adjoint())
    assert said == ["adjoint() is deprecated on 0-D tensors. Consider using x.conj()."]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert [z.adjoint().item(), z.mH.item(), z.H.item()] == [1 - 2j] * 3
