"""Named tensors are absent, as in PyTorch 2.13, which removed them (pytorch/pytorch#173895):
every entry point of the old API raises the exception PyTorch 2.13 raises, and the unnamed
form of Deep Learning with PyTorch's ch. 3 code (the book's own) gives PyTorch's numbers."""

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")

# Each entry point of the removed API, called on the library ``m`` with ``x = m.randn(2, 3)``.
# Where minigrad's message is PyTorch's own words, the message is compared too (``same_words``).
_ENTRY_POINTS = {
    # factories: names= is an unexpected keyword (PyTorch's argument parser's words)
    "tensor": (lambda m, x: m.tensor([0.2126, 0.7152, 0.0722], names=["channels"]), True),
    "zeros": (lambda m, x: m.zeros(2, 3, names=("N", "C")), True),
    "ones": (lambda m, x: m.ones(2, names=("N",)), True),
    "empty": (lambda m, x: m.empty(2, names=("N",)), True),
    "full": (lambda m, x: m.full((2,), 1.0, names=("N",)), True),
    "zeros_like": (lambda m, x: m.zeros_like(x, names=("N", "C")), True),
    "rand": (lambda m, x: m.rand(2, names=("N",)), False),
    "randn": (lambda m, x: m.randn(2, 3, names=("N", "C")), False),
    # the Tensor API of names: no such attributes
    "names": (lambda m, x: x.names, True),
    "refine_names": (lambda m, x: x.refine_names(..., "C"), True),
    "rename": (lambda m, x: x.rename(None), True),
    "rename_": (lambda m, x: x.rename_(N="M"), True),
    "align_to": (lambda m, x: x.align_to("C", "N"), True),
    "align_as": (lambda m, x: x.align_as(x), True),
    "has_names": (lambda m, x: x.has_names(), True),
    # a dim given by name: a TypeError (the dim must be an int)
    "size": (lambda m, x: x.size("C"), True),
    "stride": (lambda m, x: x.stride("C"), True),
    "sum": (lambda m, x: x.sum("C"), False),
    "mean": (lambda m, x: m.mean(x, "C"), False),
    "softmax": (lambda m, x: x.softmax("C"), False),
    "log_softmax": (lambda m, x: x.log_softmax("C"), False),
    "max": (lambda m, x: x.max("C"), False),
    "argmax": (lambda m, x: x.argmax("C"), False),
    "cumsum": (lambda m, x: x.cumsum("C"), False),
    "std": (lambda m, x: x.std("C"), False),
    "transpose": (lambda m, x: x.transpose("N", "C"), False),
    "unflatten": (lambda m, x: x.unflatten("C", (("a", 1), ("b", 3))), False),
    "flatten": (lambda m, x: x.flatten(["N", "C"], "F"), False),
}


def _raised(lib, call):
    """The exception ``call(lib, lib.randn(2, 3))`` raises (the test fails if it returns)."""
    with pytest.raises(Exception) as info:
        call(lib, lib.randn(2, 3))
    return info.value


@pytest.mark.parametrize("entry", sorted(_ENTRY_POINTS))
def test_named_tensor_api_raises_as_pytorch(entry):
    call, same_words = _ENTRY_POINTS[entry]
    expected, got = _raised(torch, call), _raised(minigrad, call)
    assert type(got) is type(expected), (entry, got, expected)
    if same_words:
        assert str(got) == str(expected)


@pytest.mark.parametrize(
    ("shape", "dim"), [((2, 3), 5), ((2, 3), -3), ((2, 3), 1.0), ((2, 3), True), ((), 0)]
)
@pytest.mark.parametrize("method", ["size", "stride"])
def test_size_and_stride_refuse_bad_dims_in_pytorchs_words(method, shape, dim):
    expected = _raised(torch, lambda m, x: getattr(m.zeros(shape), method)(dim))
    got = _raised(minigrad, lambda m, x: getattr(m.zeros(shape), method)(dim))
    assert (type(got), str(got)) == (type(expected), str(expected))


def test_size_and_stride_take_integer_dims():
    x = minigrad.zeros(2, 3, 4)
    assert [x.size(d) for d in (0, -1, np.int64(1), minigrad.tensor(2))] == [2, 4, 3, 4]
    assert [x.stride(d) for d in (0, -1, np.int64(1))] == [12, 1, 4]


def test_dlwpt_ch3_snippet_raises_and_its_unnamed_form_matches_pytorch():
    rng = np.random.default_rng(0)
    img, batch = rng.random((3, 5, 5)), rng.random((2, 3, 5, 5))
    weights = [0.2126, 0.7152, 0.0722]
    results = {}
    for lib in (torch, minigrad):
        img_t, batch_t = lib.tensor(img), lib.tensor(batch)
        with pytest.raises(AttributeError, match="refine_names"):  # the named form (removed)
            img_t.refine_names(..., "channels", "rows", "columns")
        w = lib.tensor(weights, dtype=lib.float64)
        unsqueezed = w.unsqueeze(-1).unsqueeze_(-1)  # the book's unnamed form
        results[lib] = [
            (img_t * unsqueezed).sum(-3),
            (batch_t * unsqueezed).sum(-3),
            lib.einsum("...chw,c->...hw", batch_t, w),
            batch_t.mean(-3),
        ]
    for got, expected in zip(results[minigrad], results[torch]):
        assert tuple(got.shape) == tuple(expected.shape)
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12)
