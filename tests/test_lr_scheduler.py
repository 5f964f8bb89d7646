"""Learning-rate schedulers: the same sequences as torch.optim.lr_scheduler, state, errors."""

import math

import pytest

import minigrad
from minigrad import optim
from minigrad.io import load, save
from minigrad.optim import lr_scheduler

STEPS = 100
METRICS = [1.0 / (1 + i % 17) + (0.5 if i % 23 < 4 else 0.0) for i in range(STEPS)]

# (id, optimizer name, optimizer kwargs, scheduler name, scheduler args as a function of module)
CASES = [
    ("step", "SGD", {}, "StepLR", lambda m: dict(step_size=7, gamma=0.5)),
    ("multistep", "SGD", {}, "MultiStepLR", lambda m: dict(milestones=[10, 30, 30, 60], gamma=0.3)),
    ("exponential", "SGD", {}, "ExponentialLR", lambda m: dict(gamma=0.97)),
    ("cosine", "SGD", {}, "CosineAnnealingLR", lambda m: dict(T_max=30, eta_min=1e-3)),
    ("cosine-zero-min", "SGD", {}, "CosineAnnealingLR", lambda m: dict(T_max=100)),
    ("lambda", "SGD", {}, "LambdaLR", lambda m: dict(lr_lambda=lambda e: 1 / (1 + 0.1 * e))),
    ("lambda-per-group", "SGD", {}, "LambdaLR",
     lambda m: dict(lr_lambda=[lambda e: 0.9**e, lambda e: 1.0 + math.sin(e)])),
    ("linear-warmup", "SGD", {}, "LinearLR", lambda m: dict(start_factor=0.1, total_iters=10)),
    ("linear-decay", "SGD", {}, "LinearLR",
     lambda m: dict(start_factor=1.0, end_factor=0.05, total_iters=80)),
    ("onecycle", "SGD", dict(momentum=0.9), "OneCycleLR",
     lambda m: dict(max_lr=[0.5, 1.0], total_steps=STEPS)),
    ("onecycle-adam-linear-3phase", "Adam", {}, "OneCycleLR",
     lambda m: dict(max_lr=0.01, epochs=10, steps_per_epoch=10, anneal_strategy="linear",
                    three_phase=True, pct_start=0.25)),
    ("onecycle-no-momentum", "Adagrad", {}, "OneCycleLR",
     lambda m: dict(max_lr=0.3, total_steps=STEPS, cycle_momentum=False, div_factor=10.0)),
    ("sequential", "SGD", {}, "SequentialLR", lambda m: dict(
        schedulers=[m.LinearLR(m._opt, start_factor=0.1, total_iters=10),
                    m.CosineAnnealingLR(m._opt, T_max=90, eta_min=1e-4)],
        milestones=[10])),
    ("sequential-3", "SGD", {}, "SequentialLR", lambda m: dict(
        schedulers=[m.ExponentialLR(m._opt, gamma=0.9), m.StepLR(m._opt, step_size=5),
                    m.LambdaLR(m._opt, lambda e: 1.0 / (e + 1))],
        milestones=[20, 50])),
    ("polynomial", "SGD", {}, "PolynomialLR", lambda m: dict(total_iters=40, power=2.0)),
    ("warm-restarts", "SGD", {}, "CosineAnnealingWarmRestarts",
     lambda m: dict(T_0=10, T_mult=2, eta_min=1e-3)),
    ("warm-restarts-fixed", "SGD", {}, "CosineAnnealingWarmRestarts", lambda m: dict(T_0=7)),
    ("cyclic-triangular2", "SGD", dict(momentum=0.9), "CyclicLR",
     lambda m: dict(base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=10, step_size_down=5,
                    mode="triangular2")),
    ("cyclic-exp-range-adam", "Adam", {}, "CyclicLR",
     lambda m: dict(base_lr=1e-3, max_lr=1e-2, step_size_up=8, mode="exp_range", gamma=0.99)),
    ("cyclic-custom", "SGD", {}, "CyclicLR",
     lambda m: dict(base_lr=0.01, max_lr=0.1, step_size_up=6, cycle_momentum=False,
                    scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations")),
]  # fmt: skip
PLATEAU_CASES = [
    ("plateau-min-rel", dict(patience=3, factor=0.5)),
    (
        "plateau-min-abs-cooldown",
        dict(patience=2, threshold=0.05, threshold_mode="abs", cooldown=3),
    ),
    ("plateau-max-rel", dict(mode="max", patience=4, min_lr=[0.02, 0.001])),
    ("plateau-max-abs-eps", dict(mode="max", threshold_mode="abs", patience=1, eps=0.02)),
]


class _Namespace:
    """A scheduler module plus the optimizer that nested schedulers in a case should use."""

    def __init__(self, module, opt):
        self._module, self._opt = module, opt

    def __getattr__(self, name):
        return getattr(self._module, name)


def _optimizer(module, name, kwargs):
    params = [module.ones(2, requires_grad=True), module.ones(3, requires_grad=True)]
    groups = [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.03}]
    return getattr(module.optim, name)(groups, lr=0.1, **kwargs)


def _make(module, sched_module, case):
    _, opt_name, opt_kwargs, sched_name, args = case
    opt = _optimizer(module, opt_name, opt_kwargs)
    sched = getattr(sched_module, sched_name)(opt, **args(_Namespace(sched_module, opt)))
    return opt, sched


def _momenta(opt):
    return [g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups]


def _run(opt, sched, steps, metrics=None):
    lrs = [sched.get_last_lr()]
    momenta = [_momenta(opt)]
    for i in range(steps):
        opt.step()
        sched.step() if metrics is None else sched.step(metrics[i])
        lrs.append(sched.get_last_lr())
        momenta.append(_momenta(opt))
        assert lrs[-1] == [g["lr"] for g in opt.param_groups]
    return lrs, momenta


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_lr_sequence_matches_torch(case):
    torch = pytest.importorskip("torch")
    ours = _run(*_make(minigrad, lr_scheduler, case), STEPS)
    theirs = _run(*_make(torch, torch.optim.lr_scheduler, case), STEPS)
    assert ours[0] == theirs[0]  # exactly: the same formulas in the same order
    assert ours[1] == theirs[1]


def _plateau(module, kwargs):
    opt = _optimizer(module, "SGD", {})
    return opt, module.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)


@pytest.mark.parametrize("case", PLATEAU_CASES, ids=[c[0] for c in PLATEAU_CASES])
def test_reduce_on_plateau_matches_torch(case):
    torch = pytest.importorskip("torch")
    metrics = METRICS if case[1].get("mode") != "max" else [-m for m in METRICS]
    ours, _ = _run(*_plateau(minigrad, case[1]), STEPS, metrics)
    theirs, _ = _run(*_plateau(torch, case[1]), STEPS, metrics)
    assert ours == theirs
    assert len(set(map(tuple, ours))) > 1  # the case does reduce


def test_reduce_on_plateau_accepts_a_tensor_metric():
    opt, sched = _plateau(minigrad, dict(patience=0))
    sched.step(minigrad.tensor(1.0))
    sched.step(minigrad.tensor(2.0))
    assert sched.get_last_lr() == pytest.approx([0.01, 0.003])


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_state_dict_round_trip_resumes_the_sequence(case, tmp_path):
    full, _ = _run(*_make(minigrad, lr_scheduler, case), STEPS)
    opt, sched = _make(minigrad, lr_scheduler, case)
    first, _ = _run(opt, sched, 40)
    save({"opt": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "s.mg")
    ckpt = load(tmp_path / "s.mg")
    opt, sched = _make(minigrad, lr_scheduler, case)
    opt.load_state_dict(ckpt["opt"])
    sched.load_state_dict(ckpt["sched"])
    rest, _ = _run(opt, sched, STEPS - 40)
    assert first + rest[1:] == full


def test_plateau_state_dict_round_trip(tmp_path):
    full, _ = _run(*_plateau(minigrad, dict(patience=2, cooldown=1)), STEPS, METRICS)
    opt, sched = _plateau(minigrad, dict(patience=2, cooldown=1))
    first, _ = _run(opt, sched, 50, METRICS)
    save({"opt": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "p.mg")
    ckpt = load(tmp_path / "p.mg")
    opt, sched = _plateau(minigrad, dict(patience=2, cooldown=1))
    opt.load_state_dict(ckpt["opt"])
    sched.load_state_dict(ckpt["sched"])
    rest, _ = _run(opt, sched, 50, METRICS[50:])
    assert first + rest[1:] == full


def test_cosine_annealing_follows_the_closed_form():
    opt = optim.SGD([minigrad.ones(1, requires_grad=True)], lr=1.0)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.1)
    for t in range(1, 11):
        opt.step()
        sched.step()
        expected = 0.1 + 0.9 * (1 + math.cos(math.pi * t / 10)) / 2
        assert sched.get_last_lr()[0] == pytest.approx(expected, rel=1e-12)


def test_onecycle_defaults_and_end_points():
    opt = optim.SGD([minigrad.ones(1, requires_grad=True)], lr=0.1, momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    group = opt.param_groups[0]
    assert group["lr"] == pytest.approx(1.0 / 25) and group["momentum"] == pytest.approx(0.95)
    assert group["min_lr"] == 1.0 / 25 / 1e4
    for _ in range(9):
        opt.step()
        sched.step()
    assert group["lr"] == pytest.approx(1.0 / 25 / 1e4)
    assert group["momentum"] == pytest.approx(0.95)
    opt.step()
    sched.step()  # step 10 of 10 is still allowed, as in PyTorch
    with pytest.raises(ValueError, match="Tried to step 11 times. The specified number of total"):
        sched.step()


def test_scheduler_errors_name_the_problem():
    opt = optim.SGD([minigrad.ones(1, requires_grad=True)], lr=0.1)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        lr_scheduler.StepLR([], step_size=1)
    with pytest.raises(ValueError, match="Starting multiplicative factor .* start_factor=0"):
        lr_scheduler.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="Ending multiplicative factor"):
        lr_scheduler.LinearLR(opt, end_factor=1.5)
    with pytest.raises(ValueError, match="either total_steps OR"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="Expected positive integer total_steps, but got 0"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=0)
    with pytest.raises(ValueError, match="max_lr must have the same length"):
        lr_scheduler.OneCycleLR(opt, max_lr=[1.0, 2.0], total_steps=5)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode up is unknown"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="up")
    with pytest.raises(ValueError, match="Expected 1 lr_lambdas, but got 2"):
        lr_scheduler.LambdaLR(opt, [lambda e: 1, lambda e: 1])
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(optim.SGD([minigrad.ones(1, requires_grad=True)]), 1, last_epoch=3)


def test_onecycle_needs_momentum_or_betas():
    opt = optim.Adadelta([minigrad.ones(1, requires_grad=True)])
    with pytest.raises(ValueError, match="must support momentum or beta1.*Adadelta"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)


def test_sequential_lr_errors():
    opt = optim.SGD([minigrad.ones(1, requires_grad=True)], lr=0.1)
    other = optim.SGD([minigrad.ones(1, requires_grad=True)], lr=0.1)
    a = lr_scheduler.StepLR(opt, 2)
    with pytest.raises(ValueError, match="one more than the number of milestone points"):
        lr_scheduler.SequentialLR(opt, [a, lr_scheduler.StepLR(opt, 3)], milestones=[])
    with pytest.raises(ValueError, match="same optimizer.*index 1"):
        lr_scheduler.SequentialLR(opt, [a, lr_scheduler.StepLR(other, 3)], milestones=[5])
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        lr_scheduler.SequentialLR(opt, [lr_scheduler.ReduceLROnPlateau(opt)], milestones=[])
    with pytest.raises(ValueError, match="at least one scheduler"):
        lr_scheduler.SequentialLR(opt, [], milestones=[])


def test_state_dict_of_another_scheduler_is_rejected():
    opt = optim.SGD([minigrad.ones(1, requires_grad=True)], lr=0.1)
    state = lr_scheduler.StepLR(opt, step_size=3).state_dict()
    sched = lr_scheduler.ExponentialLR(opt, 0.9)
    with pytest.raises(ValueError, match=r"another kind of scheduler than this ExponentialLR"):
        sched.load_state_dict(state)


def _chained(module):
    sched = module.optim.lr_scheduler
    opt = _optimizer(module, "SGD", dict(momentum=0.9))
    parts = [sched.LinearLR(opt, start_factor=0.1, total_iters=10), sched.ExponentialLR(opt, 0.97)]
    return opt, sched.ChainedScheduler(parts)


def test_chained_scheduler_matches_torch():
    torch = pytest.importorskip("torch")
    assert _run(*_chained(minigrad), STEPS) == _run(*_chained(torch), STEPS)


def test_chained_scheduler_round_trip(tmp_path):
    full, _ = _run(*_chained(minigrad), STEPS)
    opt, sched = _chained(minigrad)
    first, _ = _run(opt, sched, 30)
    save({"opt": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "c.mg")
    ckpt = load(tmp_path / "c.mg")
    opt, sched = _chained(minigrad)
    opt.load_state_dict(ckpt["opt"])
    sched.load_state_dict(ckpt["sched"])
    rest, _ = _run(opt, sched, STEPS - 30)
    assert first + rest[1:] == full


@pytest.mark.parametrize("epochs", [[0.5, 3.25, 10, 17.5, 31, 2], [0, 70.0, 71.5]])
def test_warm_restarts_at_given_epochs_match_torch(epochs):
    torch = pytest.importorskip("torch")
    seqs = []
    for module in (minigrad, torch):
        opt = _optimizer(module, "SGD", {})
        sched = module.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=5, T_mult=3)
        seq = []
        for e in epochs:
            sched.step(e)
            seq.append(sched.get_last_lr())
        seqs.append(seq)
    assert seqs[0] == seqs[1]


def test_new_scheduler_errors():
    opt = optim.SGD([minigrad.ones(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="positive integer T_0"):
        lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="T_mult >= 1"):
        lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=0)
    with pytest.raises(ValueError, match="mode must be one of"):
        lr_scheduler.CyclicLR(opt, 0.01, 0.1, mode="sawtooth")
    with pytest.raises(ValueError, match="at least one scheduler"):
        lr_scheduler.ChainedScheduler([], optimizer=opt)
    with pytest.raises(ValueError, match="must support momentum"):
        lr_scheduler.CyclicLR(optim.Adagrad([minigrad.ones(1, requires_grad=True)]), 0.01, 0.1)
