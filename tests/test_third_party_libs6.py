"""Third-party libraries of the twenty-second helper (entmax, lion-pytorch, schedulefree,
rotary-embedding-torch, soft-moe-pytorch, perceiver-pytorch, info-nce-pytorch, torchcde,
torchode, geomloss, tensorly, POT, auraloss, julius, nnAudio, rtdl-revisiting-models,
pytorch-tabnet, DeepXDE), run with ``torch`` bound to minigrad (as under
``python -m minigrad.as_torch``) and with PyTorch, compared number by number (the helpers of
``test_third_party_libs``); each skips where its library is not installed."""

import importlib

import numpy as np
import pytest
from test_programs5 import close
from test_third_party_libs import _both


def _entmax(torch):
    """entmax's sparsemax, 1.5-entmax, bisection entmax and their losses, with backward."""
    em = importlib.import_module("entmax")
    torch.manual_seed(0)
    x = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    outs = [em.sparsemax(x, dim=-1), em.entmax15(x, dim=-1), em.entmax_bisect(x, alpha=1.3)]
    target = torch.tensor([0, 2, 4])
    losses = [em.Entmax15Loss()(x, target), em.SparsemaxLoss()(x, target)]
    weights = torch.arange(5.0, dtype=torch.float64)
    total = sum((o * weights).sum() for o in outs) + sum(loss.sum() for loss in losses)
    (grad,) = torch.autograd.grad(total, x)
    return [o.tolist() for o in outs + losses], grad.tolist()


def test_entmax_as_with_pytorch():
    ours, theirs = _both(_entmax, "entmax")
    assert ours[0][0][0].count(0.0) > 0  # sparse
    assert theirs is None or close(ours, theirs, rtol=1e-9, atol=1e-12)


def _optimizers(torch):
    """lion-pytorch's Lion and schedulefree's AdamW/SGD/RAdam (``train()``/``eval()`` swap the
    averaged weights in) on a small regression."""
    lion = importlib.import_module("lion_pytorch")
    sf = importlib.import_module("schedulefree")
    torch.manual_seed(1)
    x, y, results = torch.randn(8, 4), torch.randn(8, 2), []
    for make in (
        lambda ps: lion.Lion(ps, lr=1e-2, weight_decay=1e-2),
        lambda ps: sf.AdamWScheduleFree(ps, lr=1e-2, warmup_steps=2),
        lambda ps: sf.SGDScheduleFree(ps, lr=1e-2),
        lambda ps: sf.RAdamScheduleFree(ps, lr=1e-2),
    ):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
        opt = make(model.parameters())
        getattr(opt, "train", lambda: None)()
        for _ in range(3):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
        getattr(opt, "eval", lambda: None)()
        results.append([loss.item(), [p.tolist() for p in model.parameters()]])
    return results


def test_lion_and_schedulefree_as_with_pytorch():
    ours, theirs = _both(_optimizers, "lion_pytorch", "schedulefree")
    assert theirs is None or close(ours, theirs)


def _lucidrains(torch):
    """rotary-embedding-torch (plain, xpos, axial pixel frequencies), soft-moe-pytorch's
    SoftMoE and perceiver-pytorch's Perceiver, forward and backward."""
    rotary = importlib.import_module("rotary_embedding_torch")
    soft_moe = importlib.import_module("soft_moe_pytorch")
    perceiver = importlib.import_module("perceiver_pytorch")
    torch.manual_seed(0)
    q, k = torch.randn(1, 2, 6, 16, requires_grad=True), torch.randn(1, 2, 6, 16)
    rot = rotary.RotaryEmbedding(dim=8)
    q2, k2 = rot.rotate_queries_or_keys(q), rot.rotate_queries_or_keys(k)
    xq, xk = rotary.RotaryEmbedding(dim=8, use_xpos=True).rotate_queries_and_keys(q, k)
    axial = rotary.RotaryEmbedding(dim=4, freqs_for="pixel", max_freq=16).get_axial_freqs(3, 4)
    moe = soft_moe.SoftMoE(dim=16, seq_len=8, num_experts=4)
    model = perceiver.Perceiver(
        input_channels=3, input_axis=2, num_freq_bands=4, max_freq=10.0, depth=1,
        num_latents=8, latent_dim=16, cross_heads=1, latent_heads=2, cross_dim_head=8,
        latent_dim_head=8, num_classes=5,
    )  # fmt: skip
    outs = [q2 * k2, xq, xk, moe(torch.randn(2, 8, 16)), model(torch.randn(2, 6, 6, 3))]
    sum(o.sum() for o in outs).backward()
    grads = [p.grad.abs().sum().item() for p in [*moe.parameters(), *model.parameters()]]
    return [o.sum().item() for o in outs], axial.tolist(), q.grad.tolist(), grads


def test_rotary_soft_moe_perceiver_as_with_pytorch():
    packages = "rotary_embedding_torch", "soft_moe_pytorch", "perceiver_pytorch", "einops"
    ours, theirs = _both(_lucidrains, *packages)
    assert theirs is None or close(ours, theirs)


def _contrastive_and_transport(torch):
    """info-nce-pytorch's InfoNCE (unpaired and paired negatives), geomloss's SamplesLoss
    (Sinkhorn with weights, energy, Gaussian) and POT (``emd2``, ``sinkhorn2``,
    ``wasserstein_1d``), with gradients."""
    info_nce = importlib.import_module("info_nce")
    geomloss = importlib.import_module("geomloss")
    ot = importlib.import_module("ot")
    torch.manual_seed(0)
    q, p = torch.randn(6, 8, requires_grad=True), torch.randn(6, 8)
    losses = [
        info_nce.InfoNCE()(q, p),
        info_nce.InfoNCE(negative_mode="unpaired")(q, p, torch.randn(10, 8)),
        info_nce.InfoNCE(negative_mode="paired", temperature=0.2)(q, p, torch.randn(6, 4, 8)),
    ]
    x, y = torch.randn(20, 2, requires_grad=True), torch.randn(25, 2) + 1
    a, b = torch.rand(20), torch.rand(25)
    for kind in ("sinkhorn", "energy", "gaussian"):
        losses.append(geomloss.SamplesLoss(kind, blur=0.5, backend="tensorized")(x, y))
    losses.append(geomloss.SamplesLoss("sinkhorn", blur=0.3)(a / a.sum(), x, b / b.sum(), y))
    xs = torch.randn(6, 2, dtype=torch.float64, requires_grad=True)
    ys = torch.randn(7, 2, dtype=torch.float64)
    wa, wb = (torch.full((n,), 1 / n, dtype=torch.float64) for n in (6, 7))
    cost = ot.dist(xs, ys)
    losses += [ot.emd2(wa, wb, cost), ot.sinkhorn2(wa, wb, cost, 1.0)]
    losses.append(ot.wasserstein_1d(xs[:, 0], ys[:, 0], p=2))
    grads = torch.autograd.grad(sum(loss.float() for loss in losses), [q, x, xs])
    return [loss.item() for loss in losses], [g.tolist() for g in grads]


def test_info_nce_geomloss_pot_as_with_pytorch():
    ours, theirs = _both(_contrastive_and_transport, "info_nce", "geomloss", "ot")
    assert theirs is None or close(ours, theirs)


def _differential_equations(torch):
    """torchcde's ``cdeint`` (RK4) over a Hermite cubic spline and its gradient, linear and
    natural cubic interpolation (a missing value filled); torchode's Dopri5 with an integral
    step-size controller on a batch of problems."""
    cde = importlib.import_module("torchcde")
    to = importlib.import_module("torchode")
    torch.manual_seed(0)
    t = torch.linspace(0, 1, 6)
    path = torch.cat([t[None, :, None].expand(2, 6, 1), torch.randn(2, 6, 2)], -1)
    spline = cde.CubicSpline(cde.hermite_cubic_coefficients_with_backward_differences(path))
    field = torch.nn.Sequential(torch.nn.Linear(4, 4 * 3), torch.nn.Tanh())
    field.forward = lambda t, z: torch.nn.Sequential.forward(field, z).view(2, 4, 3)
    z = cde.cdeint(
        X=spline, z0=torch.randn(2, 4), func=field, t=spline.interval, method="rk4",
        options={"step_size": 0.25},
    )  # fmt: skip
    z.sum().backward()  # (the adjoint method, through the field's parameters)
    path[0, 2, 1] = float("nan")
    linear = cde.LinearInterpolation(cde.linear_interpolation_coeffs(path))
    natural = cde.CubicSpline(cde.natural_cubic_coeffs(path))
    interpolated = [linear.evaluate(0.3), linear.derivative(0.3), natural.evaluate(0.55)]
    term = to.ODETerm(lambda t, y: -0.5 * y + torch.sin(t)[:, None])
    solver = to.AutoDiffAdjoint(to.Dopri5(term=term), to.IntegralController(1e-6, 1e-3, term=term))
    t_eval = torch.linspace(0, 2, 5).expand(3, 5)
    sol = solver.solve(to.InitialValueProblem(y0=torch.randn(3, 2), t_eval=t_eval))
    return (z.tolist(), field[0].weight.grad.tolist(), [v.tolist() for v in interpolated],
            sol.ys.tolist(), sol.stats["n_steps"].tolist())  # fmt: skip


def test_torchcde_torchode_as_with_pytorch():
    ours, theirs = _both(
        _differential_equations, "torchcde", "torchode", "torchdiffeq", "torchsde", "torchtyping"
    )
    assert theirs is None or close(ours, theirs, rtol=1e-4, atol=1e-5)


def _tensorly(torch):
    """tensorly on its PyTorch backend: CP (``parafac``) and Tucker decompositions by SVD
    initialisation and alternating least squares, their reconstruction errors, unfold/fold."""
    tl = importlib.import_module("tensorly")
    decomposition = importlib.import_module("tensorly.decomposition")
    tl.set_backend("pytorch")
    try:
        torch.manual_seed(0)
        x = tl.tensor(torch.randn(4, 5, 3, dtype=torch.float64))
        cp = decomposition.parafac(x, rank=2, init="svd", n_iter_max=10)
        tucker = decomposition.tucker(x, rank=[2, 2, 2], init="svd", n_iter_max=10)
        errors = [tl.norm(x - tl.cp_to_tensor(cp)), tl.norm(x - tl.tucker_to_tensor(tucker))]
        unfolded = tl.unfold(x, 1)
        return ([e.item() for e in errors], [f.abs().tolist() for f in cp.factors],
                unfolded.tolist(), bool((tl.fold(unfolded, 1, x.shape) == x).all()))  # fmt: skip
    finally:
        tl.set_backend("numpy")


def test_tensorly_as_with_pytorch():
    ours, theirs = _both(_tensorly, "tensorly")
    assert ours[3] is True
    assert theirs is None or close(ours, theirs, rtol=1e-7, atol=1e-9)


def _audio(torch):
    """auraloss's multi-resolution STFT, SI-SDR and ESR losses with gradients, julius's
    resampling, low-pass filters, band split and FFT convolution, nnAudio's STFT, mel
    spectrogram (a trainable filter bank), MFCC and CQT layers."""
    auraloss = importlib.import_module("auraloss")
    julius = importlib.import_module("julius")
    features = importlib.import_module("nnAudio.features")
    torch.manual_seed(0)
    x, y = torch.randn(2, 1, 1024, requires_grad=True), torch.randn(2, 1, 1024)
    stft = auraloss.freq.MultiResolutionSTFTLoss([128, 256], [32, 64], [128, 256])
    losses = [stft(x, y), auraloss.time.SISDRLoss()(x, y), auraloss.time.ESRLoss()(x, y)]
    flat = x[:, 0]
    filtered = [
        julius.resample_frac(flat, 4, 5), julius.lowpass_filter(flat, 0.1),
        julius.split_bands(flat, sample_rate=16000, n_bands=3),
        julius.fft_conv1d(x, torch.randn(3, 1, 64)),
    ]  # fmt: skip
    mel = features.MelSpectrogram(
        sr=8000, n_fft=128, n_mels=16, hop_length=64, trainable_mel=True, verbose=False
    )
    specs = [
        features.STFT(n_fft=128, hop_length=64, output_format="Magnitude", verbose=False)(flat),
        mel(flat),
        features.MFCC(sr=8000, n_mfcc=8, n_fft=128, n_mels=16, hop_length=64, verbose=False)(flat),
        features.CQT1992v2(sr=8000, hop_length=64, fmin=200, n_bins=12, verbose=False)(flat),
    ]  # fmt: skip
    total = sum(losses) + sum(f.square().mean() for f in filtered) + specs[1].mean()
    total.backward()
    return ([v.item() for v in losses], [f.sum().item() for f in filtered],
            [s.sum().item() for s in specs], x.grad.abs().sum().item(),
            mel.mel_basis.grad.abs().sum().item())  # fmt: skip


def test_auraloss_julius_nnaudio_as_with_pytorch():
    ours, theirs = _both(_audio, "auraloss", "julius", "nnAudio")
    assert theirs is None or close(ours, theirs, rtol=1e-4, atol=1e-4)


def _tabular(torch):
    """rtdl-revisiting-models' MLP, ResNet and FT-Transformer (its parameter groups, AdamW
    steps, dropout on), pytorch-tabnet's ``TabNetClassifier.fit`` with an eval set (ghost batch
    norm, sparsemax attention), ``predict_proba``, feature importances and ``explain``."""
    rtdl = importlib.import_module("rtdl_revisiting_models")
    tab_model = importlib.import_module("pytorch_tabnet.tab_model")
    torch.manual_seed(0)
    x_num, x_cat, y = torch.randn(8, 3), torch.randint(0, 4, (8, 2)), torch.randn(8)
    mlp = rtdl.MLP(d_in=3, d_out=1, n_blocks=2, d_block=8, dropout=0.1)
    resnet = rtdl.ResNet(d_in=3, d_out=2, n_blocks=1, d_block=8, d_hidden=None,
                         d_hidden_multiplier=2.0, dropout1=0.1, dropout2=0.0)  # fmt: skip
    kwargs = rtdl.FTTransformer.get_default_kwargs(n_blocks=1)
    ft = rtdl.FTTransformer(n_cont_features=3, cat_cardinalities=[4, 4], d_out=1, **kwargs)
    opt = torch.optim.AdamW(ft.make_parameter_groups(), lr=1e-3, weight_decay=1e-5)
    for _ in range(2):
        opt.zero_grad()
        torch.nn.functional.mse_loss(ft(x_num, x_cat).squeeze(-1), y).backward()
        opt.step()
    outs = [mlp(x_num), resnet(x_num), ft.eval()(x_num, x_cat)]
    rng = np.random.RandomState(0)
    data = rng.randn(40, 4).astype(np.float32)
    labels = (data[:, 0] + data[:, 1] > 0).astype(int)
    clf = tab_model.TabNetClassifier(n_d=4, n_a=4, n_steps=2, seed=0, verbose=0)
    clf.fit(data[:32], labels[:32], eval_set=[(data[32:], labels[32:])], max_epochs=2,
            batch_size=16, virtual_batch_size=8, warm_start=True)  # fmt: skip
    return ([o.tolist() for o in outs], clf.history["loss"], clf.predict_proba(data[:4]).tolist(),
            clf.feature_importances_.tolist(), clf.explain(data[:2])[0].tolist())  # fmt: skip


def test_rtdl_tabnet_as_with_pytorch():
    ours, theirs = _both(_tabular, "rtdl_revisiting_models", "pytorch_tabnet")
    assert theirs is None or close(ours, theirs, rtol=1e-4, atol=1e-5)


def _deepxde(torch):
    """DeepXDE on its PyTorch backend: a physics-informed network for a 1-D Poisson problem
    (second derivatives by ``dde.grad.hessian``, Dirichlet conditions), Adam steps, the test
    metric and predictions."""
    dde = importlib.import_module("deepxde")
    dde.config.set_random_seed(0)
    geom = dde.geometry.Interval(-1, 1)

    def pde(x, y):
        return dde.grad.hessian(y, x) + np.pi**2 * torch.sin(np.pi * x)

    bc = dde.icbc.DirichletBC(geom, lambda x: (x[:, :1] + 1) / 2, lambda x, on: on)
    data = dde.data.PDE(geom, pde, bc, 8, 2, num_test=10, train_distribution="uniform",
                        solution=lambda x: np.sin(np.pi * x) + (x + 1) / 2)  # fmt: skip
    model = dde.Model(data, dde.nn.FNN([1, 8, 8, 1], "tanh", "Glorot uniform"))
    model.compile("adam", lr=1e-3, metrics=["l2 relative error"])
    history, _ = model.train(iterations=10, display_every=5, verbose=0)
    predicted = model.predict(np.array([[0.3], [-0.5]]))
    return [h.tolist() for h in history.loss_train], history.metrics_test, predicted.tolist()


def test_deepxde_as_with_pytorch(monkeypatch):
    monkeypatch.setenv("DDE_BACKEND", "pytorch")
    ours, theirs = _both(_deepxde, "deepxde")
    assert theirs is None or close(ours, theirs)


_PYTORCH_OPTIMIZERS = (
    "adabelief adafactor adahessian adan adopt ademamix came dadaptadam emonavi galore kate "
    "kron lamb lars madgrad magma mars prodigy ranger schedulefreeadamw scalableshampoo "
    "shampoo sm3 soap sophiah"
).split()


def _pytorch_optimizer(torch):
    """pytorch_optimizer (its foreach paths group tensors by ``torch.utils._foreach_utils``,
    Magma calls ``_patch_step_function``): three closure steps of each optimizer above on a
    small regression (float64: Shampoo and SOAP's eigensolvers in float32 differ by more than
    rounding), Hessian-based ones with ``create_graph``."""
    po = importlib.import_module("pytorch_optimizer")
    results = {}
    for name in _PYTORCH_OPTIMIZERS:
        torch.manual_seed(0)
        model = torch.nn.Sequential(
            torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2)
        ).double()
        x, y = torch.randn(8, 4, dtype=torch.float64), torch.randn(8, 2, dtype=torch.float64)
        opt = po.load_optimizer(name)(model.parameters(), lr=1e-2)

        def closure(opt=opt, model=model, x=x, y=y, name=name):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward(create_graph=name in ("adahessian", "sophiah"))
            return loss

        for _ in range(3):
            opt.step(closure)
        results[name] = [p.tolist() for p in model.parameters()]
    return results


def test_pytorch_optimizer_as_with_pytorch():
    ours, theirs = _both(_pytorch_optimizer, "pytorch_optimizer")
    assert theirs is None or close(ours, theirs, rtol=1e-6, atol=1e-8)


def _minimize_dct_ssim(torch):
    """pytorch-minimize's ``minimize`` (BFGS, L-BFGS with PyTorch's strong-Wolfe search,
    Newton-CG, trust-region and exact Newton: Hessians by the legacy ``_vmap``), torch-dct's
    orthonormal DCT and its inverse with a gradient, pytorch-msssim's SSIM (its Gaussian window
    is float32 ``exp``: a few ulps apart, hence the looser tolerance) and MS-SSIM."""
    torchmin = importlib.import_module("torchmin")
    dct = importlib.import_module("torch_dct")
    msssim = importlib.import_module("pytorch_msssim")
    target = torch.arange(3.0, dtype=torch.float64)
    results = []
    for method in ("bfgs", "l-bfgs", "newton-cg", "trust-exact", "newton-exact"):
        found = torchmin.minimize(
            lambda z: ((z - target) ** 2).sum() + (z[0] * z[1]) ** 2,
            torch.ones(3, dtype=torch.float64), method=method,
        )  # fmt: skip
        results.append([found.x.tolist(), int(found.nit)])
    torch.manual_seed(0)
    x = torch.randn(3, 8, dtype=torch.float64, requires_grad=True)
    coefficients = dct.dct(x, norm="ortho")
    (coefficients * torch.arange(8.0)).sum().backward()
    a, b = torch.rand(1, 3, 32, 32, requires_grad=True), torch.rand(1, 3, 32, 32)
    similarity = msssim.ssim(a, b, data_range=1.0, size_average=False)
    similarity.sum().backward()
    c = torch.rand(1, 1, 170, 170)
    multi = msssim.ms_ssim(c, (c + 0.1 * torch.rand_like(c)).clamp(0, 1), data_range=1.0)
    return (results, coefficients.tolist(), dct.idct(coefficients, norm="ortho").tolist(),
            x.grad.tolist(), similarity.tolist(), a.grad.abs().sum().item(), multi.item())  # fmt: skip


def test_pytorch_minimize_torch_dct_msssim_as_with_pytorch():
    ours, theirs = _both(_minimize_dct_ssim, "torchmin", "torch_dct", "pytorch_msssim")
    assert ours[0][0][0] == pytest.approx([0.0, 1.0, 2.0], abs=1e-4)
    assert theirs is None or close(ours, theirs, rtol=1e-4, atol=1e-5)


def _torchjd_came_ranger(torch):
    """torchjd's Jacobian descent (``autojac.backward`` maps ``autograd.grad`` over the rows of
    the Jacobian with ``torch.vmap``, then ``jac_to_grad`` with MGDA, PCGrad, IMTL-G, Aligned-MTL
    and ConFIG), its aggregators on a matrix; came-pytorch's CAME, pytorch-ranger's Ranger,
    RangerVA and RangerQH (the deprecated ``addcmul_(Number, ...)`` overload)."""
    autojac = importlib.import_module("torchjd.autojac")
    aggregation = importlib.import_module("torchjd.aggregation")
    came = importlib.import_module("came_pytorch")
    ranger = importlib.import_module("pytorch_ranger")
    torch.manual_seed(0)
    nn = torch.nn
    shared = nn.Sequential(nn.Linear(6, 4), nn.ReLU())
    heads = nn.Linear(4, 1), nn.Linear(4, 1)
    params = [*shared.parameters(), *heads[0].parameters(), *heads[1].parameters()]
    x, y = torch.randn(8, 6), torch.rand(2, 8)
    grads, aggregated = [], []
    for name in ("MGDA", "PCGrad", "IMTLG", "AlignedMTL", "ConFIG"):
        features = shared(x)
        losses = [nn.functional.mse_loss(h(features).squeeze(1), t) for h, t in zip(heads, y)]
        autojac.backward(losses)
        autojac.jac_to_grad(params, getattr(aggregation, name)())
        grads.append([p.grad.tolist() for p in params])
        for p in params:
            p.grad = None
        aggregated.append(getattr(aggregation, name)()(torch.randn(3, 5, dtype=torch.float64)))
    steps = []
    for make in (came.CAME, ranger.Ranger, ranger.RangerVA, ranger.RangerQH):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
        opt = make(model.parameters(), lr=1e-2)
        for _ in range(3):
            opt.zero_grad()
            ((model(x[:, :4]) - y.T) ** 2).mean().backward()
            opt.step()
        steps.append([p.tolist() for p in model.parameters()])
    return grads, [a.tolist() for a in aggregated], steps


def test_torchjd_came_ranger_as_with_pytorch():
    ours, theirs = _both(_torchjd_came_ranger, "torchjd", "came_pytorch", "pytorch_ranger")
    assert theirs is None or close(ours, theirs)


def _torchattacks(torch):
    """torchattacks' FGSM, PGD, BIM, CW, DeepFool, MI-FGSM, PGD-L2, APGD (seeded through
    ``torch.cuda.random.manual_seed`` too) and EOT-PGD on a small CNN: perturbations and the
    predictions on the adversarial images; an attack's repr."""
    ta = importlib.import_module("torchattacks")
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(144, 3)).eval()
    x, y = torch.rand(4, 1, 8, 8), torch.tensor([0, 1, 2, 0])
    attacks = [
        ta.FGSM(model, eps=8 / 255), ta.PGD(model, steps=3, random_start=False),
        ta.BIM(model, steps=3), ta.CW(model, c=1, steps=5), ta.DeepFool(model, steps=3),
        ta.MIFGSM(model, steps=3), ta.PGDL2(model, steps=3, random_start=False),
        ta.APGD(model, steps=3, seed=0), ta.EOTPGD(model, steps=2, eot_iter=2, random_start=False),
    ]  # fmt: skip
    out = []
    for attack in attacks:
        adversarial = attack(x, y)
        out.append([(adversarial - x).abs().sum().item(), model(adversarial).argmax(1).tolist()])
    return out, repr(attacks[1])


def test_torchattacks_as_with_pytorch():
    ours, theirs = _both(_torchattacks, "torchattacks")
    assert theirs is None or close(ours, theirs, rtol=1e-5, atol=1e-5)
