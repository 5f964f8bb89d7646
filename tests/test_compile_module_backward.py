"""``minigrad.compile(model)`` in an eager loop: forward and backward captured together.

The compiled call's outputs carry one ``CompiledFunctionBackward`` node; ``loss.backward()``
outside replays the recorded backward. Every test compares with the same loop run eagerly
(float64), and checks that replays happened without the one-time fallback warning.
"""

from __future__ import annotations

import dataclasses
import io
import warnings

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim


class Block(nn.Module):
    """A tiny pre-norm transformer block."""

    def __init__(self, d=8, heads=2):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.att = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ff = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, x):
        h = self.ln1(x)
        x = x + self.att(h, h, h, need_weights=False)[0]
        return x + self.ff(self.ln2(x))


class Two(nn.Module):
    """Several outputs: a differentiable pair in a dict and an integer tensor."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(3, 4), nn.Linear(4, 2)

    def forward(self, x):
        h = self.a(x).tanh()
        return h, {"b": self.b(h), "i": h.argmax(1)}


def _mlp():
    return nn.Sequential(nn.Linear(5, 12), nn.ReLU(), nn.Dropout(0.3), nn.Linear(12, 3))


def _cnn():
    return nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(48, 3)
    )


def _normed():  # weight and spectral norm: the power iteration updates _u, _v in place
    return nn.Sequential(
        nn.utils.parametrizations.weight_norm(nn.Linear(5, 6)),
        nn.Tanh(),
        nn.utils.parametrizations.spectral_norm(nn.Linear(6, 3)),
    )


class _LSTMClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(5, 6, batch_first=True, num_layers=2, dropout=0.2)
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.fc(h[-1])


CASES = {  # build, input shape, loss, optimizer
    "mlp_dropout_adam": (_mlp, (4, 5), "ce", lambda ps: optim.Adam(ps, lr=0.01)),
    "cnn_batchnorm_sgd": (_cnn, (3, 2, 4, 4), "ce", lambda ps: optim.SGD(ps, 0.1, momentum=0.9)),
    "transformer_adamw": (Block, (2, 3, 8), "mse", lambda ps: optim.AdamW(ps, lr=0.01)),
    "normed_rmsprop": (_normed, (4, 5), "ce", lambda ps: optim.RMSprop(ps, lr=0.01)),
    "lstm_adam": (_LSTMClassifier, (2, 3, 5), "ce", lambda ps: optim.Adam(ps, lr=0.01)),
}


def _both(scenario, build=Two):
    """Run ``scenario(model_or_compiled, model, rng, log)`` eagerly and compiled, seeded alike;
    returns both logs, both models and the compiled module."""
    runs = []
    for compiled in (False, True):
        minigrad.manual_seed(0)
        model = build().double()
        called = minigrad.compile(model) if compiled else model
        log = []
        minigrad.manual_seed(1)
        scenario(called, model, np.random.default_rng(0), log)
        runs.append((log, model, called))
    return runs


def _same(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        if isinstance(u, minigrad.Tensor):
            u, v = u.detach().numpy(), v.detach().numpy()
        if isinstance(u, np.ndarray):
            np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-13)
        else:
            assert u == v


def _same_models(m1, m2):
    s1, s2 = m1.state_dict(), m2.state_dict()
    for k in s1:
        np.testing.assert_allclose(s1[k].numpy(), s2[k].numpy(), rtol=1e-12, atol=1e-13)
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        assert (p1.grad is None) == (p2.grad is None)
        if p1.grad is not None:
            np.testing.assert_allclose(p1.grad.numpy(), p2.grad.numpy(), rtol=1e-12, atol=1e-13)


def _replayed(compiled):
    """Whether the compiled module replayed (and never fell back)."""
    return compiled.eager_reason is None and compiled._compiled._replayed


@pytest.mark.parametrize("case", sorted(CASES))
def test_models_train_as_eagerly_with_the_step_outside(case):
    build, shape, loss_name, make_opt = CASES[case]

    def loop(m, model, rng, log):
        opt = make_opt(model.parameters())
        for _ in range(4):
            x = minigrad.tensor(rng.normal(size=shape))
            opt.zero_grad()
            out = m(x)
            if loss_name == "ce":
                loss = F.cross_entropy(out, minigrad.tensor(rng.integers(0, 3, size=shape[0])))
            else:
                loss = F.mse_loss(out, minigrad.tensor(rng.normal(size=shape)))
            loss.backward()
            opt.step()
            log.append(loss.item())
            log.append(out.grad_fn.name())

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (eager, m1, _), (compiled, m2, c) = _both(loop, build)
    assert compiled[-1] == "CompiledFunctionBackward" and _replayed(c)
    assert eager[::2] == pytest.approx(compiled[::2], rel=1e-12, abs=1e-13)
    _same_models(m1, m2)  # parameters, running statistics, Adam's state through the steps
    assert len(c._compiled._traces) == 1


def test_several_outputs_an_unused_one_and_retain_graph():
    """An output left out of the loss gets no gradient (its layer's .grad stays None); an
    integer output is not differentiable; retain_graph lets a second backward through, a
    third raises as eagerly."""

    def loop(m, model, rng, log):
        for i in range(3):
            h, d = m(minigrad.tensor(rng.normal(size=(2, 3))))
            log += [h, d["b"], d["i"], d["i"].requires_grad]
            if i < 2:
                (h**2).sum().backward()  # d["b"] unused: model.b gets no gradient
                log += [model.a.weight.grad.clone(), model.b.weight.grad is None]
            else:
                loss = (h**2).sum() + d["b"].sum()
                loss.backward(retain_graph=True)
                loss.backward()
                with pytest.raises(RuntimeError, match="backward through the graph a second"):
                    loss.backward()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (eager, m1, _), (compiled, m2, c) = _both(loop)
    _same(eager, compiled)
    _same_models(m1, m2)
    assert _replayed(c)


def test_second_forward_before_first_backward_keeps_each_calls_saved_values():
    def loop(m, model, rng, log):
        for _ in range(3):
            h1, d1 = m(minigrad.tensor(rng.normal(size=(2, 3))))
            h2, d2 = m(minigrad.tensor(rng.normal(size=(2, 3))))
            h3, _ = m(minigrad.tensor(rng.normal(size=(2, 3))))
            (h2 * 3).sum().backward(retain_graph=True)
            (d1["b"] ** 2).sum().backward(retain_graph=True)
            (h1.sum() + (d2["b"] ** 3).sum()).backward()
            del h3  # its saved values were kept aside for nothing: freed with it
            log += [p.grad.clone() for p in model.parameters()]

    (eager, _, _), (compiled, _, c) = _both(loop)
    _same(eager, compiled)
    joint = next(iter(c._compiled._traces.values())).joint
    assert _replayed(c) and joint.stash_count > 0


def test_parameter_hooks_grad_accumulation_and_inputs_that_require_grad():
    def loop(m, model, rng, log):
        seen = []
        model.a.weight.register_hook(lambda g: seen.append(g.sum().item()) or g * 2)
        for i in range(4):
            x = minigrad.tensor(rng.normal(size=(2, 3)), requires_grad=True)
            arg = x if i % 2 else x * 2  # a leaf, then a tensor with history
            h, d = m(arg)
            (h.sum() + (d["b"] ** 2).sum()).backward()  # no zero_grad: .grad accumulates
            log += [x.grad, model.a.weight.grad.clone(), model.b.bias.grad.clone()]
        log += seen

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (eager, _, _), (compiled, _, c) = _both(loop)
    _same(eager, compiled)
    assert _replayed(c) and len(c._compiled._traces) == 1  # (one trace: leaf or not alike)


def test_in_place_change_before_backward_raises_as_eagerly():
    def loop(m, model, rng, log):
        for _ in range(3):
            h, d = m(minigrad.tensor(rng.normal(size=(2, 3))))
            with minigrad.no_grad():
                model.b.weight.mul_(1.0)  # saved for d["b"]'s gradient with respect to h
            with pytest.raises(RuntimeError, match="modified by an inplace operation") as err:
                d["b"].sum().backward()
            log.append(str(err.value).split(",")[0])
            h, d = m(minigrad.tensor(rng.normal(size=(2, 3))))
            with minigrad.no_grad():
                h.add_(1)  # tanh's output: its backward reads it
            with pytest.raises(RuntimeError, match="modified by an inplace operation") as err:
                h.sum().backward()
            log.append(str(err.value).split(",")[0])

    (eager, _, _), (compiled, _, c) = _both(loop)
    assert eager == compiled and _replayed(c)


def test_double_backward_raises_torchs_error_and_falls_back_to_eager():
    def loop(m, model, rng, log):
        for i in range(4):
            h, _ = m(minigrad.tensor(rng.normal(size=(2, 3))))
            if i == 1:
                (h**2).sum().backward(create_graph=True)
                g = model.a.weight.grad
                try:
                    g.sum().backward()
                    log.append("differentiable")
                except RuntimeError as e:
                    log.append(str(e))
                model.zero_grad()
            else:
                (h**2).sum().backward()
                log.append(model.a.weight.grad.clone())
                model.zero_grad()

    with pytest.warns(RuntimeWarning, match="double backward through a replay") as record:
        (eager, _, _), (compiled, _, c) = _both(loop)
    replays = [w for w in record if w.category is RuntimeWarning]  # (not backward's own)
    assert len(replays) == 1 and eager[1] == "differentiable"
    assert (
        compiled[1] == "torch.compile with aot_autograd does not currently support double backward"
    )
    _same(eager[:1] + eager[2:], compiled[:1] + compiled[2:])
    assert "double backward through a replay" in c.eager_reason


def test_a_hook_in_the_graph_falls_back_with_one_warning():
    """Python that the recorded backward would skip (a tensor hook set inside forward) makes
    the module run eagerly, never replay stale results."""

    class Hooked(Two):
        def forward(self, x):
            h, d = super().forward(x)
            h.register_hook(lambda g: g * 3)
            return h, d

    def loop(m, model, rng, log):
        for _ in range(3):
            h, d = m(minigrad.tensor(rng.normal(size=(2, 3))))
            (h.sum() + d["b"].sum()).backward()
            log.append(model.a.weight.grad.clone())
            model.zero_grad()

    with pytest.warns(RuntimeWarning, match="hook on its graph") as record:
        (eager, _, _), (compiled, _, c) = _both(loop, Hooked)
    assert len(record) == 1 and "hook" in c.eager_reason
    _same(eager, compiled)


def test_autograd_grad_backward_inputs_and_returned_inputs():
    """``autograd.grad`` and ``backward(inputs=...)`` through the node; an output returned
    twice, a view of an input and the input itself (returned as it is)."""

    class Views(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 3)

        def forward(self, x):
            y = self.a(x)
            return y, y, x[0], x

    def loop(m, model, rng, log):
        for _ in range(3):
            x = minigrad.tensor(rng.normal(size=(2, 3)), requires_grad=True)
            y1, y2, x0, same = m(x)
            loss = (y1 * y2).sum() + x0.sum() * 3
            log += [
                same is x,
                *minigrad.autograd.grad(loss, [model.a.weight, x], retain_graph=True),
            ]
            (y1.sum() + (same**2).sum()).backward(inputs=[model.a.bias])
            log += [model.a.bias.grad.clone(), model.a.weight.grad is None, x.grad is None]
            model.zero_grad()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (eager, _, _), (compiled, _, c) = _both(loop, Views)
    _same(eager, compiled)
    assert _replayed(c)


def test_a_branch_on_a_value_retraces_while_a_backward_is_pending():
    """A host read in forward is a guard: a replay that reads another value puts back what it
    changed and runs eagerly (or traces again); a call whose backward is pending keeps its
    saved values."""

    class Branch(Two):
        def forward(self, x):
            h = self.a(x)
            if bool(h.sum() > 0):
                h = h * 2
            return self.b(h.relu())

    def loop(m, model, rng, log):
        pending = []
        for i in range(8):
            pending.append(m(minigrad.tensor(rng.normal(size=(2, 3)))))
            if i % 2:
                for y in pending:
                    (y**2).sum().backward()
                pending = []
                log += [p.grad.clone() for p in model.parameters()]
                model.zero_grad()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (eager, _, _), (compiled, _, c) = _both(loop, Branch)
    _same(eager, compiled)
    assert _replayed(c)


def test_graphs_it_cannot_capture_fall_back_with_one_warning():
    """A graph that reaches a tensor with history made before the call (not an argument),
    and a backward inside a compiled module's forward, run eagerly with the one warning."""
    w = minigrad.ones(3, 3, dtype=minigrad.float64, requires_grad=True)
    v = w * 2  # history made before the call

    def uses_v(x):
        return (x @ v).sum(1)

    class InnerBackward(Two):
        def forward(self, x):
            x = x.detach().requires_grad_()
            (g,) = minigrad.autograd.grad(self.a(x).sum(), x, create_graph=True)
            return self.b(self.a(g)).sum()

    for fn, match in ((uses_v, "history made before"), (InnerBackward().double(), "inside")):
        compiled = minigrad.compile(fn)
        with pytest.warns(RuntimeWarning, match=match) as record:
            for _ in range(3):
                x = minigrad.ones(2, 3, dtype=minigrad.float64)
                out, expected = compiled(x), fn(x)
                np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy())
                assert out.grad_fn is not None and out.grad_fn.name() != "CompiledFunctionBackward"
                out.sum().backward(retain_graph=True)
        assert len(record) == 1


def test_autocast_and_other_modes_are_part_of_the_key():
    """A function traced outside autocast and called inside it (another dtype, a nested
    disabled region) traces again, as under deterministic mode; a compiled model inside one
    autocast region replays its forward and backward (parameters cast afresh by each trace);
    a call that leaves a global mode changed runs eagerly with the one warning."""
    minigrad.manual_seed(0)
    lin = nn.Linear(4, 3)

    def fn(x):
        return lin(x).float() * 2 + minigrad.empty(3, dtype=minigrad.float64)

    f = minigrad.compile(fn)
    x = minigrad.randn(2, 4)
    regions = [(), ("cpu", minigrad.bfloat16), ("cpu", minigrad.float16), ("off",), ("det",)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for region in regions * 2:
            for _ in range(2):
                if region == ("off",):
                    with minigrad.autocast("cpu"), minigrad.autocast("cpu", enabled=False):
                        y, e = f(x), fn(x)
                elif region == ("det",):
                    minigrad.use_deterministic_algorithms(True)
                    try:
                        y, e = f(x), fn(x)
                    finally:
                        minigrad.use_deterministic_algorithms(False)
                    assert bool(y.isnan().all())
                elif region:
                    with minigrad.autocast(*region[:1], dtype=region[1]):
                        y, e = f(x), fn(x)
                else:
                    y, e = f(x), fn(x)
                assert y.dtype == e.dtype
                np.testing.assert_array_equal(y.detach().numpy(), e.detach().numpy())
    assert f._replayed and len(f._traces) == len(regions)

    def loop(m, model, rng, log):
        model.float()  # (autocast leaves float64 alone)
        with minigrad.autocast("cpu"):
            model[0](minigrad.tensor(rng.normal(size=(2, 5))).float())  # a cached cast
            for _ in range(3):
                out = m(minigrad.tensor(rng.normal(size=(2, 5))).float())
                out.float().sum().backward()
                log += [out.float(), model[0].weight.grad.clone()]

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (eager, _, _), (compiled, _, c) = _both(loop, lambda: nn.Sequential(nn.Linear(5, 3)))
    _same(eager, compiled)
    assert _replayed(c)

    def leaves_grad_off(x):
        minigrad.set_grad_enabled(False)
        return lin(x) * 2

    g = minigrad.compile(leaves_grad_off)
    with pytest.warns(RuntimeWarning, match="leaves a global mode changed") as record:
        for _ in range(3):
            minigrad.set_grad_enabled(True)
            assert g(x).grad_fn is None and not minigrad.is_grad_enabled()
    minigrad.set_grad_enabled(True)
    assert len(record) == 1


SCALE = [2.0]  # read by _Tanh's backward: a change traces again


class _Tanh(minigrad.autograd.Function):
    """A pure custom Function: tensor work only, in forward and backward."""

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return (x @ w).tanh()

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        y = (x @ w).tanh()
        g = g * (1 - y * y) * SCALE[0]
        return g @ w.T, x.T @ g


class _Counting(_Tanh):
    calls = 0

    @staticmethod
    def backward(ctx, g):
        _Counting.calls += 1
        return _Tanh.backward(ctx, g)


class _Printing(_Tanh):
    @staticmethod
    def forward(ctx, x, w):
        print("forward")
        return _Tanh.forward(ctx, x, w)


@pytest.mark.parametrize("fn", [_Tanh, _Counting, _Printing], ids=lambda f: f.__name__)
def test_custom_function_python_replays_only_when_pure(fn, capsys):
    """A custom Function's array work replays (a global its backward reads is part of the
    key); Python effects in it (a counter on the class, a print) make the module run eagerly
    with the one warning, never skip them silently."""

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(minigrad.randn(3, 3))

        def forward(self, x):
            return fn.apply(x, self.w).sum(1)

    def loop(m, model, rng, log):
        for i in range(5):
            SCALE[0] = 2.0 if i < 3 else 3.0
            x = minigrad.tensor(rng.normal(size=(2, 3)), requires_grad=True)
            (m(x) ** 2).sum().backward()
            log += [x.grad, model.w.grad.clone()]
            model.zero_grad()

    _Counting.calls = 0
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        (eager, _, _), (compiled, _, c) = _both(loop, Model)
    _same(eager, compiled)
    printed = capsys.readouterr().out.count("forward")
    if fn is _Tanh:
        assert not record and _replayed(c) and len(c._compiled._traces) == 2
    else:  # every call ran its Python (the trace's recorded backward ran it once more)
        assert len(record) == 1 and "replay would skip" in str(record[0].message)
        assert c.eager_reason is not None
        assert (_Counting.calls, printed) == ((11, 0) if fn is _Counting else (0, 10))


class _Attn(nn.Module):
    """Token classifier: embedding, self-attention with a key padding mask (and dropout)."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(11, 8)
        self.mha = nn.MultiheadAttention(8, 2, batch_first=True, dropout=0.1)
        self.head = nn.Linear(8, 3)

    def forward(self, tok, pad):
        h = self.emb(tok)
        a, _ = self.mha(h, h, h, key_padding_mask=pad)
        return self.head(a.masked_fill(pad.unsqueeze(-1), 0.0).sum(1))


def test_realistic_loop_autocast_accumulation_clipping_validation_and_checkpoint():
    """A loop as people write it around ``model = torch.compile(model)``: bfloat16 autocast
    with a disabled GradScaler, two micro-batches per step, ``clip_grad_norm_``, a smaller
    last batch, validation under ``eval()`` and ``no_grad()``, a checkpoint round trip."""

    def loop(m, model, rng, log):
        model.float()
        opt = optim.AdamW(model.parameters(), lr=0.01)
        scaler = minigrad.amp.GradScaler("cpu", enabled=False)
        for step in range(6):
            n = 2 if step % 3 == 2 else 3  # (a last batch of another size)
            tok = minigrad.tensor(rng.integers(0, 11, size=(n, 4)))
            pad = minigrad.arange(4)[None, :] >= minigrad.tensor(rng.integers(1, 5, size=(n, 1)))
            model.train()
            with minigrad.autocast("cpu", dtype=minigrad.bfloat16):
                loss = F.cross_entropy(m(tok, pad), minigrad.tensor(rng.integers(0, 3, n))) / 2
            scaler.scale(loss).backward()
            if step % 2:
                scaler.unscale_(opt)
                log.append(nn.utils.clip_grad_norm_(model.parameters(), 0.5))
                scaler.step(opt)
                scaler.update()
                opt.zero_grad()
            model.eval()
            with minigrad.no_grad(), minigrad.autocast("cpu", dtype=minigrad.bfloat16):
                log += [loss.float(), m(tok, pad).float()]
            if step == 3:
                buf = io.BytesIO()
                minigrad.save({"model": m.state_dict(), "opt": opt.state_dict()}, buf)
                buf.seek(0)
                saved = minigrad.load(buf)
                m.load_state_dict(saved["model"])
                opt.load_state_dict(saved["opt"])

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (eager, m1, _), (compiled, m2, c) = _both(loop, _Attn)
    _same(eager, compiled)
    _same_models(m1, m2)
    assert _replayed(c) and len(c._compiled._traces) == 4  # (train and eval, two sizes)


def test_more_shapes_in_turn_than_the_cache_holds_fall_back_with_one_warning():
    """Inputs whose shapes cycle through more values than the 8 traces kept would trace on
    every call (slower than eager): after 8 traces dropped unreplayed it runs eagerly."""

    def loop(m, model, rng, log):
        for i in range(20):
            out = m(minigrad.tensor(rng.normal(size=(1 + i % 10, 3))))
            (out[1]["b"] ** 2).sum().backward()
            log.append(model.a.weight.grad.clone())

    with pytest.warns(RuntimeWarning, match="cache_size_limit") as record:
        (eager, _, _), (compiled, _, c) = _both(loop)
    _same(eager, compiled)
    assert len(record) == 1 and c.eager_reason is not None


@dataclasses.dataclass
class _Output:  # a model's output record, as transformers' ModelOutput
    logits: minigrad.Tensor
    loss: minigrad.Tensor | None = None


def test_a_dataclass_output_replays_as_eagerly():
    class Model(Two):
        def forward(self, x, labels=None):
            logits = self.b(self.a(x).tanh())
            loss = None if labels is None else F.cross_entropy(logits, labels)
            return _Output(logits, loss)

    def loop(m, model, rng, log):
        for _ in range(3):
            x = minigrad.tensor(rng.normal(size=(4, 3)))
            out = m(x, labels=minigrad.tensor(rng.integers(0, 2, size=4)))
            out.loss.backward()
            log += [out.loss, out.logits, model.a.weight.grad.clone(), m(x).loss is None]

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (eager, _, _), (compiled, _, c) = _both(loop, Model)
    _same(eager, compiled)
    assert _replayed(c)


class _Checkpointed(nn.Module):
    def __init__(self, p=0.0):
        super().__init__()
        self.a = nn.Sequential(nn.Linear(3, 6), nn.Dropout(p), nn.Tanh())
        self.b = nn.Linear(6, 2)

    def forward(self, x):
        return self.b(minigrad.utils.checkpoint.checkpoint(self.a, x, use_reentrant=False))


def test_checkpoint_replays_its_saved_random_state():
    """``checkpoint`` keeps the generator's state for its recompute: recorded as a read and a
    set of that state, so a compiled model replays (its backward sets the state before it
    redraws) and a whole compiled step returning its loss redraws the same mask in backward."""

    def loop(m, model, rng, log):
        for _ in range(3):
            (m(minigrad.tensor(rng.normal(size=(2, 3)))) ** 2).sum().backward()
            log.append(model.a[0].weight.grad.clone())

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (eager, _, _), (compiled, _, c) = _both(loop, _Checkpointed)
    _same(eager, compiled)
    assert _replayed(c)

    runs = []
    for compile_it in (False, True):
        minigrad.manual_seed(0)
        model = _Checkpointed(0.5).double()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, model=model, opt=opt):
            opt.zero_grad()
            loss = (model(x) ** 2).sum()
            loss.backward()
            opt.step()
            return loss  # (its graph went through a backward: returned as a copy)

        f = minigrad.compile(step) if compile_it else step
        runs.append([f(minigrad.ones(4, 3, dtype=minigrad.float64)).item() for _ in range(5)])
    assert runs[0] == runs[1] and f._replayed and f.eager_reason is None


def test_an_attribute_name_is_not_a_global_it_reads():
    """``opt.step()`` names the attribute ``step``, not a script's loop variable ``step``
    (a global here): the key leaves it out, so the step replays."""
    global step
    model = nn.Linear(3, 1).double()
    opt = optim.SGD(model.parameters(), lr=0.1)

    @minigrad.compile
    def train(x):
        opt.zero_grad()
        loss = model(x).sum()
        loss.backward()
        opt.step()
        return loss

    for step in range(4):  # noqa: B007 - the global a script's loop binds
        train(minigrad.ones(2, 3, dtype=minigrad.float64))
    assert train._replayed and len(train._traces) == 1
