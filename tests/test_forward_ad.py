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
