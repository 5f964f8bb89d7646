"""Every op in the table: gradcheck, gradgradcheck, PyTorch's forward and gradients."""

import numpy as np
import pytest
from helpers import build, outputs, to_numpy

import minigrad
from minigrad.autograd import gradcheck, gradgradcheck
from minigrad.autograd.graph import is_node_subclass
from minigrad.ops import Op
from minigrad.testing.op_db import EXEMPT, OP_DB
from minigrad.testing.op_db_complex import COMPLEX_OPS

CASES = [(op, i) for op in OP_DB for i in range(len(op.samples))]
GRAD_CASES = [c for c in CASES if c[0].grad]
IDS = [op.sample_id(i) for op, i in CASES]
GRAD_IDS = [op.sample_id(i) for op, i in GRAD_CASES]


def _call(op, index, args, m=minigrad):
    return op.fn(m, *args, **op.samples[index].kwargs)


# Finite-difference checks run on the CPU and on a real GPU. The CuPy stand-in (``fakegpu``)
# computes with NumPy like the CPU: for it, ``test_devices_agree`` proves every row's outputs,
# gradients and second-order gradients equal to the CPU's within 1e-12 (which these checks
# prove right), at a ninth of the cost of checking it by finite differences again.
NUMERIC_DEVICES = ["cpu"] + (["cuda"] if minigrad.cuda.is_available() else [])


@pytest.mark.parametrize("device", NUMERIC_DEVICES)
@pytest.mark.parametrize("op,index", GRAD_CASES, ids=GRAD_IDS)
def test_gradcheck(op, index, device):
    """gradcheck, and gradgradcheck for the rows with ``gradgrad`` (one item per row: the
    two checks share the row's setup)."""
    args, grad_args = build(op, index, minigrad, "float64", device)
    assert grad_args, "a differentiable row needs at least one input that requires grad"
    assert gradcheck(lambda *a: outputs(_call(op, index, a)), tuple(args)), "gradcheck"
    if op.gradgrad:
        minigrad.manual_seed(0)  # (from the seed a test starts with)
        args, _ = build(op, index, minigrad, "float64", device)
        assert gradgradcheck(lambda *a: outputs(_call(op, index, a)), tuple(args)), "gradgrad"


@pytest.mark.parametrize("op,index", CASES, ids=IDS)
def test_matches_torch(op, index):
    """Outputs and gradients equal PyTorch's in float32 and in float64 (one item per row: the
    two dtypes' checks share the row's setup)."""
    torch = pytest.importorskip("torch")
    if not op.torch:
        pytest.skip(op.note or "no PyTorch counterpart")
    for dtype in ("float32", "float64"):
        minigrad.manual_seed(0)  # (each dtype from the seed a test starts with)
        _matches_torch(torch, op, index, dtype)


def _matches_torch(torch, op, index, dtype):
    rtol, atol = op.float32_tol if dtype == "float32" else (1e-7, 1e-10)
    args_m, grads_m = build(op, index, minigrad, dtype)
    args_t, grads_t = build(op, index, torch, dtype)
    if op.raises is not None:  # both must refuse, with the same exception type
        with pytest.raises(op.raises):
            _call(op, index, args_t, torch)
        with pytest.raises(op.raises):
            _call(op, index, args_m)
        return
    outs_m, outs_t = outputs(_call(op, index, args_m)), outputs(_call(op, index, args_t, torch))
    assert len(outs_m) == len(outs_t)
    for a, b in zip(outs_m, outs_t):
        assert a.shape == tuple(b.shape)
        assert a.dtype.name == str(b.dtype).split(".")[-1]
        tol = op.float32_tol if a.dtype.name == "float16" else (rtol, atol)  # Typed float16 rows
        np.testing.assert_allclose(
            to_numpy(a), to_numpy(b), rtol=tol[0], atol=tol[1], err_msg=dtype
        )
    if not grads_m:
        return
    pairs = [(a, b) for a, b in zip(outs_m, outs_t) if b.requires_grad]
    rng = np.random.default_rng(1)
    vs = [rng.uniform(-1, 1, tuple(b.shape)) for _, b in pairs]
    gm = minigrad.autograd.grad(
        [a for a, _ in pairs],
        grads_m,
        [minigrad.tensor(v, dtype=dtype) for v in vs],
        allow_unused=True,
    )
    gt = torch.autograd.grad(
        [b for _, b in pairs],
        grads_t,
        [torch.tensor(v, dtype=getattr(torch, dtype)) for v in vs],
        allow_unused=True,
    )
    for a, b in zip(gm, gt):
        if b is None:
            assert a is None or not to_numpy(a).any()
            continue
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=rtol, atol=atol, err_msg=dtype)


def _first_and_second_order(op, index, device):
    """A row's outputs, gradients and (for rows with ``gradgrad``) the gradients of those
    gradients, as NumPy arrays, on ``device``."""
    args, grad_args = build(op, index, minigrad, "float64", device)
    every = [o for o in outputs(_call(op, index, args)) if isinstance(o, minigrad.Tensor)]
    outs = [o for o in every if o.requires_grad]
    second = op.gradgrad
    grads = minigrad.autograd.grad(
        outs,
        grad_args,
        [o.new_ones(o.shape) * 0.5 for o in outs],
        allow_unused=True,
        create_graph=second,
    )
    found = [to_numpy(o) for o in every] + [to_numpy(g) for g in grads if g is not None]
    differentiable = [g for g in grads if g is not None and g.requires_grad]
    if second and differentiable:
        grads2 = minigrad.autograd.grad(
            [(g * g).sum() for g in differentiable], grad_args, allow_unused=True
        )
        found += [to_numpy(g) for g in grads2 if g is not None]
    return found


@pytest.mark.parametrize("op,index", GRAD_CASES, ids=GRAD_IDS)
def test_devices_agree(op, index):
    """The stand-in device computes what the CPU computes: outputs, gradients and
    second-order gradients of every differentiable row, equal to 1e-12 (its fused kernels'
    NumPy twins may round a last bit differently). On its second device: the stand-in refuses
    a kernel whose arrays are not on the current device, so an op that runs outside its
    device's context fails here as it would on cuda:1 (test_devices checks the other rows)."""
    cpu = _first_and_second_order(op, index, "cpu")
    stand_in = _first_and_second_order(op, index, "fakegpu:1")
    assert len(cpu) == len(stand_in)
    for a, b in zip(cpu, stand_in):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def _all_op_classes():
    seen, stack = set(), [Op]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen and not is_node_subclass(sub):  # (recorded nodes' classes)
                seen.add(sub)
                stack.append(sub)
    return {c for c in seen if c.differentiable and not c.__name__.startswith("_")}


def _graph_types(tensors):
    found, stack, seen = set(), [t.grad_fn for t in tensors if t.grad_fn is not None], set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        found.add(type(node).__dict__.get("_node_base", type(node)))  # the op class
        stack.extend(e[0] for e in node.next_functions if e[0] is not None)
    return found


def test_every_op_has_a_row():
    """A new op cannot land without a row in the table (or a named test that covers it)."""
    covered = set()
    complex_cases = [(op, i) for op in COMPLEX_OPS for i in range(len(op.samples))]
    for op, index in GRAD_CASES + complex_cases:
        args, grad_args = build(op, index, minigrad)
        outs = [o for o in outputs(_call(op, index, args)) if o.requires_grad]
        vs = [o.new_ones(o.shape, requires_grad=True) for o in outs]
        grads = minigrad.autograd.grad(outs, grad_args, vs, create_graph=True, allow_unused=True)
        covered |= _graph_types(outs) | _graph_types(
            [g for g in grads if g is not None and g.requires_grad]
        )
    missing = {c.__name__ for c in _all_op_classes() if c not in covered} - set(EXEMPT)
    assert not missing, f"ops without a row in minigrad/testing/op_db*.py: {sorted(missing)}"
