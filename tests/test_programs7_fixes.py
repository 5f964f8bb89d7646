"""Focused tests for what the seventh round of PyTorch programs (``tests/test_programs7.py``)
and a new user's first session found broken, each checked against PyTorch where it has the
feature."""

import os

import pytest

import minigrad
from minigrad.cli import main

torch = pytest.importorskip("torch")


def test_cli_output_into_a_closed_pipe_ends_quietly(monkeypatch, capsys):
    # `minigrad info --json | head -2`: the reader left before the output was written; the
    # command stops with the shell's SIGPIPE code and no traceback, as `cat` would
    read_end, write_end = os.pipe()
    os.close(read_end)
    with os.fdopen(write_end, "w") as stdout:
        monkeypatch.setattr("sys.stdout", stdout)
        assert main(["info", "--json"]) == 141
        monkeypatch.undo()
    assert capsys.readouterr().err == ""


def _scale_in_place(lib):
    class ScaleInPlace(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale, give_back=True):
            x.mul_(scale)
            ctx.mark_dirty(x)
            ctx.scale = scale
            return x if give_back else x.clone()

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.scale, None, None

    return ScaleInPlace


@pytest.mark.parametrize("lib", [minigrad, torch], ids=["minigrad", "torch"])
def test_mark_dirty_makes_the_changed_input_the_output(lib):
    # ctx.mark_dirty: the input changed in place is returned itself, with the Function as its
    # history, fed by its old history
    scale = _scale_in_place(lib)
    leaf = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    mid = leaf * 2
    out = scale.apply(mid, 3.0)
    assert out is mid and out._version == 2 and not out.is_leaf
    (out * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert leaf.grad.tolist() == [6.0, 12.0, 18.0]
    plain = lib.ones(2)  # nothing to record: still changed, returned and counted
    assert scale.apply(plain, 2.0) is plain and plain._version == 2
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        scale.apply(lib.ones(2, requires_grad=True), 2.0)
    with pytest.raises(RuntimeError, match="marked as dirty .* not returned"):
        scale.apply(lib.ones(2, requires_grad=True) * 1, 2.0, False)


@pytest.mark.parametrize("lib", [minigrad, torch], ids=["minigrad", "torch"])
def test_version_is_an_int_counted_over_views(lib):
    x = lib.ones(4)
    assert x._version == 0 and isinstance(x._version, int)
    x.add_(1)
    view = x[1:]
    view.mul_(2)
    assert (x._version, view._version, x.detach()._version) == (2, 2, 2)


@pytest.mark.parametrize("lib", [minigrad, torch], ids=["minigrad", "torch"])
def test_custom_backward_may_return_extra_nones(lib):
    class Double(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, unused=None):  # called with one argument
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, None

    x = lib.ones(2, requires_grad=True)
    Double.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]

    class TooMany(Double):
        @staticmethod
        def backward(ctx, grad):
            return grad * 2, grad

    with pytest.raises(RuntimeError, match=r"incorrect number of gradients \(expected 1, got 2\)"):
        TooMany.apply(x).sum().backward()


def _foreach_results(lib):
    a = [lib.ones(2), lib.ones(3)]
    out = [lib._foreach_mul_(a, 2.0) is a]
    out += [
        lib._foreach_add(a, [lib.ones(2), lib.ones(3)], alpha=2),
        lib._foreach_add(a, 1.5),
        lib._foreach_mul(a, [2.0, 3.0]),
        lib._foreach_mul(a, lib.tensor(3.0)),
        lib._foreach_norm(a),
        lib._foreach_norm(a, 1),
        lib._foreach_max(a),
        lib._foreach_lerp(a, [lib.zeros(2), lib.zeros(3)], 0.25),
        lib._foreach_addcmul(a, a, a, value=0.5),
        lib._foreach_addcdiv(a, a, a, [1.0, 2.0]),
        lib._foreach_pow(a, 2),
        lib._foreach_pow(2.0, a),
        lib._foreach_sub(a, [lib.ones(2), lib.ones(3)], alpha=0.5),
        lib._foreach_clamp_min([lib.tensor([-1.0, 2.0])], 0.0),
        lib._foreach_maximum([lib.tensor([-1.0, 2.0])], [lib.tensor([0.0, 5.0])]),
        lib._foreach_div([lib.tensor([1.0, 2.0])], lib.tensor(2.0)),
        lib._foreach_sqrt(a),
    ]
    b, c = [lib.tensor([-1.0, 2.0])], [lib.tensor([4.0, 9.0])]
    lib._foreach_maximum_(b, 0.5)
    lib._foreach_sqrt_(c)
    lib._foreach_copy_(a, [lib.full((2,), 3.0), lib.full((3,), 4.0)], non_blocking=True)
    out += [b, c, list(a), lib._foreach_zero_(a)]
    x = lib.ones(2, requires_grad=True)
    lib._foreach_mul([x], 3.0)[0].sum().backward()  # the out-of-place forms are differentiable
    out.append([x.grad])
    return [[t.tolist() for t in r] if isinstance(r, (list, tuple)) else r for r in out]


def test_foreach_functions_equal_pytorchs():
    # torch._foreach_*: what EMA updates (BYOL, timm's ModelEma) and hand-written optimizers use
    assert _foreach_results(minigrad) == _foreach_results(torch)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda lib: lib._foreach_add([lib.ones(2), lib.ones(3)], [lib.ones(2)]),
            "same number of tensors",
        ),
        (lambda lib: lib._foreach_add([], 1), "at least one tensor"),
        (lambda lib: lib._foreach_add([lib.ones(2)], [1.0, 2.0]), "same number of elements"),
        (lambda lib: lib._foreach_mul_([lib.ones(1, requires_grad=True)], 2.0), "leaf Variable"),
    ],
)
def test_foreach_errors_are_pytorchs(call, message):
    for lib in (minigrad, torch):
        with pytest.raises(RuntimeError, match=message):
            call(lib)


def test_old_lr_scheduler_base_class_is_there():
    # torch-lr-finder and pre-2.0 warmup recipes subclass _LRScheduler, a subclass of LRScheduler
    def lrs(lib):
        from importlib import import_module

        schedulers = import_module(f"{lib.__name__}.optim.lr_scheduler")

        class Halving(schedulers._LRScheduler):
            def get_lr(self):
                return [base / 2**self.last_epoch for base in self.base_lrs]

        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.8)
        sched = Halving(opt)
        assert isinstance(sched, schedulers.LRScheduler)
        out = []
        for _ in range(3):
            opt.step()
            sched.step()
            out.append(sched.get_last_lr()[0])
        return out

    assert lrs(minigrad) == lrs(torch) == [0.4, 0.2, 0.1]


def _fake_quantized(lib, values, grad):
    x = lib.tensor(values, requires_grad=True)
    y = lib.fake_quantize_per_tensor_affine(x, 0.1, 3, -128, 127)
    w = lib.tensor([values[:4], values[4:8]], requires_grad=True)
    scale = lib.tensor([0.1, 0.05])
    zero = lib.tensor([0, 2], dtype=lib.int32)
    z = lib.fake_quantize_per_channel_affine(w, scale, zero, 0, -8, 7)
    (y * lib.tensor(grad)).sum().backward()
    z.sum().backward()
    return y.tolist(), x.grad.tolist(), z.tolist(), w.grad.tolist()


def test_fake_quantize_equals_pytorchs():
    # halves round to even, outside the range the straight-through gradient is zero
    values = [0.05, 0.15, 0.25, -0.05, 2.555, 30.0, -30.0, 0.35]
    grad = [1.0, -2.0, 0.5, 3.0, 1.5, 2.0, -1.0, 0.25]
    assert _fake_quantized(minigrad, values, grad) == _fake_quantized(torch, values, grad)


@pytest.mark.parametrize(
    "args, message",
    [
        ((0.1, 300, 0, 255), "`zero_point` must be between"),
        ((0.1, 0, 10, 5), "`quant_min` should be less than or"),
    ],
)
def test_fake_quantize_errors_are_pytorchs(args, message):
    for lib in (minigrad, torch):
        with pytest.raises(RuntimeError, match=message):
            lib.fake_quantize_per_tensor_affine(lib.ones(3), *args)


def test_data_utils_module_paths():
    # older pipelines import the collate functions and worker info from torch.utils.data._utils
    from minigrad.utils.data import _utils

    for module, names in (
        ("collate", ["default_collate", "default_convert"]),
        ("worker", ["WorkerInfo", "get_worker_info"]),
    ):
        theirs = __import__(f"torch.utils.data._utils.{module}", fromlist=names)
        ours = getattr(_utils, module)
        assert all(hasattr(theirs, n) and hasattr(ours, n) for n in names)
    assert _utils.collate.default_collate([{"a": 1}, {"a": 2}])["a"].tolist() == [1, 2]


def test_nn_module_utils_equal_pytorchs():
    # layer code written for PyTorch imports these helpers, and DDP checkpoints need the prefix
    # stripped
    from collections import OrderedDict

    import torch.nn.modules.utils as theirs

    from minigrad.nn.common_types import _size_2_t  # noqa: F401 - the import is the test
    from minigrad.nn.modules import utils as ours
    from minigrad.nn.utils.rnn import invert_permutation

    def run(u):
        sd = OrderedDict([("module.a", 1), ("module.b.c", 2), ("x", 3)])
        sd._metadata = {"": {"version": 1}, "module": {"v": 2}, "module.b": {"v": 3}}
        u.consume_prefix_in_state_dict_if_present(sd, "module.")
        helpers = (u._pair(3), u._triple((1, 2, 3)), u._ntuple(4)(2), u._quadruple(1))
        return list(sd.items()), sd._metadata, helpers, u._reverse_repeat_tuple((1, 2), 2)

    assert run(ours) == run(theirs)
    assert ours._list_with_default([None, 3], [5, 6, 7]) == [6, 3]
    perm = [2, 0, 3, 1]
    assert invert_permutation(minigrad.tensor(perm)).tolist() == [1, 3, 0, 2]
    assert invert_permutation(None) is None


def test_model_zoo_load_url_is_the_hub_loader():
    from minigrad.utils import model_zoo

    assert model_zoo.load_url is minigrad.hub.load_state_dict_from_url


def _always_called(lib):
    import warnings

    m = lib.nn.Linear(2, 2)
    calls = []
    m.register_forward_hook(lambda mod, args, out: calls.append("plain"))
    handle = m.register_forward_hook(
        lambda mod, args, out: calls.append(("always", out is None)), always_call=True
    )
    for x in (lib.ones(1, 3), lib.ones(1, 2)):
        try:
            m(x)
        except RuntimeError:
            calls.append("raised")
    handle.remove()
    with pytest.raises(RuntimeError):
        m(lib.ones(1, 3))

    def broken(mod, args, out):
        raise ValueError("hook")

    m.register_forward_hook(broken, always_call=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(RuntimeError):  # forward's error, not the hook's
            m(lib.ones(1, 3))
    return calls, len(caught)


def test_forward_hook_always_call_runs_when_forward_raises():
    assert _always_called(minigrad) == _always_called(torch)
    assert _always_called(minigrad)[0] == [("always", True), "raised", "plain", ("always", False)]


def test_laplace_icdf_equals_pytorchs():
    def run(lib):
        loc = lib.tensor([0.5, -1.0], requires_grad=True)
        d = lib.distributions.Laplace(loc, lib.tensor([2.0, 0.5]))
        p = lib.tensor([0.1, 0.8])
        x = d.icdf(p)
        x.sum().backward()
        return x.tolist(), d.cdf(x).tolist(), loc.grad.tolist()

    ours, theirs = run(minigrad), run(torch)
    assert ours[2] == theirs[2]
    assert ours[0] == pytest.approx(theirs[0], rel=1e-6) and ours[1] == pytest.approx([0.1, 0.8])


def _scaled_exp(lib):
    class ScaledExp(lib.autograd.Function):
        """PyTorch 2's form: forward without ctx, setup_context saves for backward."""

        generate_vmap_rule = True  # PyTorch vectorizes forward; minigrad loops (and warns)

        @staticmethod
        def forward(x, scale=2.0):
            return x.exp() * scale

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, scale = inputs
            ctx.save_for_backward(output)
            ctx.flags = (len(inputs), ctx.needs_input_grad)

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y, None

    return ScaledExp


@pytest.mark.filterwarnings("ignore::UserWarning")  # vmap of a Function without a vmap rule
def test_function_with_setup_context_equals_pytorchs():
    def run(lib):
        fn = _scaled_exp(lib)
        x = lib.tensor([0.0, 1.0], requires_grad=True)
        y = fn.apply(x, scale=3.0)
        y.sum().backward()
        flags = y.grad_fn.flags
        grad = lib.func.grad(lambda t: fn.apply(t).sum())(lib.tensor([0.5, 1.0]))
        batched = lib.func.vmap(lib.func.grad(lambda t: fn.apply(t).sum()))(lib.ones(3, 2))
        return x.grad.tolist(), flags, grad.tolist(), batched.flatten().tolist()

    ours, theirs = run(minigrad), run(torch)
    assert ours[1] == theirs[1] == (2, (True, False))
    assert ours[0] == pytest.approx(theirs[0]) and ours[2] == pytest.approx(theirs[2])
    assert ours[3] == pytest.approx(theirs[3])


def test_load_takes_pytorchs_map_location_function(tmp_path):
    # `map_location=lambda storage, loc: storage` loads a GPU checkpoint onto the CPU; the
    # function form works for minigrad's files and PyTorch's
    seen = []

    def keep(storage, loc):
        seen.append(loc)
        return storage

    ours, theirs = tmp_path / "ours.mg", tmp_path / "theirs.pt"
    minigrad.save({"w": minigrad.arange(3.0)}, ours)
    torch.save({"w": torch.arange(3.0)}, theirs)
    for path in (ours, theirs):
        assert minigrad.load(path, map_location=keep)["w"].tolist() == [0.0, 1.0, 2.0]
        moved = minigrad.load(path, map_location=lambda s, loc: s.to("cpu"))["w"]
        assert moved.device.type == "cpu"
        assert minigrad.load(path, map_location=lambda s, loc: None)["w"].tolist() == [0, 1, 2]
    assert seen == ["cpu", "cpu"]
    with pytest.raises(RuntimeError, match="must return the storage"):
        minigrad.load(ours, map_location=lambda s, loc: "cpu")


def _extra_state(lib):
    class Calibrated(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = lib.nn.Linear(2, 1)
            self.threshold = 0.5

        def get_extra_state(self):
            return {"threshold": self.threshold}

        def set_extra_state(self, state):
            self.threshold = state["threshold"]

    model = lib.nn.Sequential(Calibrated())
    model[0].threshold = 0.8
    state = model.state_dict()
    fresh = lib.nn.Sequential(Calibrated())
    fresh.load_state_dict(state)
    del state["0._extra_state"]
    lenient = fresh.load_state_dict(state, strict=False)
    with pytest.raises(RuntimeError, match="_extra_state"):
        fresh.load_state_dict(state)
    return list(model.state_dict()), fresh[0].threshold, lenient.missing_keys


def test_extra_state_goes_through_state_dict():
    assert _extra_state(minigrad) == _extra_state(torch)
    assert _extra_state(minigrad)[:2] == (
        ["0._extra_state", "0.linear.weight", "0.linear.bias"],
        0.8,
    )


def _pytree_results(p):
    from collections import OrderedDict, defaultdict, deque, namedtuple

    pair = namedtuple("pair", "x y")
    out = [p.tree_leaves([1, None, (2, {"b": 3, "a": 4})])]
    leaves, spec = p.tree_flatten({"b": [1, 2], "a": (3,)})
    out.append((leaves, spec.num_leaves, p.tree_unflatten([10, 20, 30], spec)))
    out.append(p.tree_map(lambda v: v * 2, [pair(1, 2), OrderedDict(a=3), deque([4, 5])]))
    out.append(p.tree_map(lambda a, b: a + b, [1, (2, 3)], [10, (20, 30)]))
    out.append(p.tree_structure([1, (2, 3)]) == p.tree_structure([5, (6, 7)]))
    out.append(p.tree_structure([1, (2, 3)]) == p.tree_structure([5, [6, 7]]))
    out.append((p.tree_leaves(5), p.tree_map(lambda v: v, None), p.tree_leaves([[], {}, ()])))
    out.append(p.tree_leaves([1, [2, 3]], is_leaf=lambda x: x == [2, 3]))
    mapped = p.tree_map(lambda v: v + 1, defaultdict(list, {"k": [1]}))
    out.append((type(mapped).__name__, mapped.default_factory is list, dict(mapped)))

    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y

    p.register_pytree_node(Point, lambda q: ([q.x, q.y], None), lambda c, _: Point(*c))
    q = p.tree_map(lambda v: v * 3, [Point(1, 2)])[0]
    out.append((q.x, q.y, p.tree_all(lambda v: v > 0, [1, (2,)])))
    for bad in (
        lambda: p.tree_map(lambda a, b: a, [1, 2], [1]),
        lambda: p.tree_unflatten([1], spec),
    ):
        with pytest.raises(ValueError):
            bad()
    return out


def test_pytree_utilities_equal_pytorchs():
    # tree_map(lambda t: t.to(device), batch) and friends, from torch.utils._pytree
    import torch.utils._pytree as theirs

    from minigrad.utils import _pytree as ours

    assert _pytree_results(ours) == _pytree_results(theirs)


def _sdp_switches(lib):
    cuda = lib.backends.cuda
    seen = []
    with pytest.warns(FutureWarning, match="sdp_kernel"):
        with cuda.sdp_kernel(enable_flash=False, enable_mem_efficient=False):
            seen.append(
                (
                    cuda.flash_sdp_enabled(),
                    cuda.mem_efficient_sdp_enabled(),
                    cuda.math_sdp_enabled(),
                )
            )
    seen.append(cuda.flash_sdp_enabled())
    cuda.enable_flash_sdp(False)
    seen.append(cuda.flash_sdp_enabled())
    cuda.enable_flash_sdp(True)
    seen.append(cuda.flash_sdp_enabled())
    return seen


def test_backends_cuda_sdp_switches_equal_pytorchs():
    # the PyTorch 2.0-2.2 way of choosing attention kernels
    assert (
        _sdp_switches(minigrad) == _sdp_switches(torch) == [(False, False, True), True, False, True]
    )
    q = minigrad.randn(1, 2, 4, 8)
    plain = minigrad.nn.functional.scaled_dot_product_attention(q, q, q)
    with pytest.warns(FutureWarning), minigrad.backends.cuda.sdp_kernel(enable_math=False):
        blockwise = minigrad.nn.functional.scaled_dot_product_attention(q, q, q)
    assert (plain - blockwise).abs().max().item() < 1e-5
