"""Engine semantics with hand-computed values: accumulation, graph freeing, hooks, grad mode,
higher-order gradients, custom Functions, in-place checks, anomaly mode, memory."""

import gc
import weakref

import numpy as np
import pytest

import minigrad
from minigrad.autograd import Function, grad, gradcheck, gradgradcheck


def leaf(values, device="cpu", dtype=minigrad.float64):
    return minigrad.tensor(values, dtype=dtype, device=device, requires_grad=True)


def test_chain_rule_by_hand(device):
    x = leaf([1.0, 2.0, 3.0], device)
    y = (x * x * x).sum()  # dy/dx = 3x²
    y.backward()
    assert x.grad.tolist() == [3.0, 12.0, 27.0]
    assert x.grad.device == x.device


def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, -2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    assert x.grad.tolist() == [3.0 + 2.0, 3.0 - 4.0]


def test_shared_input_sums_both_paths():
    x = leaf(2.0)
    y = x * x + x.exp() + x  # 2x + e^x + 1
    y.backward()
    assert x.grad.item() == pytest.approx(4 + np.exp(2) + 1)


def test_broadcast_gradient_is_reduced_to_input_shape():
    a = leaf([[1.0], [2.0]])
    b = leaf([10.0, 20.0, 30.0])
    (a * b).sum().backward()
    assert a.grad.shape == (2, 1) and a.grad.tolist() == [[60.0], [60.0]]
    assert b.grad.tolist() == [3.0, 3.0, 3.0]


def test_second_backward_through_freed_graph_raises():
    x = leaf([1.0, 2.0])
    y = (x.exp()).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_backward_on_non_scalar_needs_gradient():
    x = leaf([1.0, 2.0])
    y = x * 2
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        y.backward()
    y.backward(minigrad.tensor([1.0, -1.0], dtype=minigrad.float64))
    assert x.grad.tolist() == [2.0, -2.0]


def test_backward_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        minigrad.tensor([1.0]).sum().backward()


def test_non_leaf_grad_only_with_retain_grad():
    x = leaf([1.0, 2.0])
    h = x * 2
    k = x * 3
    k.retain_grad()
    (h * k).sum().backward()
    assert h.grad is None and k.retains_grad
    assert k.grad.tolist() == [2.0, 4.0]  # d(h·k)/dk = h


def test_hooks_on_leaf_and_non_leaf_can_replace_gradient():
    x = leaf([1.0, 2.0])
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.tolist()))
    h = x * 2
    h.register_hook(lambda g: g * 10)
    h.sum().backward()
    assert seen == [[20.0, 20.0]] and x.grad.tolist() == [20.0, 20.0]
    handle.remove()
    x.grad = None
    (x * 1).sum().backward()
    assert seen == [[20.0, 20.0]]


def test_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        minigrad.ones(2).register_hook(lambda g: g)


def test_no_grad_enable_grad_set_grad_enabled():
    x = leaf([1.0])
    with minigrad.no_grad():
        assert not (x * 2).requires_grad
        with minigrad.enable_grad():
            assert (x * 2).requires_grad
    assert (x * 2).requires_grad

    @minigrad.no_grad()
    def double(t):
        return t * 2

    assert not double(x).requires_grad and minigrad.is_grad_enabled()
    with minigrad.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert minigrad.is_grad_enabled()


def test_higher_order_derivatives():
    x = leaf(2.0)
    y = x**4
    (d1,) = grad(y, x, create_graph=True)
    (d2,) = grad(d1, x, create_graph=True)
    (d3,) = grad(d2, x)
    assert (d1.item(), d2.item(), d3.item()) == (32.0, 48.0, 48.0)  # 4x³, 12x², 24x


def test_hessian_vector_product():
    x = leaf([1.0, 2.0])
    y = (x[0] ** 2) * x[1] + x[1] ** 3  # H = [[2x1, 2x0], [2x0, 6x1]] = [[4, 2], [2, 12]]
    (g,) = grad(y, x, create_graph=True)
    (hv,) = grad(g, x, minigrad.tensor([1.0, 1.0], dtype=minigrad.float64))
    assert hv.tolist() == [6.0, 14.0]


def test_grad_allow_unused_and_its_error():
    x, z = leaf([1.0]), leaf([2.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        grad(y, [x, z], retain_graph=True)
    gx, gz = grad(y, [x, z], allow_unused=True)
    assert gx.tolist() == [2.0] and gz is None
    assert x.grad is None  # grad() never touches .grad


def test_grad_takes_pytorchs_arguments_in_pytorchs_order():
    """only_inputs (deprecated, ignored with PyTorch's warning) comes before allow_unused."""
    x = leaf([1.0, 2.0])
    unused = leaf([3.0])
    gx, gu = grad((x * x).sum(), [x, unused], None, None, False, True, True)
    assert gu is None and gx.tolist() == [2.0, 4.0]
    with pytest.warns(UserWarning, match="only_inputs argument is deprecated"):
        grad((x * x).sum(), x, only_inputs=False)


def test_grad_with_batched_cotangents_matches_pytorch():
    torch = pytest.importorskip("torch")
    xa, wa = np.array([0.5, -1.0, 2.0]), np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]])
    x, w = leaf(xa), leaf(wa)
    v = np.stack([np.eye(2), 2 * np.eye(2)[::-1], np.ones((2, 2))])  # (3, 2, 2) cotangents
    y = (w @ x).tanh().unsqueeze(0).expand(2, 2)
    gx, gw = grad(y, [x, w], minigrad.tensor(v), is_grads_batched=True, create_graph=True)
    xt = torch.tensor(xa, requires_grad=True)
    wt = torch.tensor(wa, requires_grad=True)
    yt = (wt @ xt).tanh().unsqueeze(0).expand(2, 2)
    gxt, gwt = torch.autograd.grad(yt, [xt, wt], torch.tensor(v), is_grads_batched=True)
    np.testing.assert_allclose(gx.detach().numpy(), gxt.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(gw.detach().numpy(), gwt.numpy(), rtol=1e-12, atol=1e-15)
    assert gx.shape == (3, 3) and gx.requires_grad  # differentiable again (create_graph)
    with pytest.raises(RuntimeError, match="same batch size"):
        grad(y, x, minigrad.tensor(1.0), is_grads_batched=True)


def test_grad_with_respect_to_intermediate():
    x = leaf([1.0, 2.0])
    h = x * 3
    y = (h * h).sum()
    (gh,) = grad(y, h)
    assert gh.tolist() == [6.0, 12.0]


def test_backward_inputs_restricts_accumulation():
    a, b = leaf([1.0]), leaf([2.0])
    (a * b).sum().backward(inputs=[a])
    assert a.grad.tolist() == [2.0] and b.grad is None


def test_deep_chain_needs_no_recursion():
    x = leaf(1.0)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001**10_000)


def test_graph_is_freed_by_reference_counting_alone():
    gc.disable()
    try:
        x = leaf(np.ones((50, 50)))
        h = (x * 2).exp()
        y = (h * x).tanh().sum()
        node_ref = weakref.ref(y.grad_fn)
        array_ref = weakref.ref(h._data)
        del h
        assert array_ref() is not None  # saved for backward
        y.backward()
        assert array_ref() is None  # freed with the saved tensors
        del y
        assert node_ref() is None
        z = (x.sin() * x).sum()
        z_node = weakref.ref(z.grad_fn)
        del z  # never backpropagated
        assert z_node() is None
    finally:
        gc.enable()


def test_a_product_keeps_a_factor_only_for_the_other_factors_gradient():
    """As PyTorch's mul: ``h * 3`` and ``h * mask`` keep nothing of ``h`` for backward."""
    gc.disable()
    try:
        x = leaf(np.ones((4, 4)))
        h = x.exp()
        mask = minigrad.tensor(np.eye(4))
        y, z = h * 3.0, h * mask
        ref = weakref.ref(h)
        del h
        assert ref() is None  # neither product holds it
        w = leaf(np.full((4, 4), 2.0))
        both = (x.exp() * w).sum()  # each factor needs the other: both kept
        (y.sum() + z.sum() + both).backward()
        e = np.exp(np.ones((4, 4)))
        np.testing.assert_allclose(x.grad.numpy(), e * 3 + e * np.eye(4) + e * 2)
        np.testing.assert_allclose(w.grad.numpy(), e)
    finally:
        gc.enable()


def test_gradients_summed_in_place_leave_what_hooks_kept_unchanged():
    """A plain backward sums the gradients a node receives into a buffer only the engine holds
    (in place): what hooks were handed stays as it was."""
    w = leaf(np.full((3,), 0.5))
    kept = []
    h = w * 1.0
    h.register_hook(lambda g: kept.append((g, g.numpy().copy())))
    total = sum(((h * float(t)).exp() * 0 + h * float(t)).sum() for t in range(1, 21))
    total.backward()
    np.testing.assert_allclose(w.grad.numpy(), np.full(3, 210.0))
    (g, snapshot) = kept[0]
    np.testing.assert_array_equal(g.numpy(), snapshot)
    w2 = leaf(np.ones(2))
    parts = [w2 * 2, w2 * 3]
    seen = []
    parts[0].register_hook(lambda g: seen.append((g, g.numpy().copy())))
    (parts[0] + parts[1]).sum().backward()
    np.testing.assert_allclose(w2.grad.numpy(), [5.0, 5.0])
    np.testing.assert_array_equal(seen[0][0].numpy(), seen[0][1])


def test_leaf_holds_no_strong_reference_to_its_graph():
    gc.disable()
    try:
        x = leaf([1.0, 2.0])
        y = (x * 2).sum()
        ref = weakref.ref(y.grad_fn.next_functions[0][0].next_functions[0][0])  # AccumulateGrad
        del y
        assert ref() is None
    finally:
        gc.enable()


# -- in-place changes and the version counter ----------------------------------------------------


def test_modifying_a_saved_input_in_place_is_caught():
    x = leaf([1.0, 2.0])
    a = x * 1
    b = (a * a).sum()
    a.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        b.backward()


def test_modifying_a_saved_output_in_place_is_caught():
    x = leaf([1.0, 2.0])
    y = x.exp()
    z = y.sum()
    with minigrad.no_grad():
        y.add_(1)
    expected = r"\[minigrad.DoubleTensor \[2\]\], which is output 0 of Exp, is at version 1"
    with pytest.raises(RuntimeError, match=expected):
        z.backward()


def test_in_place_on_non_leaf_is_recorded():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.mul_(x)  # y = 2x²
    y.add_(1)
    y.sum().backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_in_place_on_leaf_requiring_grad_raises_but_works_under_no_grad():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    with minigrad.no_grad():
        x.add_(1)
    assert x.tolist() == [2.0, 3.0]


def test_data_is_an_alias_outside_version_tracking():
    p = leaf([1.0, 2.0])
    y = (p * p).sum()
    p.data.add_(1)  # as optimizers did before no_grad: not tracked, as in PyTorch
    y.backward()
    assert p.tolist() == [2.0, 3.0]


def test_detach_shares_storage_and_version():
    x = leaf([1.0, 2.0])
    y = x.exp()
    d = y.detach()
    s = y.sum()
    d.zero_()
    assert y.tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        s.backward()


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="only Tensors of floating point and complex dtype"):
        minigrad.tensor([1, 2], requires_grad=True)


# -- anomaly mode ----------------------------------------------------------------------------------


def test_detect_anomaly_names_the_op_and_where_it_was_created():
    x = leaf([0.0, 1.0])
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        mode = minigrad.autograd.detect_anomaly()
    with mode:
        y = (x.sqrt() * 0).sum()  # 0 * (d/dx √x = inf at 0) = nan
        with pytest.warns(
            UserWarning, match=r"(?s)Error detected in SqrtBackward0.*test_autograd.py"
        ):
            with pytest.raises(
                RuntimeError, match=r"^Function 'SqrtBackward0' returned nan values in its 0th"
            ):
                y.backward()
        x.sqrt().sum().backward()  # an infinity is no anomaly, as in PyTorch
    assert np.isinf(x.grad.tolist()[0])
    x.grad = None
    with pytest.warns(UserWarning), minigrad.autograd.detect_anomaly(check_nan=False):
        assert minigrad.is_anomaly_enabled() and not minigrad.is_anomaly_check_nan_enabled()
        (x.sqrt() * 0).sum().backward()  # recorded, not checked
    assert np.isnan(x.grad.tolist()[0]) and minigrad.is_anomaly_check_nan_enabled()


# -- custom Functions ------------------------------------------------------------------------------


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x**2


class ScaledExp(Function):
    """Saves its own output, returns two outputs, takes a non-tensor argument."""

    @staticmethod
    def forward(ctx, x, scale):
        out = x.exp() * scale
        ctx.save_for_backward(out)  # an output: double backward flows through it
        return out, out.argmax()

    @staticmethod
    def backward(ctx, g, g_index):
        (out,) = ctx.saved_tensors
        assert ctx.needs_input_grad == (True, False)
        return g * out, None


def test_custom_function_first_and_second_order():
    x = leaf([0.5, -1.0, 2.0])
    assert gradcheck(Cube.apply, (x,))
    assert gradgradcheck(Cube.apply, (x,))
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward"


def test_custom_function_saving_its_output_and_multiple_outputs():
    x = leaf([0.5, -1.0, 2.0])
    assert gradcheck(lambda t: ScaledExp.apply(t, 2.0)[0], (x,))
    assert gradgradcheck(lambda t: ScaledExp.apply(t, 2.0)[0], (x,))
    y, index = ScaledExp.apply(x, 2.0)
    assert index.item() == 2 and not index.requires_grad


def test_custom_function_without_grad_returns_plain_tensors():
    y = Cube.apply(minigrad.tensor([2.0]))
    assert y.grad_fn is None and y.tolist() == [8.0]


def test_custom_function_with_wrong_gradient_count():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g

    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(leaf([1.0])).sum().backward()


def test_gradcheck_reports_the_worst_element():
    class WrongCube(Cube):
        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 2 * x**2

    with pytest.raises(
        minigrad.autograd.GradcheckError,
        match=r"(?s)numerical:tensor.*analytical:tensor.*worst at index",
    ):
        gradcheck(WrongCube.apply, (leaf([0.5, 1.0]),))
    assert gradcheck(WrongCube.apply, (leaf([0.5, 1.0]),), raise_exception=False) is False


def test_gradcheck_of_several_outputs_and_inputs_names_the_wrong_pair():
    """Every output's differences come from the same evaluations (one call per step): a wrong
    gradient of output 1 with respect to input 1 is still found, and named."""
    calls = []

    def pair(a, b, wrong):
        calls.append(1)
        return a * b, (a * b.exp() if not wrong else a * b.exp() + b.detach() * b)

    a, b = leaf([0.5, 1.0, -0.3]), leaf([0.2, -0.7, 1.1])
    assert gradcheck(lambda x, y: pair(x, y, False), (a, b))
    assert len(calls) == 1 + 2 * (3 + 3)  # the first call, then 2 per element of each input
    with pytest.raises(minigrad.autograd.GradcheckError, match="output 1 with respect to input 1,"):
        gradcheck(lambda x, y: pair(x, y, True), (a, b))


def test_gradcheck_warns_on_float32_as_pytorch():
    """PyTorch warns and checks in the input's precision (loose tolerances then pass)."""
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="is not a double precision"):
        assert gradcheck(lambda t: t * 2, (x,), eps=1e-2, atol=1e-2, rtol=1e-2)
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(lambda t: t * 2, (x.detach(),))


class CubeWithJvp(Cube):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_forward(x)
        return Cube.forward(ctx, x)

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return t * 3 * x**2


def test_gradcheck_checks_forward_mode_and_accepts_pytorchs_switches():
    x = leaf([0.5, -1.0, 2.0])
    assert gradcheck(CubeWithJvp.apply, (x,), check_forward_ad=True, check_undefined_grad=False)
    assert gradcheck(
        CubeWithJvp.apply, x, check_forward_ad=True, check_backward_ad=False, fast_mode=True
    )
    assert gradgradcheck(
        lambda t: (t.sin() * t).sum(1), leaf([[0.3, -0.7]]), check_fwd_over_rev=True
    )

    class WrongJvp(CubeWithJvp):
        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return t * 2 * x**2

    with pytest.raises(minigrad.autograd.GradcheckError, match="forward mode mismatch"):
        gradcheck(WrongJvp.apply, (x,), check_forward_ad=True)
    assert gradcheck(WrongJvp.apply, (x,), check_forward_ad=True, raise_exception=False) is False
    assert gradcheck(WrongJvp.apply, (x,), check_forward_ad=False)  # the backward is right
    with pytest.raises(NotImplementedError, match="check_batched_grad"):
        gradcheck(Cube.apply, (x,), check_batched_grad=True)


def test_gradcheck_nondet_tol_catches_a_backward_that_is_not_reentrant():
    calls = []

    class Noisy(Cube):
        @staticmethod
        def backward(ctx, g):
            calls.append(1)
            return Cube.backward(ctx, g) + 1e-9 * len(calls)

    x = leaf([0.5, 1.0])
    with pytest.raises(minigrad.autograd.GradcheckError, match="not reentrant"):
        gradcheck(Noisy.apply, (x,))
    assert gradcheck(Noisy.apply, (x,), nondet_tol=1e-6)


def test_once_differentiable_backward_refuses_a_second_derivative():
    """As torch.autograd.function.once_differentiable: the backward records no graph; a result
    that depends on a grad output that requires grad raises when differentiated."""
    from minigrad.autograd.function import once_differentiable

    class OnceCube(Cube):
        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            assert not minigrad.is_grad_enabled()
            return g * 3 * x**2

    x = leaf([0.5, 2.0])
    assert gradcheck(OnceCube.apply, (x,))
    (g,) = grad(OnceCube.apply(x).sum(), x, create_graph=True)
    assert g.tolist() == [0.75, 12.0] and not g.requires_grad
    v = leaf([1.0, 1.0])
    (g,) = grad(OnceCube.apply(x), x, grad_outputs=v, create_graph=True)
    with pytest.raises(RuntimeError, match="differentiate twice a function that was marked"):
        g.sum().backward()


def test_leaf_gradients_never_alias_each_other_or_user_tensors():
    a, c = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + c).backward(minigrad.tensor([1.0, 1.0], dtype=minigrad.float64))  # one buffer, two leaves
    a.grad.add_(1)
    assert c.grad.tolist() == [1.0, 1.0]
    g = minigrad.tensor([5.0, 5.0], dtype=minigrad.float64)
    b = leaf([1.0, 2.0])
    b.backward(g)
    b.grad.add_(1)
    assert g.tolist() == [5.0, 5.0]
    kept = []
    x = leaf([1.0])
    x.register_hook(kept.append)
    (x * 3).sum().backward()
    x.grad.add_(1)
    assert kept[0].tolist() == [3.0]


def test_detect_anomaly_keeps_user_code_under_a_folder_named_minigrad(tmp_path):
    """Only minigrad's own package folder is filtered: a user's project that lives in a
    folder called ``minigrad`` (what ``git clone`` of this repository makes) stays visible."""
    folder = tmp_path / "minigrad" / "project"
    folder.mkdir(parents=True)
    script = folder / "user_model.py"
    script.write_text("def forward(x):\n    return x.sqrt().sum()\n")
    namespace = {}
    exec(compile(script.read_text(), str(script), "exec"), namespace)
    x = leaf([0.0, 1.0])
    with pytest.warns(UserWarning), minigrad.autograd.detect_anomaly():
        y = namespace["forward"](x) * 0
        with pytest.warns(UserWarning, match=r"(?s)Error detected in SqrtBackward0.*user_model.py"):
            with pytest.raises(RuntimeError, match="'SqrtBackward0' returned nan values"):
                y.backward()


# -- the cyclic garbage collector is paused while a backward runs -------------------------------


def _backward_seeing_the_collector(fail: bool = False) -> list:
    """Run a backward whose hook records whether the collector is on (and raises if ``fail``)."""
    x = minigrad.randn(3, requires_grad=True)
    seen = []

    def hook(g):
        seen.append(gc.isenabled())
        if fail:
            raise ValueError("hook failed")

    x.register_hook(hook)
    (x * 2).sum().backward()
    return seen


def test_backward_pauses_the_collector_and_turns_it_back_on():
    was = gc.isenabled()
    gc.enable()
    try:
        assert _backward_seeing_the_collector() == [False]
        assert gc.isenabled()
        with pytest.raises(ValueError, match="hook failed"):
            _backward_seeing_the_collector(fail=True)
        assert gc.isenabled()  # also after an exception inside the backward
    finally:
        if not was:
            gc.disable()


def test_backward_leaves_a_disabled_collector_disabled():
    was = gc.isenabled()
    gc.disable()
    try:
        assert _backward_seeing_the_collector() == [False]
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


def test_nested_backward_resumes_collection_once_the_outer_one_ends():
    x = minigrad.randn(3, requires_grad=True)
    inner = []

    def hook(g):  # a backward inside a backward: the collector stays paused until the outer ends
        z = minigrad.randn(2, requires_grad=True)
        with minigrad.enable_grad():  # a plain backward runs its hooks with grad mode off
            (z * 3).sum().backward()
        inner.append(gc.isenabled())

    x.register_hook(hook)
    was = gc.isenabled()
    gc.enable()
    try:
        (x * 2).sum().backward()
        assert inner == [False] and gc.isenabled()
    finally:
        if not was:
            gc.disable()


def test_variable_is_a_detached_tensor_as_in_pytorch():
    torch = pytest.importorskip("torch")
    from minigrad.autograd import Variable

    for lib, Var in ((minigrad, Variable), (torch, torch.autograd.Variable)):
        base = lib.ones(2)
        x = Var(base, requires_grad=True)
        assert x is not base and x.is_leaf and x.requires_grad and not base.requires_grad
        with lib.no_grad():
            x[0] = 5.0  # shares storage with base
        assert base.tolist() == [5.0, 1.0]
        y = Var(x * 2)  # a non-leaf: detached, needs no grad
        assert y.grad_fn is None and not y.requires_grad
        assert isinstance(base, Var) and isinstance(lib.nn.Parameter(base), Var)
        assert Var().shape == (0,) and Var().dtype is lib.float32
        with pytest.warns(UserWarning, match="volatile was removed"):
            Var(base, volatile=True)
        with pytest.raises(TypeError, match="Variable data has to be a tensor"):
            Var([1.0])
    z = Variable(minigrad.tensor([1.0, 2.0]), requires_grad=True)
    (z**2).sum().backward()
    assert z.grad.tolist() == [2.0, 4.0]


class CubeWrongWithGraph(Cube):
    """Right first derivatives without create_graph, twice them with it (grad mode is on
    inside backward only then): a bug that only second-order users would see."""

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        scale = 6 if minigrad.is_grad_enabled() else 3
        return g * scale * x**2


class CubeWrongSecondOrder(Function):
    """Right first derivatives, but their graph is built from a wrong formula: backward gives
    3x² as a constant times x² where the constant is detached from x's value at 1."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x.detach() * x  # d/dx of this is 3x, not 6x


def test_gradgradcheck_compares_first_derivatives_with_and_without_create_graph():
    """gradgradcheck differences the first derivatives computed without create_graph (reusing
    the forward while only the upstream gradient moves): first derivatives that are right only
    without create_graph, or whose graph is wrong, fail it."""
    x = leaf([0.5, -1.0, 2.0])
    assert gradcheck(CubeWrongWithGraph.apply, (x,)) and gradcheck(CubeWrongSecondOrder.apply, (x,))
    with pytest.raises(minigrad.autograd.GradcheckError, match="differs with create_graph=True"):
        gradgradcheck(CubeWrongWithGraph.apply, (x,))
    with pytest.raises(minigrad.autograd.GradcheckError, match="Jacobian mismatch"):
        gradgradcheck(CubeWrongSecondOrder.apply, (x,))
    assert gradgradcheck(CubeWrongSecondOrder.apply, (x,), raise_exception=False) is False
    assert gradgradcheck(Cube.apply, (x,), leaf([1.0, -2.0, 0.5]))  # given grad outputs
