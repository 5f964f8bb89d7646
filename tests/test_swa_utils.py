"""torch.optim.swa_utils: AveragedModel (SWA and EMA averages, with and without buffers),
SWALR's annealing and update_bn's batch-norm statistics, step by step against PyTorch."""

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")


def _run(lib, strategy, anneal_epochs):
    sw, nn = lib.optim.swa_utils, lib.nn
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 1))
    with lib.no_grad():
        for i, p in enumerate(model.parameters()):
            values = np.arange(p.numel(), dtype=np.float32).reshape(tuple(p.shape))
            p.copy_(lib.tensor(values * 0.05 - 0.1 * i))
    averages = [
        sw.AveragedModel(model),
        sw.AveragedModel(model, multi_avg_fn=sw.get_ema_multi_avg_fn(0.9)),
        sw.AveragedModel(model, avg_fn=sw.get_ema_avg_fn(0.9), use_buffers=True),
        sw.AveragedModel(model, avg_fn=sw.get_swa_avg_fn()),
    ]
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    sched = sw.SWALR(opt, swa_lr=0.01, anneal_epochs=anneal_epochs, anneal_strategy=strategy)
    lrs = [opt.param_groups[0]["lr"]]
    x = lib.tensor(np.linspace(-1, 1, 16, dtype=np.float32).reshape(8, 2))
    for _ in range(5):
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()
        for avg in averages:
            avg.update_parameters(model)
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    swa = averages[0]
    swa.eval()
    sw.update_bn([(x, 0), (x * 2, 1)], swa)
    weights = [[p.detach().numpy() for p in avg.module.parameters()] for avg in averages]
    stats = [averages[i].module[1].running_mean.numpy() for i in (0, 2)]
    return dict(
        lrs=np.array(lrs),
        weights=weights,
        stats=stats,
        out=swa(x).detach().numpy(),
        n=int(swa.n_averaged),
        keys=list(swa.state_dict().keys()),
        training=swa.training,
        momentum=swa.module[1].momentum,
    )


@pytest.mark.parametrize("strategy, anneal_epochs", [("cos", 3), ("linear", 2), ("cos", 0)])
def test_averaged_model_swalr_and_update_bn_match_torch(strategy, anneal_epochs):
    ours, theirs = _run(minigrad, strategy, anneal_epochs), _run(torch, strategy, anneal_epochs)
    np.testing.assert_allclose(ours["lrs"], theirs["lrs"], rtol=1e-12)
    for a, b in zip(ours["weights"], theirs["weights"]):
        for pa, pb in zip(a, b):
            np.testing.assert_allclose(pa, pb, rtol=1e-5, atol=1e-6)
    for a, b in zip(ours["stats"], theirs["stats"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours["out"], theirs["out"], rtol=1e-5, atol=1e-6)
    for key in ("n", "keys", "training", "momentum"):
        assert ours[key] == theirs[key], key


def test_swa_utils_errors_match_torch():
    for lib in (torch, minigrad):
        sw = lib.optim.swa_utils
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=1.0)
        with pytest.raises(ValueError, match="anneal_strategy"):
            sw.SWALR(opt, 0.1, anneal_strategy="step")
        with pytest.raises(ValueError, match="anneal_epochs"):
            sw.SWALR(opt, 0.1, anneal_epochs=-1)
        with pytest.raises(ValueError, match="swa_lr must have the same length"):
            sw.SWALR(opt, [0.1, 0.2])


@pytest.mark.parametrize("anneal_epochs", [0, 3])
def test_swalr_made_at_the_start_anneals_from_the_current_rate_as_torch(anneal_epochs):
    """The documented recipe: SWALR is made before training, stepped only after swa_start,
    while CosineAnnealingLR has lowered the rate meanwhile."""
    rates = []
    for lib in (minigrad, torch):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        cosine = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20)
        swa = lib.optim.swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=anneal_epochs)
        lrs = []
        for epoch in range(12):
            opt.step()
            (swa if epoch > 6 else cosine).step()
            lrs.append(opt.param_groups[0]["lr"])
        rates.append(lrs)
    np.testing.assert_allclose(rates[0], rates[1], rtol=1e-12)


@pytest.mark.parametrize("multi_avg_fn", [None, "ema"])
def test_integer_buffers_are_averaged_and_truncated_as_torch(multi_avg_fn):
    """``num_batches_tracked`` under ``use_buffers=True``: PyTorch averages it as a float and
    copies the result back truncated (it stays 1 here), rather than following the model."""
    torch = pytest.importorskip("torch")
    counts = []
    for lib in (minigrad, torch):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4))
        fn = lib.optim.swa_utils.get_ema_multi_avg_fn(0.9) if multi_avg_fn else None
        averaged = lib.optim.swa_utils.AveragedModel(model, multi_avg_fn=fn, use_buffers=True)
        seen = []
        for _ in range(3):
            model(lib.randn(5, 3))
            averaged.update_parameters(model)
            seen.append(int(averaged.module[1].num_batches_tracked))
        counts.append(seen)
    assert counts[0] == counts[1] == [1, 1, 1]
