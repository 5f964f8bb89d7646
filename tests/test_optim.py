"""Optimizers: trajectories against torch.optim, resuming from a checkpoint, convergence, errors."""

import numpy as np
import pytest
from helpers import float64_params, optimizer_data, resume_halfway, run_optimizer

import minigrad
from minigrad import optim
from minigrad.testing.fake_device import HostTransfers

STEPS = 50
SHAPES = [(3, 4), (5,)]

# (id, minigrad class, torch class or None, defaults, overrides for param group 1)
CASES = [
    ("sgd", "SGD", dict(lr=0.1), dict(lr=0.05)),
    ("sgd-momentum", "SGD", dict(lr=0.1, momentum=0.9), dict(momentum=0.5)),
    ("sgd-dampening", "SGD", dict(lr=0.1, momentum=0.9, dampening=0.3), dict(dampening=0.0)),
    ("sgd-nesterov", "SGD", dict(lr=0.1, momentum=0.9, nesterov=True), dict(lr=0.01)),
    ("sgd-weight-decay", "SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.1), dict(weight_decay=0)),
    ("sgd-maximize", "SGD", dict(lr=0.1, momentum=0.5, maximize=True), dict(lr=0.2)),
    ("adam", "Adam", dict(lr=0.01), dict(lr=0.1, betas=(0.8, 0.99))),
    ("adam-amsgrad", "Adam", dict(lr=0.01, amsgrad=True), dict(amsgrad=False)),
    ("adam-weight-decay", "Adam", dict(lr=0.01, weight_decay=0.1), dict(eps=1e-3)),
    (
        "adam-amsgrad-wd-max",
        "Adam",
        dict(lr=0.01, amsgrad=True, weight_decay=0.1, maximize=True),
        dict(betas=(0.3, 0.4)),
    ),
    ("adamw", "AdamW", dict(lr=0.01), dict(weight_decay=0.5)),
    ("adamw-amsgrad", "AdamW", dict(lr=0.01, amsgrad=True), dict(lr=0.001)),
    ("rmsprop", "RMSprop", dict(lr=0.01), dict(alpha=0.9)),
    ("rmsprop-centered", "RMSprop", dict(lr=0.01, centered=True), dict(lr=0.001)),
    ("rmsprop-momentum", "RMSprop", dict(lr=0.01, momentum=0.9), dict(momentum=0.0)),
    (
        "rmsprop-centered-momentum-wd",
        "RMSprop",
        dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1),
        dict(eps=1e-4),
    ),
    ("adagrad", "Adagrad", dict(lr=0.1), dict(lr=0.5)),
    ("adagrad-lr-decay", "Adagrad", dict(lr=0.1, lr_decay=0.05), dict(weight_decay=0.1)),
    (
        "adagrad-initial-acc",
        "Adagrad",
        dict(lr=0.1, initial_accumulator_value=0.5),
        dict(lr=0.3, eps=1e-6),
    ),
    ("adadelta", "Adadelta", dict(), dict(lr=0.5, rho=0.8)),
    ("adadelta-wd-max", "Adadelta", dict(weight_decay=0.1, maximize=True), dict(eps=1e-4)),
    ("adamax", "Adamax", dict(), dict(lr=0.01, betas=(0.5, 0.9))),
    ("adamax-wd", "Adamax", dict(weight_decay=0.1), dict(weight_decay=0.0)),
    ("nadam", "NAdam", dict(), dict(lr=0.01, momentum_decay=0.01)),
    ("nadam-wd", "NAdam", dict(weight_decay=0.1), dict(betas=(0.8, 0.9))),
    ("nadamw", "NAdam", dict(weight_decay=0.1, decoupled_weight_decay=True), dict(lr=0.02)),
]
LION_CASES = [
    ("lion", dict(lr=0.01), dict(lr=0.001)),
    ("lion-wd", dict(lr=0.01, weight_decay=0.5, betas=(0.8, 0.95)), dict(weight_decay=0.0)),
    ("lion-maximize", dict(lr=0.01, maximize=True), dict(betas=(0.5, 0.6))),
]


def _data(seed=0, steps=STEPS):
    return optimizer_data(SHAPES, seed, steps)


def _groups(params, overrides):
    return [{"params": [params[0]]}, {"params": [params[1]], **overrides}]


_mg_params, _mg_run = float64_params, run_optimizer


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_trajectory_matches_torch(case):
    torch = pytest.importorskip("torch")
    _, name, defaults, overrides = case
    start, grads = _data()
    params = _mg_params(start)
    mine = _mg_run(getattr(optim, name)(_groups(params, overrides), **defaults), params, grads)
    tparams = [torch.tensor(a, requires_grad=True) for a in start]
    topt = getattr(torch.optim, name)(_groups(tparams, overrides), foreach=False, **defaults)
    for step, step_grads in enumerate(grads):  # (NAdam's mu_product: float32 in both)
        for p, g in zip(tparams, step_grads):
            p.grad = torch.tensor(g)
        topt.step()
        for ours, theirs in zip(mine[step], tparams):
            np.testing.assert_allclose(
                ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=f"step {step}"
            )


def _lion_reference(start, grads, groups):
    """Lion, Algorithm 2 of Chen et al. (2023), written out in NumPy."""
    params = [a.copy() for a in start]
    moments = [np.zeros_like(a) for a in start]
    trajectory = []
    for step_grads in grads:
        for i, g in enumerate(step_grads):
            h = groups[i]
            beta1, beta2 = h["betas"]
            g = -g if h["maximize"] else g
            update = np.sign(beta1 * moments[i] + (1 - beta1) * g)
            params[i] = params[i] - h["lr"] * (update + h["weight_decay"] * params[i])
            moments[i] = beta2 * moments[i] + (1 - beta2) * g
        trajectory.append([p.copy() for p in params])
    return trajectory


@pytest.mark.parametrize("case", LION_CASES, ids=[c[0] for c in LION_CASES])
def test_lion_matches_paper_reference(case):
    _, defaults, overrides = case
    start, grads = _data()
    params = _mg_params(start)
    opt = optim.Lion(_groups(params, overrides), **defaults)
    mine = _mg_run(opt, params, grads)
    expected = _lion_reference(start, grads, opt.param_groups)
    for step, (ours, theirs) in enumerate(zip(mine, expected)):
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"step {step}")


ALL_CASES = [(c[0], c[1], c[2], c[3]) for c in CASES] + [
    (c[0], "Lion", c[1], c[2]) for c in LION_CASES
]


@pytest.mark.parametrize("case", ALL_CASES, ids=[c[0] for c in ALL_CASES])
def test_resume_from_checkpoint_equals_uninterrupted_run(case, tmp_path):
    _, name, defaults, overrides = case
    start, grads = _data(seed=1)

    def make(params, resumed):  # the resumed optimizer takes its hyperparameters from the file
        return getattr(optim, name)(_groups(params, {} if resumed else overrides), **defaults)

    full, resumed = resume_halfway(make, start, grads, tmp_path / "ckpt.mg")
    for a, b in zip(full, resumed):
        np.testing.assert_array_equal(a, b)


# -- convergence -----------------------------------------------------------------------------
CONVERGENCE = [
    ("SGD", dict(lr=1e-3, momentum=0.9), 1e-3, 1e-4),
    ("SGD", dict(lr=1e-3, momentum=0.9, nesterov=True), 1e-3, 1e-4),
    ("Adam", dict(lr=0.05), 1e-3, 1e-4),
    ("Adam", dict(lr=0.05, amsgrad=True), 1e-2, 1e-4),
    ("AdamW", dict(lr=0.05, weight_decay=1e-4), 1e-2, 1e-4),
    ("Adamax", dict(lr=0.1), 1e-2, 1e-4),
    ("NAdam", dict(lr=0.05), 5e-2, 1e-2),
    ("RMSprop", dict(lr=5e-3, momentum=0.9), 1e-2, 1e-4),
    ("RMSprop", dict(lr=1e-3, momentum=0.9, centered=True), 1e-2, 1e-4),
    ("Adagrad", dict(lr=1.5), 5e-2, 1e-4),
    ("Adadelta", dict(lr=1.0, rho=0.99), 0.5, 1e-2),
    ("Lion", dict(lr=3e-3), 1e-2, 1e-3),
]


def _rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def _minimize(opt, loss_fn, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss_fn().backward()
        opt.step()
    with minigrad.no_grad():
        return loss_fn().item()


@pytest.mark.parametrize(
    "name,kwargs,rosen_max,lsq_max", CONVERGENCE, ids=[f"{c[0]}-{c[1]}" for c in CONVERGENCE]
)
def test_minimizes_rosenbrock_and_least_squares(name, kwargs, rosen_max, lsq_max):
    x = minigrad.tensor([-1.5, 2.0], dtype=minigrad.float64, requires_grad=True)
    start = _rosenbrock(x).item()  # 12.5
    loss = _minimize(getattr(optim, name)([x], **kwargs), lambda: _rosenbrock(x), 2000)
    assert loss < rosen_max < start, f"Rosenbrock: {start} -> {loss}"

    rng = np.random.default_rng(0)
    a = minigrad.tensor(rng.standard_normal((20, 5)), dtype=minigrad.float64)
    b = a @ minigrad.tensor(rng.standard_normal(5), dtype=minigrad.float64)
    w = minigrad.zeros(5, dtype=minigrad.float64, requires_grad=True)
    # 800 steps: every optimizer is 25x or more under its bound (Lion, the slowest: 4e-5)
    loss = _minimize(getattr(optim, name)([w], **kwargs), lambda: ((a @ w - b) ** 2).mean(), 800)
    assert loss < lsq_max, f"least squares: final loss {loss}"


# -- the update itself -------------------------------------------------------------------------
ALL_OPTIMIZERS = ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RMSprop", "Adagrad", "Adadelta",
                  "Lion"]  # fmt: skip


@pytest.mark.parametrize("name", ALL_OPTIMIZERS)
def test_step_skips_params_without_grad_and_records_no_graph(name):
    a = minigrad.ones(3, requires_grad=True)
    b = minigrad.ones(2, requires_grad=True)
    opt = getattr(optim, name)([a, b], lr=0.1)
    (a * a).sum().backward()
    version = a._version
    opt.step()
    assert b.tolist() == [1.0, 1.0] and b.grad is None
    assert opt.state[b].get("step", 0) == 0  # Adagrad made its state up front; others none
    assert a.tolist() != [1.0, 1.0, 1.0]
    assert a.grad_fn is None and a.is_leaf and a.requires_grad and a.dtype == minigrad.float32
    assert a._version > version  # the in-place change is visible to autograd
    for value in opt.state[a].values():
        if isinstance(value, minigrad.Tensor):
            assert not value.requires_grad and value.grad_fn is None
            assert value.dtype == minigrad.float32 and value.shape in (a.shape, ())  # () for "step"


def test_step_records_no_graph_even_under_enable_grad():
    p = minigrad.ones(3, requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = minigrad.ones(3)
    with minigrad.enable_grad():
        opt.step()
    assert p.grad_fn is None and p.is_leaf
    assert opt.state[p]["exp_avg"].grad_fn is None


def test_closure_runs_with_grad_enabled_and_its_loss_is_returned():
    p = minigrad.tensor([2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with minigrad.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 4.0 and p.tolist() == [1.0]  # 2 - 0.25 * 4


def test_zero_grad():
    p = minigrad.ones(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = minigrad.ones(2)
    kept = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is kept and p.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


def test_float32_params_stay_float32():
    p = minigrad.ones(4, requires_grad=True)
    for name in ALL_OPTIMIZERS:
        opt = getattr(optim, name)([p], lr=0.01)
        p.grad = minigrad.full((4,), 0.5)
        opt.step()
        assert p.dtype == minigrad.float32, name


@pytest.mark.parametrize("name", ALL_OPTIMIZERS)
def test_runs_on_each_device_without_host_transfers(name, device):
    start, grads = _data(steps=3)
    kwargs = dict(lr=0.01, weight_decay=0.1)
    cpu_params = _mg_params(start)
    expected = _mg_run(getattr(optim, name)(cpu_params, **kwargs), cpu_params, grads)
    params = _mg_params(start, device)
    opt = getattr(optim, name)(params, **kwargs)
    for p, g in zip(params, grads[0]):
        p.grad = minigrad.tensor(g, dtype=minigrad.float64, device=device)
    before = HostTransfers.count
    opt.step()
    assert HostTransfers.count == before, "an optimizer step copied data to the host"
    for p in params:
        assert p.device == device
        on_cpu = ("step", *opt._scalar_states)  # 0-d host numbers, as PyTorch's step
        state = {k: v for k, v in opt.state[p].items() if k not in on_cpu}
        assert all(v.device == device for v in state.values() if hasattr(v, "device"))
    got = _mg_run(opt, params, grads[1:])
    for a, b in zip(got[-1], expected[-1]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


# -- param groups and state_dict --------------------------------------------------------------
def test_param_groups_defaults_and_add_param_group():
    a, b = minigrad.ones(2, requires_grad=True), minigrad.ones(3, requires_grad=True)
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["params"] == [b]
    assert "Parameter Group 1" in repr(opt) and "lr: 0.01" in repr(opt)


def test_named_parameters_are_accepted():
    a = minigrad.ones(2, requires_grad=True)
    opt = optim.Adam([("w", a)], lr=0.1)
    assert opt.param_groups[0]["params"] == [a]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w"]


def test_state_dict_layout_is_pytorchs():
    a, b = minigrad.ones(2, requires_grad=True), minigrad.ones(3, requires_grad=True)
    opt = optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}])
    a.grad, b.grad = minigrad.ones(2), minigrad.ones(3)
    opt.step()
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(sd["state"]) == [0, 1]
    assert sorted(sd["state"][1]) == ["exp_avg", "exp_avg_sq", "step"]
    assert sd["state"][1]["step"] == 1 and sd["state"][1]["exp_avg"].shape == (3,)


def test_load_state_dict_copies_and_casts_to_the_params():
    a = minigrad.ones(2, dtype=minigrad.float64, requires_grad=True)
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    a.grad = minigrad.ones(2, dtype=minigrad.float64)
    opt.step()
    b = minigrad.ones(2, requires_grad=True)  # float32
    opt2 = optim.SGD([b], lr=0.1, momentum=0.9)
    opt2.load_state_dict(opt.state_dict())
    buf = opt2.state[b]["momentum_buffer"]
    assert buf.dtype == minigrad.float32
    assert buf._data is not opt.state[a]["momentum_buffer"]._data


def test_adagrad_uses_each_groups_initial_accumulator_value():
    a, b = _p(), _p()
    opt = optim.Adagrad([{"params": [a]}, {"params": [b], "initial_accumulator_value": 2.0}])
    assert opt.state[a]["sum"].tolist() == [0.0, 0.0]  # PyTorch would give b 0.0 as well
    assert opt.state[b]["sum"].tolist() == [2.0, 2.0]


def test_adamw_stays_decoupled_after_loading_adam_state():
    a = minigrad.ones(2, requires_grad=True)
    state = optim.Adam([a]).state_dict()
    opt = optim.AdamW([minigrad.ones(2, requires_grad=True)])
    opt.load_state_dict(state)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True


# -- bad input --------------------------------------------------------------------------------
def _p(n=2):
    return minigrad.ones(n, requires_grad=True)


@pytest.mark.parametrize("name", ALL_OPTIMIZERS)
def test_negative_lr_is_rejected(name):
    with pytest.raises(ValueError, match=r"Invalid learning rate: -0.1 in the defaults"):
        getattr(optim, name)([_p()], lr=-0.1)
    with pytest.raises(ValueError, match=r"Invalid learning rate: -1 in param group 1"):
        getattr(optim, name)([{"params": [_p()]}, {"params": [_p()], "lr": -1}], lr=0.1)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adamax", "NAdam", "Lion"])
@pytest.mark.parametrize("betas,index", [((1.0, 0.9), 0), ((0.9, 1.0), 1), ((-0.1, 0.9), 0)])
def test_betas_outside_0_1_are_rejected(name, betas, index):
    with pytest.raises(ValueError, match=rf"Invalid beta parameter at index {index}"):
        getattr(optim, name)([_p()], betas=betas)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(momentum=-0.5), "Invalid momentum value: -0.5"),
        (dict(weight_decay=-1.0), "Invalid weight_decay value"),
        (dict(nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
        (dict(nesterov=True, momentum=0.9, dampening=0.1), "Nesterov momentum requires"),
    ],
)
def test_bad_sgd_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.SGD([_p()], lr=0.1, **kwargs)


def test_other_bad_hyperparameters():
    with pytest.raises(ValueError, match="Invalid epsilon value"):
        optim.Adam([_p()], eps=-1e-8)
    with pytest.raises(ValueError, match="Invalid rho value: 1.5"):
        optim.Adadelta([_p()], rho=1.5)
    with pytest.raises(ValueError, match="Invalid alpha value"):
        optim.RMSprop([_p()], alpha=-0.1)
    with pytest.raises(ValueError, match="Invalid initial_accumulator_value"):
        optim.Adagrad([_p()], initial_accumulator_value=-1)
    with pytest.raises(ValueError, match="betas must be a pair"):
        optim.Adam([_p()], betas=0.9)
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        optim.SGD([_p()], lr=minigrad.tensor([0.1, 0.2]))


def test_a_parameter_in_two_groups_is_rejected():
    a, b = _p(), _p()
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optim.SGD([{"params": [a, b]}, {"params": [b]}], lr=0.1)
    opt = optim.SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.warns(UserWarning, match="duplicate parameters"):  # as PyTorch: a warning
        optim.SGD([a, b, a], lr=0.1)


def test_bad_params_are_rejected():
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts"):
        optim.SGD(_p(), lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {_p()}}], lr=0.1)
    assert len(optim.SGD({_p()}, lr=0.1).param_groups[0]["params"]) == 1  # as PyTorch
    with pytest.raises(
        TypeError, match="can only optimize Tensors, but one of the params is float \\(parameter 1"
    ):
        optim.SGD([_p(), 3.0], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([_p() * 2], lr=0.1)
    with pytest.raises(TypeError, match="param_group must be a dict"):
        optim.SGD([_p()], lr=0.1).add_param_group([_p()])


def _stepped(opt_cls, params, **kwargs):
    opt = opt_cls(params, **kwargs)
    for p in params:
        p.grad = minigrad.ones(p.shape)
    opt.step()
    return opt


def test_state_dict_from_a_different_optimizer_is_rejected():
    sgd_state = _stepped(optim.SGD, [_p()], lr=0.1, momentum=0.9).state_dict()
    with pytest.raises(
        ValueError, match="different optimizer than this Adam: its param group 0 lacks"
    ):
        optim.Adam([_p()]).load_state_dict(sgd_state)
    adam_state = _stepped(optim.Adam, [_p()]).state_dict()
    with pytest.raises(ValueError, match="different optimizer than this NAdam"):
        optim.NAdam([_p()]).load_state_dict(adam_state)
    with pytest.raises(ValueError, match=r"keeps only \['step', 'exp_avg', 'exp_inf'\]"):
        adamax = optim.Adamax([_p()])
        adam_state["param_groups"][0] = {
            k: v for k, v in adam_state["param_groups"][0].items()
            if k not in ("amsgrad", "decoupled_weight_decay")
        }  # fmt: skip
        adamax.load_state_dict(adam_state)


def test_state_dict_with_other_groups_or_shapes_is_rejected():
    state = _stepped(optim.SGD, [_p(), _p()], lr=0.1, momentum=0.9).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups: 1 saved, 2"):
        optim.SGD([{"params": [_p()]}, {"params": [_p()]}], lr=0.1, momentum=0.9).load_state_dict(
            state
        )
    with pytest.raises(ValueError, match="param group 0 has 2 parameters saved and 3"):
        optim.SGD([_p(), _p(), _p()], lr=0.1, momentum=0.9).load_state_dict(state)
    with pytest.raises(ValueError, match=r"'momentum_buffer' of parameter 1 has shape \[2\]"):
        optim.SGD([_p(), _p(5)], lr=0.1, momentum=0.9).load_state_dict(state)
    state["param_groups"][0]["lr"] = -1.0
    with pytest.raises(ValueError, match="Invalid learning rate: -1.0 in saved param group 0"):
        optim.SGD([_p(), _p()], lr=0.1, momentum=0.9).load_state_dict(state)
    with pytest.raises(ValueError, match="not an optimizer state_dict"):
        optim.SGD([_p()], lr=0.1).load_state_dict({"weight": minigrad.ones(2)})
