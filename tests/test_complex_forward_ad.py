"""Forward-mode AD of complex tensors: every row of the complex op table's JVP against central
finite differences along a complex direction, against reverse mode (the real inner product
``Re⟨w, J·t⟩ = Re⟨Jᵀw, t⟩``, PyTorch's convention), and against PyTorch's forward AD."""

import numpy as np
import pytest
from helpers import build, outputs

import minigrad
from minigrad.autograd import forward_ad as fwAD
from minigrad.testing.op_db_complex import COMPLEX_OPS

CASES = [(op, i) for op in COMPLEX_OPS for i in range(len(op.samples))]
IDS = [op.sample_id(i) for op, i in CASES]


def _call(op, index, args, m=minigrad):
    outs = outputs(op.fn(m, *args, **op.samples[index].kwargs))
    return [o for o in outs if o.is_floating_point() or o.is_complex()]


def _host(t):
    return t.detach().resolve_conj().numpy() if hasattr(t, "resolve_conj") else t.numpy()


def _direction(shape, is_complex, rng):
    t = rng.uniform(-1, 1, shape)
    return t + 1j * rng.uniform(-1, 1, shape) if is_complex else t


def _dot(a, b) -> float:
    """The real inner product of two arrays read as vectors of real pairs."""
    return float(np.real(np.vdot(a, b)))


def _problem(op, index):
    args, grad_args = build(op, index, minigrad)
    rng = np.random.default_rng(3)
    positions = [i for i, a in enumerate(args) if any(a is g for g in grad_args)]
    tangents = {i: _direction(args[i].shape, args[i].is_complex(), rng) for i in positions}
    return args, grad_args, positions, tangents


def _jvps(op, index, args, positions, tangents):
    with fwAD.dual_level():
        duals = list(args)
        for i in positions:
            duals[i] = fwAD.make_dual(args[i], minigrad.tensor(tangents[i]))
        outs = _call(op, index, duals)
        jvps = []
        for o in outs:
            t = fwAD.unpack_dual(o).tangent
            assert t is None or (tuple(t.shape) == tuple(o.shape) and t.dtype == o.dtype)
            jvps.append(np.zeros(o.shape, o.numpy().dtype) if t is None else _host(t))
    return jvps


@pytest.mark.parametrize("op,index", CASES, ids=IDS)
def test_jvp_matches_finite_differences_and_reverse_mode(op, index):
    args, grad_args, positions, tangents = _problem(op, index)
    jvps = _jvps(op, index, args, positions, tangents)

    eps, shifted = 1e-6, []
    for sign in (1, -1):
        moved = list(args)
        for i in positions:
            moved[i] = minigrad.tensor(args[i].detach().numpy() + sign * eps * tangents[i])
        shifted.append([_host(o) for o in _call(op, index, moved)])
    for jvp, plus, minus in zip(jvps, *shifted):
        np.testing.assert_allclose(jvp, (plus - minus) / (2 * eps), rtol=1e-5, atol=1e-6)

    ref = _call(op, index, args)
    rng = np.random.default_rng(5)
    ws = [_direction(o.shape, o.is_complex(), rng) for o in ref]
    live = [k for k, o in enumerate(ref) if o.requires_grad]
    grads = minigrad.autograd.grad(
        [ref[k] for k in live], grad_args, [minigrad.tensor(ws[k]) for k in live], allow_unused=True
    )
    lhs = sum(_dot(ws[k], jvps[k]) for k in live)
    rhs = sum(_dot(_host(g), tangents[i]) for g, i in zip(grads, positions) if g is not None)
    assert lhs == pytest.approx(rhs, rel=1e-9, abs=1e-10)


@pytest.mark.parametrize("op,index", CASES, ids=IDS)
def test_jvp_matches_torch(op, index):
    torch = pytest.importorskip("torch")
    if not op.torch:
        pytest.skip(op.note or "no PyTorch counterpart")
    args, _, positions, tangents = _problem(op, index)
    ours = _jvps(op, index, args, positions, tangents)
    targs, _ = build(op, index, torch)
    import torch.autograd.forward_ad as tfw

    with tfw.dual_level():
        for i in positions:
            targs[i] = tfw.make_dual(targs[i].detach(), torch.tensor(tangents[i]))
        try:
            outs = _call(op, index, targs, torch)
            theirs = [tfw.unpack_dual(o).tangent for o in outs]
        except (NotImplementedError, RuntimeError) as e:
            pytest.skip(f"PyTorch has no forward AD here: {str(e)[:80]}")
    for a, b in zip(ours, theirs):
        if b is not None:
            np.testing.assert_allclose(a, b.resolve_conj().numpy(), rtol=1e-10, atol=1e-10)


def test_func_jvp_and_autograd_functional_jvp_take_complex_inputs_as_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    z, t = (_direction((3,), True, rng) for _ in range(2))
    got, want = [], []
    for lib, out in ((minigrad, got), (torch, want)):
        f = lambda a: (a * a.conj() + a).exp()  # noqa: E731 - neither holomorphic nor real
        out.append(lib.func.jvp(f, (lib.tensor(z),), (lib.tensor(t),))[1])
        out.append(lib.autograd.functional.jvp(f, (lib.tensor(z),), (lib.tensor(t),))[1])
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


def test_jacfwd_refuses_complex_inputs_as_torch():
    """Basis directions are real: they would give only ∂f/∂x of a complex input."""
    with pytest.raises(RuntimeError, match="Expected all inputs to be real"):
        minigrad.func.jacfwd(lambda a: a.exp())(minigrad.randn(3, dtype=minigrad.cfloat))
