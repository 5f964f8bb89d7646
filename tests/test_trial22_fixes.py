"""Fixes from the nineteenth session's trial of third-party libraries under
``minigrad.as_torch``, each compared with PyTorch where it is installed: ``cumprod`` keeps the
integer ``dtype`` asked for (vector-quantize-pytorch's FSQ indices came out int64), and
``Tensor.norm``/``torch.norm`` take ``dtype`` with PyTorch's checks."""

import pytest

import minigrad


def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", ["int32", "int16", "int64", "float64"])
def test_cumprod_returns_the_dtype_asked_for(dtype):
    x = minigrad.tensor([1, 8, 5])
    out = minigrad.cumprod(x, dim=0, dtype=getattr(minigrad, dtype))
    assert out.dtype == getattr(minigrad, dtype) and out.tolist() == [1, 8, 40]
    assert x.to(minigrad.int32).cumprod(0).dtype == minigrad.int64  # integers: int64 by default
    torch = _torch()
    theirs = torch.cumprod(torch.tensor([1, 8, 5]), 0, dtype=getattr(torch, dtype))
    assert str(theirs.dtype).split(".")[1] == dtype


def test_norm_takes_a_dtype():
    x = minigrad.tensor([[3.0, 4.0]])
    assert x.norm(dim=1, dtype=minigrad.float64).dtype == minigrad.float64
    assert minigrad.norm(x, p=1, dtype=minigrad.float64).item() == 7.0
    assert x.half().norm(dtype=minigrad.float32).dtype == minigrad.float32
    z = minigrad.tensor([3 + 4j])
    assert minigrad.linalg.vector_norm(z, dtype=minigrad.complex128).dtype == minigrad.float64


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda m: m.tensor([[1.0, 2.0]]).norm(dtype=m.float16),
            r"\(Float\) should be .* \(Half\)",
        ),
        (lambda m: m.linalg.vector_norm(m.tensor([1, 2]), dtype=m.float32), "Got Long"),
        (lambda m: m.tensor([1, 2]).norm(), "Got Long"),
    ],
)
def test_norm_refuses_as_pytorch(call, message):
    with pytest.raises(RuntimeError, match=message):
        call(minigrad)
    torch = _torch()
    with pytest.raises(RuntimeError, match=message):
        call(torch)


def test_a_parameter_subclass_takes_its_own_constructor_arguments():
    """geoopt's ManifoldParameter: ``__new__(cls, data, manifold=...)`` makes the instance with
    ``_make_subclass``; Parameter's constructor then leaves it alone, as PyTorch's does."""

    class Tagged(minigrad.nn.Parameter):
        def __new__(cls, data, tag=None, requires_grad=True):
            instance = minigrad.Tensor._make_subclass(cls, data, requires_grad)
            instance.tag = tag
            return instance

    p = Tagged(minigrad.ones(2), tag="ball")
    assert p.tag == "ball" and p.requires_grad and isinstance(p, minigrad.nn.Parameter)
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
        minigrad.nn.Parameter(minigrad.ones(1), foo=1)


def test_subclasses_print_under_their_names_as_in_pytorch():
    class Plain(minigrad.Tensor):
        __torch_function__ = minigrad._C._disabled_torch_function_impl

    class Param(minigrad.nn.Parameter):
        pass

    assert repr(minigrad.ones(2).as_subclass(Plain)) == "Plain([1., 1.])"
    assert repr(Param(minigrad.ones(2))) == (
        "Parameter containing:\nParameter(Param([1., 1.], requires_grad=True))"
    )
    assert repr(minigrad.nn.Parameter(minigrad.ones(1))) == (
        "Parameter containing:\ntensor([1.], requires_grad=True)"
    )
    assert repr(minigrad.nn.Buffer(minigrad.ones(1))) == "tensor([1.])"
