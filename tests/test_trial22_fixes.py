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


def test_a_sequence_other_than_a_list_is_read_item_by_item():
    """``torch.tensor(series)`` reads ``series[i]`` (NumPy scalars: float64), as PyTorch does;
    NumPy's reading made float64 values Python floats, so float32."""
    import collections

    import numpy as np

    class Column:  # a pandas Series in what matters: a sequence of NumPy scalars
        def __init__(self, values):
            self.values = values

        def __len__(self):
            return len(self.values)

        def __getitem__(self, i):
            return self.values[i]

    assert minigrad.tensor(Column(np.array([1.0, 2.0]))).dtype == minigrad.float64
    assert minigrad.tensor(Column([1.0, 2.0])).dtype == minigrad.float32  # Python floats
    assert minigrad.tensor(Column(np.array([1, 2], "int32"))).dtype == minigrad.int32
    assert minigrad.tensor(collections.deque([np.float64(1)])).dtype == minigrad.float64
    assert minigrad.tensor(range(3)).tolist() == [0, 1, 2]
    pandas = pytest.importorskip("pandas")
    assert minigrad.tensor(pandas.Series([1.0, 2.0])).dtype == minigrad.float64


def test_cudnn_flags_set_the_switches_for_a_block():
    """``torch.backends.cudnn.flags`` (Hugging Face's CTC loss runs under it): set inside, put
    back after, as PyTorch's."""
    cudnn = minigrad.backends.cudnn
    before = (cudnn.enabled, cudnn.deterministic, cudnn.benchmark_limit)
    with cudnn.flags(enabled=False, deterministic=True):
        assert cudnn.enabled is False and cudnn.deterministic is True
    assert (cudnn.enabled, cudnn.deterministic, cudnn.benchmark_limit) == before
    previous = cudnn.set_flags(_benchmark=True)
    try:
        assert cudnn.benchmark is True and previous[1] is False
    finally:
        cudnn.set_flags(*previous)
    assert cudnn.benchmark is False


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m._check(False),
        lambda m: m._check(False, lambda: "bad size"),
        lambda m: m._check(1),
        lambda m: m._check(m.tensor(True)),
        lambda m: m._check_index(False, lambda: "i"),
        lambda m: m._check_value(False),
        lambda m: m._check_not_implemented(False, lambda: 3),
        lambda m: m._check_is_size(3, max=2),
        lambda m: m._check_tensor_all(m.tensor([True, False])),
        lambda m: m._check_tensor_all([True]),
        lambda m: m._check_tensor_all_with(ValueError, m.tensor([False]), lambda: "x"),
        lambda m: m._check_with(UserWarning, False, None),
        lambda m: m._check(False, "not a callable"),
    ],
)
def test_torch_check_family_raises_as_pytorch(call):
    """``torch._check`` and its kin (LLaVA's ``_check_tensor_all_with``): PyTorch's exception
    types and words."""
    import warnings

    results = []
    libraries = [minigrad]
    try:
        import torch

        libraries.append(torch)
    except ImportError:
        pass
    for lib in libraries:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            with pytest.raises(Exception) as raised:
                call(lib)
        results.append((type(raised.value), str(raised.value).replace("minigrad.", "torch.")))
    assert all(r == results[0] for r in results)
    minigrad._check(True)
    minigrad._check_tensor_all(minigrad.tensor([True, True]))


def test_cuda_default_generators_is_empty_without_a_gpu():
    if minigrad.cuda.is_available():
        pytest.skip("a GPU is present")
    assert minigrad.cuda.default_generators == ()
