"""minigrad.masked.MaskedTensor against torch.masked.MaskedTensor: reprs, elementwise ops,
reductions, shape ops, errors and gradients."""

import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad.masked import MaskedTensor, as_masked_tensor, is_masked_tensor, masked_tensor

torch = pytest.importorskip("torch")
# masked-out places may hold inf or NaN (NumPy says so); PyTorch warns about its prototype
pytestmark = [
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning:torch.*"),
]

DATA = np.arange(6.0).reshape(2, 3).astype(np.float32)
MASK = np.array([[True, False, False], [True, True, False]])


def _make(lib, data=DATA, mask=MASK, requires_grad=False):
    ns = torch.masked if lib is torch else mg.masked
    return ns.masked_tensor(lib.tensor(data), lib.tensor(mask), requires_grad=requires_grad)


def _outcome(lib, case):
    ns = torch.masked if lib is torch else mg.masked
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return repr(case(lib, ns, _make(lib)))
    except Exception as error:  # the same exception type, messages may say more
        return type(error).__name__


CASES = {
    "repr": lambda L, N, t: t,
    "sum": lambda L, N, t: t.sum(),
    "sum_dim": lambda L, N, t: t.sum(1),
    "sum_keepdim": lambda L, N, t: t.sum(1, keepdim=True),
    "sum_tuple": lambda L, N, t: t.sum((0, 1)),
    "mean": lambda L, N, t: t.mean(),
    "mean_dim": lambda L, N, t: t.mean(0),
    "amax": lambda L, N, t: t.amax(1),
    "amax_0": lambda L, N, t: t.amax(0),
    "amin": lambda L, N, t: t.amin(),
    "argmax": lambda L, N, t: t.argmax(1),
    "argmax_all": lambda L, N, t: t.argmax(),
    "prod": lambda L, N, t: t.prod(1),
    "var": lambda L, N, t: t.var(1),
    "var_0": lambda L, N, t: t.var(0),
    "std": lambda L, N, t: t.std(),
    "all": lambda L, N, t: (t > 1).all(),
    "all_dim": lambda L, N, t: (t > 1).all(1),
    "softmax": lambda L, N, t: t.softmax(-1),
    "softmax_0": lambda L, N, t: t.softmax(0),
    "add": lambda L, N, t: t + t,
    "add_number": lambda L, N, t: t + 1,
    "rmul": lambda L, N, t: 2 * t,
    "add_tensor": lambda L, N, t: t + L.tensor(DATA),
    "masks_differ": lambda L, N, t: t + N.masked_tensor(L.tensor(DATA), L.tensor(~MASK)),
    "sub": lambda L, N, t: t - 1,
    "rtruediv": lambda L, N, t: 1 / t,
    "pow": lambda L, N, t: t**2,
    "neg": lambda L, N, t: -t,
    "abs": lambda L, N, t: abs(t),
    "exp": lambda L, N, t: t.exp(),
    "sigmoid": lambda L, N, t: t.sigmoid(),
    "clamp": lambda L, N, t: t.clamp(1, 3),
    "maximum": lambda L, N, t: t.maximum(t),
    "isnan": lambda L, N, t: t.isnan(),
    "gt": lambda L, N, t: t > 2,
    "eq": lambda L, N, t: t == t,
    "invert": lambda L, N, t: ~(t > 2),
    "and": lambda L, N, t: (t > 2) & (t < 4),
    "inplace": lambda L, N, t: t.clone().add_(1),
    "getitem": lambda L, N, t: t[0],
    "slice": lambda L, N, t: t[:, 1:],
    "t": lambda L, N, t: t.t(),
    "reshape": lambda L, N, t: t.reshape(3, 2),
    "view": lambda L, N, t: t.view(-1),
    "unsqueeze": lambda L, N, t: t.unsqueeze(0),
    "detach_clone_to": lambda L, N, t: t.detach().clone().to(L.float64),
    "to_tensor": lambda L, N, t: t.to_tensor(-1).detach(),
    "get_mask": lambda L, N, t: t.get_mask(),
    "scalars": lambda L, N, t: (bool(t.sum()), t.sum().item(), len(t), t.numel(), t.dim()),
    "int": lambda L, N, t: N.masked_tensor(L.tensor([1, 20, 3]), L.tensor([True, False, True])),
    "bool": lambda L, N, t: N.masked_tensor(L.tensor([True, False]), L.tensor([True, False])),
    "3d": lambda L, N, t: N.masked_tensor(
        L.arange(8.0).reshape(2, 2, 2), L.tensor(np.arange(8).reshape(2, 2, 2) % 3 == 0)
    ),
    "0d_masked": lambda L, N, t: N.masked_tensor(L.tensor(3.0), L.tensor(False)),
    "wide": lambda L, N, t: N.masked_tensor(L.tensor([1e6, -2.5, np.nan]), L.tensor([True] * 3)),
    "mask_dtype": lambda L, N, t: N.masked_tensor(L.tensor(DATA), L.tensor(MASK).float()),
    "mask_dim": lambda L, N, t: N.masked_tensor(L.tensor(DATA), L.tensor(MASK)[0]),
    "data_type": lambda L, N, t: N.masked_tensor(DATA.tolist(), L.tensor(MASK)),
    "int_grad": lambda L, N, t: N.masked_tensor(
        L.arange(3), L.tensor([True, True, False]), requires_grad=True
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_equals_torch(name):
    assert _outcome(mg, CASES[name]) == _outcome(torch, CASES[name])


def test_repr_layout():
    assert repr(_make(mg)) == (
        "MaskedTensor(\n  [\n    [  0.0000,       --,       --],\n"
        "    [  3.0000,   4.0000,       --]\n  ]\n)"
    )
    assert repr(_make(mg).sum()) == "MaskedTensor(  7.0000, True)"


def _grad(lib, fn, data, mask, weights):
    ns = torch.masked if lib is torch else mg.masked
    mt = ns.masked_tensor(lib.tensor(data), lib.tensor(mask), requires_grad=True)
    fn(lib, mt, lib.tensor(weights)).backward()
    return mt.grad


GRADS = {
    "sum": lambda L, t, w: (t * w).sum(),
    "softmax": lambda L, t, w: (t.softmax(-1) * w).sum(),
    "mean": lambda L, t, w: (t.mean(1) * w[:, 0]).sum(),
    "amax": lambda L, t, w: (t.amax(1) * w[:, 0]).sum(),
    "exp": lambda L, t, w: (t.exp() * w).sum(),
    "prod": lambda L, t, w: (t.prod(0) * w[0]).sum(),
    "var": lambda L, t, w: t.var(),
    "mul": lambda L, t, w: (t * t).sum(),
}


@pytest.mark.parametrize("name", list(GRADS))
def test_gradient_is_a_masked_tensor_equal_to_torch(name):
    rng = np.random.default_rng(1)
    data, weights = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    mask = rng.random((3, 4)) > 0.4
    mask[1], mask[0, 0] = False, True
    ours = _grad(mg, GRADS[name], data, mask, weights)
    theirs = _grad(torch, GRADS[name], data, mask, weights)
    assert is_masked_tensor(ours)
    np.testing.assert_array_equal(ours.get_mask().numpy(), mask)
    np.testing.assert_allclose(
        ours.get_data().numpy()[mask], theirs.get_data().numpy()[mask], rtol=1e-6, atol=1e-9
    )


def test_as_masked_tensor_keeps_the_graph_and_nan_gradients_stay_masked():
    x = mg.tensor([-10.0, -5.0, 0.0, 5.0, 100.0], requires_grad=True)
    mx = as_masked_tensor(x, x.detach() < 0)
    y = mx.exp()  # exp(100) overflows, but it is masked out
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy()[:2], np.exp([-10.0, -5.0]), rtol=1e-6)
    leaf = masked_tensor(x, x.detach() < 0, requires_grad=True)
    assert leaf.is_leaf and leaf.grad_fn is None and x.grad is not None


def test_minigrad_extras_and_errors():
    mt = _make(mg)
    t = mt.T
    np.testing.assert_array_equal(t.get_mask().numpy(), MASK.T)
    np.testing.assert_allclose((1 - mt).get_data().numpy(), 1 - DATA)
    ls = mt.log_softmax(-1).to_tensor(0.0).numpy()
    ref = torch.masked.log_softmax(torch.tensor(DATA), -1, mask=torch.tensor(MASK)).numpy()
    np.testing.assert_allclose(ls[MASK], ref[MASK], rtol=1e-6)
    with pytest.raises(NotImplementedError, match="matmul"):
        mt @ mt
    left = mg.tensor(DATA) > mt  # the plain tensor hands the comparison to the MaskedTensor
    np.testing.assert_array_equal(left.get_data().numpy(), DATA > DATA)
    np.testing.assert_array_equal(left.get_mask().numpy(), MASK)
    with pytest.raises(TypeError, match="no array form"):
        np.asarray(mt)  # never a silent object array
    np.testing.assert_array_equal(mg.add(mg.tensor(DATA), mt).get_mask().numpy(), MASK)
    with pytest.raises(NotImplementedError, match="MaskedTensor.tolist"):
        mt.tolist()
    assert not hasattr(mt, "tolist") and not isinstance(mt, mg.Tensor)
    assert isinstance(mt, MaskedTensor) and is_masked_tensor(mt)
    with pytest.raises(NotImplementedError, match="not supported on masked tensors"):
        MaskedTensor.__torch_function__(mg.matmul, (MaskedTensor,), (mt, mt), {})


def test_devices(device):
    """Masked functions and MaskedTensor keep to the data's device and agree with the CPU."""
    x = mg.tensor(DATA, device=device, requires_grad=True)
    mask = mg.tensor(MASK, device=device)
    out = mg.masked.softmax(x, 1, mask=mask)
    assert out.device == x.device
    np.testing.assert_allclose(
        out.detach().cpu().numpy(),
        mg.masked.softmax(mg.tensor(DATA), 1, mask=mg.tensor(MASK)).numpy(),
    )
    mt = masked_tensor(x, mask, requires_grad=True)
    total = mt.softmax(-1).sum(1)
    assert total.get_mask().device == x.device
    (mt * 2).sum().backward()
    assert mt.grad.get_data().device == x.device
    np.testing.assert_allclose(mt.grad.get_data().cpu().numpy()[MASK], 2.0)


def test_method_arguments_bind_as_tensor_methods():
    """Positional and keyword forms of the reductions reach minigrad.masked's functions."""
    x, mask = mg.tensor(DATA), mg.tensor(MASK)
    mt = masked_tensor(x, mask)
    pairs = [
        (mt.norm(p=1, dim=1), mg.masked.norm(x, 1, 1, mask=mask)),
        (mt.norm(1, 1), mg.masked.norm(x, 1, 1, mask=mask)),
        (mt.var(1, False, True), mg.masked.var(x, 1, False, keepdim=True, mask=mask)),
        (mt.std(correction=0), mg.masked.std(x, correction=0, mask=mask)),
        (mt.sum(dim=1, keepdim=True), mg.masked.sum(x, 1, keepdim=True, mask=mask)),
        (mt.logsumexp(1), mg.masked.logsumexp(x, 1, mask=mask)),
    ]
    for ours, expected in pairs:
        np.testing.assert_allclose(ours.get_data().numpy(), expected.numpy())
    with pytest.raises(TypeError, match="too many positional"):
        mt.sum(0, True, 2)


def _functional(lib):
    return lib.nn.functional


PROTOCOL_CASES = {
    "sum": lambda L, N, t: L.sum(t),
    "sum_dim": lambda L, N, t: L.sum(t, 1),
    "mean": lambda L, N, t: L.mean(t),
    "amax": lambda L, N, t: L.amax(t, 1),
    "argmax": lambda L, N, t: L.argmax(t),
    "exp": lambda L, N, t: L.exp(t),
    "square": lambda L, N, t: L.square(t),
    "add": lambda L, N, t: L.add(t, t),
    "mul_number": lambda L, N, t: L.mul(t, 2),
    "gt": lambda L, N, t: L.gt(t, 2),
    "isnan": lambda L, N, t: L.isnan(t),
    "softmax": lambda L, N, t: L.softmax(t, -1),
    "F_softmax": lambda L, N, t: _functional(L).softmax(t, -1),
    "where": lambda L, N, t: L.where(
        L.tensor(MASK), t, N.masked_tensor(L.tensor(DATA) * 10, L.tensor(~MASK))
    ),
}


@pytest.mark.parametrize("name", list(PROTOCOL_CASES))
def test_public_functions_reach_masked_tensor(name):
    """minigrad.sum(mt), F.softmax(mt, -1), ... run MaskedTensor's rules through
    ``__torch_function__``, as torch.sum(mt) does."""
    assert _outcome(mg, PROTOCOL_CASES[name]) == _outcome(torch, PROTOCOL_CASES[name])


def test_nan_gradients_stay_masked_through_where():
    """PyTorch's MaskedTensor tutorial: where(mask, exp(mx), my) backpropagates without NaN
    in the kept places of either gradient."""
    grads = []
    for lib in (mg, torch):
        ns = torch.masked if lib is torch else mg.masked
        x = lib.tensor([-10.0, -5, 0, 5, 10, 50, 60, 80, 90, 100])
        mask = x < 0
        mx = ns.masked_tensor(x, mask, requires_grad=True)
        my = ns.masked_tensor(lib.ones_like(x), ~mask, requires_grad=True)
        lib.where(mask, lib.exp(mx), my).sum().backward()
        grads.append((repr(mx.grad), repr(my.grad)))
    assert grads[0] == grads[1]
