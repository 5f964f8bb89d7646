"""Forward-mode AD (``minigrad.autograd.forward_ad``): every op-table row's JVP against finite
differences and against reverse mode; levels, make_dual's checks, custom Functions; PyTorch."""

import numpy as np
import pytest
from helpers import build, outputs

import minigrad
from minigrad.autograd import forward_ad as fwAD
from minigrad.testing.op_db import OP_DB

CASES = [(op, i) for op in OP_DB if op.grad and op.raises is None for i in range(len(op.samples))]
IDS = [op.sample_id(i) for op, i in CASES]
# rows whose forward-mode AD minigrad refuses with NotImplementedError, as PyTorch does
REFUSED = {
    "csr_sin": "the tangent of sin needs cos of the CSR tensor (cos(0) != 0: no sparse rule)",
    "bsr_tanh": "the tangent of tanh needs a product of two BSR tensors",
}


def _call(op, index, args):
    return outputs(op.fn(minigrad, *args, **op.samples[index].kwargs))


def _floats(outs):
    return [o for o in outs if isinstance(o, minigrad.Tensor) and o.is_floating_point()]


def _numpy(t):
    return t.detach().numpy()


@pytest.mark.parametrize("op,index", CASES, ids=IDS)
def test_jvp_matches_finite_differences_and_reverse_mode(op, index):
    args, grad_args = build(op, index, minigrad, "float64")
    rng = np.random.default_rng(7)
    positions = [i for i, a in enumerate(args) if any(a is g for g in grad_args)]
    tangents = {i: rng.uniform(-1, 1, args[i].shape) for i in positions}

    # forward mode
    if op.name in REFUSED:
        with pytest.raises(NotImplementedError), fwAD.dual_level():
            duals = [fwAD.make_dual(a, minigrad.tensor(tangents[i])) if i in positions else a
                     for i, a in enumerate(args)]  # fmt: skip
            _call(op, index, duals)
        return
    with fwAD.dual_level():
        duals = list(args)
        for i in positions:
            duals[i] = fwAD.make_dual(args[i], minigrad.tensor(tangents[i]))
        minigrad.manual_seed(0)
        outs = _floats(_call(op, index, duals))
        jvps = []
        for o in outs:
            t = fwAD.unpack_dual(o).tangent
            jvps.append(np.zeros(o.shape) if t is None else _numpy(t))
            assert t is None or tuple(t.shape) == tuple(o.shape)

    # reverse mode: <w, J·t> = <Jᵀ·w, t> for a random cotangent w
    minigrad.manual_seed(0)
    ref = _floats(_call(op, index, args))
    assert [o.shape for o in ref] == [o.shape for o in outs]
    for a, b in zip(ref, outs):
        np.testing.assert_allclose(_numpy(a), _numpy(b), rtol=1e-12, atol=1e-12)
    live = [(k, o) for k, o in enumerate(ref) if o.requires_grad]
    ws = [rng.uniform(-1, 1, o.shape) for o in ref]
    lhs = sum(float((ws[k] * jvps[k]).sum()) for k, _ in live)
    if live:
        grads = minigrad.autograd.grad(
            [o for _, o in live], grad_args, [minigrad.tensor(ws[k]) for k, _ in live],
            allow_unused=True,
        )  # fmt: skip
        rhs = sum(float((_numpy(g) * tangents[i]).sum())
                  for g, i in zip(grads, positions) if g is not None)  # fmt: skip
    else:
        rhs = 0.0
    assert lhs == pytest.approx(rhs, rel=1e-7, abs=1e-9)
    for k, o in enumerate(ref):  # outputs that do not depend on the inputs: tangent zero
        if not o.requires_grad:
            assert not np.any(jvps[k])

    # central finite differences along the tangents
    eps = 1e-6
    shifted = []
    for sign in (1, -1):
        moved = list(args)
        for i in positions:
            moved[i] = minigrad.tensor(_numpy(args[i]) + sign * eps * tangents[i])
        minigrad.manual_seed(0)
        shifted.append([_numpy(o) for o in _floats(_call(op, index, moved))])
    for k in range(len(outs)):
        numeric = (shifted[0][k] - shifted[1][k]) / (2 * eps)
        np.testing.assert_allclose(jvps[k], numeric, rtol=1e-4, atol=1e-5)


# -- levels and dual tensors ---------------------------------------------------------------------


def _x(*values):
    return minigrad.tensor(list(values), dtype=minigrad.float64)


def test_levels_nest_as_pytorch_refuses_and_drop_tangents_on_exit():
    x = _x(1.0, 2.0)
    with fwAD.dual_level() as level:
        assert level == 0
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            with fwAD.dual_level():
                pass
        d = fwAD.make_dual(x, _x(1.0, 1.0))
        y = d * d
        np.testing.assert_allclose(fwAD.unpack_dual(y).tangent.detach().numpy(), [2.0, 4.0])
    assert fwAD.unpack_dual(y).tangent is None  # the level's tangents are gone
    assert fwAD.unpack_dual(d).tangent is None
    level = fwAD.enter_dual_level()
    assert fwAD.unpack_dual(d).tangent is None  # a new level does not see the old one's
    with pytest.raises(RuntimeError, match="not the last one"):
        fwAD.exit_dual_level(level=level + 1)
    fwAD.exit_dual_level()
    with pytest.raises(RuntimeError, match="no level exists"):
        fwAD.make_dual(x, x)
    with pytest.raises(RuntimeError, match="positive"):
        fwAD.exit_dual_level()


def test_make_dual_checks_and_unpack_dual():
    x = _x(1.0, 2.0, 3.0)
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match=r"different size.*\[3\].*\[4\]"):
            fwAD.make_dual(x, minigrad.ones(4, dtype=minigrad.float64))
        with pytest.raises(ValueError, match="primal to be floating point"):
            fwAD.make_dual(minigrad.tensor([1, 2]), minigrad.ones(2))
        with pytest.raises(ValueError, match="tangent to be floating point"):
            fwAD.make_dual(x, minigrad.tensor([1, 2, 3]))
        with pytest.raises(RuntimeError, match="Invalid level"):
            fwAD.make_dual(x, x, level=3)
        d = fwAD.make_dual(x, x * 2)
        with pytest.raises(RuntimeError, match="already has a forward gradient"):
            fwAD.make_dual(d, x)
        assert fwAD.unpack_dual(x).tangent is None  # the primal given is left alone
        u = fwAD.unpack_dual(d)
        assert isinstance(u, fwAD.UnpackedDualTensor) and u.primal is not d
        assert fwAD.unpack_dual(u.primal).tangent is None
        np.testing.assert_allclose(u.tangent.detach().numpy(), [2.0, 4.0, 6.0])
        assert fwAD.unpack_dual(d.detach()).tangent is None  # detach drops it, as PyTorch
        assert fwAD.unpack_dual(d.argmax()).tangent is None  # integer outputs have none
        assert fwAD.unpack_dual(d > 1).tangent is None


def test_inplace_ops_carry_tangents():
    with fwAD.dual_level():
        d = fwAD.make_dual(_x(1.0, 2.0, 3.0), _x(1.0, 1.0, 1.0))
        y = minigrad.zeros(3, dtype=minigrad.float64)
        y.add_(d)
        np.testing.assert_allclose(fwAD.unpack_dual(y).tangent.detach().numpy(), [1.0, 1.0, 1.0])
        y.mul_(d)  # y = d·d: tangent 2d
        np.testing.assert_allclose(fwAD.unpack_dual(y).tangent.detach().numpy(), [2.0, 4.0, 6.0])
        z = minigrad.zeros(2, 3, dtype=minigrad.float64)
        z[1] = d
        np.testing.assert_allclose(
            fwAD.unpack_dual(z).tangent.detach().numpy(), [[0, 0, 0], [1, 1, 1]]
        )


def test_no_level_no_hook():
    """With no level open, ops run without the forward-AD hook (nothing to pay)."""
    from minigrad.ops import base

    assert fwAD.active == 0
    with fwAD.dual_level():
        assert base.interposer is not None
    assert base.interposer is None


# -- custom Functions ------------------------------------------------------------------------------


class _Cube(minigrad.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        ctx.save_for_forward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x**2

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return t * 3 * x**2


class _NoJvp(minigrad.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2


def test_custom_function_jvp_and_missing_jvp():
    x = _x(1.0, 2.0).requires_grad_()
    with fwAD.dual_level():
        d = fwAD.make_dual(x, _x(1.0, -1.0))
        y = _Cube.apply(d)
        np.testing.assert_allclose(fwAD.unpack_dual(y).tangent.detach().numpy(), [3.0, -12.0])
        (g,) = minigrad.autograd.grad(y.sum(), x)  # backward still works on the same call
        np.testing.assert_allclose(g.detach().numpy(), [3.0, 12.0])
        with pytest.raises(NotImplementedError, match="must implement the jvp function"):
            _NoJvp.apply(d)
        assert fwAD.unpack_dual(_NoJvp.apply(x)).tangent is None  # no dual input: no jvp needed


# -- forward over reverse, reverse over forward, nesting --------------------------------------------


def _cubic(x):
    return (x**3).sum() * x[0] + (x.sin() * x).sum()


def test_forward_over_reverse_gives_hessian_vector_products():
    x = _x(0.3, -0.7, 1.1).requires_grad_()
    v = _x(1.0, 0.5, -2.0)
    hessian = minigrad.autograd.functional.hessian(_cubic, x)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, v)
        (g,) = minigrad.autograd.grad(_cubic(d), x)  # a plain backward, no create_graph
        hv = fwAD.unpack_dual(g).tangent
    np.testing.assert_allclose(hv.detach().numpy(), (hessian @ v).detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(
        minigrad.func.jvp(minigrad.func.grad(_cubic), (x.detach(),), (v,))[1].detach().numpy(),
        (hessian @ v).detach().numpy(),
        rtol=1e-12,
    )
    _, hv2 = minigrad.autograd.functional.hvp(_cubic, x.detach(), v)
    np.testing.assert_allclose(hv2.detach().numpy(), (hessian @ v).detach().numpy(), rtol=1e-12)


def test_reverse_over_forward_and_tangents_that_require_grad():
    x = _x(0.3, -0.7, 1.1).requires_grad_()
    v = _x(1.0, 0.5, -2.0).requires_grad_()
    with fwAD.dual_level():
        d = fwAD.make_dual(x, v)
        jv = fwAD.unpack_dual(_cubic(d)).tangent  # ∇f(x)·v, differentiable in x and v
    gx, gv = minigrad.autograd.grad(jv, (x, v))
    hessian = minigrad.autograd.functional.hessian(_cubic, x.detach())
    grad = minigrad.func.grad(_cubic)(x.detach())
    np.testing.assert_allclose(
        gx.detach().numpy(), (hessian @ v.detach()).detach().numpy(), rtol=1e-12
    )
    np.testing.assert_allclose(gv.detach().numpy(), grad.detach().numpy(), rtol=1e-12)


def test_nested_jvp_gives_second_directional_derivatives():
    x, u, w = _x(0.3, -0.7, 1.1), _x(1.0, 0.0, 2.0), _x(-1.0, 1.0, 0.5)
    jvp = minigrad.func.jvp

    def directional(y):
        return jvp(_cubic, (y,), (u,))[1]

    _, second = jvp(directional, (x,), (w,))  # wᵀ H u
    hessian = minigrad.autograd.functional.hessian(_cubic, x)
    assert float(second) == pytest.approx(float(w @ hessian @ u), rel=1e-12)


def test_jacfwd_and_jvp_compose_with_vmap():
    xs = minigrad.tensor(np.random.default_rng(3).uniform(-1, 1, (4, 3)))
    f = lambda a: (a.exp() * a[0]).cumsum(0)  # noqa: E731
    got = minigrad.func.vmap(minigrad.func.jacfwd(f))(xs)
    want = minigrad.func.vmap(minigrad.func.jacrev(f))(xs)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)
    eye = minigrad.eye(3, dtype=minigrad.float64)
    cols = minigrad.func.vmap(lambda t: minigrad.func.jvp(f, (xs[0],), (t,))[1])(eye)
    np.testing.assert_allclose(
        cols.detach().numpy().T, want[0].detach().numpy(), rtol=1e-12, atol=1e-12
    )


# -- PyTorch ----------------------------------------------------------------------------------------


def _pair(torch, *arrays):
    return [minigrad.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]


@pytest.mark.parametrize(
    "fn",
    [
        lambda m, x, y: (x * y).tanh() + x.exp() / (1 + y**2),
        lambda m, x, y: m.nn.functional.softmax(x @ y.T, dim=-1),
        lambda m, x, y: m.nn.functional.layer_norm(x + y, (3,)),
        lambda m, x, y: m.logsumexp(x * y, dim=1) + (x - y).abs().amax(dim=0).sum(),
    ],
)
def test_forward_ad_matches_torch(fn):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    arrays = [rng.uniform(-1, 1, (2, 3)) for _ in range(4)]
    (x, y, tx, ty), (x_t, y_t, tx_t, ty_t) = _pair(torch, *arrays)
    with fwAD.dual_level():
        out = fn(minigrad, fwAD.make_dual(x, tx), fwAD.make_dual(y, ty))
        got = fwAD.unpack_dual(out).tangent.detach().numpy()
    tfw = torch.autograd.forward_ad
    with tfw.dual_level():
        out = fn(torch, tfw.make_dual(x_t, tx_t), tfw.make_dual(y_t, ty_t))
        want = tfw.unpack_dual(out).tangent.detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_func_jvp_and_jacfwd_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    arrays = [rng.uniform(-1, 1, (3,)) for _ in range(3)]
    (x, y, t), (x_t, y_t, t_t) = _pair(torch, *arrays)

    def f(m, a, b):
        return (a.sin() * b).cumsum(0) + a @ b

    out, tan = minigrad.func.jvp(lambda a: f(minigrad, a, y), (x,), (t,))
    out_t, tan_t = torch.func.jvp(lambda a: f(torch, a, y_t), (x_t,), (t_t,))
    np.testing.assert_allclose(out.detach().numpy(), out_t.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(tan.detach().numpy(), tan_t.detach().numpy(), rtol=1e-12)
    got = minigrad.func.jacfwd(lambda a, b: f(minigrad, a, b), argnums=(0, 1))(x, y)
    want = torch.func.jacfwd(lambda a, b: f(torch, a, b), argnums=(0, 1))(x_t, y_t)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=1e-12, atol=1e-14)
