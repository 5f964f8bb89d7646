"""Third-party libraries built on PyTorch, run with ``torch`` bound to minigrad (as under
``python -m minigrad.as_torch``) and, where PyTorch is installed, with PyTorch itself, the two
runs compared number by number. Each library is imported afresh for each binding (its modules
hold the ``torch`` they imported), and dropped afterwards so later imports get PyTorch's.

The light pure-Python ones (torch-optimizer, torchdiffeq, torchmetrics) are the ``compat``
extra, which CI installs; the others skip where they are not installed."""

import contextlib
import importlib
import sys
import warnings

import pytest

import minigrad
import minigrad.as_torch


def _drop(packages):
    for name in list(sys.modules):
        if name.split(".")[0] in packages:
            del sys.modules[name]


@contextlib.contextmanager
def _fresh(packages):
    _drop(packages)
    try:
        yield
    finally:
        _drop(packages)


def _both(program, *packages):
    """``program(torch)`` with ``torch`` bound to minigrad, then to PyTorch: ``(ours, theirs)``
    (``theirs`` is None where PyTorch is not installed)."""
    for package in packages:
        pytest.importorskip(package)
    with _fresh(packages), minigrad.as_torch.imports():
        ours = program(importlib.import_module("torch"))
    try:
        import torch
    except ImportError:
        return ours, None
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with _fresh(packages):
            theirs = program(torch)
    finally:
        torch.set_num_threads(threads)
    return ours, theirs


def _close(ours, theirs, rel=1e-4, abs=1e-5):
    if theirs is not None:
        assert ours == pytest.approx(theirs, rel=rel, abs=abs)


def _optimizers(torch):
    """torch-optimizer's RAdam, Yogi, Lamb, Ranger (the deprecated ``addcmul_(Number, t1, t2)``
    overload), AdaHessian (``randint_like(p, high=2)``, Hessian-vector products) and
    Lookahead, three steps each on a small regression."""
    optim = importlib.import_module("torch_optimizer")
    results = {}
    for name in ("RAdam", "Yogi", "Lamb", "Ranger", "Adahessian"):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
        x, y = torch.randn(8, 3), torch.randn(8, 1)
        opt = getattr(optim, name)(model.parameters(), lr=0.01)
        if name == "Yogi":
            opt = optim.Lookahead(opt, k=2, alpha=0.5)
        for _ in range(3):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward(create_graph=name == "Adahessian")
            opt.step()
        results[name] = [loss.item(), *(p.detach().sum().item() for p in model.parameters())]
    return results


def test_torch_optimizer_steps_as_with_pytorch(monkeypatch):
    monkeypatch.setattr(minigrad._warnings, "_said_once", set())  # once a run
    with pytest.warns(UserWarning, match="This overload of addcmul_ is deprecated"):
        ours, theirs = _both(_optimizers, "torch_optimizer", "pytorch_ranger")
    for name, values in ours.items():
        _close(values, theirs and theirs[name])


def _ode(torch):
    """torchdiffeq: dopri5 and rk4 solves with gradients by backpropagation, and the adjoint
    method's gradients."""
    torchdiffeq = importlib.import_module("torchdiffeq")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    func = lambda t, y: net(y)  # noqa: E731
    y0, t = torch.tensor([[2.0, 0.0]]), torch.linspace(0.0, 1.0, 3)
    results = []
    for method, options in (("dopri5", None), ("rk4", {"step_size": 0.25})):
        ys = torchdiffeq.odeint(func, y0, t, method=method, options=options, rtol=1e-4, atol=1e-5)
        (grad,) = torch.autograd.grad(ys.pow(2).sum(), [net[0].weight])
        results += [*ys[-1, 0].tolist(), grad.sum().item()]

    class Field(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, t, y):
            return self.net(y)

    field = Field()
    ys = torchdiffeq.odeint_adjoint(field, y0, t, rtol=1e-4, atol=1e-5)
    ys.pow(2).sum().backward()
    return [*results, *ys[-1, 0].tolist(), net[0].weight.grad.sum().item()]


def test_torchdiffeq_solves_and_adjoint_gradients_as_with_pytorch():
    ours, theirs = _both(_ode, "torchdiffeq")
    _close(ours, theirs, rel=1e-3, abs=1e-4)  # adaptive steps: tolerances of the solver


def _metrics(torch):
    """torchmetrics in a training loop: Accuracy, F1Score, MeanSquaredError and a
    MetricCollection updated per batch and computed at the end."""
    tm = importlib.import_module("torchmetrics")
    torch.manual_seed(0)
    acc = tm.Accuracy(task="multiclass", num_classes=3)
    f1 = tm.F1Score(task="multiclass", num_classes=3, average="macro")
    both = tm.MetricCollection(
        [tm.Accuracy(task="multiclass", num_classes=3), tm.Recall(task="multiclass", num_classes=3)]
    )
    mse = tm.MeanSquaredError()
    model = torch.nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = []
    for _ in range(3):
        x, y = torch.randn(8, 4), torch.randint(0, 3, (8,))
        logits = model(x)
        loss = torch.nn.functional.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        probs = logits.detach().softmax(-1)
        batches.append(acc(probs, y).item())
        f1.update(probs, y)
        both.update(probs, y)
        mse.update(logits.detach()[:, 0], y.float())
    computed = {k: v.item() for k, v in both.compute().items()}
    return [*batches, acc.compute().item(), f1.compute().item(), mse.compute().item()], computed


def test_torchmetrics_in_a_training_loop_as_with_pytorch():
    (ours, our_collection), theirs = _both(_metrics, "torchmetrics", "lightning_utilities")
    assert set(our_collection) == {"MulticlassAccuracy", "MulticlassRecall"}
    if theirs is not None:
        _close(ours, theirs[0])
        _close(our_collection, theirs[1])


def _metric_learning(torch):
    """pytorch-metric-learning: a miner's pairs and triplet, NT-Xent and ArcFace losses with
    their gradients."""
    losses = importlib.import_module("pytorch_metric_learning.losses")
    miners = importlib.import_module("pytorch_metric_learning.miners")
    torch.manual_seed(0)
    embed = torch.nn.Linear(6, 4)
    x, y = torch.randn(12, 6), torch.randint(0, 3, (12,))
    results = []
    for loss_fn in (
        losses.TripletMarginLoss(margin=0.1),
        losses.NTXentLoss(),
        losses.ArcFaceLoss(3, 4),
    ):
        e = embed(x)
        pairs = miners.MultiSimilarityMiner()(e, y)
        loss = (
            loss_fn(e, y, pairs) if isinstance(loss_fn, losses.TripletMarginLoss) else loss_fn(e, y)
        )
        embed.zero_grad()
        loss.backward()
        results += [loss.item(), embed.weight.grad.abs().sum().item(), *map(len, pairs)]
    return results


def test_pytorch_metric_learning_losses_as_with_pytorch():
    ours, theirs = _both(_metric_learning, "pytorch_metric_learning")
    _close(ours, theirs)


def _attributions(torch):
    """captum: IntegratedGradients (with its convergence delta), Saliency and DeepLift."""
    attr = importlib.import_module("captum.attr")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2))
    x, baseline = torch.rand(2, 3, requires_grad=True), torch.zeros(2, 3)
    ig, delta = attr.IntegratedGradients(model).attribute(
        x, baseline, target=0, return_convergence_delta=True, n_steps=10
    )
    saliency = attr.Saliency(model).attribute(x, target=1)
    deeplift = attr.DeepLift(model).attribute(x, baseline, target=1)
    return [v for t in (ig, delta, saliency, deeplift) for v in t.flatten().tolist()]


def test_captum_attributions_as_with_pytorch():
    with warnings.catch_warnings():  # captum warns that it hooks the activations (DeepLift)
        warnings.simplefilter("ignore")
        ours, theirs = _both(_attributions, "captum")
    _close(ours, theirs)


def _transformer(torch):
    """x-transformers: a two-layer decoder's forward and backward."""
    xt = importlib.import_module("x_transformers")
    torch.manual_seed(0)
    model = xt.TransformerWrapper(
        num_tokens=20, max_seq_len=8, attn_layers=xt.Decoder(dim=16, depth=2, heads=2)
    )
    tokens = torch.randint(0, 20, (2, 8))
    logits = model(tokens)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 20), tokens.reshape(-1))
    loss.backward()
    grads = sum(p.grad.abs().sum() for p in model.parameters() if p.grad is not None)
    return [loss.item(), grads.item()]


def test_x_transformers_decoder_as_with_pytorch():
    ours, theirs = _both(_transformer, "x_transformers", "einops", "einx", "torch_einops_utils")
    _close(ours, theirs)


# -- what the libraries needed, checked against PyTorch without them ---------------------------


@pytest.mark.parametrize(
    "call",
    [
        "x.add_(2, o)",
        "x.sub_(2, o)",
        "x.add(2, o)",
        "torch.sub(x, 2, o)",
        "x.addcmul_(2, o, o)",
        "torch.addcmul(x, 2, o, o)",
        "x.addcdiv_(2, o, o)",
        "x.addcdiv(2, o, o)",
    ],
)
def test_deprecated_number_first_overloads_as_pytorchs(call, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(minigrad._warnings, "_said_once", set())
    results = []
    for lib in (minigrad, torch):
        x, o = lib.tensor([1.0, -2.0]), lib.tensor([3.0, 0.5])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = eval(call, {"torch": lib, "x": x, "o": o})
        results.append((result.tolist(), x.tolist()))
        if lib is minigrad:  # (PyTorch warns once per process: maybe not here)
            name = call.split("(")[0].split(".")[-1]
            assert [str(w.message).split(":")[0] for w in caught] == [
                f"This overload of {name} is deprecated"
            ]
    assert results[0] == results[1]


def test_deprecated_overload_warns_once_per_process(monkeypatch):
    monkeypatch.setattr(minigrad._warnings, "_said_once", set())
    x, o = minigrad.zeros(2), minigrad.ones(2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x.add_(2, o)
        x.addcmul_(2, o, o)
    assert len(caught) == 1 and x.tolist() == [4.0, 4.0]
    with pytest.raises(TypeError, match="multiple values for argument 'value'"):
        x.addcmul_(2, o, o, value=3)


def test_randint_like_takes_high_alone_as_pytorch():
    torch = pytest.importorskip("torch")
    draws = []
    for lib in (minigrad, torch):
        lib.manual_seed(0)
        x = lib.zeros(6)
        draws.append(
            [lib.randint_like(x, high=3).tolist(), lib.randint_like(x, 1, high=3).tolist()]
        )
    assert draws[0] == draws[1]


def test_requires_grad_on_a_non_leaf_as_pytorch():
    x = minigrad.ones(2, requires_grad=True)
    y = x * 2
    assert y.requires_grad_() is y and not y.is_leaf
    with pytest.raises(RuntimeError, match=r"leaf variables\.$"):
        y.requires_grad = True
    with pytest.raises(RuntimeError, match="var_no_grad = var.detach"):
        y.requires_grad_(False)


def test_semi_private_names_libraries_reach(capfd, monkeypatch):
    monkeypatch.setenv("PYTORCH_API_USAGE_STDERR", "1")
    minigrad._C._log_api_usage_once("libs16.test.event")
    minigrad._C._log_api_usage_once("libs16.test.event")
    assert capfd.readouterr().err == "PYTORCH_API_USAGE libs16.test.event\n"
    assert minigrad.torch is minigrad
    assert isinstance(minigrad.Tensor, minigrad._C._TensorMeta)
    import minigrad.distributed.constants as constants

    assert constants.default_pg_timeout.total_seconds() == 1800
    dist = minigrad.distributed
    assert isinstance(dist.ReduceOp.SUM, dist.ReduceOp.RedOpType)
    assert minigrad.futures.Future[minigrad.Tensor].__origin__ is minigrad.futures.Future
    assert minigrad.backends.mkldnn.is_available() is False
    with minigrad.backends.mkldnn.flags(enabled=False):
        assert minigrad.backends.mkldnn.enabled is False
    assert minigrad.backends.mkldnn.enabled is True


def test_scatter_gather_refuse_the_cpu_as_pytorch():
    from minigrad.nn.parallel import gather, scatter
    from minigrad.nn.parallel.scatter_gather import scatter_kwargs

    assert scatter(3, [0, 1]) == [3, 3]
    assert scatter_kwargs((), {}, [0]) == ((), ())
    with pytest.raises(ValueError, match="Expected a non cpu device, but got: cpu"):
        scatter((minigrad.ones(4), 3), ["cpu"])
    with pytest.raises(AssertionError, match="Gather function not implemented for CPU tensors"):
        gather([minigrad.ones(2)], "cpu")
