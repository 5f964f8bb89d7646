"""minigrad.compile: replayed training steps equal eager ones, and what cannot replay falls back."""

import warnings

import numpy as np
import pytest
from minigrad.models import GPT, MLP, LeNet

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim


def _batches(n, shape, classes, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [
        (
            minigrad.tensor(rng.standard_normal(shape).astype(dtype)),
            minigrad.tensor(rng.integers(0, classes, shape[0])),
        )
        for _ in range(n)
    ]


def _setup(make_model, make_opt, seed=0):
    minigrad.manual_seed(seed)
    model = make_model().double()
    opt = make_opt(model.parameters())

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss

    return model, opt, step


def _assert_same(m1, m2):
    for (name, p), q in zip(m1.named_parameters(), m2.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy(), err_msg=name)


def _compare(make_model, make_opt, batches, replays, min_replays):
    m1, o1, eager = _setup(make_model, make_opt)
    m2, o2, step = _setup(make_model, make_opt)
    compiled = minigrad.compile(step)
    for x, y in batches:
        a, b = eager(x, y), compiled(x, y)
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    _assert_same(m1, m2)
    for s1, s2 in zip(o1.state_dict()["state"].values(), o2.state_dict()["state"].values()):
        assert sorted(s1) == sorted(s2)
        for k in s1:  # step counts advanced by replays too; buffers equal
            v1, v2 = s1[k], s2[k]
            if isinstance(v1, minigrad.Tensor):
                np.testing.assert_array_equal(v1.numpy(), v2.numpy(), err_msg=k)
            else:
                assert v1 == v2, k
    assert compiled.eager_reason is None
    assert replays[0] >= min_replays
    return compiled


OPTIMIZERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.1),
    "sgd_momentum_wd": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-2),
    "sgd_nesterov": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    "sgd_dampening_maximize": lambda ps: optim.SGD(
        ps, lr=0.05, momentum=0.5, dampening=0.3, maximize=True
    ),
    "adam": lambda ps: optim.Adam(ps, lr=0.01),
    "adam_amsgrad_wd": lambda ps: optim.Adam(ps, lr=0.01, weight_decay=0.1, amsgrad=True),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.01, weight_decay=0.1),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=0.01),
    "rmsprop_centered_momentum": lambda ps: optim.RMSprop(
        ps, lr=0.01, momentum=0.9, centered=True, weight_decay=0.01
    ),
    "adagrad_lr_decay": lambda ps: optim.Adagrad(ps, lr=0.05, lr_decay=0.01),
    "nadam": lambda ps: optim.NAdam(ps, lr=0.01),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_mlp_matches_eager(name, replays):
    batches = _batches(8, (5, 12), 4)
    _compare(lambda: MLP(12, (16, 8), 4), OPTIMIZERS[name], batches, replays, 4)


def test_lenet_matches_eager(replays):
    batches = _batches(4, (3, 1, 8, 8), 10)
    make = lambda: LeNet(channels=(2, 3), hidden=8)  # noqa: E731
    _compare(make, lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), batches, replays, 2)


class _Recurrent(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm, self.fc = nn.LSTM(2, 5, batch_first=True), nn.Linear(5, 3)

    def forward(self, x):
        out, _ = self.lstm(x.reshape(x.shape[0], 2, 2))
        return self.fc(out[:, -1])


class _Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.att, self.fc = nn.MultiheadAttention(2, 2, batch_first=True), nn.Linear(2, 3)

    def forward(self, x):
        x = x.reshape(x.shape[0], 2, 2)
        return self.fc(self.att(x, x, x)[0][:, 0])


LAYERS = {
    # running statistics change before cross_entropy's target check: undone if it fails
    "batchnorm": lambda: nn.Sequential(
        nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3)
    ),
    "layernorm_gelu": lambda: nn.Sequential(
        nn.Linear(4, 8), nn.LayerNorm(8), nn.GELU(), nn.Linear(8, 3)
    ),
    "lstm": _Recurrent,
    "attention": _Attention,
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layers_match_eager(name, replays):
    batches = _batches(6, (5, 4), 3)
    _compare(LAYERS[name], lambda ps: optim.Adam(ps, lr=0.01), batches, replays, 3)


def _gpt_setup(dropout, seed=0):
    minigrad.manual_seed(seed)
    model = GPT(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8, dropout=dropout)
    model = model.double()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(idx, targets):
        opt.zero_grad()
        _, loss = model(idx, targets)
        loss.backward()
        opt.step()
        return loss

    return model, step


@pytest.mark.parametrize("dropout", [0.0, 0.2])
def test_gpt_matches_eager_with_seeded_dropout(dropout, replays):
    rng = np.random.default_rng(1)
    data = [minigrad.tensor(rng.integers(0, 11, (2, 7))) for _ in range(5)]
    m1, eager = _gpt_setup(dropout)
    m2, step = _gpt_setup(dropout)
    compiled = minigrad.compile(step)
    minigrad.manual_seed(5)
    losses1 = [eager(d[:, :-1], d[:, 1:]).item() for d in data]
    minigrad.manual_seed(5)
    losses2 = [compiled(d[:, :-1], d[:, 1:]).item() for d in data]
    assert losses1 == losses2
    _assert_same(m1, m2)
    assert compiled.eager_reason is None and replays[0] >= 3


def test_decorator_forms_and_outputs_are_fresh(replays):
    model, opt, step = _setup(lambda: nn.Linear(3, 2), lambda ps: optim.SGD(ps, lr=0.1))
    plain = minigrad.compile(step)
    configured = minigrad.compile(fullgraph=True, mode="reduce-overhead")(step)
    assert isinstance(configured, minigrad._compile.CompiledFunction)
    (x, y), (x2, y2) = _batches(2, (4, 3), 2)
    held = [plain(x, y) for _ in range(4)]  # a held loss is not overwritten by later calls
    assert len({h.item() for h in held}) == 4 and replays[0] == 2
    assert not held[-1].requires_grad and held[-1].grad_fn is None
    assert configured(x2, y2).shape == ()


def test_lr_change_retraces(replays):
    m1, o1, eager = _setup(lambda: nn.Linear(4, 3), lambda ps: optim.SGD(ps, lr=0.1, momentum=0.5))
    m2, o2, step = _setup(lambda: nn.Linear(4, 3), lambda ps: optim.SGD(ps, lr=0.1, momentum=0.5))
    compiled = minigrad.compile(step)
    s1 = optim.lr_scheduler.StepLR(o1, step_size=2, gamma=0.5)
    s2 = optim.lr_scheduler.StepLR(o2, step_size=2, gamma=0.5)
    for x, y in _batches(8, (5, 4), 3):
        eager(x, y), compiled(x, y)
        s1.step(), s2.step()
    _assert_same(m1, m2)
    assert len(compiled._traces) >= 3 and replays[0] >= 1


def test_shape_change_retraces(replays):
    m1, _, eager = _setup(lambda: nn.Linear(4, 3), lambda ps: optim.SGD(ps, lr=0.1))
    m2, _, step = _setup(lambda: nn.Linear(4, 3), lambda ps: optim.SGD(ps, lr=0.1))
    compiled = minigrad.compile(step)
    batches = _batches(3, (5, 4), 3) + _batches(3, (2, 4), 3, seed=1) + _batches(3, (5, 4), 3)
    for x, y in batches:
        np.testing.assert_array_equal(eager(x, y).detach().numpy(), compiled(x, y).numpy())
    _assert_same(m1, m2)
    assert len(compiled._traces) == 2 and replays[0] >= 4


def test_train_eval_and_grad_mode_change(replays):
    minigrad.manual_seed(0)
    model = MLP(6, (8,), 3, dropout=0.5).double()
    compiled = minigrad.compile(model)
    assert compiled.out_features == 3 and len(list(compiled.parameters())) == 4
    x = _batches(1, (4, 6), 3)[0][0]
    with minigrad.no_grad():
        for training in (False, True, False, True):
            model.train(training)
            minigrad.manual_seed(3)
            expected = model(x).numpy()
            minigrad.manual_seed(3)
            np.testing.assert_array_equal(compiled(x).numpy(), expected)
            minigrad.manual_seed(3)
            np.testing.assert_array_equal(compiled(x).numpy(), expected)
    assert len(compiled._compiled._traces) == 2 and replays[0] == 6
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # grad mode on: captured with its backward, no warning
        out = compiled(x)
    assert out.grad_fn.name() == "CompiledFunctionBackward"
    np.testing.assert_array_equal(out.detach().numpy(), model(x).detach().numpy())


def test_item_inside_falls_back_to_eager_with_one_warning(replays):
    m1, _, eager = _setup(lambda: nn.Linear(4, 3), lambda ps: optim.SGD(ps, lr=0.1))
    m2, _, step = _setup(lambda: nn.Linear(4, 3), lambda ps: optim.SGD(ps, lr=0.1))

    def logged(x, y):
        return step(x, y).item()

    compiled = minigrad.compile(logged)
    with pytest.warns(RuntimeWarning, match=r"\.item\(\)"):
        first = compiled(*_batches(1, (5, 4), 3)[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = [compiled(x, y) for x, y in _batches(3, (5, 4), 3, seed=2)]
    expected = [eager(x, y).item() for x, y in _batches(1, (5, 4), 3) + _batches(3, (5, 4), 3, 2)]
    assert [first] + results == expected and replays[0] == 0
    _assert_same(m1, m2)


def test_data_dependent_branch_guards():
    """A host read before any lasting change is a guard: a different value runs eagerly."""
    w = minigrad.zeros(3, dtype=minigrad.float64)

    def step(x):
        if bool(x.sum() > 0):
            w.add_(x)
        else:
            w.sub_(x)
        return w * 1

    compiled = minigrad.compile(step)
    inputs = [
        minigrad.tensor(v, dtype=minigrad.float64) for v in ([1.0, 2, 3], [1, 1, 1], [-5, 1, 1])
    ]
    outs = [compiled(x).numpy() for x in inputs]
    np.testing.assert_array_equal(outs[-1], [7, 2, 3])
    assert compiled.eager_reason is None


class _Halving(optim.Optimizer):
    """A toy optimizer whose update uses its step count: ``p -= 0.5**step`` (odd steps only
    when ``branch``)."""

    def __init__(self, params, branch=False):
        super().__init__(params, dict(lr=1.0))
        self.branch = branch

    def _init_state(self, p, state, group):
        state["step"] = 0

    def _update(self, p, state, group):
        state["step"] += 1
        if not self.branch:
            p._data -= 0.5 ** state["step"]
        elif state["step"] % 2:
            p._data -= 1.0


def test_step_counters_are_replayed_as_expressions(replays):
    """A number the optimizer's step advances is an expression on replay, unless Python
    branches on it; a counter of the user's changes the key every call: eager."""
    for branch, expected in ((False, [1 - 0.5**k for k in range(1, 9)]), (True, [1, 1, 2, 2])):
        w = minigrad.zeros(2, dtype=minigrad.float64, requires_grad=True)
        opt = _Halving([w], branch)

        def step(w=w, opt=opt):
            opt.zero_grad()
            (w * 1).sum().backward()
            opt.step()
            return w.detach() * -1, opt.state[w]["step"] * 10

        compiled = minigrad.compile(step)
        if branch:
            with pytest.warns(RuntimeWarning, match="condition"):
                results = [compiled() for _ in range(len(expected))]
        else:
            results = [compiled() for _ in range(len(expected))]
            assert compiled.eager_reason is None and replays[0] >= 4
        assert [r[0].numpy()[0] for r in results] == expected
        assert [r[1] for r in results] == [10 * k for k in range(1, len(expected) + 1)]
        assert opt.state[w]["step"] == len(expected)
    count = {"n": 0}

    def user_counter():
        count["n"] += 1
        return minigrad.ones(1) * count["n"]

    compiled = minigrad.compile(user_counter)
    with pytest.warns(RuntimeWarning, match="changes on every call"):
        assert [compiled().item() for _ in range(6)] == [1, 2, 3, 4, 5, 6]


def test_print_and_numpy_fall_back():
    w = minigrad.ones(2)

    def step():
        w.mul_(2)
        return w.numpy().sum()

    compiled = minigrad.compile(step)
    with pytest.warns(RuntimeWarning, match="host transfer"):
        assert compiled() == 4
    assert compiled() == 8 and compiled() == 16


def test_fullgraph_raises():
    compiled = minigrad.compile(lambda t: t.tolist(), fullgraph=True)
    with pytest.raises(RuntimeError, match="fullgraph"):
        compiled(minigrad.ones(2))


def test_item_before_any_change_is_a_guard(replays):
    compiled = minigrad.compile(lambda t: t.sum().item())
    values = [1.0, 1.0, 2.0, 2.0, 1.0]
    assert [compiled(minigrad.full((2,), v)) for v in values] == [2 * v for v in values]
    assert replays[0] >= 2


def test_argument_checks():
    with pytest.raises(TypeError, match="dynamic"):
        minigrad.compile(lambda: None, dynamic="yes")
    grown = minigrad.compile(lambda t: t * 2, dynamic=True)  # accepted: each shape traces
    assert [grown(minigrad.ones(n)).sum().item() for n in (2, 3, 2)] == [4.0, 6.0, 4.0]
    with pytest.raises(ValueError, match="backend"):
        minigrad.compile(lambda: None, backend="cudagraphs")
    f = lambda: None  # noqa: E731
    assert minigrad.compile(f, backend="eager") is f and minigrad.compile(f, disable=True) is f


def test_devices_other_than_cpu_run_eagerly(device):
    """Replay is CPU-only (no CUDA graphs yet): elsewhere one warning, then eager results."""
    w = minigrad.ones(3, device=device)

    def step(x):
        w.mul_(x)
        return w * 1

    compiled = minigrad.compile(step)
    x = minigrad.full((3,), 2.0, device=device)
    if device == "cpu":
        outs = [compiled(x) for _ in range(3)]
    else:
        with pytest.warns(RuntimeWarning, match="CPU only"):
            outs = [compiled(x) for _ in range(3)]
    assert [o.cpu().tolist() for o in outs] == [[2.0] * 3, [4.0] * 3, [8.0] * 3]


def test_compiled_benchmark_runs(capsys):
    from benchmarks import compiled

    compiled.main(["--repeats", "2"])
    table = capsys.readouterr().out
    assert "`mlp_small`" in table and "`op_overhead`" in table


def test_nested_compiled_functions_and_hooks(replays):
    """A compiled function called inside another's trace is part of that trace; a hook added
    later changes the key (its Python code must run), so the step is traced again."""
    w = minigrad.ones(2, dtype=minigrad.float64, requires_grad=True)
    inner = minigrad.compile(lambda t: (t * w).sum())
    seen = []

    def step(x):
        w.grad = None
        inner(x).backward()
        return w.grad * 1

    compiled = minigrad.compile(step)
    x = minigrad.tensor([1.0, 2.0], dtype=minigrad.float64)
    assert [compiled(x).tolist() for _ in range(4)] == [[1.0, 2.0]] * 4 and replays[0] == 2
    w.register_hook(lambda g: seen.append(1) or g * 2)
    assert [compiled(x).tolist() for _ in range(2)] == [[2.0, 4.0]] * 2
    assert seen and compiled.eager_reason is None


def test_printing_a_tensor_falls_back(capsys):
    def step(t):
        y = t * 2
        print(y)
        return y

    compiled = minigrad.compile(step)
    with pytest.warns(RuntimeWarning, match="cannot be replayed"):
        compiled(minigrad.ones(2))
    assert compiled(minigrad.full((2,), 3.0)).tolist() == [6.0, 6.0]
    assert "tensor([6., 6.])" in capsys.readouterr().out


def test_grad_mode_change_traces_again(replays):
    minigrad.manual_seed(0)
    model = nn.Linear(3, 2).double()
    compiled = minigrad.compile(lambda x: model(x).sum().detach())
    x = minigrad.ones(4, 3, dtype=minigrad.float64)
    expected = model(x).sum().item()
    for grad in (False, True, False, True, False, True):
        with minigrad.set_grad_enabled(grad):
            assert compiled(x).item() == expected
    assert len(compiled._traces) == 2 and replays[0] == 4


def test_data_from_iterators_or_host_falls_back():
    """A generator's state (its frame) is walked; tensors made from host data: eager."""
    w = minigrad.zeros(2, dtype=minigrad.float64)

    def batches():
        for k in range(100):
            yield minigrad.full((2,), float(k), dtype=minigrad.float64)

    it = batches()
    compiled = minigrad.compile(lambda: w.add_(next(it)) * 1)
    with pytest.warns(RuntimeWarning, match="changes on every call"):
        out = [compiled().tolist() for _ in range(4)]
    assert out == [[0.0] * 2, [1.0] * 2, [3.0] * 2, [6.0] * 2]
    w.zero_()
    made = iter([minigrad.full((2,), float(k), dtype=minigrad.float64) for k in range(9)])
    compiled = minigrad.compile(lambda: w.add_(next(made)) * 1)
    with pytest.warns(RuntimeWarning, match="not reachable"):
        out = [compiled().tolist() for _ in range(4)]
    assert out == [[0.0] * 2, [1.0] * 2, [3.0] * 2, [6.0] * 2]
    rows = iter(np.arange(20.0).reshape(10, 2))
    compiled = minigrad.compile(lambda: minigrad.tensor(next(rows)) * 2)
    with pytest.warns(RuntimeWarning, match="host data"):
        out = [compiled().tolist() for _ in range(3)]
    assert out == [[0.0, 2.0], [4.0, 6.0], [8.0, 10.0]]


def test_module_compile_in_place(replays):
    """``module.compile()`` as PyTorch's: the module object and its state_dict stay, its calls
    go through the compiled function (replayed under no_grad, equal to eager)."""
    minigrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    keys = list(model.state_dict())
    x = minigrad.randn(5, 4)
    want = model(x).detach()
    model.compile(fullgraph=True)
    assert isinstance(model, nn.Sequential) and list(model.state_dict()) == keys
    with minigrad.no_grad():
        got = [model(x) for _ in range(3)]
    assert replays[0] == 2 and all(minigrad.equal(g, want) for g in got)
    assert model._compiled_call_impl.eager_reason is None


def test_a_compiled_module_is_pytorchs_optimized_module(tmp_path):
    """``compile(module)`` is an nn.Module holding the module as ``_orig_mod``, as PyTorch's:
    state_dict keys carry the prefix, attributes are the module's, it nests and saves."""
    model = nn.Linear(3, 2)
    compiled = minigrad.compile(model)
    assert isinstance(compiled, nn.Module) and type(compiled).__name__ == "OptimizedModule"
    assert compiled._orig_mod is model and compiled.in_features == 3
    assert list(compiled.state_dict()) == ["_orig_mod.weight", "_orig_mod.bias"]
    assert [p is q for p, q in zip(compiled.parameters(), model.parameters())] == [True, True]
    compiled.tag = "x"
    compiled.eval()
    assert model.tag == "x" and not model.training and not compiled.training
    x = minigrad.randn(4, 3)
    with minigrad.no_grad():
        assert minigrad.equal(nn.Sequential(compiled, nn.ReLU())(x), model(x).relu())
    path = tmp_path / "compiled.mg"
    minigrad.save(compiled, path)
    loaded = minigrad.load(path, weights_only=False)  # a whole module: as torch.load needs
    with minigrad.no_grad():
        assert type(loaded).__name__ == "OptimizedModule" and minigrad.equal(loaded(x), model(x))
    torch = pytest.importorskip("torch")
    theirs = torch.compile(torch.nn.Linear(3, 2))
    assert list(theirs.state_dict()) == list(compiled.state_dict())


def test_eager_backend_keeps_pytorchs_wrapper_for_modules():
    model = nn.Linear(2, 2)
    wrapped = minigrad.compile(model, backend="eager")
    assert type(wrapped).__name__ == "OptimizedModule" and wrapped._orig_mod is model
    assert wrapped.eager_reason is not None and minigrad.compile(model, disable=True) is model
    x = minigrad.randn(3, 2)
    assert minigrad.equal(wrapped(x), model(x))
