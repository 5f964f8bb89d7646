"""RAdam, Rprop, ASGD, Adafactor and the ConstantLR/MultiplicativeLR schedulers against torch."""

import numpy as np
import pytest
from helpers import float64_params, optimizer_data, resume_halfway, run_optimizer

import minigrad
from minigrad import optim
from minigrad.optim import lr_scheduler

STEPS = 60
SHAPES = [(3, 4), (5,), (2, 3, 4)]

# (id, class name, defaults, overrides for param group 1)
CASES = [
    ("radam", "RAdam", dict(lr=0.01), dict(lr=0.05, betas=(0.8, 0.9))),
    ("radam-wd", "RAdam", dict(lr=0.01, weight_decay=0.1), dict(eps=1e-4)),
    ("radamw", "RAdam", dict(weight_decay=0.1, decoupled_weight_decay=True), dict(lr=0.02)),
    ("radam-max", "RAdam", dict(lr=0.01, maximize=True), dict(betas=(0.5, 0.6))),
    ("rprop", "Rprop", dict(), dict(lr=0.1)),
    ("rprop-etas", "Rprop", dict(etas=(0.3, 1.5), step_sizes=(1e-3, 0.2)), dict(maximize=True)),
    ("asgd", "ASGD", dict(lr=0.05), dict(lambd=1e-2)),
    ("asgd-t0", "ASGD", dict(lr=0.05, t0=10, alpha=0.5, weight_decay=0.1), dict(maximize=True)),
    ("adafactor", "Adafactor", dict(), dict(lr=0.05)),
    ("adafactor-opts", "Adafactor", dict(beta2_decay=-0.5, d=2.0), dict(eps=(1e-20, 1e-2))),
    ("adafactor-wd-max", "Adafactor", dict(weight_decay=0.1, maximize=True), dict(lr=0.001)),
]


def _data(seed=0, steps=STEPS):
    return optimizer_data(SHAPES, seed, steps)


def _groups(params, overrides):
    return [{"params": [params[0], params[2]]}, {"params": [params[1]], **overrides}]


_mg_params, _mg_run = float64_params, run_optimizer


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_trajectory_matches_torch(case):
    torch = pytest.importorskip("torch")
    _, name, defaults, overrides = case
    start, grads = _data()
    params = _mg_params(start)
    mine = _mg_run(getattr(optim, name)(_groups(params, overrides), **defaults), params, grads)
    tparams = [torch.tensor(a, requires_grad=True) for a in start]  # (eta, mu: float32 in both)
    topt = getattr(torch.optim, name)(_groups(tparams, overrides), foreach=False, **defaults)
    for step, step_grads in enumerate(grads):
        for p, g in zip(tparams, step_grads):
            p.grad = torch.tensor(g)
        topt.step()
        for ours, theirs in zip(mine[step], tparams):
            np.testing.assert_allclose(
                ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=f"step {step}"
            )


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_state_dict_round_trip_resumes_exactly(case, tmp_path):
    _, name, defaults, overrides = case
    start, grads = _data(seed=1)

    def make(params, resumed):  # the resumed optimizer takes its hyperparameters from the file
        return getattr(optim, name)(_groups(params, {} if resumed else overrides), **defaults)

    full, resumed = resume_halfway(make, start, grads, tmp_path / "ckpt.mg")
    for a, b in zip(full, resumed):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("case", CASES[::2], ids=[c[0] for c in CASES[::2]])
def test_runs_on_each_device(case, device):
    """Same trajectory on every device; state stays there (Adafactor reads norms on the host,
    as PyTorch does, so host transfers are not counted here)."""
    _, name, defaults, overrides = case
    start, grads = _data(steps=5)
    params = _mg_params(start)
    expected = _mg_run(getattr(optim, name)(params, **defaults), params, grads)
    params = [p.to(device).detach().requires_grad_() for p in _mg_params(start)]
    opt = getattr(optim, name)(params, **defaults)
    got = []
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = minigrad.tensor(g, dtype=minigrad.float64, device=device)
        opt.step()
        got.append([p.detach().cpu().numpy().copy() for p in params])
    for p in params:
        on_cpu = ("step", *opt._scalar_states)  # 0-d host numbers, as PyTorch's step
        state = {k: v for k, v in opt.state[p].items() if k not in on_cpu}
        assert all(v.device == p.device for v in state.values() if hasattr(v, "device"))
    for a, b in zip(got[-1], expected[-1]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_state_names_are_pytorchs():
    torch = pytest.importorskip("torch")
    start, grads = _data(steps=1)
    for _, name, defaults, _o in CASES:
        params = _mg_params(start)
        opt = getattr(optim, name)(params, **defaults)
        _mg_run(opt, params, grads)
        tparams = [torch.tensor(a, requires_grad=True) for a in start]
        topt = getattr(torch.optim, name)(tparams, **defaults)
        for p, g in zip(tparams, grads[0]):
            p.grad = torch.tensor(g)
        topt.step()
        ours, theirs = opt.state_dict(), topt.state_dict()
        for i in theirs["state"]:
            assert set(ours["state"][i]) == set(theirs["state"][i]), name
            for key, value in theirs["state"][i].items():
                mine = ours["state"][i][key]
                assert tuple(mine.shape) == tuple(value.shape), (name, key)
                if value.ndim == 0:  # step, mu_product, eta, mu: 0-d tensors of PyTorch's dtype
                    assert str(mine.dtype)[9:] == str(value.dtype)[6:], (name, key)
        mine = set(ours["param_groups"][0])
        assert mine <= set(theirs["param_groups"][0]), (name, mine - set(theirs["param_groups"][0]))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: optim.RAdam(p, lr=-1), "learning rate"),
        (lambda p: optim.RAdam(p, betas=(1.0, 0.9)), "beta parameter at index 0"),
        (lambda p: optim.Rprop(p, etas=(1.2, 0.5)), "Invalid eta values"),
        (lambda p: optim.Rprop(p, step_sizes=(1e-6,)), "step_sizes"),
        (lambda p: optim.ASGD(p, weight_decay=-1), "weight_decay"),
        (lambda p: optim.Adafactor(p, beta2_decay=0.5), "beta2_decay should be <= 0"),
        (lambda p: optim.Adafactor(p, d=0.5), "Clipping threshold d"),
        (lambda p: optim.Adafactor(p, eps=(-1.0, 1e-3)), "epsilon1"),
        (lambda p: optim.Adafactor(p, eps=(None, -1.0)), "epsilon2"),
    ],
)
def test_bad_hyperparameters_are_rejected(make, message):
    with pytest.raises(ValueError, match=message):
        make([minigrad.zeros(2, requires_grad=True)])


def test_loading_another_optimizers_state_is_rejected():
    params = _mg_params(_data(steps=1)[0])
    opt = optim.Rprop(params)
    _mg_run(opt, params, _data(steps=1)[1])
    with pytest.raises(ValueError, match="different optimizer"):
        optim.RAdam(_mg_params(_data(steps=1)[0])).load_state_dict(opt.state_dict())


# -- schedulers ------------------------------------------------------------------------------------
def _lrs(module, name, kwargs, steps=100):
    p = module.zeros(2, requires_grad=True)
    q = module.zeros(2, requires_grad=True)
    opt = module.optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.5}], lr=0.1)
    sched = getattr(module.optim.lr_scheduler, name)(opt, **kwargs)
    out = [sched.get_last_lr()]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr())
    return out, sched


SCHEDULES = [
    ("ConstantLR", dict()),
    ("ConstantLR", dict(factor=0.5, total_iters=10)),
    ("ConstantLR", dict(factor=0.1, total_iters=0)),
    ("MultiplicativeLR", dict(lr_lambda=lambda epoch: 0.95)),
    ("MultiplicativeLR", dict(lr_lambda=[lambda e: 0.9, lambda e: 1.0 - 0.001 * e])),
]


@pytest.mark.parametrize("name, kwargs", SCHEDULES)
def test_scheduler_sequence_matches_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    ours, _ = _lrs(minigrad, name, kwargs)
    theirs, _ = _lrs(torch, name, kwargs)
    assert ours == theirs


def test_schedulers_chain_and_round_trip_state():
    torch = pytest.importorskip("torch")
    ours, sched = _lrs(minigrad, "ConstantLR", dict(factor=0.25, total_iters=7), steps=3)
    state = sched.state_dict()
    _, tsched = _lrs(torch, "ConstantLR", dict(factor=0.25, total_iters=7), steps=3)
    public = {k for k in tsched.state_dict() if not k.startswith("_get_lr")}  # torch's own flag
    assert public <= set(state)
    _, other = _lrs(minigrad, "ConstantLR", dict(factor=0.5, total_iters=2), steps=0)
    other.load_state_dict(state)
    assert other.factor == 0.25 and other.last_epoch == 3


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda o: lr_scheduler.ConstantLR(o, factor=1.5), ValueError, "Constant multiplicative"),
        (lambda o: lr_scheduler.MultiplicativeLR(o, [lambda e: 1.0] * 2), ValueError, "Expected 1"),
        (lambda o: lr_scheduler.MultiplicativeLR(o, 0.5), TypeError, "lr_lambda should be a"),
    ],
)
def test_scheduler_errors(make, error, message):
    opt = optim.SGD([minigrad.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(error, match=message):
        make(opt)


IMPLEMENTATION_SWITCHES = {"foreach", "fused", "capturable", "differentiable"}
OPTIMIZERS = [
    "SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adagrad", "Adadelta", "ASGD",
    "Rprop",
]  # fmt: skip


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_implementation_switches_are_pytorchs(name):
    """Each optimizer takes the implementation switches PyTorch's takes, no more, no fewer."""
    torch = pytest.importorskip("torch")
    import inspect

    ours = set(inspect.signature(getattr(optim, name)).parameters) & IMPLEMENTATION_SWITCHES
    theirs = set(inspect.signature(getattr(torch.optim, name)).parameters)
    assert ours == theirs & IMPLEMENTATION_SWITCHES


@pytest.mark.parametrize("switches", [dict(foreach=True), dict(fused=True), dict(fused=False)])
def test_implementation_switches_change_no_result(switches, device):
    def trajectory(**options):
        minigrad.manual_seed(0)
        w = minigrad.randn(5, 3, device=device, requires_grad=True)
        opt = optim.AdamW([w], lr=0.1, **options)
        for _ in range(3):
            opt.zero_grad()
            (w * w).sum().backward()
            opt.step()
        assert opt.param_groups[0].get("fused") == options.get("fused")
        return w.detach().cpu().numpy()

    np.testing.assert_allclose(trajectory(**switches), trajectory(), rtol=1e-6)


def test_implementation_switch_errors_are_pytorchs():
    w = minigrad.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="cannot be `True` together"):
        optim.SGD([w], lr=0.1, foreach=True, fused=True)
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        optim.Adam([w], differentiable=True)
    with pytest.raises(TypeError):
        optim.RMSprop([w], fused=True)  # PyTorch's RMSprop has no fused kernel either


def test_state_dicts_without_switches_load():
    """An older checkpoint's groups have no implementation switches: they load, and the
    optimizer keeps its own."""
    w = minigrad.zeros(2, requires_grad=True)
    saved = optim.Adam([w], lr=0.5).state_dict()
    for group in saved["param_groups"]:
        for key in IMPLEMENTATION_SWITCHES:
            group.pop(key)
    opt = optim.Adam([w], fused=False)
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["fused"] is False


@pytest.mark.parametrize("name", [*OPTIMIZERS, "Adafactor", "LBFGS"])
def test_param_group_defaults_have_pytorchs_values_types_and_order(name):
    """A printed optimizer state_dict shows PyTorch's defaults (``'weight_decay': 0``, not 0.0)
    in PyTorch's order, so that printed groups and saved state dicts read the same."""
    torch = pytest.importorskip("torch")
    kw = {"lr": 0.01}
    theirs = getattr(torch.optim, name)([torch.nn.Parameter(torch.zeros(1))], **kw)
    ours = getattr(minigrad.optim, name)([minigrad.nn.Parameter(minigrad.zeros(1))], **kw)
    want = {k: (v, type(v)) for k, v in theirs.param_groups[0].items() if k != "params"}
    got = {k: (v, type(v)) for k, v in ours.param_groups[0].items() if k != "params"}
    assert got == want
    assert list(ours.param_groups[0]) == list(theirs.param_groups[0])
    assert list(ours.state_dict()["param_groups"][0]) == list(
        theirs.state_dict()["param_groups"][0]
    )


def test_step_hooks_run_around_builtin_and_user_written_steps():
    """register_step_pre_hook / register_step_post_hook as PyTorch's: hooks see (opt, args,
    kwargs), a pre hook may replace them, handles remove them, and a step calling
    super().step() runs them at both levels."""
    torch = pytest.importorskip("torch")

    def run(m):
        calls = []

        class Doubling(m.optim.SGD):
            def step(self, closure=None):
                calls.append("inner")
                return super().step(closure)

        p = m.nn.Parameter(m.ones(2))
        for opt in (m.optim.SGD([p], lr=0.1), Doubling([p], lr=0.1)):
            pre = opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", a[0] is o, k)))
            opt.register_step_post_hook(lambda o, a, k: calls.append(("post", type(o).__name__)))
            swap = opt.register_step_pre_hook(lambda o, a, k: ((o,), {"closure": lambda: 7.0}))
            p.grad = m.ones(2)
            calls.append(opt.step())
            pre.remove()
            swap.remove()
            calls.append(opt.step())
        return calls, p.detach().tolist()

    assert run(minigrad) == run(torch)


@pytest.mark.parametrize("name", ["NAdam", "ASGD"])
def test_resuming_pytorchs_checkpoint_continues_as_pytorch(name, tmp_path):
    # mu_product / eta / mu: float32 0-d tensors, cast to the parameter's dtype when loaded
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((4, 3))
    model = torch.nn.Linear(3, 2).double()
    opt = getattr(torch.optim, name)(model.parameters(), lr=0.01)
    for _ in range(3):
        opt.zero_grad()
        model(torch.tensor(x)).pow(2).sum().backward()
        opt.step()
    torch.save({"model": model.state_dict(), "opt": opt.state_dict()}, tmp_path / "ck.pt")
    weights = []
    for lib in (torch, minigrad):  # each resumes PyTorch's checkpoint for three more steps
        checkpoint = lib.load(tmp_path / "ck.pt")
        resumed = lib.nn.Linear(3, 2).double()
        resumed.load_state_dict(checkpoint["model"])
        opt = getattr(lib.optim, name)(resumed.parameters(), lr=0.01)
        opt.load_state_dict(checkpoint["opt"])
        for _ in range(3):
            opt.zero_grad()
            resumed(lib.tensor(x)).pow(2).sum().backward()
            opt.step()
        weights.append(resumed.weight.detach().numpy())
    np.testing.assert_allclose(weights[1], weights[0], rtol=1e-13, atol=1e-15)
