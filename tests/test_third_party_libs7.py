"""Third-party libraries of helper tplibs22b (session 19), run with ``torch`` bound to minigrad
(as under ``python -m minigrad.as_torch``) and with PyTorch, compared number by number (the
helpers of ``test_third_party_libs``); each skips where its library is not installed."""

import importlib

from test_programs5 import close
from test_third_party_libs import _both


def _fit(torch, make, steps=3):
    """``steps`` steps of the optimizer ``make(params)`` on a small regression: the last loss
    and the first layer's weights."""
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2))
    opt = make(model.parameters())
    x, y = torch.randn(12, 4), torch.randn(12, 2)
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
    return [loss.item(), model[0].weight.tolist()]


def _optimizers(torch):
    """adabelief-pytorch (decoupled and rectified), pytorch-ranger (the deprecated
    ``addcmul_(Number, ...)``), came-pytorch, dadaptation's DAdaptAdam and DAdaptLion, prodigyopt."""
    adabelief = importlib.import_module("adabelief_pytorch")
    ranger, came = (
        importlib.import_module("pytorch_ranger"),
        importlib.import_module("came_pytorch"),
    )
    dadapt, prodigy = importlib.import_module("dadaptation"), importlib.import_module("prodigyopt")
    makers = [
        lambda p: adabelief.AdaBelief(p, lr=1e-2, rectify=True, print_change_log=False),
        lambda p: ranger.Ranger(p, lr=1e-2),
        lambda p: came.CAME(p, lr=1e-3, weight_decay=1e-2),
        lambda p: dadapt.DAdaptAdam(p, lr=1.0),
        lambda p: dadapt.DAdaptLion(p, lr=1.0),
        lambda p: prodigy.Prodigy(p, lr=1.0, weight_decay=0.01),
    ]
    return [_fit(torch, make, steps=2) for make in makers]


def test_optimizer_packages_as_with_pytorch():
    packages = ("adabelief_pytorch", "pytorch_ranger", "came_pytorch", "dadaptation", "prodigyopt")
    ours, theirs = _both(_optimizers, *packages)
    assert theirs is None or close(ours, theirs)


def _torchmin(torch):
    """pytorch-minimize's ``minimize`` on Rosenbrock's function in float64: BFGS and CG (strong
    Wolfe line searches on ``torch.optim.lbfgs``'s), Newton-CG and the exact Newton and trust
    region methods (Hessians by ``torch._vmap_internals._vmap`` over ``autograd.grad``)."""
    torchmin = importlib.import_module("torchmin")

    def rosen(x):
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()

    x0 = torch.tensor([-1.0, 1.5, 0.5, 2.0], dtype=torch.float64)
    out = []
    for method in ("bfgs", "l-bfgs", "newton-cg", "newton-exact", "trust-exact"):
        r = torchmin.minimize(rosen, x0, method=method, max_iter=30)
        out.append([float(r.fun), r.x.tolist(), int(r.nit)])
    return out


def test_pytorch_minimize_as_with_pytorch():
    ours, theirs = _both(_torchmin, "torchmin")
    assert theirs is None or close(ours, theirs, rtol=1e-7, atol=1e-9)


def _signal(torch):
    """torch-dct's DCT/IDCT (1-, 2-, 3-D, ``norm="ortho"``, ``LinearDCT``) with gradients, and
    pytorch-msssim's ``ssim`` and ``SSIM`` backward."""
    dct, msssim = importlib.import_module("torch_dct"), importlib.import_module("pytorch_msssim")
    torch.manual_seed(0)
    x = torch.randn(3, 8, dtype=torch.float64, requires_grad=True)
    coeffs = [dct.dct(x), dct.dct(x, norm="ortho"), dct.dct_3d(x.reshape(2, 3, 4))]
    back = dct.idct_2d(dct.dct_2d(x.reshape(3, 2, 4), norm="ortho"), norm="ortho")
    (coeffs[0].pow(2).sum() + coeffs[2].sum()).backward()
    linear = dct.LinearDCT(8, "idct", norm="ortho").double()(coeffs[1])
    a = torch.rand(2, 3, 24, 24, requires_grad=True)
    b = (a.detach() + 0.1 * torch.randn(2, 3, 24, 24)).clamp(0, 1)
    s = msssim.ssim(a, b, data_range=1, size_average=False, win_size=7)
    module = msssim.SSIM(data_range=1, channel=3, win_size=7)
    (1 - module(a, b)).backward()
    return [[c.tolist() for c in coeffs], back.tolist(), x.grad.tolist(), linear.tolist(),
            s.tolist(), a.grad.tolist()]  # fmt: skip


def test_torch_dct_and_msssim_as_with_pytorch():
    ours, theirs = _both(_signal, "torch_dct", "pytorch_msssim")
    assert theirs is None or close(ours, theirs, rtol=1e-4, atol=1e-6)


def _schedules_and_clusters(torch):
    """pytorch-warmup's warmups dampening a cosine schedule in an AdamW loop, and torch-kmeans'
    ``KMeans`` and ``SoftKMeans`` on two blobs (seeded initialisation)."""
    warmup, kmeans = (
        importlib.import_module("pytorch_warmup"),
        importlib.import_module("torch_kmeans"),
    )
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.AdamW(model.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    x, y = torch.randn(8, 3), torch.randn(8, 1)
    lrs = []
    for w in (warmup.LinearWarmup(opt, warmup_period=5), warmup.RAdamWarmup(opt)):
        for _ in range(4):
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            opt.step()
            with w.dampening():
                sched.step()
            lrs.append(opt.param_groups[0]["lr"])
    points = torch.cat([torch.randn(2, 12, 2) + 3, torch.randn(2, 12, 2) - 3], dim=1)
    hard = kmeans.KMeans(n_clusters=2, seed=0, verbose=False)(points)
    soft = kmeans.SoftKMeans(n_clusters=2, seed=0, verbose=False)(points)
    return [lrs, model.weight.tolist(), hard.labels.tolist(), hard.centers.tolist(),
            hard.inertia.tolist(), soft.centers.tolist()]  # fmt: skip


def test_pytorch_warmup_and_torch_kmeans_as_with_pytorch():
    ours, theirs = _both(_schedules_and_clusters, "pytorch_warmup", "torch_kmeans")
    assert theirs is None or close(ours, theirs)


def _einx_local_attention(torch):
    """einx's ``dot``, ``sum``, ``softmax``, ``get_at`` with gradients, and local-attention's
    causal ``LocalAttention`` and a ``LocalTransformer`` (hyper-connections) backward."""
    einx = importlib.import_module("einx")
    local = importlib.import_module("local_attention")
    torch.manual_seed(0)
    x = torch.randn(2, 3, 4, requires_grad=True)
    outs = [einx.dot("b s [c], [c] d -> b s d", x, torch.randn(4, 5)), einx.sum("b [s] c", x),
            einx.softmax("b s [c]", x), einx.get_at("b [s] c, i -> b i c", x, torch.tensor([0, 2]))]  # fmt: skip
    sum(o.pow(2).sum() for o in outs).backward()
    q = torch.randn(1, 2, 8, 4, requires_grad=True)
    attn = local.LocalAttention(dim=4, window_size=4, causal=True, look_backward=1, autopad=True)
    att = attn(q, q.detach().flip(2), q.detach() * 2)
    att.sum().backward()
    model = local.LocalTransformer(
        num_tokens=16, dim=8, depth=1, causal=True, local_attn_window_size=4, max_seq_len=8
    )
    logits = model(torch.randint(0, 16, (1, 8)))
    logits.logsumexp(-1).sum().backward()
    return [[o.tolist() for o in outs], x.grad.tolist(), att.tolist(), q.grad.tolist(),
            logits.tolist(), model.token_emb.weight.grad.tolist()]  # fmt: skip


def test_einx_and_local_attention_as_with_pytorch():
    ours, theirs = _both(
        _einx_local_attention, "einx", "local_attention", "hyper_connections", "einops"
    )
    assert theirs is None or close(ours, theirs)


def _pytorch_optimizer(torch):
    """pytorch-optimizer (kozistr's; its foreach steps group tensors with
    ``torch.utils._foreach_utils``): Adan, Lion, LAMB, ADOPT, MADGRAD, schedule-free AdamW
    and SophiaH (Hessian estimates from ``backward(create_graph=True)``)."""
    load = importlib.import_module("pytorch_optimizer").load_optimizer
    names = ["adan", "lion", "lamb", "adopt", "madgrad", "schedulefreeadamw"]
    out = [_fit(torch, lambda p, n=n: load(n)(p, lr=1e-2), steps=2) for n in names]
    sophia = load("sophiah")
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    opt = sophia(model.parameters(), lr=1e-2, hessian_distribution="gaussian")
    x = torch.randn(6, 3)
    for _ in range(2):
        opt.zero_grad()
        model(x).pow(2).mean().backward(create_graph=True)
        opt.step()
    return out + [model.weight.tolist()]


def test_pytorch_optimizer_as_with_pytorch():
    ours, theirs = _both(_pytorch_optimizer, "pytorch_optimizer")
    assert theirs is None or close(ours, theirs)


def _torchjd(torch):
    """torchjd's multi-task backward (``autojac.mtl_backward``, Jacobians by ``vmap`` over
    ``autograd.grad`` with batched cotangents) aggregated by ``jac_to_grad`` with ``Mean``,
    ``PCGrad`` and ``MGDA`` into SGD steps."""
    torchjd = importlib.import_module("torchjd")
    agg = importlib.import_module("torchjd.aggregation")
    out = []
    for aggregator in (agg.Mean(), agg.PCGrad(), agg.MGDA()):
        torch.manual_seed(0)
        shared = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU())
        heads = torch.nn.Linear(5, 1), torch.nn.Linear(5, 1)
        params = [*shared.parameters(), *heads[0].parameters(), *heads[1].parameters()]
        opt = torch.optim.SGD(params, lr=0.1)
        x, y = torch.randn(8, 4), torch.randn(8, 2)
        for _ in range(2):
            f = shared(x)
            losses = [(heads[i](f)[:, 0] - y[:, i]).pow(2).mean() for i in range(2)]
            opt.zero_grad()
            torchjd.autojac.mtl_backward(losses, features=f)
            torchjd.autojac.jac_to_grad(list(shared.parameters()), aggregator)
            opt.step()
        out.append([[v.item() for v in losses], shared[0].weight.tolist()])
    return out


def test_torchjd_as_with_pytorch():
    ours, theirs = _both(_torchjd, "torchjd")
    assert theirs is None or close(ours, theirs)


def _curvature(torch):
    """hessian-eigenthings' Hessian and GGN operators over a DataLoader: Lanczos eigenvalues,
    deflated power iteration, Hutchinson's trace (seeded probes), in float64."""
    he = importlib.import_module("hessian_eigenthings")
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    data = torch.utils.data.TensorDataset(torch.randn(16, 3).double(), torch.randn(16, 1).double())
    loader = torch.utils.data.DataLoader(data, batch_size=8)
    hessian = he.HessianOperator(model, loader, he.supervised_loss(nn.MSELoss()))
    ggn = he.GGNOperator(
        model, loader, he.supervised_forward, he.supervised_loss_of_output(nn.MSELoss())
    )
    return [he.lanczos(hessian, k=3, seed=0).eigenvalues.tolist(),
            he.deflated_power_iteration(hessian, k=1, seed=0, max_iter=30).eigenvalues.tolist(),
            he.hutchinson(hessian, num_samples=4, seed=0).estimate,
            he.lanczos(ggn, k=2, seed=0).eigenvalues.tolist()]  # fmt: skip


def test_hessian_eigenthings_as_with_pytorch():
    ours, theirs = _both(_curvature, "hessian_eigenthings")
    assert theirs is None or close(ours, theirs, rtol=1e-8, atol=1e-10)


def _nufft(torch):
    """torchkbnufft's NUFFT and adjoint on complex128 images (FFTs, its dims as 0-d tensors),
    with sensitivity maps, a sparse interpolation matrix, density compensation and a backward."""
    tkbn = importlib.import_module("torchkbnufft")
    torch.manual_seed(0)
    size = (8, 8)
    image = torch.randn(1, 1, *size, dtype=torch.complex128, requires_grad=True)
    traj = (torch.rand(2, 12, dtype=torch.float64) - 0.5) * 6.28
    nufft = tkbn.KbNufft(im_size=size, dtype=torch.complex128)
    k = nufft(image, traj)
    back = tkbn.KbNufftAdjoint(im_size=size, dtype=torch.complex128)(k, traj)
    k.abs().pow(2).sum().backward()
    maps = torch.ones(1, 2, *size, dtype=torch.complex128)
    with_maps = nufft(image.detach(), traj, smaps=maps)
    sparse = nufft(image.detach(), traj, interp_mats=tkbn.calc_tensor_spmatrix(traj, im_size=size))
    dcomp = tkbn.calc_density_compensation_function(ktraj=traj, im_size=size, num_iterations=2)
    return [torch.view_as_real(t).tolist() for t in (k, back, image.grad, with_maps, sparse)] + [
        dcomp.abs().tolist()
    ]


def test_torchkbnufft_as_with_pytorch():
    ours, theirs = _both(_nufft, "torchkbnufft")
    assert theirs is None or close(ours, theirs, rtol=1e-9, atol=1e-10)


def _small_tools(torch):
    """torch-lr-finder's ``range_test`` (its own schedulers' ``get_lr``) and ``reset``,
    cooper's Lagrangian ``SimultaneousOptimizer`` on a norm constraint, product-key-memory's
    ``PKM`` backward."""
    lr_finder, cooper = (
        importlib.import_module("torch_lr_finder"),
        importlib.import_module("cooper"),
    )
    pkm = importlib.import_module("product_key_memory")
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3))
    data = torch.utils.data.TensorDataset(torch.randn(32, 4), torch.randint(0, 3, (32,)))
    loader = torch.utils.data.DataLoader(data, batch_size=8, shuffle=True)
    finder = lr_finder.LRFinder(
        model, torch.optim.SGD(model.parameters(), lr=1e-5), nn.CrossEntropyLoss()
    )
    finder.range_test(loader, end_lr=1, num_iter=6)
    finder.reset()
    out = [finder.history["lr"], finder.history["loss"], model[0].weight.tolist()]

    class Problem(cooper.ConstrainedMinimizationProblem):
        def __init__(self):
            super().__init__()
            self.multiplier = cooper.multipliers.DenseMultiplier(num_constraints=1)
            self.norm = cooper.Constraint(
                multiplier=self.multiplier, constraint_type=cooper.ConstraintType.INEQUALITY,
                formulation_type=cooper.formulations.Lagrangian,
            )  # fmt: skip

        def compute_cmp_state(self, lin, x, y):
            loss = nn.functional.mse_loss(lin(x), y)
            violation = lin.weight.pow(2).sum().reshape(1) - 0.05
            return cooper.CMPState(loss, {self.norm: cooper.ConstraintState(violation=violation)})

    lin, cmp = nn.Linear(3, 1), Problem()
    opt = cooper.optim.SimultaneousOptimizer(
        cmp=cmp, primal_optimizers=torch.optim.SGD(lin.parameters(), lr=0.05),
        dual_optimizers=torch.optim.SGD(cmp.dual_parameters(), lr=0.05, maximize=True),
    )  # fmt: skip
    x, y = torch.randn(16, 3), torch.randn(16, 1)
    for _ in range(4):
        opt.roll(compute_cmp_state_kwargs={"lin": lin, "x": x, "y": y})
    memory = pkm.PKM(dim=8, heads=2, num_keys=4, topk=2, dim_head=4)
    mem_out = memory(torch.randn(1, 3, 8))
    mem_out.sum().backward()
    return out + [lin.weight.tolist(), cmp.multiplier.weight.tolist(), mem_out.tolist(),
                  memory.values.weight.grad.tolist()]  # fmt: skip


def test_lr_finder_cooper_and_pkm_as_with_pytorch():
    packages = ("torch_lr_finder", "cooper", "product_key_memory", "colt5_attention", "einops")
    ours, theirs = _both(_small_tools, *packages)
    assert ours[-3][0] > 0  # the constraint is active: its multiplier grew
    assert theirs is None or close(ours, theirs)
