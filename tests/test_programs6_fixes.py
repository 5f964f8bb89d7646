"""What the programs of ``tests/test_programs6.py`` found missing or wrong in minigrad, each
checked against PyTorch: ``Binomial.entropy``, ``linalg.lstsq``'s other drivers, einsum's
sublist format and implicit output with ``...``, and ``load(mmap=)``."""

import io

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("n, probs", [(10, [0.3, 0.6]), (0, [0.2]), (5, [0.0, 1.0]), (3, [0.5])])
def test_binomial_entropy_and_its_gradient(n, probs):
    ours_p = minigrad.tensor(probs, requires_grad=True)
    theirs_p = torch.tensor(probs, requires_grad=True)
    ours = minigrad.distributions.Binomial(n, probs=ours_p).entropy()
    theirs = torch.distributions.Binomial(n, probs=theirs_p).entropy()
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), atol=2e-5)
    if 0 < min(probs) and max(probs) < 1 and n:
        ours.sum().backward()
        theirs.sum().backward()
        np.testing.assert_allclose(ours_p.grad.numpy(), theirs_p.grad.numpy(), rtol=1e-5)


def test_binomial_entropy_needs_one_total_count():
    with pytest.raises(NotImplementedError, match="Inhomogeneous total count"):
        minigrad.distributions.Binomial(minigrad.tensor([2.0, 3.0]), probs=0.5).entropy()


def _lstsq_cases():
    rng = np.random.default_rng(0)
    deficient = rng.standard_normal((5, 2)) @ rng.standard_normal((2, 3))
    return [
        (rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 2))),  # tall, batched
        (rng.standard_normal((3, 5)), rng.standard_normal((3, 2))),  # wide: no residuals
        (rng.standard_normal((5, 3)), rng.standard_normal(5)),  # a vector right-hand side
        (np.stack([rng.standard_normal((5, 3)), deficient]), rng.standard_normal((2, 5, 2))),
    ]


@pytest.mark.parametrize("driver", [None, "gelsy", "gelsd", "gelss", "gels"])
@pytest.mark.parametrize("case", range(4))
def test_lstsq_drivers_fields(driver, case):
    a, b = _lstsq_cases()[case]
    ours = minigrad.linalg.lstsq(minigrad.tensor(a), minigrad.tensor(b), driver=driver)
    theirs = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
    for field in ("solution", "residuals", "rank", "singular_values"):
        if field in ("solution", "residuals") and driver == "gels" and case == 3:
            continue  # gels assumes full rank: its answer for a deficient A is arbitrary
        mine, ref = getattr(ours, field).numpy(), getattr(theirs, field).numpy()
        assert mine.shape == ref.shape and mine.dtype == ref.dtype, field
        np.testing.assert_allclose(mine, ref, rtol=1e-7, atol=1e-9, err_msg=field)


def test_lstsq_unknown_driver():
    a = minigrad.ones(3, 2)
    with pytest.raises(RuntimeError, match="should be one of"):
        minigrad.linalg.lstsq(a, minigrad.ones(3, 1), driver="gelsx")


def test_lstsq_gelsd_solution_has_gradients():
    a = minigrad.tensor(np.random.default_rng(1).standard_normal((6, 3)), requires_grad=True)
    t = torch.tensor(a.detach().numpy(), requires_grad=True)
    minigrad.linalg.lstsq(
        a, minigrad.ones(6, 2, dtype=a.dtype), driver="gelsd"
    ).solution.sum().backward()
    torch.linalg.lstsq(t, torch.ones(6, 2, dtype=t.dtype), driver="gelsd").solution.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-7)


def _einsum_both(*args):
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((5, 4))
    out = []
    for lib in (minigrad, torch):
        tx, ty = lib.tensor(x), lib.tensor(y)
        operands = [tx if a == "x" else ty if a == "y" else a for a in args]
        out.append(lib.einsum(*operands).numpy())
    return out


@pytest.mark.parametrize(
    "args",
    [
        ("x", [0, 1], "y", [2, 1], [0, 2]),
        ("x", [0, 1], "x", [0, 1]),
        ("x", [1, 0]),
        ("x", [0, 1], [1]),
        ("x", [0, Ellipsis], "y", [2, Ellipsis]),
        ("x", [0, Ellipsis], "y", [2, Ellipsis], [Ellipsis, 2, 0]),
        ("a...,c...", "x", "y"),
        ("...j->...", "x"),
    ],
)
def test_einsum_sublist_format_and_implicit_ellipsis(args):
    ours, theirs = _einsum_both(*args)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_einsum_sublist_gradient():
    x = minigrad.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    minigrad.einsum(x, [0, 1], x, [2, 1], [0, 2]).sum().backward()
    t = torch.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    torch.einsum(t, [0, 1], t, [2, 1], [0, 2]).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("bad", [[0, -1], [0, 52], [0, "a"]])
def test_einsum_sublist_bad_subscript(bad):
    with pytest.raises(ValueError, match=r"int in \[0, 52\) or Ellipsis"):
        minigrad.einsum(minigrad.ones(2, 2), bad)


def test_load_accepts_mmap(tmp_path):
    path = tmp_path / "state.pt"
    minigrad.save({"w": minigrad.arange(3.0)}, path)
    assert minigrad.load(path, mmap=True)["w"].tolist() == [0.0, 1.0, 2.0]
    assert minigrad.load(str(path), mmap=False, weights_only=True)["w"].tolist() == [0.0, 1.0, 2.0]
    buffer = io.BytesIO()
    minigrad.save(1, buffer)
    buffer.seek(0)
    with pytest.raises(ValueError, match="must be a file path"):
        minigrad.load(buffer, mmap=True)


def _node_hooks(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = x * w
    order = []
    y.register_hook(lambda g: order.append("tensor") or g * 2)
    y.grad_fn.register_prehook(lambda go: order.append(("pre", len(go))) or (go[0] * 3,))
    handle = y.grad_fn.register_hook(
        lambda gi, go: order.append(("post", len(gi), len(go))) or (gi[0] * 5, None)
    )
    y.retain_grad()
    y.sum().backward()
    first = [list(order), x.grad.tolist(), w.grad, y.grad.tolist()]
    handle.remove()
    x.grad, order[:] = None, []
    a = (x * 2).sum()
    leaf_node = a.grad_fn.next_functions[0][0].next_functions[0][0]
    leaf_node.register_hook(lambda gi, go: order.append(("leaf post", gi, go[0].tolist())))
    leaf_node.register_prehook(lambda go: order.append(("leaf pre", go[0].tolist())))
    a.backward()
    return first, order


def test_graph_node_hooks_as_pytorch():
    """``grad_fn.register_prehook(hook(grad_outputs))`` runs after the tensor hooks and
    retain_grad, ``grad_fn.register_hook(hook(grad_inputs, grad_outputs))`` after backward;
    both may replace gradients; a leaf's AccumulateGrad node runs them too."""
    assert _node_hooks(minigrad) == _node_hooks(torch)


def test_graph_node_hook_returning_wrong_count():
    x = minigrad.ones(2, requires_grad=True)
    y = x * 2
    y.grad_fn.register_hook(lambda gi, go: (gi[0], gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="returned 3 gradients, but 2 were expected"):
        y.sum().backward()


def _converted(lib, sample):
    out = lib.utils.data.default_convert(sample)
    return _describe(out)


def _describe(value):
    if isinstance(value, dict):
        return {k: _describe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_describe(v) for v in value])
    if hasattr(value, "dtype") and hasattr(value, "tolist") and not isinstance(value, np.ndarray):
        return ("tensor", str(value.dtype).split(".")[-1], value.tolist())
    return (type(value).__name__, value.tolist() if isinstance(value, np.ndarray) else value)


@pytest.mark.parametrize(
    "sample",
    [
        np.arange(3.0),
        np.float32(1.5),
        np.bool_(True),
        {"a": np.arange(2), "b": "text", "c": 3},
        [np.ones(1, np.float32), 3, "a"],
        (np.ones(1), 2.5),
        np.array(["a", "b"]),
        3.5,
    ],
)
def test_default_convert_as_pytorch(sample):
    assert _converted(minigrad, sample) == _converted(torch, sample)


def test_loader_without_batching_converts_numpy():
    data = [np.ones(2, np.float32), np.zeros(2, np.float32)]
    for lib in (minigrad, torch):
        batches = list(lib.utils.data.DataLoader(data, batch_size=None))
        assert [type(b).__name__ for b in batches] == ["Tensor", "Tensor"]

    class Stream(minigrad.utils.data.IterableDataset):
        def __iter__(self):
            return iter([(np.arange(2), "x")])

    assert _describe(next(iter(minigrad.utils.data.DataLoader(Stream(), batch_size=None)))) == (
        "list",
        [("tensor", "int64", [0, 1]), ("str", "x")],
    )


def test_module_to_empty():
    net = minigrad.nn.Sequential(minigrad.nn.Linear(3, 4), minigrad.nn.BatchNorm1d(4))
    weight = net[0].weight
    assert net.to_empty(device="cpu") is net
    assert net[0].weight is weight and weight.requires_grad and tuple(weight.shape) == (4, 3)
    assert net[1].num_batches_tracked.dtype == minigrad.int64
    outer = minigrad.nn.Sequential(minigrad.nn.Linear(2, 2))
    outer.register_buffer("scale", minigrad.ones(2))
    inner_before = outer[0].weight.data_ptr()
    outer.to_empty(device="cpu", recurse=False)
    assert outer[0].weight.data_ptr() == inner_before and tuple(outer.scale.shape) == (2,)


def test_compiler_reset_forgets_traces():
    def f(x):
        return (x * 2).sin()

    compiled = minigrad.compile(f)
    x = minigrad.randn(2, 3)
    compiled(x)
    assert len(compiled._traces) == 1
    minigrad.compiler.reset()
    assert len(compiled._traces) == 0
    assert minigrad.equal(compiled(x), f(x)) and len(compiled._traces) == 1


_SCHEDULERS = {
    "lambda": lambda S, o: S.LambdaLR(o, lambda s: min(1.0, (s + 1) / 3)),
    "onecycle": lambda S, o: S.OneCycleLR(o, max_lr=0.05, total_steps=10),
    "plateau": lambda S, o: S.ReduceLROnPlateau(o, patience=0),
    "sequential": lambda S, o: S.SequentialLR(
        o, [S.LinearLR(o, 0.1, total_iters=2), S.ExponentialLR(o, 0.9)], milestones=[2]
    ),
    "cyclic": lambda S, o: S.CyclicLR(o, 0.001, 0.01, step_size_up=2, cycle_momentum=False),
    "multistep": lambda S, o: S.MultiStepLR(o, [1, 4], 0.5),  # milestones: a Counter
}


def _run(lib, kind):
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.LayerNorm(4), lib.nn.Linear(4, 2))
    decay = [model[0].weight, model[2].weight]
    rest = [model[0].bias, model[1].weight, model[1].bias, model[2].bias]
    groups = [{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}]
    optimizer = lib.optim.AdamW(groups, lr=0.01)
    scheduler = _SCHEDULERS[kind](lib.optim.lr_scheduler, optimizer)
    rng = np.random.default_rng(3)
    x = lib.tensor(rng.standard_normal((8, 3)).astype(np.float32))
    y = lib.tensor(rng.standard_normal((8, 2)).astype(np.float32))

    def step():
        optimizer.zero_grad()
        loss = lib.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step(loss.item()) if kind == "plateau" else scheduler.step()
        return loss.item(), [g["lr"] for g in optimizer.param_groups]

    return model, optimizer, scheduler, step


@pytest.mark.parametrize("kind", sorted(_SCHEDULERS))
def test_resume_pytorch_checkpoint_in_minigrad(kind, tmp_path):
    """A run started in PyTorch (model, AdamW groups, scheduler saved with torch.save) goes on
    in minigrad with the same losses and learning rates: the scheduler's state once failed on
    PyTorch's bookkeeping key ``_get_lr_called_within_step`` and MultiStepLR's Counter."""
    torch.manual_seed(0)
    t_model, t_opt, t_sched, t_step = _run(torch, kind)
    for _ in range(3):
        t_step()
    path = tmp_path / "run.pt"
    state = {"model": t_model.state_dict(), "optimizer": t_opt.state_dict()}
    torch.save({**state, "scheduler": t_sched.state_dict()}, path)
    checkpoint = minigrad.load(path)
    m_model, m_opt, m_sched, m_step = _run(minigrad, kind)
    m_model.load_state_dict(checkpoint["model"])
    m_opt.load_state_dict(checkpoint["optimizer"])
    m_sched.load_state_dict(checkpoint["scheduler"])
    for _ in range(4):
        (t_loss, t_lrs), (m_loss, m_lrs) = t_step(), m_step()
        assert m_loss == pytest.approx(t_loss, rel=1e-5) and m_lrs == pytest.approx(t_lrs)


def test_scheduler_state_from_other_kind_still_refused():
    opt = minigrad.optim.SGD([minigrad.zeros(1, requires_grad=True)], lr=0.1)
    other = minigrad.optim.lr_scheduler.StepLR(opt, 2).state_dict()
    with pytest.raises(ValueError, match="another kind of scheduler"):
        minigrad.optim.lr_scheduler.ExponentialLR(opt, 0.9).load_state_dict(other)


def _state_dict_hooks(lib):
    nn, log = lib.nn, []
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    with lib.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(lib.arange(p.numel(), dtype=lib.float32).reshape(p.shape) + i)
    model[0].register_state_dict_pre_hook(lambda m, prefix, keep: log.append(("pre", prefix)))

    def post(module, state_dict, prefix, metadata):
        log.append(("post", prefix, sorted(state_dict)))
        state_dict[prefix + "extra"] = lib.ones(1)

    handle = model.register_state_dict_post_hook(post)
    model[1]._register_state_dict_hook(lambda m, sd, prefix, meta: log.append(("old", prefix)))
    state = model.state_dict()
    keys = list(state)
    handle.remove()
    legacy = {"0.w": state["0.weight"] * 2, "0.bias": state["0.bias"], "junk": lib.zeros(1)}
    legacy.update({k: state[k] for k in ("1.weight", "1.bias")})

    def rename(module, state_dict, prefix, metadata, strict, missing, unexpected, errors):
        log.append(("load pre", prefix, metadata))
        state_dict[prefix + "weight"] = state_dict.pop(prefix + "w")

    def drop_junk(module, incompatible):
        log.append(("load post", list(incompatible.unexpected_keys)))
        incompatible.unexpected_keys.remove("junk")

    fresh = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    fresh[0].register_load_state_dict_pre_hook(rename)
    fresh[1]._register_load_state_dict_pre_hook(lambda sd, prefix, *rest: log.append(prefix))
    fresh.register_load_state_dict_post_hook(drop_junk)
    result = fresh.load_state_dict(legacy)  # strict: passes once the hook drops "junk"
    return keys, log, str(result), fresh[0].weight.tolist(), sorted(legacy)


def test_state_dict_hooks_as_pytorch():
    """Saving: pre hooks, post hooks adding keys, the private form; loading: pre hooks
    renaming a legacy checkpoint's keys (on a copy), post hooks clearing unexpected keys."""
    assert _state_dict_hooks(minigrad) == _state_dict_hooks(torch)


def test_state_dict_post_hook_must_not_return():
    model = minigrad.nn.Linear(2, 2)
    model.register_state_dict_post_hook(lambda m, sd, prefix, meta: sd)
    with pytest.raises(RuntimeError, match="should not return a value"):
        model.state_dict()


def _multi_grad_hooks(lib):
    log = []
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = lib.tensor([3.0, 4.0], requires_grad=True)
    c = lib.tensor([5.0], requires_grad=True)
    h = a * 2  # a non-leaf among leaves

    def every(grads):
        log.append(["all"] + [None if g is None else g.tolist() for g in grads])

    handle = lib.autograd.graph.register_multi_grad_hook((h, b, c), every)
    lib.autograd.graph.register_multi_grad_hook(
        (a, b), lambda g: log.append(["any", g.tolist()]), mode="any"
    )
    (h * b).sum().backward(retain_graph=True)  # c is not reached: None
    (h * b).sum().backward()  # once per backward pass
    handle.remove()
    ((a * c).sum() + (b * c).sum()).backward()
    lib.autograd.grad((a * b).sum(), [b])  # only b's gradient is computed
    return log


def test_register_multi_grad_hook_as_pytorch():
    assert _multi_grad_hooks(minigrad) == _multi_grad_hooks(torch)


def test_register_multi_grad_hook_mode():
    with pytest.raises(ValueError, match="Expects mode to be one of"):
        minigrad.autograd.graph.register_multi_grad_hook([minigrad.ones(1)], print, mode="some")


def test_leaf_hooks_run_for_autograd_grad():
    """A leaf's ``register_hook`` hook sees (and may change) the gradient ``autograd.grad``
    returns for it, as in PyTorch; it never ran there before."""
    results = []
    for lib in (minigrad, torch):
        seen = []
        a, b = lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([3.0], requires_grad=True)
        b.register_hook(lambda g, seen=seen: seen.append(g.tolist()) or g * 10)
        (grad_b,) = lib.autograd.grad((a * b).sum(), [b])
        (grad_a,) = lib.autograd.grad((a * b).sum(), [a])
        results.append((seen, grad_b.tolist(), grad_a.tolist(), b.grad is None))
    assert results[0] == results[1] == ([[3.0]], [30.0], [3.0, 3.0], True)


def _mvn_matrices(lib, given):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((3, 3))
    cov = a @ a.T + np.eye(3)
    matrix = {"covariance_matrix": cov, "scale_tril": np.linalg.cholesky(cov)}.get(given)
    matrix = np.linalg.inv(cov) if matrix is None else matrix
    d = lib.distributions.MultivariateNormal(
        lib.zeros(2, 3, dtype=lib.float64), **{given: lib.tensor(matrix)}
    )
    names = ("covariance_matrix", "precision_matrix", "scale_tril")
    return [tuple(getattr(d, n).shape) for n in names] + [
        np.round(getattr(d, n).numpy(), 10).tolist() for n in names
    ]


@pytest.mark.parametrize("given", ["covariance_matrix", "scale_tril", "precision_matrix"])
def test_multivariate_normal_matrices_from_any_parameterization(given):
    """``covariance_matrix``/``precision_matrix``/``scale_tril`` exist whichever one was given
    (an AttributeError before) and are broadcast to the batch shape, as in PyTorch."""
    assert _mvn_matrices(minigrad, given) == _mvn_matrices(torch, given)


def test_multivariate_normal_rejects_non_positive_definite_with_value_error():
    with pytest.raises(ValueError, match="covariance_matrix"):
        minigrad.distributions.MultivariateNormal(
            minigrad.zeros(2), minigrad.tensor([[1.0, 2.0], [2.0, 1.0]])
        )


def _modes_and_shapes(lib):
    D = lib.distributions
    concentration = lib.tensor([[2.0, 3.0], [0.5, 0.7], [0.5, 3.0], [1.0, 1.0], [0.2, 0.9]])
    return [
        np.nan_to_num(np.round(D.Dirichlet(concentration).mode.numpy(), 6), nan=-1.0).tolist(),
        D.Uniform(0.0, lib.tensor([2.0])).mode.isnan().tolist(),
        tuple(D.Bernoulli(logits=lib.zeros(2, 3)).param_shape),
        tuple(D.Binomial(3, probs=lib.tensor([0.3])).param_shape),
        tuple(D.OneHotCategorical(logits=lib.zeros(2, 3)).param_shape),
    ]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_distribution_modes_and_param_shapes():
    """``Dirichlet.mode`` and ``Uniform.mode`` raised NotImplementedError; ``param_shape`` was
    missing on Bernoulli, Binomial and OneHotCategorical."""
    assert _modes_and_shapes(minigrad) == _modes_and_shapes(torch)


def test_conv_output_padding_attribute():
    """Code that walks convolutions reads ``output_padding`` on every one (zeros unless
    transposed), as PyTorch has it."""
    for name in ("Conv1d", "Conv2d", "Conv3d"):
        ours, theirs = getattr(minigrad.nn, name)(2, 2, 3), getattr(torch.nn, name)(2, 2, 3)
        assert ours.output_padding == theirs.output_padding and ours.transposed is False
    transposed = minigrad.nn.ConvTranspose2d(2, 2, 3, stride=2, output_padding=1)
    assert transposed.output_padding == (1, 1) and transposed.transposed is True
