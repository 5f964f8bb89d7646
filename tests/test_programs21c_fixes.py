"""Fixes and additions found by the twenty-first round's programs (c) (tests/test_programs21c.py),
each checked against PyTorch where it runs here: a tensor learning rate's ``get_last_lr``
history, the compiler's stances and shape marks, ``ModuleTracker`` and the engine's final
callbacks, ``checkpoint``'s ``context_fn``, the activation-checkpoint wrappers, and converting a
``torch.distributed.checkpoint`` folder to one file."""

import contextlib
import os

import pytest

import minigrad
import minigrad.distributed.checkpoint as mg_dcp
from minigrad.distributed.algorithms._checkpoint import checkpoint_wrapper as mg_cw
from minigrad.distributed.checkpoint import format_utils as mg_format
from minigrad.utils.checkpoint import checkpoint as mg_checkpoint
from minigrad.utils.module_tracker import ModuleTracker as MgTracker

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _lr_history(lib, make):
    model = lib.nn.Linear(2, 2)
    opt = lib.optim.SGD(model.parameters(), lr=lib.tensor(0.1))
    sched = make(lib, opt)
    seen = []
    for _ in range(4):
        opt.step()
        sched.step()
        seen.append(sched.get_last_lr()[0])
    return [float(v) for v in seen], type(seen[0]).__name__


@pytest.mark.parametrize(
    "make",
    [
        lambda lib, o: lib.optim.lr_scheduler.LinearLR(o, total_iters=3),
        lambda lib, o: lib.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=2),
        lambda lib, o: lib.optim.lr_scheduler.SequentialLR(
            o,
            [
                lib.optim.lr_scheduler.ConstantLR(o, factor=0.5, total_iters=2),
                lib.optim.lr_scheduler.ExponentialLR(o, gamma=0.5),
            ],
            milestones=[2],
        ),
    ],
)
def test_get_last_lr_of_a_tensor_lr_keeps_each_steps_value(make):
    ours, theirs = _lr_history(minigrad, make), _lr_history(torch, make)
    assert ours[1] == theirs[1] == "Tensor"  # clones: never the live group["lr"]
    assert ours[0] == pytest.approx(theirs[0], rel=1e-6)
    assert len(set(ours[0])) > 1


def _compiled():
    return minigrad.compile(lambda x: x * 2)


def test_set_stance_force_eager_runs_eagerly_and_puts_the_stance_back():
    f = _compiled()
    x, y, z = minigrad.ones(3), minigrad.ones(4), minigrad.ones(5)
    f(x)
    assert len(f._traces) == 1
    with minigrad.compiler.set_stance("force_eager"):
        assert f(y).tolist() == [2.0] * 4
    assert len(f._traces) == 1  # not traced
    f(y)
    assert len(f._traces) == 2  # traced again after the block

    @minigrad.compiler.set_stance("force_eager")
    def run():
        return f(z)

    run()
    assert len(f._traces) == 2 and minigrad._compile.stance.current() == ("default", None)
    minigrad.compiler.set_stance("force_eager")  # a plain call holds until set back
    try:
        f(z)
        assert len(f._traces) == 2
    finally:
        minigrad.compiler.set_stance("default")
    f(z)
    assert len(f._traces) == 3


def test_set_stance_on_recompile():
    f = _compiled()
    x, y = minigrad.ones(3), minigrad.ones(4)
    f(x)
    with minigrad.compiler.set_stance("eager_on_recompile"):
        assert f(x).tolist() == [2.0] * 3 and f(y).tolist() == [2.0] * 4
    assert len(f._traces) == 1  # the cached trace served x; y ran eagerly
    with minigrad.compiler.set_stance("fail_on_recompile"):
        f(x)
        with pytest.raises(RuntimeError, match="Detected recompile when torch.compile stance"):
            f(y)
    with pytest.raises(RuntimeError, match="non-default stance cannot have force_backend"):
        minigrad.compiler.set_stance("force_eager", force_backend="eager")
    g = _compiled()
    with minigrad.compiler.set_stance("eager_then_compile"):
        g(x)
        assert len(g._traces) == 0  # the first call runs eagerly
        g(x)
        assert len(g._traces) == 1
    with minigrad.compiler.set_stance("no_such_stance"):
        with pytest.raises(RuntimeError, match="invalid torch.compile stance"):
            g(x)


def _marks(lib):
    x = lib.ones(3, 4)
    lib._dynamo.mark_dynamic(x, [0, 1], min=2, max=9)
    lib._dynamo.maybe_mark_dynamic(x, 1)
    y = lib.ones(2, 2)
    lib._dynamo.mark_static(y)
    ranges = sorted((r.dim, r.min, r.max) for r in x._dynamo_dynamic_range)
    return (
        x._dynamo_dynamic_indices,
        ranges,
        x._dynamo_weak_dynamic_indices,
        y._dynamo_static_indices,
    )


def test_shape_marks_are_recorded_as_pytorchs():
    assert _marks(minigrad) == _marks(torch)
    with pytest.raises(TypeError, match="mark_dynamic expects a tensor"):
        minigrad._dynamo.mark_dynamic([1, 2], 0)


def _tracked(lib, tracker_cls):
    seen = []

    class Probe(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            seen.append(("fw", sorted(tracker.parents), tracker.is_bw))
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            seen.append(("bw", sorted(tracker.parents), tracker.is_bw))
            lib.autograd.Variable._execution_engine.queue_callback(lambda: seen.append("end"))
            return g

    class Inner(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.nn.Linear(2, 2)

        def forward(self, x):
            return Probe.apply(self.fc(x))

    model = lib.nn.Sequential(Inner(), lib.nn.Tanh())
    with tracker_cls() as tracker:
        model(lib.ones(1, 2)).sum().backward()
        seen.append(("after", sorted(tracker.parents), tracker.is_bw))
    return seen


def test_module_tracker_and_final_callbacks_match_pytorch():
    from torch.utils.module_tracker import ModuleTracker

    ours = _tracked(minigrad, MgTracker)
    assert ours == _tracked(torch, ModuleTracker)
    assert ours[1] == ("bw", ["Global", "Sequential", "Sequential.0"], True)
    assert minigrad._C._current_graph_task_id() == -1
    with pytest.raises(RuntimeError, match="Final callbacks can only be installed during"):
        minigrad.autograd.Variable._execution_engine.queue_callback(print)


def _with_contexts(lib, checkpoint):
    events = []

    @contextlib.contextmanager
    def note(name):
        events.append(f"enter {name}")
        try:
            yield
        finally:  # (PyTorch stops the recomputation early by raising through it)
            events.append(f"exit {name}")

    x = lib.arange(3.0, requires_grad=True)
    y = checkpoint(
        lambda t: (events.append("run"), t.sin())[1],
        x,
        use_reentrant=False,
        context_fn=lambda: (note("forward"), note("recompute")),
    )
    y.sum().backward()
    return events, x.grad.tolist()


def test_checkpoint_runs_forward_and_recompute_in_context_fns_contexts():
    from torch.utils.checkpoint import checkpoint

    ours = _with_contexts(minigrad, mg_checkpoint)
    assert ours[0] == _with_contexts(torch, checkpoint)[0]
    assert ours[0] == ["enter forward", "run", "exit forward", "enter recompute", "run",
                       "exit recompute"]  # fmt: skip
    with pytest.raises(ValueError, match="only supported when use_reentrant=False"):
        mg_checkpoint(lambda t: t, minigrad.ones(1), use_reentrant=True, context_fn=lambda: 0)
    forward, recompute = minigrad.utils.checkpoint.create_selective_checkpoint_contexts([])
    assert hasattr(forward, "__enter__") and hasattr(recompute, "__exit__")  # (leftovers22)
    ours_policy = {p.name: p.value for p in minigrad.utils.checkpoint.CheckpointPolicy}
    assert ours_policy == {p.name: p.value for p in torch.utils.checkpoint.CheckpointPolicy}


def _wrapped(lib, cw):
    lib.manual_seed(0)
    model = lib.nn.Sequential(
        lib.nn.Linear(3, 4),
        lib.nn.Sequential(lib.nn.Linear(4, 4), lib.nn.ReLU()),
        lib.nn.Linear(4, 1),
    )
    plain = model.state_dict()

    def policy(module, recurse, nonwrapped_numel):
        return recurse or isinstance(module, lib.nn.Linear)

    cw.apply_activation_checkpointing(model, auto_wrap_policy=policy)
    kinds = [type(m).__name__ for m in model.modules()]
    model.load_state_dict(plain)
    x = lib.ones(2, 3, requires_grad=True)
    model(x).sum().backward()
    reentrant = cw.checkpoint_wrapper(
        lib.nn.Bilinear(2, 2, 1), checkpoint_impl=cw.CheckpointImpl.REENTRANT
    )
    out = reentrant(lib.ones(1, 2, requires_grad=True), input2=lib.ones(1, 2))
    return (kinds, list(model.state_dict()) == list(plain), [n for n, _ in model.named_parameters()],
            x.grad.flatten().tolist(), tuple(out.shape))  # fmt: skip


def test_checkpoint_wrappers_match_pytorch():
    from torch.distributed.algorithms._checkpoint import checkpoint_wrapper as cw

    ours, theirs = _wrapped(minigrad, mg_cw), _wrapped(torch, cw)
    assert ours[:3] == theirs[:3] and ours[4] == theirs[4]
    assert ours[3] == pytest.approx(theirs[3], rel=1e-6)
    assert ours[0].count("CheckpointWrapper") == 3


def _converted(lib, dcp, format_utils, root):
    lib.manual_seed(0)
    model = lib.nn.Linear(3, 2)
    opt = lib.optim.Adam(model.parameters(), lr=0.1)
    model(lib.ones(1, 3)).sum().backward()
    opt.step()
    state = {"model": model.state_dict(), "optim": opt.state_dict(), "extra": [1, "a"]}
    folder = os.path.join(root, "ckpt")
    dcp.save(state, checkpoint_id=folder)
    format_utils.dcp_to_torch_save(folder, os.path.join(root, "one.pt"))
    plain = lib.load(os.path.join(root, "one.pt"), weights_only=False)
    format_utils.torch_save_to_dcp(os.path.join(root, "one.pt"), os.path.join(root, "again"))
    back = {"model": {k: lib.zeros_like(v) for k, v in plain["model"].items()}}
    dcp.load(back, checkpoint_id=os.path.join(root, "again"))
    return (
        sorted(plain),
        sorted(plain["optim"]["state"]["0"]),
        plain["optim"]["param_groups"][0]["params"],
        plain["extra"],
        plain["model"]["weight"].flatten().tolist(),
        back["model"]["bias"].tolist(),
    )


def test_dcp_to_torch_save_rebuilds_the_nested_state_dict(tmp_path):
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint import format_utils

    os.makedirs(tmp_path / "mg"), os.makedirs(tmp_path / "pt")
    ours = _converted(minigrad, mg_dcp, mg_format, str(tmp_path / "mg"))
    theirs = _converted(torch, dcp, format_utils, str(tmp_path / "pt"))
    assert ours[:4] == theirs[:4]
    assert ours[4] == pytest.approx(theirs[4], rel=1e-6)
    assert ours[5] == pytest.approx(theirs[5], rel=1e-6)


def _fused_products(lib, dtype_name):
    lib.manual_seed(0)
    dt = getattr(lib, dtype_name)
    i, a, b = (lib.randn(*s).to(dt) for s in ((6, 5), (6, 7), (7, 5)))
    bi, b1, b2 = (lib.randn(*s).to(dt) for s in ((3, 6, 5), (3, 6, 7), (3, 7, 5)))
    x, w, bias = (lib.randn(*s).to(dt) for s in ((4, 3, 7), (5, 7), (5,)))
    outs = [
        lib.addmm(i, a, b),
        lib.addmm(i, a, b, beta=0.5, alpha=2.0),
        lib.baddbmm(bi, b1, b2),
        lib.addbmm(i, b1, b2),
        lib.nn.functional.linear(x, w, bias),
        lib.nn.functional.linear(x[0], w, bias),
    ]
    return [o.float().flatten().tolist() for o in outs]


@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
def test_low_precision_addmm_and_linear_round_once_as_pytorch(dtype_name):
    # float32 products plus the bias, rounded once (a float16 nn.Linear under CPU autocast
    # rounded the product and then the sum: 1-ulp differences from PyTorch)
    assert _fused_products(minigrad, dtype_name) == _fused_products(torch, dtype_name)


def test_fp16_linear_gradients_match_pytorch():
    def grads(lib):
        lib.manual_seed(0)
        x = lib.randn(4, 6).half().requires_grad_()
        lin = lib.nn.Linear(6, 3).half()
        lin(x).float().pow(2).sum().backward()
        return [t.float().flatten().tolist() for t in (x.grad, lin.weight.grad, lin.bias.grad)]

    assert grads(minigrad) == grads(torch)


def _low_precision_layers(lib, dtype_name):
    lib.manual_seed(0)
    dt, F = getattr(lib, dtype_name), lib.nn.functional
    x1, w1, b = (lib.randn(*s).to(dt) for s in ((2, 4, 10), (6, 4, 3), (6,)))
    x2, w2, wt = (lib.randn(*s).to(dt) for s in ((2, 3, 6, 6), (6, 3, 3, 3), (3, 6, 3, 3)))
    x3, wt3 = lib.randn(1, 3, 3, 4, 4).to(dt), lib.randn(3, 6, 2, 2, 2).to(dt)
    q, k, v = lib.randn(6, 10, 48).to(dt).chunk(3, dim=-1)  # 3-D: PyTorch's math kernel
    outs = [
        F.conv1d(x1, w1, b, padding=1),
        F.conv2d(x2, w2, b, stride=2, padding=1),
        F.conv_transpose2d(x2, wt, b, stride=2),
        F.conv_transpose1d(x1[:, :3], wt[..., 0], b, stride=2),
        F.conv_transpose3d(x3, wt3, b, stride=2),
        F.scaled_dot_product_attention(q, k, v),
        F.scaled_dot_product_attention(q, k, v, is_causal=True),
    ]
    q4 = q.detach().unsqueeze(1).requires_grad_()
    with lib.nn.attention.sdpa_kernel(lib.nn.attention.SDPBackend.MATH):
        forced = F.scaled_dot_product_attention(q4, q4, q4)
    outs.append(forced)
    return [o.float().flatten().tolist() for o in outs], type(forced.grad_fn).__name__


@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
def test_low_precision_convolutions_and_math_attention_match_pytorch(dtype_name):
    # float16 convolutions added the bias after rounding the product; bfloat16 transposed
    # convolutions rounded the product, the fold and the bias add; 3-D (math-kernel) attention
    # computed in 16 bits where PyTorch's math kernel computes in float32 and rounds once
    ours, theirs = (
        _low_precision_layers(minigrad, dtype_name),
        _low_precision_layers(torch, dtype_name),
    )
    assert ours[1] == theirs[1] == "ToCopyBackward0"
    for i, (mine, their) in enumerate(zip(ours[0], theirs[0])):
        flips = sum(a != b for a, b in zip(mine, their))  # float32 sums in another order
        assert flips <= max(2, len(their) // 200), (i, flips)  # can flip a rounding or two
        assert mine == pytest.approx(their, rel=2e-2, abs=2e-2), i


def _conv_grads(lib, dtype_name):
    lib.manual_seed(0)
    dt, F = getattr(lib, dtype_name), lib.nn.functional
    x = lib.randn(5, 4, 7, 7).to(dt).requires_grad_()
    w, b = lib.randn(6, 2, 3, 3).to(dt).requires_grad_(), lib.randn(6).to(dt).requires_grad_()
    y = F.conv2d(x, w, b, stride=2, padding=1, groups=2)
    y.backward(lib.randn(*y.shape).to(dt))
    return [t.grad.float().flatten().tolist() for t in (x, w, b)]


@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
def test_low_precision_conv_gradients_round_as_pytorchs(dtype_name):
    # bfloat16 (oneDNN): float32 throughout, one rounding; float16 (PyTorch's slow path): the
    # weight gradient is one fused multiply-add per sample into a float16 sum
    assert _conv_grads(minigrad, dtype_name) == _conv_grads(torch, dtype_name)


def _softmax_grad(lib, dtype_name):
    lib.manual_seed(0)
    s = lib.randn(24, 10, 10).to(getattr(lib, dtype_name)).requires_grad_()
    s.softmax(-1).backward(lib.randn(24, 10, 10).to(s.dtype))
    return s.grad.float().flatten().tolist()


@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
def test_low_precision_softmax_gradient_is_computed_in_float32(dtype_name):
    # y·(g - Σ g·y) in float32, rounded once, as PyTorch's kernel (it rounded each step)
    assert _softmax_grad(minigrad, dtype_name) == _softmax_grad(torch, dtype_name)
