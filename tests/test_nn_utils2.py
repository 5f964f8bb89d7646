"""nn.utils: weight/spectral norm (both APIs), parametrize, fusion, stateless, skip_init;
nn.init.dirac_/sparse_; lazy modules. Compared with torch where torch has the same thing."""

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.nn.utils import parametrize


def _torch():
    return pytest.importorskip("torch")


def _copy_params(ours, theirs):
    """Give ``ours`` the values of ``theirs``' state dict (same names)."""
    state = {k: minigrad.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)


def _close(a, b, tol=1e-10):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    np.testing.assert_allclose(a, b.detach().numpy(), rtol=tol, atol=tol)


def _pair(make_ours, make_theirs, seed=0):
    torch = _torch()
    torch.manual_seed(seed)
    theirs = make_theirs(torch).double()
    ours = make_ours().double()
    _copy_params(ours, theirs)
    return ours, theirs


# -- parametrize --------------------------------------------------------------------------------
class _Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


class _Scale(nn.Module):
    def forward(self, X):
        return 2 * X

    def right_inverse(self, X):
        return X / 2


def test_register_parametrization_layout_and_gradient():
    layer = nn.Linear(3, 3)
    weight = layer.weight
    parametrize.register_parametrization(layer, "weight", _Symmetric())
    assert type(layer).__name__ == "ParametrizedLinear"
    assert isinstance(layer, nn.Linear)
    assert parametrize.type_before_parametrizations(layer) is nn.Linear
    assert parametrize.is_parametrized(layer) and parametrize.is_parametrized(layer, "weight")
    assert not parametrize.is_parametrized(layer, "bias")
    assert layer.parametrizations.weight.original is weight
    assert list(layer.state_dict()) == ["bias", "parametrizations.weight.original"]
    w = layer.weight.detach().numpy()
    np.testing.assert_array_equal(w, w.T)
    layer(minigrad.randn(4, 3)).sum().backward()
    assert weight.grad is not None
    np.testing.assert_array_equal(np.tril(weight.grad.numpy(), -1), 0)


def test_right_inverse_assignment_chaining_and_removal():
    layer = nn.Linear(2, 2)
    parametrize.register_parametrization(layer, "weight", _Scale())
    parametrize.register_parametrization(layer, "weight", _Scale())
    target = minigrad.tensor([[1.0, 2.0], [3.0, 4.0]])
    layer.weight = target  # goes through both right_inverse calls
    np.testing.assert_allclose(
        layer.parametrizations.weight.original.detach().numpy(), target.numpy() / 4
    )
    np.testing.assert_allclose(layer.weight.detach().numpy(), target.numpy())
    original = layer.parametrizations.weight.original
    parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
    assert type(layer) is nn.Linear and layer.weight is original
    np.testing.assert_allclose(layer.weight.detach().numpy(), target.numpy() / 4)
    assert not hasattr(layer, "parametrizations")


def test_leave_parametrized_keeps_the_value_and_the_parameter_object():
    layer = nn.Linear(3, 3)
    original = layer.weight
    parametrize.register_parametrization(layer, "weight", _Symmetric())
    value = layer.weight.detach().numpy().copy()
    parametrize.remove_parametrizations(layer, "weight")
    assert layer.weight is original and isinstance(layer.weight, nn.Parameter)
    np.testing.assert_array_equal(layer.weight.detach().numpy(), value)


def test_cached_computes_once():
    calls = []

    class Counting(nn.Module):
        def forward(self, X):
            calls.append(1)
            return X

    layer = nn.Linear(2, 2)
    parametrize.register_parametrization(layer, "weight", Counting())
    calls.clear()
    with parametrize.cached():
        a, b = layer.weight, layer.weight
    assert a is b and len(calls) == 1
    c, d = layer.weight, layer.weight
    assert c is d and len(calls) == 3  # no cache: computed once per access


def test_parametrize_matches_torch():
    torch = _torch()

    def make(module):
        class Sym(module.nn.Module):
            def forward(self, X):
                return X.triu() + X.triu(1).transpose(-1, -2)

        return Sym()

    ours, theirs = _pair(lambda: nn.Linear(4, 4), lambda t: t.nn.Linear(4, 4))
    parametrize.register_parametrization(ours, "weight", make(minigrad))
    torch.nn.utils.parametrize.register_parametrization(theirs, "weight", make(torch))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((3, 4))
    _close(ours(minigrad.tensor(x)), theirs(torch.tensor(x)))


def test_parametrize_errors():
    layer = nn.Linear(2, 3)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        parametrize.register_parametrization(layer, "nope", _Scale())

    class Shrink(nn.Module):
        def forward(self, X):
            return X[0]

    with pytest.raises(ValueError, match="may not change the dtype or shape"):
        parametrize.register_parametrization(layer, "weight", Shrink())
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(layer, "weight")
    parametrize.register_parametrization(layer, "weight", Shrink(), unsafe=True)
    assert layer.weight.shape == (2,)


# -- weight norm --------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:.*weight_norm. is deprecated")
@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_hook_api_matches_torch(dim):
    torch = _torch()
    ours, theirs = _pair(lambda: nn.Conv2d(3, 4, 3), lambda t: t.nn.Conv2d(3, 4, 3))
    nn.utils.weight_norm(ours, dim=dim)
    torch.nn.utils.weight_norm(theirs, dim=dim)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    _close(ours.weight_g, theirs.weight_g)
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6))
    y, ty = ours(minigrad.tensor(x)), theirs(torch.tensor(x))
    _close(y, ty)
    y.square().sum().backward()
    ty.square().sum().backward()
    _close(ours.weight_g.grad, theirs.weight_g.grad)
    _close(ours.weight_v.grad, theirs.weight_v.grad)
    nn.utils.remove_weight_norm(ours)
    torch.nn.utils.remove_weight_norm(theirs)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    _close(ours.weight, theirs.weight)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(ours)


def test_weight_norm_twice_is_an_error():
    with pytest.warns(FutureWarning, match="deprecated"):
        layer = nn.utils.weight_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"):
        nn.utils.weight_norm(layer)


@pytest.mark.parametrize("dim", [0, 1])
def test_weight_norm_parametrization_matches_torch(dim):
    torch = _torch()
    ours, theirs = _pair(lambda: nn.Linear(5, 4), lambda t: t.nn.Linear(5, 4))
    nn.utils.parametrizations.weight_norm(ours, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(theirs, dim=dim)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _close(ours.parametrizations.weight.original0, theirs.parametrizations.weight.original0)
    x = np.random.default_rng(1).standard_normal((3, 5))
    y, ty = ours(minigrad.tensor(x)), theirs(torch.tensor(x))
    _close(y, ty)
    y.sum().backward()
    ty.sum().backward()
    _close(
        ours.parametrizations.weight.original0.grad, theirs.parametrizations.weight.original0.grad
    )
    _close(
        ours.parametrizations.weight.original1.grad, theirs.parametrizations.weight.original1.grad
    )
    parametrize.remove_parametrizations(ours, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight")
    _close(ours.weight, theirs.weight)


# -- spectral norm ------------------------------------------------------------------------------
def _take_vectors(ours, theirs, names):
    for name in names:
        src = theirs
        for part in name.split("."):
            src = getattr(src, part)
        dst_owner = ours
        *path, leaf = name.split(".")
        for part in path:
            dst_owner = getattr(dst_owner, part)
        dst_owner._buffers[leaf] = minigrad.tensor(src.detach().numpy())


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.nn.Linear(5, 4),
        lambda m: m.nn.Conv2d(2, 3, 3),
        lambda m: m.nn.ConvTranspose2d(2, 3, 3),
    ],  # fmt: skip
)
def test_spectral_norm_hook_api_matches_torch(make):
    torch = _torch()
    ours, theirs = _pair(lambda: make(minigrad), lambda t: make(t))
    nn.utils.spectral_norm(ours, n_power_iterations=2)
    torch.nn.utils.spectral_norm(theirs, n_power_iterations=2)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    _take_vectors(ours, theirs, ["weight_u", "weight_v"])  # random starts: take torch's
    shape = (2, 5) if isinstance(ours, nn.Linear) else (2, 2, 6, 6)
    x = np.random.default_rng(2).standard_normal(shape)
    for _ in range(3):
        _close(ours(minigrad.tensor(x)), theirs(torch.tensor(x)))
    _close(ours.weight_u, theirs.weight_u)
    ours.eval()
    theirs.eval()
    _close(ours(minigrad.tensor(x)), theirs(torch.tensor(x)))
    nn.utils.remove_spectral_norm(ours)
    torch.nn.utils.remove_spectral_norm(theirs)
    _close(ours.weight, theirs.weight)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        nn.utils.remove_spectral_norm(ours)


def test_spectral_norm_parametrization_matches_torch():
    torch = _torch()
    ours, theirs = _pair(lambda: nn.Linear(6, 4), lambda t: t.nn.Linear(6, 4))
    nn.utils.parametrizations.spectral_norm(ours)
    torch.nn.utils.parametrizations.spectral_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    names = ["parametrizations.weight.0._u", "parametrizations.weight.0._v"]
    _take_vectors(ours, theirs, names)
    x = np.random.default_rng(3).standard_normal((2, 6))
    for _ in range(3):
        y, ty = ours(minigrad.tensor(x)), theirs(torch.tensor(x))
        _close(y, ty)
    y.sum().backward()
    ty.sum().backward()
    _close(ours.parametrizations.weight.original.grad, theirs.parametrizations.weight.original.grad)
    # after 15 start-up iterations the estimate is the top singular value
    sn = nn.utils.parametrizations.spectral_norm(nn.Linear(6, 4).double())
    top = np.linalg.svd(sn.weight.detach().numpy(), compute_uv=False)[0]
    assert abs(top - 1) < 1e-3


def test_spectral_norm_errors():
    with pytest.raises(ValueError, match="n_power_iterations to be positive"):
        nn.utils.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(ValueError, match="n_power_iterations to be positive"):
        nn.utils.parametrizations.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        nn.utils.parametrizations.spectral_norm(nn.Linear(2, 2), dim=2)
    with pytest.raises(ValueError, match="has no parameter or buffer"):
        nn.utils.parametrizations.spectral_norm(nn.Linear(2, 2), name="nope")


# -- fusion -------------------------------------------------------------------------------------
@pytest.mark.parametrize("transpose", [False, True])
def test_fuse_conv_bn_eval_matches_torch(transpose):
    torch = _torch()
    conv = (
        (lambda m: m.nn.ConvTranspose2d(3, 4, 3)) if transpose else (lambda m: m.nn.Conv2d(3, 4, 3))
    )
    ours, theirs = _pair(lambda: conv(minigrad), lambda t: conv(t))
    bn, tbn = _pair(lambda: nn.BatchNorm2d(4), lambda t: t.nn.BatchNorm2d(4))
    rng = np.random.default_rng(4)
    for name in ("running_mean", "running_var", "weight", "bias"):
        value = rng.uniform(0.5, 1.5, 4)
        getattr(bn, name).data = minigrad.tensor(value)
        getattr(tbn, name).data = torch.tensor(value)
    ours.eval(), theirs.eval(), bn.eval(), tbn.eval()
    fused = nn.utils.fuse_conv_bn_eval(ours, bn, transpose=transpose)
    tfused = torch.nn.utils.fuse_conv_bn_eval(theirs, tbn, transpose=transpose)
    _close(fused.weight, tfused.weight)
    _close(fused.bias, tfused.bias)
    x = rng.standard_normal((2, 3, 5, 5))
    _close(fused(minigrad.tensor(x)), bn(ours(minigrad.tensor(x))), 1e-9)
    with pytest.raises(AssertionError, match="Fusion only for eval"):
        nn.utils.fuse_conv_bn_eval(ours.train(), bn)


def test_fuse_linear_bn_eval_matches_torch():
    torch = _torch()
    ours, theirs = _pair(
        lambda: nn.Linear(3, 4, bias=False), lambda t: t.nn.Linear(3, 4, bias=False)
    )
    bn, tbn = _pair(lambda: nn.BatchNorm1d(4), lambda t: t.nn.BatchNorm1d(4))
    rng = np.random.default_rng(5)
    for name in ("running_mean", "running_var"):
        value = rng.uniform(0.5, 1.5, 4)
        getattr(bn, name).data = minigrad.tensor(value)
        getattr(tbn, name).data = torch.tensor(value)
    ours.eval(), theirs.eval(), bn.eval(), tbn.eval()
    fused = nn.utils.fuse_linear_bn_eval(ours, bn)
    tfused = torch.nn.utils.fuse_linear_bn_eval(theirs, tbn)
    _close(fused.weight, tfused.weight)
    _close(fused.bias, tfused.bias)
    with pytest.raises(AssertionError, match="linear.out_features == bn.num_features"):
        nn.utils.fuse_linear_bn_eval(ours, nn.BatchNorm1d(3).eval())


# -- stateless, skip_init -----------------------------------------------------------------------
def test_stateless_functional_call():
    layer = nn.Linear(2, 1, bias=False)
    w = minigrad.tensor([[1.0, 2.0]])
    out = nn.utils.stateless.functional_call(layer, {"weight": w}, (minigrad.tensor([[1.0, 1.0]]),))
    assert out.item() == 3.0
    assert nn.utils.stateless.functional_call is minigrad.func.functional_call


def test_skip_init():
    layer = nn.utils.skip_init(nn.Linear, 5, 1)
    assert type(layer) is nn.Linear and layer.weight.shape == (1, 5)
    with pytest.raises(RuntimeError, match="Expected a Module"):
        nn.utils.skip_init(int)

    class NoDevice(nn.Module):
        def __init__(self, n):
            super().__init__()

    with pytest.raises(RuntimeError, match="support a 'device' arg"):
        nn.utils.skip_init(NoDevice, 3)


# -- nn.init ------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape, groups", [((4, 3, 5), 1), ((6, 2, 3, 3), 2), ((4, 4, 3, 2, 3), 4)])
def test_dirac_matches_torch(shape, groups):
    torch = _torch()
    ours, theirs = minigrad.randn(*shape), torch.randn(*shape)
    assert nn.init.dirac_(ours, groups) is ours
    torch.nn.init.dirac_(theirs, groups)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    x = minigrad.randn(1, shape[1], 7, 7)
    if len(shape) == 4 and groups == 1:
        y = nn.functional.conv2d(x, ours, padding=1)
        np.testing.assert_allclose(y.numpy(), x.numpy()[:, : shape[0]], rtol=1e-6)


def test_dirac_and_sparse_errors():
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        nn.init.dirac_(minigrad.zeros(2, 2))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.init.dirac_(minigrad.zeros(3, 2, 3), groups=2)
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        nn.init.sparse_(minigrad.zeros(2, 2, 2), 0.5)


def test_sparse_zeros_a_fraction_of_each_column():
    w = nn.Parameter(minigrad.empty(100, 30, dtype=minigrad.float64))
    assert nn.init.sparse_(w, sparsity=0.25, std=0.5) is w
    data = w.detach().numpy()
    np.testing.assert_array_equal((data == 0).sum(0), 25)
    assert abs(data[data != 0].std() - 0.5) < 0.05
    assert w.grad_fn is None and w.requires_grad
    # the zeroed rows come from the global generator, as PyTorch's (the values from ``g``)
    g = minigrad.Generator().manual_seed(3)
    minigrad.manual_seed(0)
    a = nn.init.sparse_(minigrad.empty(8, 4), 0.5, generator=g).numpy().copy()
    g.manual_seed(3)
    minigrad.manual_seed(0)
    np.testing.assert_array_equal(
        a, nn.init.sparse_(minigrad.empty(8, 4), 0.5, generator=g).numpy()
    )


# -- lazy modules -------------------------------------------------------------------------------
LAZY = [
    ("LazyLinear", (4,), {}, (2, 3, 7), "Linear"),
    ("LazyLinear", (4,), dict(bias=False), (5,), "Linear"),
    ("LazyConv1d", (4, 3), dict(stride=2), (2, 3, 9), "Conv1d"),
    ("LazyConv1d", (4, 3), dict(groups=2), (6, 9), "Conv1d"),
    ("LazyConv2d", (6, 3), dict(padding=1, groups=3, bias=False), (2, 3, 5, 5), "Conv2d"),
    ("LazyConvTranspose1d", (4, 3), dict(stride=2, output_padding=1), (2, 3, 5), "ConvTranspose1d"),
    ("LazyConvTranspose2d", (4, 2), dict(groups=2), (1, 6, 3, 3), "ConvTranspose2d"),
    ("LazyBatchNorm1d", (), {}, (8, 3), "BatchNorm1d"),
    ("LazyBatchNorm1d", (), dict(affine=False), (8, 3, 4), "BatchNorm1d"),
    ("LazyBatchNorm2d", (), dict(momentum=None), (4, 3, 2, 2), "BatchNorm2d"),
]


@pytest.mark.parametrize("name, args, kwargs, shape, becomes", LAZY)
def test_lazy_module_infers_shapes_and_becomes_the_ordinary_class(
    name, args, kwargs, shape, becomes
):
    torch = _torch()
    ours = getattr(nn, name)(*args, **kwargs, dtype=minigrad.float64)
    theirs = getattr(torch.nn, name)(*args, **kwargs, dtype=torch.float64)
    assert (
        isinstance(
            ours.weight if ours.weight is not None else ours.running_mean,
            nn.UninitializedParameter | nn.UninitializedBuffer,
        )
        or kwargs.get("affine") is False
    )
    assert ours.has_uninitialized_params()
    x = np.random.default_rng(0).standard_normal(shape)
    theirs(torch.tensor(x))
    assert type(theirs).__name__ == becomes
    _ = ours(minigrad.tensor(x))
    assert type(ours) is getattr(nn, becomes)
    assert not hasattr(ours, "_initialize_hook")
    ts = theirs.state_dict()
    assert list(ours.state_dict()) == list(ts)
    for k, v in ours.state_dict().items():
        assert tuple(v.shape) == tuple(ts[k].shape), k
        assert v.dtype == minigrad.float64 or k == "num_batches_tracked"
    assert repr(ours) == repr(theirs)
    _copy_params(ours, theirs)
    _close(ours(minigrad.tensor(x)), theirs(torch.tensor(x)))


def test_lazy_module_state_dict_round_trip():
    trained = nn.Linear(3, 2)
    lazy = nn.LazyLinear(2)
    saved_lazy = nn.LazyLinear(2).state_dict()
    assert isinstance(saved_lazy["weight"], nn.UninitializedParameter)
    lazy.load_state_dict(saved_lazy)  # uninitialized into uninitialized: nothing to do
    assert lazy.has_uninitialized_params()
    lazy.load_state_dict(trained.state_dict())
    assert not lazy.has_uninitialized_params() and type(lazy) is nn.LazyLinear
    np.testing.assert_array_equal(lazy.weight.detach().numpy(), trained.weight.detach().numpy())
    x = minigrad.randn(4, 3)
    np.testing.assert_array_equal(lazy(x).detach().numpy(), trained(x).detach().numpy())
    assert type(lazy) is nn.Linear


def test_lazy_parameters_in_an_optimizer_after_first_call():
    model = nn.Sequential(nn.LazyLinear(5), nn.ReLU(), nn.LazyLinear(1))
    model(minigrad.randn(2, 4))
    opt = minigrad.optim.SGD(model.parameters(), lr=0.1)
    before = model[0].weight.detach().numpy().copy()
    model(minigrad.randn(2, 4)).sum().backward()
    opt.step()
    assert model[0].weight.shape == (5, 4) and not np.array_equal(
        before, model[0].weight.detach().numpy()
    )


def test_uninitialized_parameter_errors():
    p = nn.UninitializedParameter()
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized"):
        p.shape  # noqa: B018
    with pytest.raises(RuntimeError, match="Expected 3D \\(unbatched\\) or 4D \\(batched\\) input"):
        nn.LazyConv2d(2, 3)(minigrad.randn(3, 3))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.LazyConv2d(2, 3, groups=2)(minigrad.randn(1, 3, 4, 4))
    with pytest.raises(ValueError, match="can't have uninitialized parameters"):
        nn.utils.spectral_norm(nn.LazyLinear(2))


@pytest.mark.parametrize(
    "lazy, full, x",
    [
        (lambda: nn.LazyConv2d(2, 3), lambda: nn.Conv2d(4, 2, 3), (1, 4, 5, 5)),
        (lambda: nn.LazyBatchNorm1d(), lambda: nn.BatchNorm1d(3), (2, 3)),
    ],
)
def test_lazy_conv_and_norm_loaded_from_a_state_dict(lazy, full, x):
    module, reference = lazy(), full()
    module.load_state_dict(reference.state_dict())
    x = minigrad.randn(*x)
    np.testing.assert_array_equal(module(x).detach().numpy(), reference(x).detach().numpy())
    assert repr(module) == repr(reference)


def test_norms_lazy_layers_and_init_on_each_device(device):
    x = minigrad.randn(2, 3, device=device)
    lazy = nn.LazyLinear(4, device=device)
    assert lazy(x).device == x.device and lazy.weight.device == x.device
    layer = nn.utils.parametrizations.spectral_norm(nn.Linear(3, 4).to(device))
    assert layer(x).device == x.device
    assert nn.utils.parametrizations.weight_norm(nn.Linear(3, 2).to(device))(x).device == x.device
    assert layer.parametrizations.weight[0]._u.device == x.device
    w = nn.init.sparse_(minigrad.empty(6, 3, device=device), 0.5)
    d = nn.init.dirac_(minigrad.empty(3, 3, 3, device=device))
    assert w.device == d.device == x.device
    assert (w.cpu().numpy() == 0).sum() == 9 and d.cpu().numpy().sum() == 3


# -- orthogonal ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "shape, orthogonal_map",
    [
        ((5, 5), None),
        ((5, 5), "cayley"),
        ((4, 4), "householder"),
        ((6, 3), None),
        ((3, 6), None),
        ((6, 3), "matrix_exp"),
        ((3, 6), "cayley"),
    ],  # fmt: skip
)
def test_orthogonal_matches_torch(shape, orthogonal_map):
    torch = _torch()
    make = lambda m: m.nn.Linear(shape[1], shape[0])  # noqa: E731
    ours, theirs = _pair(lambda: make(minigrad), make)
    nn.utils.parametrizations.orthogonal(ours, orthogonal_map=orthogonal_map)
    torch.nn.utils.parametrizations.orthogonal(theirs, orthogonal_map=orthogonal_map)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if shape[0] == shape[1]:  # no random completion: the same start as torch's
        _close(ours.weight, theirs.weight, 1e-9)
    rng = np.random.default_rng(7)
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    state["parametrizations.weight.original"] = 0.3 * rng.standard_normal(shape)
    ours.load_state_dict({k: minigrad.tensor(v) for k, v in state.items()})
    theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    _close(ours.weight, theirs.weight, 1e-9)
    x = rng.standard_normal((2, shape[1]))
    y, ty = ours(minigrad.tensor(x)), theirs(torch.tensor(x))
    _close(y, ty, 1e-9)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    original = ours.parametrizations.weight.original
    _close(original.grad, theirs.parametrizations.weight.original.grad, 1e-8)
    householder = orthogonal_map == "householder" or (
        orthogonal_map is None and shape[0] != shape[1]
    )
    if not householder:  # Householder's map uses the sign of int(diagonal): 0 here, as torch
        w = ours.weight.detach().numpy()
        gram = w.T @ w if shape[0] >= shape[1] else w @ w.T
        np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-12)


def test_orthogonal_errors():
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices"):
        nn.utils.parametrizations.orthogonal(nn.Linear(2, 2), name="bias")
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        nn.utils.parametrizations.orthogonal(nn.Linear(2, 2), orthogonal_map="qr")
    with pytest.raises(NotImplementedError, match="use_trivialization=False"):
        nn.utils.parametrizations.orthogonal(nn.Linear(2, 2), use_trivialization=False)
