"""What the twelfth session's tutorial trial found (each compared with PyTorch where installed):
grad_fn's saved-tensor attributes, the in-place modification error in PyTorch's words,
``numpy()`` under no_grad, the functorch transforms' refusal of ctx-style Functions, and
vmap's generated rule for custom Functions."""

import warnings

import numpy as np
import pytest

import minigrad
from minigrad.func import grad, vmap


def test_saved_attributes_name_inputs_and_result():
    x = minigrad.randn(5, requires_grad=True)
    y = x.pow(2)
    assert y.grad_fn._saved_self is x
    assert y.grad_fn._saved_exponent == 2
    e = x.exp()
    assert e.grad_fn._saved_result.equal(e) and e.grad_fn._saved_result is not e
    with pytest.raises(AttributeError, match="_saved_self"):
        getattr(e.grad_fn, "_saved_self")  # noqa: B009 - exp keeps only its result, as PyTorch's ExpBackward0
    z = x * minigrad.randn(5, requires_grad=True)
    assert z.grad_fn._saved_self is x


def test_saved_attribute_after_backward_is_the_freed_error():
    x = minigrad.randn(3, requires_grad=True)
    y = x.exp()
    y.sum().backward()
    with pytest.raises(RuntimeError, match="after they have already been freed"):
        getattr(y.grad_fn, "_saved_result")  # noqa: B009


def test_raw_saved_register_hooks_pack_now_unpack_in_backward():
    calls = []
    x = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.pow(2)
    y.grad_fn._raw_saved_self.register_hooks(
        lambda t: calls.append("pack") or t * 2, lambda t: calls.append("unpack") or t
    )
    assert calls == ["pack"]
    y.sum().backward()
    assert calls == ["pack", "unpack"]
    np.testing.assert_allclose(x.grad.numpy(), 2 * (2 * x.detach().numpy()))  # saw 2x
    with pytest.raises(RuntimeError, match="already been set"):
        z = x.pow(2)
        z.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t)
        z.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t)


def _modified_messages(lib):
    out = []
    a = lib.randn(5, requires_grad=True)
    y = a.exp()
    y.add_(1)
    b = a * 1
    s = b.sin()
    b.add_(1)
    w = lib.randn(5, dtype=lib.float64)
    p = a.double() * w
    w.add_(1)
    for root in (y, s, p):
        with pytest.raises(RuntimeError) as info:
            root.sum().backward()
        out.append(str(info.value).replace(lib.__name__ + ".", "torch."))
    return out


def test_modified_in_place_error_is_pytorchs():
    got = _modified_messages(minigrad)
    assert "[torch.FloatTensor [5]], which is output 0 of Exp, is at version 1" in got[0]
    assert "[torch.FloatTensor [5]], which is output 0 of Add, is at version 1" in got[1]
    assert "[torch.DoubleTensor [5]] is at version 1; expected version 0 instead." in got[2]
    torch = pytest.importorskip("torch")
    assert got == _modified_messages(torch)


def test_numpy_of_a_tensor_that_requires_grad_under_no_grad():
    x = minigrad.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="Use tensor.detach"):
        x.numpy()
    with minigrad.no_grad():
        np.testing.assert_array_equal(x.numpy(), [1.0, 1.0])


class _CtxStyle(minigrad.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2


@pytest.mark.parametrize(
    "call",
    [
        lambda: grad(lambda x: _CtxStyle.apply(x).sum())(minigrad.randn(3)),
        lambda: minigrad.func.jacrev(_CtxStyle.apply)(minigrad.randn(3)),
        lambda: minigrad.func.vjp(_CtxStyle.apply, minigrad.randn(3)),
        lambda: vmap(_CtxStyle.apply)(minigrad.randn(3)),
    ],
)
def test_transforms_refuse_a_function_without_setup_context(call):
    with pytest.raises(RuntimeError, match="it must override the setup_context staticmethod"):
        call()
    x = minigrad.randn(3, requires_grad=True)  # outside transforms it runs as before
    minigrad.autograd.functional.jacobian(_CtxStyle.apply, x)
    _CtxStyle.apply(x).sum().backward()


class _GeneratedMul(minigrad.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x, y):
        return x * y

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g * y, g * x


def test_generated_vmap_rule_runs_forward_batched():
    a, b = minigrad.arange(3.0), minigrad.ones(3) * 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no per-sample loop warning
        out = vmap(_GeneratedMul.apply)(a, b)
    np.testing.assert_array_equal(out.numpy(), [0.0, 2.0, 4.0])
    g = vmap(grad(lambda p, q: _GeneratedMul.apply(p, q).sum()))(
        minigrad.ones(4, 2), minigrad.full((4, 2), 3.0)
    )
    np.testing.assert_array_equal(g.numpy(), np.full((4, 2), 3.0))


def test_grad_of_a_non_leaf_warns_as_pytorch():
    x = minigrad.ones(2, requires_grad=True)
    y = x * 2
    with pytest.warns(UserWarning, match="not a leaf Tensor is being accessed"):
        assert y.grad is None
    y.retain_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y.sum().backward()
        assert y.grad is not None and x.grad is not None
        with minigrad.no_grad():
            assert (x * 2).grad is None  # a leaf: no warning


@pytest.mark.parametrize(
    "name", ["float16", "float32", "float64", "complex64", "complex128", "int32", "bool"]
)
def test_dtype_to_real_and_to_complex(name):
    torch = pytest.importorskip("torch")
    mine, theirs = getattr(minigrad, name), getattr(torch, name)
    assert mine.to_real().name == str(theirs.to_real()).split(".")[1]
    try:
        expected = str(theirs.to_complex()).split(".")[1]
    except RuntimeError as e:
        with pytest.raises(RuntimeError, match=str(e)):
            mine.to_complex()
    else:
        assert mine.to_complex().name == expected


def test_tensor_class_repr_is_the_public_path():
    from minigrad import _public_name

    assert repr(type(minigrad.ones(1))) == "<class 'minigrad.Tensor'>"
    before = _public_name.show_as("torch")
    try:
        assert repr(minigrad.Tensor) == "<class 'torch.Tensor'>"
        assert repr(minigrad.nn.Parameter) == "<class 'torch.nn.parameter.Parameter'>"
    finally:
        _public_name.show_as(before)

    class Mine(minigrad.Tensor):
        pass

    assert repr(Mine).endswith("test_tensor_class_repr_is_the_public_path.<locals>.Mine'>")


def test_scheduler_state_and_get_lr_warning_as_pytorch():
    torch = pytest.importorskip("torch")
    keys = []
    for lib in (minigrad, torch):
        opt = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.1)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3)
        opt.step()
        sched.step()
        keys.append(sorted(sched.state_dict()))
        with pytest.warns(UserWarning, match="please use `get_last_lr"):
            sched.get_lr()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            sched.step()
    assert keys[0] == keys[1]


def test_as_torch_runs_a_module_and_code(tmp_path, monkeypatch, capsys):
    from minigrad import as_torch

    (tmp_path / "trainpkg").mkdir()
    (tmp_path / "trainpkg" / "__init__.py").write_text("")
    (tmp_path / "trainpkg" / "run.py").write_text(
        "import sys, torch\nprint(torch.__name__, type(torch.ones(1)), sys.argv[1:], __name__)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert as_torch.main(["-m", "trainpkg.run", "--lr", "0.1"]) == 0
    assert as_torch.main(["-c", "import torch; print(torch.zeros(2).sum().item())", "x"]) == 0
    assert as_torch.main(["-m"]) == 2
    out = capsys.readouterr()
    assert out.out.splitlines() == [
        "torch <class 'torch.Tensor'> ['--lr', '0.1'] __main__",  # named as imported
        "0.0",
    ]
    assert "Argument expected for the -m option" in out.err


def test_default_collate_keeps_string_fields_as_pytorch():
    from minigrad.utils.data import default_collate

    batch = [(1, "a", b"x"), (2, "b", b"y")]
    ours = default_collate(batch)
    assert ours[1] == ("a", "b") and ours[2] == (b"x", b"y")
    assert default_collate([{"n": "a"}, {"n": "b"}])["n"] == ["a", "b"]
    torch = pytest.importorskip("torch")
    theirs = torch.utils.data.default_collate(batch)
    assert ours[1:] == theirs[1:]


def test_amp_warnings_name_the_program_imports():
    if minigrad.cuda.is_available():
        pytest.skip("a GPU is here")
    from minigrad import _public_name

    before = _public_name.show_as("torch")
    try:
        with pytest.warns(UserWarning) as caught:
            minigrad.cuda.amp.GradScaler()
        texts = [str(w.message) for w in caught]
        assert "`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use " in texts[0]
        assert "`torch.amp.GradScaler('cuda', args...)` instead." in texts[0]
        assert texts[1] == (
            "torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling."
        )
    finally:
        _public_name.show_as(before)
