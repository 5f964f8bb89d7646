"""Third-party libraries built on PyTorch, run with ``torch`` bound to minigrad (as under
``python -m minigrad.as_torch``) and, where PyTorch is installed, with PyTorch itself, the two
runs compared number by number. Each library is imported afresh for each binding (its modules
hold the ``torch`` they imported), and dropped afterwards so later imports get PyTorch's.

The light pure-Python ones (torch-optimizer, torchdiffeq, torchmetrics) are the ``compat``
extra, which CI installs; the others skip where they are not installed."""

import contextlib
import importlib
import importlib.util
import math
import os
import sys
import warnings

import numpy as np
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


def _need(*packages):
    """Skip unless ``packages`` are installed (found, not imported: timm and vit-pytorch import
    torchvision, which PyTorch's run may lack)."""
    for package in packages:
        if importlib.util.find_spec(package) is None:
            pytest.skip(f"{package} is not installed")


def _both(program, *packages):
    """``program(torch)`` with ``torch`` bound to minigrad, then to PyTorch: ``(ours, theirs)``
    (``theirs`` is None where PyTorch is not installed)."""
    _need(*packages)
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


# -- libs17: timm, vit-pytorch, skorch, kornia, Lightning, segmentation-models-pytorch -----------


def test_timm_models_optimizers_schedulers_and_transforms():
    """timm (no PyTorch run: timm imports torchvision, which needs PyTorch's compiled
    operators): ResNet-18 with torchvision's parameter count, a forward and backward, timm's
    Adan (three betas) under a cosine schedule with warmup, and its evaluation transform."""
    _need("timm")
    with _fresh(["timm"]), minigrad.as_torch.imports():
        import timm.data
        import timm.optim
        import timm.scheduler
        import torch
        from PIL import Image

        torch.manual_seed(0)
        model = timm.create_model("resnet18", pretrained=False, num_classes=4)
        assert sum(p.numel() for p in model.parameters()) == 11_689_512 - 513_000 + 2_052
        opt = timm.optim.create_optimizer_v2(model, opt="adan", lr=1e-3, weight_decay=0.05)
        sched, epochs = timm.scheduler.create_scheduler_v2(
            opt, sched="cosine", num_epochs=4, warmup_epochs=1
        )
        x, y = torch.randn(2, 3, 32, 32), torch.tensor([1, 3])
        for epoch in range(2):
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step(epoch + 1)
        assert type(opt).__name__ == "Adan" and epochs == 4 and loss.item() > 0
        assert opt.param_groups[0]["lr"] == pytest.approx(
            1e-3 * (1 + math.cos(math.pi * 2 / 4)) / 2
        )
        cfg = timm.data.resolve_data_config({}, model=model)
        image = Image.fromarray(np.arange(40 * 30 * 3, dtype=np.uint8).reshape(40, 30, 3))
        out = timm.data.create_transform(**{**cfg, "input_size": (3, 24, 24)})(image)
        assert out.shape == (3, 24, 24) and isinstance(out, minigrad.Tensor)


def _vit(torch):
    """vit-pytorch: a ViT's forward and backward (with dropout) and a SimpleViT's forward. Its
    ``vit.py`` and ``simple_vit.py`` are loaded alone: the package's ``__init__`` imports
    torchvision, which needs PyTorch's compiled operators."""
    folder = os.path.dirname(importlib.util.find_spec("vit_pytorch").origin)

    def load(name):
        spec = importlib.util.spec_from_file_location(f"vit_pytorch_{name}", f"{folder}/{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    torch.manual_seed(0)
    shape = dict(image_size=16, patch_size=8, num_classes=3, dim=16, depth=1, heads=2, mlp_dim=32)
    vit = load("vit").ViT(**shape, dropout=0.1, emb_dropout=0.1)
    image = torch.randn(2, 3, 16, 16)
    preds = vit(image)
    preds.sum().backward()
    grads = sum(p.grad.abs().sum().item() for p in vit.parameters())
    torch.manual_seed(0)
    simple = load("simple_vit").SimpleViT(**shape)
    return [*preds.flatten().tolist(), grads, *simple(image).flatten().tolist()]


def test_vit_pytorch_as_with_pytorch():
    ours, theirs = _both(_vit, "vit_pytorch", "einops")
    _close(ours, theirs)


def _skorch(torch):
    """skorch: NeuralNetClassifier.fit on a toy set (its internal validation split, shuffled
    batches, dropout), then predict_proba."""
    skorch = importlib.import_module("skorch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 5)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(8, 2)
    )
    net = skorch.NeuralNetClassifier(
        module, max_epochs=3, lr=0.1, iterator_train__shuffle=True, verbose=0,
        criterion=torch.nn.CrossEntropyLoss,
    )  # fmt: skip
    net.fit(x, y)
    history = [v for h in net.history for v in (h["train_loss"], h["valid_loss"])]
    return [*history, *net.predict_proba(x[:3]).ravel().tolist()]


def test_skorch_fit_as_with_pytorch():
    ours, theirs = _both(_skorch, "skorch", "sklearn")
    _close(ours, theirs)


def _kornia(torch):
    """kornia: filters (Gaussian blur, Sobel), colour conversions with their gradients, and an
    augmentation pipeline (flip, affine, colour jitter) drawn from the global generator."""
    kornia = importlib.import_module("kornia")
    augmentation = importlib.import_module("kornia.augmentation")
    torch.manual_seed(0)
    image = torch.rand(2, 3, 8, 8, requires_grad=True)
    outs = [
        kornia.filters.gaussian_blur2d(image, (5, 5), (1.5, 1.5)),
        kornia.filters.sobel(image),
        kornia.color.rgb_to_grayscale(image),
        kornia.color.rgb_to_hsv(image),
        kornia.color.rgb_to_lab(image),
    ]
    sum(o.sum() for o in outs).backward()
    aug = torch.nn.Sequential(
        augmentation.RandomHorizontalFlip(p=0.5),
        augmentation.RandomAffine(degrees=15, p=1.0),
        augmentation.ColorJitter(0.2, 0.2, 0.2, 0.1, p=1.0),
    )
    augmented = aug(image.detach())
    return [*(o.sum().item() for o in outs), image.grad.sum().item(), augmented.sum().item()]


def test_kornia_filters_color_augmentation_as_with_pytorch():
    ours, theirs = _both(_kornia, "kornia", "kornia_rs")
    _close(ours, theirs)


def _lightning(torch):
    """Lightning: a LightningModule trained by a CPU Trainer for two epochs with a validation
    loop and logged metrics."""
    lightning = importlib.import_module("lightning")
    data = importlib.import_module("torch.utils.data")

    class Model(lightning.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Sequential(
                torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1)
            )

        def training_step(self, batch, batch_idx):
            loss = torch.nn.functional.mse_loss(self.net(batch[0]), batch[1])
            self.log("train_loss", loss)
            return loss

        def validation_step(self, batch, batch_idx):
            self.log("val_loss", torch.nn.functional.mse_loss(self.net(batch[0]), batch[1]))

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    torch.manual_seed(0)
    dataset = data.TensorDataset(torch.randn(16, 4), torch.randn(16, 1))
    model = Model()
    trainer = lightning.Trainer(
        max_epochs=2, accelerator="cpu", logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(model, data.DataLoader(dataset, batch_size=8), data.DataLoader(dataset, 16))
    metrics = [float(trainer.callback_metrics[k]) for k in ("train_loss", "val_loss")]
    return [*metrics, *(p.sum().item() for p in model.parameters())]


def test_lightning_trainer_fit_as_with_pytorch():
    with warnings.catch_warnings():  # its advice (workers, tips)
        warnings.simplefilter("ignore")
        packages = ("lightning", "lightning_fabric", "pytorch_lightning", "torchmetrics")
        ours, theirs = _both(_lightning, *packages, "lightning_utilities")
    _close(ours, theirs)


def test_segmentation_models_pytorch_unet():
    """segmentation-models-pytorch (no PyTorch run: it imports torchvision): a U-Net on a
    ResNet-18 encoder, its parameter count, a forward and the Dice loss's backward."""
    _need("segmentation_models_pytorch")
    with _fresh(["segmentation_models_pytorch", "timm"]), minigrad.as_torch.imports():
        torch = importlib.import_module("torch")
        smp = importlib.import_module("segmentation_models_pytorch")
        torch.manual_seed(0)
        model = smp.Unet(encoder_name="resnet18", encoder_weights=None, classes=2)
        assert sum(p.numel() for p in model.parameters()) == 14_328_354
        out = model(torch.randn(1, 3, 64, 64))
        loss = smp.losses.DiceLoss("multiclass")(out, torch.randint(0, 2, (1, 64, 64)))
        loss.backward()
        assert out.shape == (1, 2, 64, 64) and model.encoder.conv1.weight.grad is not None


def test_names_the_libs17_libraries_reach():
    """What timm, kornia and Lightning import or check, without them: PyTorch's generic data
    classes, ``torch.device`` as a type, the DataLoader iterators' base class, and the
    answers of features minigrad lacks (fake tensors, make_fx, Kineto, symbolic ints)."""
    import typing

    import minigrad.utils.data as data
    from minigrad._dynamo import OptimizedModule
    from minigrad._subclasses.fake_tensor import is_fake
    from minigrad.fx.experimental.proxy_tensor import get_proxy_mode
    from minigrad.jit.annotations import List
    from minigrad.utils._pytree import _get_node_type
    from minigrad.utils.data.dataloader import _BaseDataLoaderIter, _MultiProcessingDataLoaderIter

    assert data.Dataset[int].__origin__ is data.Dataset and data.Sampler[list[int]] is not None
    assert data.DataLoader[int].__origin__ is data.DataLoader and data.Subset[int] is not None
    x = minigrad.zeros(2)
    assert isinstance(x.device, minigrad.device) and not isinstance("cpu", minigrad.device)
    assert minigrad.device("cpu") is x.device and typing.Union[str, minigrad.device]  # noqa: UP007 - as hints write it
    batches = iter(data.DataLoader(data.TensorDataset(minigrad.arange(5)), batch_size=2))
    assert isinstance(batches, _BaseDataLoaderIter) and len(batches) == 3
    assert [b[0].tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    assert issubclass(_MultiProcessingDataLoaderIter, _BaseDataLoaderIter)
    assert _MultiProcessingDataLoaderIter._shutdown_workers is not None
    assert not isinstance(3, minigrad.SymInt) and not is_fake(x) and get_proxy_mode() is None
    with pytest.raises(NotImplementedError, match="symbolic shapes"):
        minigrad.SymInt()
    assert minigrad.profiler.kineto_available() is False and List is typing.List  # noqa: UP006
    assert isinstance(minigrad.compile(minigrad.nn.Linear(2, 2)), OptimizedModule)
    assert minigrad.hub.urlparse("https://a.b/c.pth").path == "/c.pth"
    assert _get_node_type({"a": 1}) is dict and minigrad.ScriptModule is minigrad.jit.ScriptModule
    assert minigrad._C._are_functorch_transforms_active() is False
    seen = []
    minigrad.func.vmap(lambda t: seen.append(minigrad._C._are_functorch_transforms_active()) or t)(
        x
    )
    assert seen == [True]


def test_parse_to_as_pytorchs():
    torch = pytest.importorskip("torch")
    for lib in (minigrad, torch):
        results = [
            lib._C._nn._parse_to("cpu"),
            lib._C._nn._parse_to(lib.float64),
            lib._C._nn._parse_to(lib.ones(2, dtype=lib.float16)),
            lib._C._nn._parse_to(device="cpu", dtype=lib.half, non_blocking=True),
            lib._C._nn._parse_to("cpu", memory_format=lib.channels_last),
        ]
        shown = [tuple(str(v) for v in r) for r in results]
        if lib is minigrad:
            ours = shown
    assert [tuple(v.replace("minigrad.", "torch.") for v in r) for r in ours] == shown


def test_base_optimizer_checks_only_minigrads_optimizers():
    """PyTorch's ``Optimizer`` checks no hyperparameter (timm's Adan has three betas); its
    optimizers, and their subclasses, check their own."""

    class ThreeBetas(minigrad.optim.Optimizer):
        def __init__(self, params, betas=(0.98, 0.92, 0.99)):
            super().__init__(params, {"lr": 0.1, "betas": betas})

    p = minigrad.nn.Parameter(minigrad.ones(2))
    opt = ThreeBetas([p])
    opt.add_param_group({"params": [minigrad.nn.Parameter(minigrad.ones(1))], "lr": -1.0})
    assert opt.param_groups[0]["betas"] == (0.98, 0.92, 0.99)

    class MyAdam(minigrad.optim.Adam):
        pass

    for cls in (minigrad.optim.Adam, MyAdam):
        with pytest.raises(ValueError, match="betas"):
            cls([p], betas=(0.9, 0.9, 0.9))


def test_pytorch_file_reader_reads_a_torch_save_archive(tmp_path):
    torch = pytest.importorskip("torch")
    path = str(tmp_path / "t.pt")
    torch.save({"w": torch.arange(3.0)}, path)
    ours, theirs = minigrad.PyTorchFileReader(path), torch.PyTorchFileReader(path)
    assert ours.get_all_records() == theirs.get_all_records()
    assert ours.serialization_id() == theirs.serialization_id()
    for name in ("data.pkl", "byteorder", "data/0"):
        assert ours.has_record(name) and ours.get_record(name) == theirs.get_record(name)
    with pytest.raises(RuntimeError, match="failed locating file nope"):
        ours.get_record("nope")
    with pytest.raises(RuntimeError, match="No such file"):
        minigrad.PyTorchFileReader(str(tmp_path / "missing.pt"))


def test_frozen_batchnorm2d_is_batchnorm_in_eval():
    from minigrad.vision.ops import FrozenBatchNorm2d

    minigrad.manual_seed(0)
    bn = minigrad.nn.BatchNorm2d(3)
    bn(minigrad.randn(4, 3, 2, 2) * 2 + 1)  # running statistics
    minigrad.nn.init.normal_(bn.weight)
    frozen = FrozenBatchNorm2d(3)
    frozen.load_state_dict(bn.state_dict())  # num_batches_tracked dropped, strict passes
    x = minigrad.randn(2, 3, 2, 2)
    assert frozen(x).flatten().tolist() == pytest.approx(bn.eval()(x).flatten().tolist(), rel=1e-5)
    assert repr(frozen) == "FrozenBatchNorm2d(3, eps=1e-05)" and not list(frozen.parameters())


def test_resized_crop_and_kmnist():
    from minigrad.vision.datasets import KMNIST
    from minigrad.vision.transforms import functional as F

    img = minigrad.arange(48.0).reshape(1, 6, 8)
    out = F.resized_crop(img, 1, 2, 4, 4, [2, 2])
    assert out.tolist() == F.resize(F.crop(img, 1, 2, 4, 4), [2, 2]).tolist()
    with pytest.raises(NotImplementedError, match="KMNIST.download=True.: minigrad has no"):
        KMNIST("/nonexistent-root", download=True)


def _pytorch_form_overrides(torch):
    """Modules overriding ``_load_from_state_dict`` with PyTorch's arguments, as torchmetrics,
    timm (a key deleted before ``super()``) and kornia do, on a plain module and a
    ``BatchNorm2d``; ``strict=False`` reports the rest."""

    class DropsCounter(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("running_mean", torch.zeros(2))

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, *lists):
            state_dict.pop(prefix + "num_batches_tracked", None)
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, *lists)

    class Norm(torch.nn.BatchNorm2d):
        def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, *lists):
            state_dict[prefix + "bias"] = state_dict[prefix + "bias"] + 1
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, *lists)

    model = torch.nn.Sequential(DropsCounter(), Norm(2))
    given = {
        "0.running_mean": torch.ones(2),
        "0.num_batches_tracked": torch.tensor(3),
        **{f"1.{k}": v + 2 for k, v in torch.nn.BatchNorm2d(2).state_dict().items()},
        "1.extra": torch.ones(1),
    }
    result = model.load_state_dict(given, strict=False)
    with pytest.raises(RuntimeError, match="Unexpected key.*1.extra"):
        model.load_state_dict(given)
    values = [v.tolist() for v in model.state_dict().values()]
    return [result.missing_keys, result.unexpected_keys, values, sorted(given)]


def test_pytorch_form_load_from_state_dict_overrides_as_pytorch():
    ours, theirs = _both(_pytorch_form_overrides)
    assert ours == theirs or theirs is None
    assert ours[1] == ["1.extra"] and ours[2][0] == [1.0, 1.0] and ours[2][2] == [3.0, 3.0]
