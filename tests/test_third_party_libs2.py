"""More third-party libraries built on PyTorch (PyG, ...), run with ``torch`` bound to minigrad
(as under ``python -m minigrad.as_torch``) and with PyTorch, the two runs compared number by
number (the helpers of ``test_third_party_libs``). Each skips where its library is not
installed; torch-ema, ema-pytorch and zuko (light, pure Python) are in the ``compat`` extra,
which CI installs. The others import much (PyG and pyro import ``torch._dynamo`` under PyTorch:
seconds per run), so they are left to those who install them."""

import importlib
import types

import numpy as np
import pytest
from test_third_party_libs import _both, _close

import minigrad


def _restoring_torch(program):
    """``program`` run with the ``torch`` module's functions and ``serialization``'s safe
    globals put back afterwards: PyG replaces ``torch.index_select``/``torch.select`` (to
    dispatch its ``HashTensor``) and allows its classes in ``torch.load`` at import."""

    def run(torch):
        names, safe = dict(vars(torch)), torch.serialization.get_safe_globals()
        try:
            return program(torch)
        finally:
            for name, value in list(vars(torch).items()):
                if name not in names and not isinstance(value, types.ModuleType):
                    delattr(torch, name)
                elif name in names and value is not names[name]:
                    setattr(torch, name, names[name])
            torch.serialization.clear_safe_globals()
            torch.serialization.add_safe_globals(safe)

    return run


def _pyg(torch):
    """PyG's README example, in small: GCN, GAT and GraphSAGE layers on random graphs batched by
    its ``DataLoader``, ``global_mean_pool``, two epochs of Adam (message passing is
    ``index_select`` then ``scatter``/``index_add``)."""
    pyg_data = importlib.import_module("torch_geometric.data")
    loader_module = importlib.import_module("torch_geometric.loader")
    nn = importlib.import_module("torch_geometric.nn")
    F = torch.nn.functional
    torch.manual_seed(0)
    graphs = [
        pyg_data.Data(
            x=torch.randn(5 + i % 3, 4),
            edge_index=torch.randint(0, 5, (2, 10)),
            y=torch.tensor([i % 2]),
        )
        for i in range(6)
    ]

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.gcn, self.gat = nn.GCNConv(4, 8), nn.GATConv(8, 8, heads=2, concat=False)
            self.sage, self.out = nn.SAGEConv(8, 8), torch.nn.Linear(8, 2)

        def forward(self, batch):
            x = F.relu(self.gcn(batch.x, batch.edge_index))
            x = F.relu(self.gat(x, batch.edge_index))
            x = self.sage(x, batch.edge_index)
            return self.out(nn.global_mean_pool(x, batch.batch))

    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(2):
        for batch in loader_module.DataLoader(graphs, batch_size=3):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(batch), batch.y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses + [p.detach().double().sum().item() for p in model.parameters()]


def test_torch_geometric_gnn_training_as_with_pytorch():
    ours, theirs = _both(_restoring_torch(_pyg), "torch_geometric")
    _close(ours, theirs)


def _pyro(torch):
    """pyro's Bayesian regression: ``AutoNormal`` fitted by ``SVI`` with ``Trace_ELBO`` (its
    guide's transforms are ``torch.distributions``' constraints and biject_to), then
    ``Predictive`` samples."""
    pyro = importlib.import_module("pyro")
    dist = importlib.import_module("pyro.distributions")
    infer = importlib.import_module("pyro.infer")
    autoguide = importlib.import_module("pyro.infer.autoguide")
    pyro.set_rng_seed(0)
    x = torch.randn(20, 2)
    y = x @ torch.tensor([1.5, -0.7]) + 0.3 + 0.1 * torch.randn(20)

    def model(x, y=None):
        w = pyro.sample("w", dist.Normal(torch.zeros(2), torch.ones(2)).to_event(1))
        b = pyro.sample("b", dist.Normal(0.0, 1.0))
        sigma = pyro.sample("sigma", dist.HalfNormal(1.0))
        with pyro.plate("data", x.shape[0]):
            pyro.sample("obs", dist.Normal(x @ w + b, sigma), obs=y)

    pyro.clear_param_store()
    guide = autoguide.AutoNormal(model)
    optim = importlib.import_module("pyro.optim").Adam({"lr": 0.05})
    svi = infer.SVI(model, guide, optim, loss=infer.Trace_ELBO())
    losses = [svi.step(x, y) for _ in range(8)]
    params = [v.detach().double().sum().item() for v in pyro.get_param_store().values()]
    predicted = infer.Predictive(model, guide=guide, num_samples=3)(x)["obs"]
    return losses + params + [predicted.double().sum().item(), *predicted.shape]


def _restoring_distributions(program):
    """``program`` run with ``torch.distributions``' classes put back afterwards: pyro patches
    some of their methods at import and sets ``Distribution._validate_args`` (in minigrad's and
    PyTorch's) for the whole process."""

    def run(torch):
        D = torch.distributions
        classes = [D.Distribution, D.transforms.Transform, D.TransformedDistribution]
        classes += [D.HalfCauchy, type(D.constraints.corr_cholesky)]
        saved = [(cls, dict(vars(cls))) for cls in classes]
        try:
            return program(torch)
        finally:
            for cls, attributes in saved:
                for name in set(vars(cls)) - set(attributes):
                    delattr(cls, name)
                for name, value in attributes.items():
                    if vars(cls).get(name) is not value:
                        setattr(cls, name, value)

    return run


def test_pyro_svi_autonormal_as_with_pytorch():
    ours, theirs = _both(_restoring_distributions(_pyro), "pyro")
    _close(ours, theirs)


def _gpytorch(torch):
    """GPyTorch's ExactGP regression tutorial, in small: an RBF kernel, Adam on the exact
    marginal log likelihood (Cholesky factors, triangular solves), then predictions with
    ``fast_pred_var``."""
    gpytorch = importlib.import_module("gpytorch")
    torch.manual_seed(0)
    train_x = torch.linspace(0, 1, 12)
    train_y = torch.sin(train_x * 6.283) + 0.2 * torch.randn(12)

    class ExactGP(gpytorch.models.ExactGP):
        def __init__(self, likelihood):
            super().__init__(train_x, train_y, likelihood)
            self.mean = gpytorch.means.ConstantMean()
            self.covar = gpytorch.kernels.ScaleKernel(gpytorch.kernels.RBFKernel())

        def forward(self, x):
            return gpytorch.distributions.MultivariateNormal(self.mean(x), self.covar(x))

    likelihood = gpytorch.likelihoods.GaussianLikelihood()
    model = ExactGP(likelihood)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    mll = gpytorch.mlls.ExactMarginalLogLikelihood(likelihood, model)
    losses = []
    for _ in range(4):
        optimizer.zero_grad()
        loss = -mll(model(train_x), train_y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad(), gpytorch.settings.fast_pred_var():
        predicted = likelihood(model(torch.linspace(0, 1, 4)))
        low, high = predicted.confidence_region()
    return losses + predicted.mean.tolist() + predicted.variance.tolist() + low.tolist()


def test_gpytorch_exact_gp_as_with_pytorch():
    ours, theirs = _both(_gpytorch, "gpytorch", "linear_operator")
    _close(ours, theirs)


def _zuko(torch):
    """zuko's conditional MAF (a few Adam steps on ``-log_prob``) and a spline NSF's
    ``log_prob`` backward and ``rsample`` (its transforms subclass ``torch.distributions``')."""
    zuko = importlib.import_module("zuko")
    torch.manual_seed(0)
    flow = zuko.flows.MAF(features=3, context=2, transforms=2, hidden_features=(8, 8))
    x, c = torch.randn(6, 3), torch.randn(6, 2)
    optimizer = torch.optim.Adam(flow.parameters(), lr=1e-2)
    losses = []
    for _ in range(2):
        loss = -flow(c).log_prob(x).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    spline = zuko.flows.NSF(features=2, transforms=1, hidden_features=(8,))
    log_prob = spline().log_prob(torch.randn(4, 2))
    log_prob.sum().backward()
    grads = [p.grad.double().sum().item() for p in spline.parameters() if p.grad is not None]
    return losses + log_prob.tolist() + grads + list(spline().rsample((3,)).shape)


def test_zuko_flows_as_with_pytorch():
    ours, theirs = _both(_zuko, "zuko")
    _close(ours, theirs)


def _nflows(torch):
    """nflows' README flow: masked affine autoregressive layers with permutations and a
    rational-quadratic spline layer, ``-log_prob`` trained with Adam, then ``sample``."""
    base = importlib.import_module("nflows.flows.base")
    normal = importlib.import_module("nflows.distributions.normal")
    transforms = importlib.import_module("nflows.transforms")
    torch.manual_seed(0)
    layers = []
    for _ in range(2):
        layers.append(transforms.ReversePermutation(features=2))
        layers.append(transforms.MaskedAffineAutoregressiveTransform(features=2, hidden_features=8))
    layers.append(
        transforms.MaskedPiecewiseRationalQuadraticAutoregressiveTransform(
            features=2, hidden_features=8, num_bins=4, tails="linear", tail_bound=3.0
        )
    )
    flow = base.Flow(transforms.CompositeTransform(layers), normal.StandardNormal(shape=[2]))
    optimizer = torch.optim.Adam(flow.parameters())
    x, losses = torch.randn(8, 2), []
    for _ in range(2):
        optimizer.zero_grad()
        loss = -flow.log_prob(inputs=x).mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses + flow.sample(4).double().sum(0).tolist()


def test_nflows_as_with_pytorch():
    ours, theirs = _both(_nflows, "nflows")
    _close(ours, theirs)


def _ema(torch):
    """torch-ema's ``ExponentialMovingAverage`` (``average_parameters``, ``state_dict``) and
    ema-pytorch's ``EMA`` wrapper (a deep copy of the model, buffers included) over five SGD
    steps."""
    torch_ema = importlib.import_module("torch_ema")
    ema_pytorch = importlib.import_module("ema_pytorch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 1)
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    ema = torch_ema.ExponentialMovingAverage(model.parameters(), decay=0.9)
    wrapped = ema_pytorch.EMA(model, beta=0.9, update_after_step=0, update_every=1)
    x, y = torch.randn(16, 3), torch.randn(16, 1)
    for _ in range(5):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
        ema.update()
        wrapped.update()
    with ema.average_parameters():
        averaged = [p.sum().item() for p in model.parameters()]
    after = [p.sum().item() for p in model.parameters()]
    wrapped.eval()
    sums = [p.sum().item() for p in wrapped.ema_model.parameters()]
    return averaged + after + sums + wrapped(x[:2]).flatten().tolist() + [ema.num_updates]


def test_torch_ema_and_ema_pytorch_as_with_pytorch():
    ours, theirs = _both(_ema, "torch_ema", "ema_pytorch")
    _close(ours, theirs)


def test_linalg_takes_out_as_pytorchs():
    """``torch.linalg``'s functions take ``out=`` (gpytorch's ``psd_safe_cholesky`` passes
    ``out=None``), a tuple for those returning several tensors."""
    a = minigrad.tensor([[4.0, 2.0], [2.0, 3.0]])
    out = minigrad.empty(2, 2)
    assert minigrad.linalg.cholesky(a, out=out) is out
    factor, info = minigrad.empty(2, 2), minigrad.empty((), dtype=minigrad.int32)
    result = minigrad.linalg.cholesky_ex(a, out=(factor, info))
    assert result[0] is factor and result[1] is info and info.item() == 0
    assert factor.tolist() == minigrad.linalg.cholesky(a, out=None).tolist()


def test_aten_operators_by_name_as_pytorchs():
    """``torch.ops.aten.<op>.<overload>`` (PyG keys its ``__torch_dispatch__`` tables by them at
    import; other libraries call them to bypass a subclass)."""
    torch = pytest.importorskip("torch")
    aten = minigrad.ops.aten
    x, i = np.arange(12.0, dtype=np.float32).reshape(3, 4), np.array([2, 0])
    for name, call in [
        ("add", lambda t, m: m.ops.aten.add.Tensor(t, t, alpha=2)),
        ("slice", lambda t, m: m.ops.aten.slice.Tensor(t, 1, 1, 4, 2)),
        ("index", lambda t, m: m.ops.aten.index.Tensor(t, [None, m.tensor(i)])),
        ("select", lambda t, m: m.ops.aten.select.int(t, 0, 1)),
        ("sort", lambda t, m: m.ops.aten.sort.stable(-t, stable=True, dim=1)[1]),
        ("_to_copy", lambda t, m: m.ops.aten._to_copy.default(t, dtype=m.float64)),
        ("cat", lambda t, m: m.ops.aten.cat.default([t, t], 1)),
    ]:
        ours, theirs = call(minigrad.tensor(x), minigrad), call(torch.tensor(x), torch)
        assert ours.dtype.itemsize == theirs.dtype.itemsize, name
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=name)
    y = minigrad.ones(2)
    assert aten.add_.Tensor(y, y) is y and y.tolist() == [2.0, 2.0]
    assert aten.clone.default == aten.clone.default and len({aten.add.Tensor, aten.add.Tensor}) == 1
    assert aten.clone.default.name() == "aten::clone.default"
    with pytest.raises(NotImplementedError, match="aten._sparse_addmm"):
        aten._sparse_addmm.default(y, y, y)


def test_names_pyg_reaches_as_pytorchs():
    """``torch.__config__``, ``torch._tensor_str``, ``torch.jit._overload``,
    ``torch.onnx.is_in_onnx_export``, ``torch.distributed.rpc`` (built without RPC)."""
    from minigrad import __config__, _tensor_str
    from minigrad.distributed import rpc

    assert "USE_MKL=OFF" in __config__.show() and "get_num_threads" in __config__.parallel_info()
    assert not rpc.is_available() and not minigrad.onnx.is_in_onnx_export()
    assert _tensor_str.PRINT_OPTS.threshold == 1000

    def f(x):
        return x

    assert minigrad.jit._overload(f) is f
    torch = pytest.importorskip("torch")
    values = np.linspace(-2, 3, 12, dtype=np.float32).reshape(3, 4)
    theirs = importlib.import_module("torch._tensor_str")._tensor_str(torch.tensor(values), 2)
    assert _tensor_str._tensor_str(minigrad.tensor(values), 2) == theirs


def test_distribution_names_pyro_reaches_as_pytorchs():
    """``constraints.__all__`` and ``MixtureSameFamilyConstraint`` (a mixture's support),
    ``Distribution._validate_args`` (the class default pyro's settings read and set),
    ``distributions.utils``' ``_sum_rightmost``, ``tril_matrix_to_vec``/``vec_to_tril_matrix``,
    ``_C._get_tracing_state``, ``serialization.MAP_LOCATION``."""
    torch = pytest.importorskip("torch")
    D, ours_utils = minigrad.distributions, minigrad.distributions.utils
    assert D.constraints.__all__ == torch.distributions.constraints.__all__
    assert all(hasattr(D.constraints, name) for name in D.constraints.__all__)
    mix = [
        m.distributions.MixtureSameFamily(
            m.distributions.Categorical(m.ones(3)),
            m.distributions.Gamma(m.ones(3), m.ones(3)),
        )
        for m in (minigrad, torch)
    ]
    assert repr(mix[0].support) == repr(mix[1].support)
    values = [[0.5, -1.0], [2.0, 3.0]]
    assert mix[0].support.check(minigrad.tensor(values)).tolist() == (
        mix[1].support.check(torch.tensor(values)).tolist()
    )
    before = D.Distribution._validate_args
    D.Distribution.set_default_validate_args(False)
    try:
        assert not D.Normal(0.0, -1.0)._validate_args  # no check: -1 passes, as in PyTorch
    finally:
        D.Distribution.set_default_validate_args(before)
    assert D.Distribution._validate_args is before
    theirs_utils = torch.distributions.utils
    m = np.arange(16.0).reshape(2, 2, 4)[..., :2].reshape(2, 2, 2).astype(np.float32)
    for diag in (0, -1):
        ours = ours_utils.tril_matrix_to_vec(minigrad.tensor(m), diag)
        theirs = theirs_utils.tril_matrix_to_vec(torch.tensor(m), diag)
        assert ours.tolist() == theirs.tolist()
        assert ours_utils.vec_to_tril_matrix(ours, diag).tolist() == (
            theirs_utils.vec_to_tril_matrix(theirs, diag).tolist()
        )
    assert ours_utils._sum_rightmost(minigrad.ones(2, 3, 4), 2).tolist() == [12.0, 12.0]
    assert minigrad._C._get_tracing_state() is None
    assert minigrad.serialization.MAP_LOCATION is not None
