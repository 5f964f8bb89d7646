"""Optimizer state as PyTorch keeps it (tensor step counts), checkpoints of both kinds, hooks,
tensor learning rates and duplicate parameters, checked against torch.optim."""

import copy
import warnings

import numpy as np
import pytest

import minigrad
from minigrad import optim

torch = pytest.importorskip("torch")

# optimizers whose torch counterpart keeps state["step"] as a float32 0-d CPU tensor
TENSOR_STEP = {
    "Adam": dict(lr=0.01, amsgrad=True),
    "AdamW": dict(lr=0.01),
    "Adamax": dict(),
    "NAdam": dict(),
    "RAdam": dict(),
    "RMSprop": dict(centered=True, momentum=0.5),
    "Adagrad": dict(lr_decay=0.01),
    "Adadelta": dict(),
    "ASGD": dict(t0=1),
    "Rprop": dict(),
    "Adafactor": dict(),
}


def _data(steps, seed=0):
    rng = np.random.default_rng(seed)
    start = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    grads = [[rng.standard_normal(a.shape) for a in start] for _ in range(steps)]
    return start, grads


def _mg_run(opt, params, grads):
    for step in grads:
        for p, g in zip(params, step):
            p.grad = minigrad.tensor(g)
        opt.step()
    return [p.detach().numpy().copy() for p in params]


def _torch_run(opt, params, grads):
    for step in grads:
        for p, g in zip(params, step):
            p.grad = torch.tensor(g)
        opt.step()
    return [p.detach().numpy().copy() for p in params]


def _to_minigrad(obj):
    """A torch state dict's tensors as minigrad tensors (same dtypes), the rest as is."""
    if isinstance(obj, torch.Tensor):
        return minigrad.tensor(obj.detach().numpy())
    if isinstance(obj, dict):
        return {k: _to_minigrad(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_minigrad(v) for v in obj)
    return obj


def _pair(name, start, **kwargs):
    mg = [minigrad.tensor(a, requires_grad=True) for a in start]
    tp = [torch.tensor(a, requires_grad=True) for a in start]
    kw = TENSOR_STEP.get(name, {}) | kwargs
    return mg, getattr(optim, name)(mg, **kw), tp, getattr(torch.optim, name)(tp, **kw)


@pytest.mark.parametrize("name", sorted(TENSOR_STEP))
def test_step_is_a_float32_cpu_tensor_and_torch_checkpoints_resume(name):
    start, grads = _data(4)
    mg, mopt, tp, topt = _pair(name, start)
    _mg_run(mopt, mg, grads[:2])
    _torch_run(topt, tp, grads[:2])
    step, tstep = mopt.state[mg[0]]["step"], topt.state[tp[0]]["step"]
    assert isinstance(step, minigrad.Tensor) and isinstance(tstep, torch.Tensor)
    assert step.dtype == minigrad.float32 and step.shape == () and step.device.type == "cpu"
    assert step.item() == tstep.item() == 2.0 and int(step) == 2
    saved = mopt.state_dict()["state"][0]["step"]
    assert isinstance(saved, minigrad.Tensor) and saved.item() == 2.0
    # a torch checkpoint (tensor steps) loads into a fresh optimizer, which goes on as torch's
    mg2, mopt2, _, _ = _pair(name, [p.detach().numpy() for p in tp])
    mopt2.load_state_dict(_to_minigrad(topt.state_dict()))
    loaded = mopt2.state[mg2[0]]["step"]
    assert isinstance(loaded, minigrad.Tensor) and loaded.dtype == minigrad.float32
    got = _mg_run(mopt2, mg2, grads[2:])
    expected = _torch_run(topt, tp, grads[2:])
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-12)
    assert mopt2.state[mg2[0]]["step"].item() == 4.0


def test_older_checkpoints_with_int_steps_load_as_tensors():
    start, grads = _data(4)
    mg, opt, _, _ = _pair("Adam", start)
    _mg_run(opt, mg, grads[:2])
    sd = copy.deepcopy(opt.state_dict())  # (as from a file: loading shares live tensors)
    for s in sd["state"].values():
        s["step"] = int(s["step"])  # as minigrad saved them before
    mg2, opt2, _, _ = _pair("Adam", [p.detach().numpy() for p in mg])
    opt2.load_state_dict(sd)
    step = opt2.state[mg2[0]]["step"]
    assert isinstance(step, minigrad.Tensor) and step.dtype == minigrad.float32
    for a, b in zip(_mg_run(opt2, mg2, grads[2:]), _mg_run(opt, mg, grads[2:])):
        np.testing.assert_array_equal(a, b)


def test_load_casts_floating_state_to_the_param_and_keeps_step_as_is():
    p = minigrad.zeros(3, dtype=minigrad.float64, requires_grad=True)
    opt = optim.Adam([p])
    sd = opt.state_dict()
    sd["state"] = {
        0: {
            "step": minigrad.tensor(5.0, dtype=minigrad.float64),
            "exp_avg": minigrad.ones(3, dtype=minigrad.float32),
            "exp_avg_sq": minigrad.ones(3, dtype=minigrad.int64),
        }
    }
    opt.load_state_dict(sd)
    state = opt.state[p]
    assert state["step"].dtype == minigrad.float64 and state["step"].item() == 5.0
    assert state["exp_avg"].dtype == state["exp_avg_sq"].dtype == minigrad.float64
    assert state["exp_avg"] is not sd["state"][0]["exp_avg"]  # a copy


def test_sparse_adam_and_lbfgs_keep_int_counts_as_torch():
    w = minigrad.zeros(4, 2, requires_grad=True)
    opt = optim.SparseAdam([w])
    minigrad.nn.functional.embedding(minigrad.tensor([1, 3]), w, sparse=True).sum().backward()
    opt.step()
    assert type(opt.state[w]["step"]) is int
    x = minigrad.ones(3, requires_grad=True)
    lbfgs = optim.LBFGS([x], max_iter=3)

    def closure():
        lbfgs.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        return loss

    lbfgs.step(closure)
    assert type(lbfgs.state[x]["func_evals"]) is int and type(lbfgs.state[x]["n_iter"]) is int


def test_compiled_steps_hand_out_tensor_steps_in_state_dict():
    model = minigrad.nn.Linear(3, 2)
    opt = optim.Adam(model.parameters(), lr=0.01)
    x = minigrad.ones(4, 3)

    def step(x):
        opt.zero_grad()
        loss = model(x).sum()
        loss.backward()
        opt.step()
        return loss.detach()

    compiled = minigrad.compile(step)
    for _ in range(5):
        compiled(x)
    assert compiled.eager_reason is None
    saved = opt.state_dict()["state"][0]["step"]
    assert isinstance(saved, minigrad.Tensor) and saved.item() == 5.0


# -- hooks ------------------------------------------------------------------------------------
def _order_of_step_hooks(mod, opt_cls, param):
    order = []
    g1 = mod.register_optimizer_step_pre_hook(lambda o, a, k: order.append("gpre"))
    g2 = mod.register_optimizer_step_post_hook(lambda o, a, k: order.append("gpost"))
    opt = opt_cls([param], lr=0.1)
    opt.register_step_pre_hook(lambda o, a, k: order.append("pre"))
    opt.register_step_post_hook(lambda o, a, k: order.append("post"))
    opt.step()
    g1.remove()
    g2.remove()
    opt.step()
    return order


def test_global_step_hooks_run_around_every_optimizer_in_torch_order():
    p = minigrad.ones(2, requires_grad=True)
    p.grad = minigrad.ones(2)
    tp = torch.ones(2, requires_grad=True)
    tp.grad = torch.ones(2)
    got = _order_of_step_hooks(optim.optimizer, optim.SGD, p)
    torch_module = pytest.importorskip("torch.optim.optimizer")
    assert got == _order_of_step_hooks(torch_module, torch.optim.SGD, tp)
    assert got == ["gpre", "pre", "post", "gpost", "pre", "post"]


def _state_dict_hook_events(opt):
    events = []
    opt.register_state_dict_pre_hook(lambda o: events.append("pre"))
    opt.register_state_dict_pre_hook(lambda o: events.append("pre0"), prepend=True)

    def post(o, sd):
        events.append(("post", sorted(sd)))
        return dict(sd, extra=1)

    opt.register_state_dict_post_hook(post)
    opt.register_load_state_dict_pre_hook(lambda o, sd: events.append(("lpre", "extra" in sd)))
    h = opt.register_load_state_dict_post_hook(lambda o: events.append("lpost"))
    sd = opt.state_dict()
    opt.load_state_dict(sd)
    h.remove()
    opt.load_state_dict(sd)
    return events, sorted(sd)


def test_state_dict_hooks_match_torch():
    got = _state_dict_hook_events(optim.Adam([minigrad.ones(2, requires_grad=True)]))
    want = _state_dict_hook_events(torch.optim.Adam([torch.ones(2, requires_grad=True)]))
    assert got == want


def test_load_state_dict_pre_hook_may_replace_the_dict():
    p = minigrad.ones(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    sd = opt.state_dict()
    sd["param_groups"][0]["lr"] = 0.5
    opt.register_load_state_dict_pre_hook(lambda o, d: {**d, "param_groups": [dict(lr_group)]})
    lr_group = dict(sd["param_groups"][0], lr=0.25)
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["lr"] == 0.25


# -- param groups, lr, flags --------------------------------------------------------------------
@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_duplicate_parameters_warn_and_update_twice_as_torch(name):
    start, grads = _data(1)
    mg = minigrad.tensor(start[0], requires_grad=True)
    tp = torch.tensor(start[0], requires_grad=True)
    with pytest.warns(UserWarning, match="duplicate parameters") as rec:
        opt = getattr(optim, name)([mg, mg], lr=0.1)
    assert len(rec) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        topt = getattr(torch.optim, name)([tp, tp], lr=0.1)
    for _ in range(2):
        mg.grad, tp.grad = minigrad.tensor(grads[0][0]), torch.tensor(grads[0][0])
        opt.step()
        topt.step()
    np.testing.assert_allclose(mg.detach().numpy(), tp.detach().numpy(), rtol=1e-12)
    assert opt.state_dict()["param_groups"][0]["params"] == [0, 0]


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Rprop", "LBFGS"])
def test_tensor_lr_matches_torch(name):
    start, grads = _data(3)
    mg = [minigrad.tensor(a, requires_grad=True) for a in start]
    tp = [torch.tensor(a, requires_grad=True) for a in start]
    opt = getattr(optim, name)(mg, lr=minigrad.tensor(0.01, dtype=minigrad.float64))
    topt = getattr(torch.optim, name)(tp, lr=torch.tensor(0.01, dtype=torch.float64))
    if name == "LBFGS":
        for o, ps in ((opt, mg), (topt, tp)):
            o.step(lambda ps=ps, o=o: _quadratic(o, ps))
        got, want = [p.detach().numpy() for p in mg], [p.detach().numpy() for p in tp]
    else:
        got, want = _mg_run(opt, mg, grads), _torch_run(topt, tp, grads)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-10)
    assert isinstance(opt.param_groups[0]["lr"], minigrad.Tensor)


def _quadratic(opt, params):
    opt.zero_grad()
    loss = sum((p * p).sum() for p in params)
    loss.backward()
    return loss


def test_tensor_lr_errors_are_torchs():
    p, tp = minigrad.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    for kwargs in (dict(lr=[0.1, 0.2]), dict(lr=-0.1)):
        with pytest.raises(ValueError) as want:
            torch.optim.Adam([tp], lr=torch.tensor(kwargs["lr"]))
        with pytest.raises(ValueError) as got:
            optim.Adam([p], lr=minigrad.tensor(kwargs["lr"]))
        assert str(want.value).split(":")[0].split(" must")[0] in str(got.value)
    msg = "lr as a Tensor is not supported for capturable=False and foreach=True"
    with pytest.raises(ValueError, match=msg):
        torch.optim.AdamW([tp], lr=torch.tensor(0.1), foreach=True)
    with pytest.raises(ValueError, match=msg):
        optim.AdamW([p], lr=minigrad.tensor(0.1), foreach=True)
    optim.SGD([p], lr=minigrad.tensor(0.1), foreach=True)  # SGD takes the pair


def test_zero_grad_keeps_zeroed_tensors_with_set_to_none_false():
    p = minigrad.ones(2, requires_grad=True)
    opt = optim.Adam([p], foreach=False, fused=False, capturable=False, maximize=True)
    (p * p).sum().backward()
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad and p.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
        optim.Adam([p], foreach=True, fused=True)


@pytest.mark.parametrize("sched", ["StepLR", "OneCycleLR", "ReduceLROnPlateau"])
def test_schedulers_fill_a_tensor_lr_in_place_as_torch(sched):
    start, grads = _data(4)
    kwargs = {
        "StepLR": dict(step_size=1, gamma=0.5),
        "OneCycleLR": dict(max_lr=0.1, total_steps=10),
        "ReduceLROnPlateau": dict(patience=0),
    }[sched]
    runs = []
    for lib, mod in ((minigrad, optim), (torch, torch.optim)):
        lr = lib.tensor(0.01, dtype=lib.float64)
        params = [lib.tensor(a, requires_grad=True) for a in start]
        opt = mod.Adam(params, lr=lr)
        scheduler = getattr(mod.lr_scheduler, sched)(opt, **kwargs)
        lrs = []
        for step in grads:
            for p, g in zip(params, step):
                p.grad = lib.tensor(g)
            opt.step()
            scheduler.step(1.0) if sched == "ReduceLROnPlateau" else scheduler.step()
            assert opt.param_groups[0]["lr"] is lr
            lrs.append(lr.item())
        runs.append((lrs, [p.detach().numpy() for p in params]))
    (lrs, got), (want_lrs, want) = runs
    np.testing.assert_allclose(lrs, want_lrs, rtol=1e-12)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_flags_as_torch_capturable_refused_on_the_cpu():
    p, tp = minigrad.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    for name in ("Adam", "RMSprop", "NAdam"):
        opt = getattr(optim, name)([p], capturable=True)
        topt = getattr(torch.optim, name)([tp], capturable=True)
        p.grad, tp.grad = minigrad.ones(2), torch.ones(2)
        with pytest.raises(AssertionError, match="If capturable=True"):
            topt.step()
        with pytest.raises(AssertionError, match="If capturable=True, params .* supported devices"):
            opt.step()
    for flags in (dict(foreach=True), dict(fused=True), dict(maximize=True)):
        optim.Adam([p], **flags).step()  # accepted, as torch does on the CPU
        torch.optim.Adam([tp], **flags).step()


def test_add_param_group_checks_as_torch():
    a, b = minigrad.ones(2, requires_grad=True), minigrad.ones(2, requires_grad=True)
    msg = "should be with/without names. cannot add param group without names"
    with pytest.raises(ValueError, match=msg):
        optim.SGD([("a", a)], lr=0.1).add_param_group({"params": [b]})
    with pytest.raises(ValueError, match="cannot add param group with names"):
        optim.SGD([a], lr=0.1).add_param_group({"params": [("b", b)]})
    with pytest.raises(KeyError, match="params"):
        optim.SGD([a], lr=0.1).add_param_group({"lr": 0.1})
    with pytest.raises(ValueError, match="some parameters appear in more than one"):
        optim.SGD([a], lr=0.1).add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([a], lr=0.1).add_param_group({"params": [a * 2]})
    opt = optim.SGD([("a", a)], lr=0.1)
    opt.add_param_group({"params": [("b", b)], "lr": 0.2})
    assert [g["param_names"] for g in opt.param_groups] == [["a"], ["b"]]


def test_a_torch_saved_checkpoint_resumes_in_minigrad(tmp_path):
    start, grads = _data(5)
    tp = [torch.tensor(a, requires_grad=True) for a in start]
    topt = torch.optim.AdamW(tp, lr=0.01, amsgrad=True)
    _torch_run(topt, tp, grads[:3])
    path = tmp_path / "ckpt.pt"
    torch.save({"params": [p.detach() for p in tp], "optimizer": topt.state_dict()}, path)
    ckpt = minigrad.load(path)
    mg = [p.requires_grad_() for p in ckpt["params"]]
    opt = optim.AdamW(mg, lr=0.01, amsgrad=True)
    opt.load_state_dict(ckpt["optimizer"])
    assert int(opt.state[mg[0]]["step"]) == 3
    for a, b in zip(_mg_run(opt, mg, grads[3:]), _torch_run(topt, tp, grads[3:])):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
