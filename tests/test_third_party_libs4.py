"""Third-party libraries of the nineteenth session, run with ``torch`` bound to minigrad (as
under ``python -m minigrad.as_torch``) and with PyTorch, compared number by number (the helpers
of ``test_third_party_libs``); each skips where its library is not installed. e3nn, BackPACK
and Torch-Pruning are in the ``compat`` extra, which CI installs."""

import importlib

import numpy as np
from test_programs5 import close
from test_third_party_libs import _both


def _e3nn(torch):
    """e3nn's tensor product (its code generated through torch.fx and opt_einsum_fx, which
    reads ``torch.functional.einsum`` calls from the graph), its equivariance under a random
    rotation, spherical harmonics and a backward to the path weights."""
    o3 = importlib.import_module("e3nn.o3")
    torch.manual_seed(0)
    irreps_in, irreps_out = o3.Irreps("2x0e + 1x1o"), o3.Irreps("1x0e + 1x1o")
    tp = o3.FullyConnectedTensorProduct(irreps_in, irreps_in, irreps_out)
    x, y = irreps_in.randn(4, -1), irreps_in.randn(4, -1)
    out = tp(x, y)
    rot = o3.rand_matrix()
    d_in, d_out = irreps_in.D_from_matrix(rot), irreps_out.D_from_matrix(rot)
    equivariant = bool(torch.allclose(tp(x @ d_in.T, y @ d_in.T), out @ d_out.T, atol=1e-5))
    sh = o3.spherical_harmonics([0, 1, 2], torch.randn(5, 3), normalize=True)
    out.pow(2).sum().backward()
    return out.tolist(), equivariant, sh.tolist(), tp.weight.grad.tolist()


def test_e3nn_tensor_product_as_with_pytorch():
    ours, theirs = _both(_e3nn, "e3nn", "opt_einsum_fx", "opt_einsum")
    assert ours[1] is True
    assert theirs is None or close(ours, theirs)


def _backpack(torch):
    """BackPACK's first- and second-order extensions on an MLP with cross-entropy: per-sample
    gradients, their variance and squared norms, the exact GGN diagonal and KFAC factors (it
    finds the quantities it passes between modules by the ``data_ptr`` of the tensors the full
    backward hooks see)."""
    backpack = importlib.import_module("backpack")
    ext = importlib.import_module("backpack.extensions")
    torch.manual_seed(0)
    nn = torch.nn
    model = backpack.extend(nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3)))
    loss_fn = backpack.extend(nn.CrossEntropyLoss())
    x, y = torch.randn(6, 4), torch.randint(0, 3, (6,))
    loss = loss_fn(model(x), y)
    with backpack.backpack(
        ext.BatchGrad(), ext.Variance(), ext.DiagGGNExact(), ext.BatchL2Grad(), ext.KFAC()
    ):
        loss.backward()
    return [
        [p.grad_batch.tolist(), p.variance.tolist(), p.diag_ggn_exact.tolist(),
         p.batch_l2.tolist(), [k.tolist() for k in p.kfac]]
        for p in model.parameters()
    ]  # fmt: skip


def test_backpack_extensions_as_with_pytorch():
    ours, theirs = _both(_backpack, "backpack", "einops", "unfoldNd")
    assert np.asarray(ours[0][0]).shape == (6, 5, 4)
    assert theirs is None or close(ours, theirs)


def _pruning(torch):
    """Torch-Pruning's magnitude pruner on a small CNN (its dependency graph walks the autograd
    graph from an example input): MACs and parameter counts before and after, the pruned
    layers' shapes, the output."""
    tp = importlib.import_module("torch_pruning")
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(32, 10),
    )  # fmt: skip
    example = torch.randn(1, 3, 8, 8)
    before = tp.utils.count_ops_and_params(model, example)
    pruner = tp.pruner.MagnitudePruner(
        model, example, importance=tp.importance.MagnitudeImportance(p=2),
        pruning_ratio=0.5, ignored_layers=[model[-1]],
    )  # fmt: skip
    pruner.step()
    after = tp.utils.count_ops_and_params(model, example)
    shapes = [tuple(p.shape) for p in model.parameters()]
    return [float(v) for v in before + after], shapes, model(example).tolist()


def test_torch_pruning_as_with_pytorch():
    ours, theirs = _both(_pruning, "torch_pruning")
    assert ours[1][0] == (8, 3, 3, 3) and ours[0][3] < ours[0][1]
    assert theirs is None or close(ours, theirs)


def _higher(torch):
    """higher's MAML inner loop (``innerloop_ctx`` with a differentiable SGD) on sine tasks:
    the meta-losses of five outer steps of Adam."""
    higher = importlib.import_module("higher")
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
    meta = torch.optim.Adam(model.parameters(), 1e-2)
    losses = []
    for _ in range(5):
        meta.zero_grad()
        for _task in range(2):
            a = torch.rand(1) + 0.5
            xs = torch.rand(8, 1) * 4 - 2
            ys = a * torch.sin(xs)
            inner = torch.optim.SGD(model.parameters(), lr=0.05)
            with higher.innerloop_ctx(model, inner, copy_initial_weights=False) as (fm, opt):
                for _ in range(2):
                    opt.step(((fm(xs) - ys) ** 2).mean())
                query = ((fm(xs) - ys) ** 2).mean()
                query.backward()
                losses.append(query.item())
        meta.step()
    return losses


def test_higher_maml_as_with_pytorch():
    ours, theirs = _both(_higher, "higher")
    assert theirs is None or close(ours, theirs)


def _normflows(torch):
    """normflows' RealNVP-style flow (affine coupling blocks and swaps) fitted by
    ``forward_kld``, then sampled."""
    nf = importlib.import_module("normflows")
    torch.manual_seed(0)
    flows = []
    for _ in range(4):
        flows.append(nf.flows.AffineCouplingBlock(nf.nets.MLP([1, 16, 16, 2], init_zeros=True)))
        flows.append(nf.flows.Permute(2, mode="swap"))
    model = nf.NormalizingFlow(nf.distributions.base.DiagGaussian(2), flows)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    target = torch.randn(256, 2) * torch.tensor([1.0, 0.3]) + torch.tensor([1.0, -1.0])
    losses = []
    for _ in range(15):
        opt.zero_grad()
        loss = model.forward_kld(target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    samples, log_prob = model.sample(4)
    return losses, samples.tolist(), log_prob.tolist()


def test_normflows_as_with_pytorch():
    ours, theirs = _both(_normflows, "normflows")
    assert ours[0][-1] < ours[0][0]
    assert theirs is None or close(ours, theirs)


def _vector_quantize(torch):
    """vector-quantize-pytorch: an EMA codebook's ``VectorQuantize`` with its commitment loss
    and straight-through backward, ``ResidualVQ``, ``FSQ`` (int32 indices from
    ``cumprod(dtype=int32)``) and ``LFQ`` (which imports ``torch.distributed.nn``)."""
    vq = importlib.import_module("vector_quantize_pytorch")
    torch.manual_seed(0)
    quantizer = vq.VectorQuantize(dim=16, codebook_size=32, decay=0.8, commitment_weight=1.0)
    x = torch.randn(2, 10, 16, requires_grad=True)
    quantized, indices, loss = quantizer(x)
    (quantized.sum() + loss).backward()
    rvq = vq.ResidualVQ(dim=16, num_quantizers=3, codebook_size=16)
    r_quantized, r_indices, _ = rvq(torch.randn(1, 5, 16))
    f_quantized, f_indices = vq.FSQ(levels=[8, 5, 5])(torch.randn(1, 6, 3))
    lfq = vq.LFQ(codebook_size=16, dim=4, entropy_loss_weight=0.1)
    l_quantized, l_indices, aux = lfq(torch.randn(1, 6, 4))
    return (
        [quantized.tolist(), indices.tolist(), loss.item(), x.grad.tolist()],
        [r_quantized.tolist(), r_indices.tolist()],
        [f_quantized.tolist(), f_indices.tolist(), str(f_indices.dtype).split(".")[-1]],
        [l_quantized.tolist(), l_indices.tolist(), aux.item()],
    )


def test_vector_quantize_pytorch_as_with_pytorch():
    ours, theirs = _both(_vector_quantize, "vector_quantize_pytorch", "einops", "einx")
    assert ours[2][2] == "int32"
    assert theirs is None or close(ours, theirs)


def _geoopt(torch):
    """geoopt's Riemannian optimisation: ``ManifoldParameter`` (a Parameter subclass with its
    own constructor and repr) on the Poincaré ball with RiemannianAdam, on the sphere with
    RiemannianSGD and momentum, a Stiefel weight inside an ``nn.Linear``."""
    geoopt = importlib.import_module("geoopt")
    torch.manual_seed(0)
    ball = geoopt.PoincareBall(c=1.0)
    x = geoopt.ManifoldParameter(ball.expmap0(torch.randn(5, 2) * 0.1), manifold=ball)
    target = ball.expmap0(torch.randn(5, 2) * 0.3)
    opt = geoopt.optim.RiemannianAdam([x], lr=0.05)
    losses = []
    for _ in range(10):
        opt.zero_grad()
        loss = ball.dist(x, target).pow(2).sum()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    sphere = geoopt.Sphere()
    p = geoopt.ManifoldParameter(sphere.projx(torch.randn(3)), manifold=sphere)
    sgd = geoopt.optim.RiemannianSGD([p], lr=0.1, momentum=0.9)
    for _ in range(5):
        sgd.zero_grad()
        (-(p * torch.tensor([1.0, 0, 0])).sum()).backward()
        sgd.step()
    stiefel = geoopt.Stiefel()
    layer = torch.nn.Linear(2, 2)
    layer.weight = geoopt.ManifoldParameter(stiefel.random(2, 2), manifold=stiefel)
    names = sorted(n for n, _ in layer.named_parameters())
    shown = repr(geoopt.ManifoldParameter(torch.zeros(2), manifold=ball))
    return losses, p.tolist(), names, shown


def test_geoopt_as_with_pytorch():
    ours, theirs = _both(_geoopt, "geoopt")
    assert ours[0][-1] < ours[0][0] and ours[2] == ["bias", "weight"]
    assert "Parameter(ManifoldParameter([0., 0.], requires_grad=True))" in ours[3]
    assert theirs is None or close(ours, theirs)
