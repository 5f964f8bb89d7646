"""minigrad.masked's reductions and normalizations against torch.masked: values, dtypes,
fully masked slices, errors and gradients."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")
# masked-out places may hold inf or NaN (NumPy says so)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))
XI = RNG.integers(-5, 5, (3, 4)).astype(np.int32)
MASK = RNG.random((3, 4)) > 0.5
MASK[1] = False  # a fully masked row
MASK[0, 0] = True

REDUCTIONS = ["sum", "prod", "amax", "amin", "mean", "var", "std", "logsumexp"]
ONE_DIM = ["argmax", "argmin", "median"]
NORMALIZATIONS = ["softmax", "log_softmax", "softmin", "cumsum", "cumprod"]


def _convert(value, lib):
    if isinstance(value, np.ndarray):
        return lib.tensor(value)
    if isinstance(value, str):
        return getattr(lib, value)
    return value


def _both(name, *args, **kwargs):
    """Run ``name`` in torch.masked and minigrad.masked; return both results or errors."""
    results = []
    for lib, ns in ((torch, torch.masked), (mg, mg.masked)):
        try:
            out = getattr(ns, name)(
                *[_convert(a, lib) for a in args],
                **{k: _convert(v, lib) for k, v in kwargs.items()},
            )
            results.append(out)
        except Exception as error:
            results.append(type(error))
    return results


def _check(name, *args, **kwargs):
    theirs, ours = _both(name, *args, **kwargs)
    if isinstance(theirs, type):
        assert ours is theirs or (isinstance(ours, type) and issubclass(ours, Exception))
        assert isinstance(ours, type), f"{name}: torch raised {theirs.__name__}, minigrad did not"
        return
    assert not isinstance(ours, type), f"{name}: minigrad raised {ours.__name__}"
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], name
    assert tuple(ours.shape) == tuple(theirs.shape), name
    rtol = 2e-3 if theirs.dtype == torch.float16 else 1e-5
    np.testing.assert_allclose(
        ours.numpy().astype(np.float64), theirs.numpy().astype(np.float64), rtol=rtol, atol=1e-6
    )


@pytest.mark.parametrize("data", [X.astype(np.float32), X, XI], ids=["f32", "f64", "i32"])
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reductions_equal_torch(name, data):
    for dim in (None, 0, 1, (0, 1), -1):
        for keepdim in (False, True):
            _check(name, data, dim, keepdim=keepdim, mask=MASK)
    _check(name, data, 1)  # no mask
    _check(name, data, 1, mask=MASK[0])  # a broadcast mask
    _check(name, data, 1, dtype="float64", mask=MASK)


@pytest.mark.parametrize("data", [X.astype(np.float32), XI], ids=["f32", "i32"])
@pytest.mark.parametrize("name", ONE_DIM)
def test_index_and_median_equal_torch(name, data):
    for dim in (0, 1, -1):
        for keepdim in (False, True):
            _check(name, data, dim, keepdim=keepdim, mask=MASK)
    _check(name, data, 1, mask=np.ones_like(MASK))
    if name != "median":
        _check(name, data, mask=MASK)
        _check(name, data, 1, dtype="int64", mask=MASK)


@pytest.mark.parametrize("name", NORMALIZATIONS)
def test_normalizations_equal_torch(name):
    for data in (X.astype(np.float32), XI):
        for dim in (0, 1, -1):
            _check(name, data, dim, mask=MASK)
            _check(name, data, dim, dtype="float64", mask=MASK)


def test_norm_normalize_var_and_logaddexp_equal_torch():
    for ord in (2.0, 1, math.inf, -math.inf, 0, -1, 3.5):
        _check("norm", X, ord, 1, mask=MASK)
        _check("norm", X, ord, None, keepdim=True, mask=MASK)
    for ord in (2.0, 1.0, math.inf):
        _check("normalize", X, ord, 1, mask=MASK)
        _check("normalize", X.astype(np.float32), ord, 0, dtype="float64", mask=MASK)
    for kwargs in ({"correction": 0}, {"unbiased": False}, {"correction": 3}):
        _check("var", X, 1, mask=MASK, **kwargs)
        _check("std", X, 1, mask=MASK, **kwargs)
    _check("logaddexp", X, X * 2, input_mask=MASK, other_mask=~MASK)
    _check("norm", XI, 2.0, 1, mask=MASK)  # both raise: integers have no norm


def test_float16_and_zero_dim():
    for name in ("sum", "mean", "amax", "logsumexp"):
        _check(name, X.astype(np.float16), 1, mask=MASK)
    _check("sum", np.array(3.0), mask=np.array(False))
    _check("amax", np.array(3.0), 0, mask=np.array(False))
    _check("mean", np.array(3.0), mask=np.array(True))


def test_errors_name_the_op():
    x = mg.tensor(X)
    with pytest.raises(ValueError, match="mean.*floating point"):
        mg.masked.mean(mg.tensor(XI), 1)
    with pytest.raises(ValueError, match="fully masked"):
        mg.masked.median(mg.tensor(XI), 1, mask=mg.tensor(MASK))
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        mg.masked.sum(x, 1, mask=mg.tensor([True, False]))
    with pytest.raises(IndexError, match="out of range"):
        mg.masked.sum(x, 5)
    with pytest.raises(RuntimeError, match="multiple times"):
        mg.masked.sum(x, (1, 1))
    with pytest.raises(NotImplementedError, match="softmax"):
        mg.masked.softmax(mg.tensor(XI), 1)


GRAD_CASES = [
    ("sum", (1,), {}),
    ("prod", (1,), {}),
    ("amax", (1,), {}),
    ("mean", (0,), {}),
    ("norm", (2.0, 1), {}),
    ("var", (1,), {"correction": 0}),
    ("std", ((0, 1),), {}),
    ("logsumexp", (1,), {}),
    ("softmax", (1,), {}),
    ("log_softmax", (0,), {}),
    ("softmin", (1,), {}),
    ("normalize", (2.0, 1), {}),
    ("cumsum", (1,), {}),
    ("cumprod", (1,), {}),
]


@pytest.mark.parametrize("name,args,kwargs", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients_equal_torch_and_gradcheck(name, args, kwargs):
    """Gradients reach only the kept elements; equal to torch's; central differences agree
    (on a mask without fully masked slices, where NaN outputs would stop gradcheck)."""
    mask = MASK.copy()
    mask[1, :2] = True
    mask[2, 1] = True
    mask[:, 3] = [True, False, True]
    x = mg.tensor(X, requires_grad=True)
    tx = torch.tensor(X, requires_grad=True)
    ours = getattr(mg.masked, name)(x, *args, mask=mg.tensor(mask), **kwargs)
    theirs = getattr(torch.masked, name)(tx, *args, mask=torch.tensor(mask), **kwargs)
    upstream = RNG.standard_normal(tuple(ours.shape))
    (ours * mg.tensor(upstream)).sum().backward()
    (theirs * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-9)
    assert not x.grad.numpy()[~mask].any()
    fn = getattr(mg.masked, name)

    def finite(t):  # log_softmax's -inf at masked places: no finite differences there
        out = fn(t, *args, mask=mg.tensor(mask), **kwargs)
        return mg.where(mg.isfinite(out), out, 0.0)

    assert gradcheck(finite, (mg.tensor(X, requires_grad=True),))


def test_masked_tensor_argument_uses_its_mask():
    data = mg.tensor(X)
    mt = mg.masked.masked_tensor(data, mg.tensor(MASK))
    out = mg.masked.sum(mt, 1)
    assert isinstance(out, mg.Tensor)
    np.testing.assert_allclose(out.numpy(), np.where(MASK, X, 0).sum(1))
    both = mg.masked.sum(mt, 1, mask=mg.tensor(MASK[0]))
    np.testing.assert_allclose(both.numpy(), np.where(MASK & MASK[0], X, 0).sum(1))


@pytest.mark.parametrize("name,args", [("softmax", (1,)), ("var", (1,)), ("logsumexp", (0,))])
def test_second_derivatives(name, args):
    """The masked functions are built from differentiable ops: double backward works."""
    mask = mg.tensor(
        [[True, True, False, True], [True, False, True, True], [False, True, True, True]]
    )
    fn = getattr(mg.masked, name)
    assert gradgradcheck(lambda t: fn(t, *args, mask=mask), (mg.tensor(X, requires_grad=True),))
