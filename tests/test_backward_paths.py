"""Every op row: a plain backward equals a ``create_graph`` backward, and what forward kept for
backward is freed by a plain backward (kept by ``retain_graph``).

Why the first check exists: a backward runs its formulas on arrays, or on constants made from
arrays forward kept, when no graph of the backward is being built; under ``create_graph`` it
runs them on tensors and recomputes those intermediates so that they are differentiable.
gradgradcheck cannot see a wrong differentiable derivative (it differentiates whichever first
derivative it is given), and gradcheck sees only the plain one. So this compares the two on
every row, in float64, with a random upstream gradient, to a tight tolerance.

It catches a planted error: making ``ReLUOp.backward`` return twice its gradient whenever grad
mode is on (the ``create_graph`` path) fails every relu row here, with the plain gradient
exactly half the other; ``test_a_planted_error_is_caught`` keeps that check, and another one
that plants the error in GELU's recomputed intermediate instead.
"""

import numpy as np
import pytest
from helpers import build, outputs, to_numpy

import minigrad
from minigrad.autograd import grad_mode
from minigrad.autograd.graph import AccumulateGrad, SavedTensor
from minigrad.ops.activation import GELUOp, ReLUOp
from minigrad.testing.op_db import OP_DB

CASES = [(op, i) for op in OP_DB if op.grad for i in range(len(op.samples))]
IDS = [op.sample_id(i) for op, i in CASES]

# Node attributes that hold arrays given to the op (indices, a divisor table), not values
# that forward computed: they live as long as the node, like its other settings.
# positions: as_strided's window; compressed/plain, brow/bcol: a sparse CSR/BSR tensor's index
# arrays, settings of the ops that build or multiply it (as a COO tensor's indices)
SETTINGS = {
    "indices",
    "index",
    "key",
    "divisor",
    "positions",
    "compressed",
    "plain",
    "brow",
    "bcol",
}


def _outputs_and_inputs(op, index):
    args, grad_args = build(op, index, minigrad, "float64")
    result = op.fn(minigrad, *args, **op.samples[index].kwargs)
    return [o for o in outputs(result) if o.requires_grad], grad_args


def _upstream(outs, index):
    rng = np.random.default_rng(100 + index)
    return [minigrad.tensor(rng.uniform(-1, 1, tuple(o.shape))) for o in outs]


def backward_paths(op, index):
    """The input gradients of a row's sample from a plain and from a create_graph backward."""
    outs, inputs = _outputs_and_inputs(op, index)
    plain = minigrad.autograd.grad(outs, inputs, _upstream(outs, index), allow_unused=True)
    outs, inputs = _outputs_and_inputs(op, index)  # a fresh graph
    graph = minigrad.autograd.grad(
        outs, inputs, _upstream(outs, index), create_graph=True, allow_unused=True
    )
    return plain, graph


def assert_paths_agree(op, index, plain=None):
    """The plain and create_graph gradients of a row's sample agree (``plain``: the plain
    ones, when the caller has them already)."""
    if plain is None:
        plain, graph = backward_paths(op, index)
    else:
        outs, inputs = _outputs_and_inputs(op, index)
        graph = minigrad.autograd.grad(
            outs, inputs, _upstream(outs, index), create_graph=True, allow_unused=True
        )
    for i, (a, b) in enumerate(zip(plain, graph)):
        assert (a is None) == (b is None), f"input {i}: a gradient from one path only"
        if a is not None:
            np.testing.assert_allclose(
                to_numpy(a), to_numpy(b), rtol=1e-10, atol=1e-12, err_msg=f"input {i}"
            )


def _relu_rows():
    return [(op, i) for op, i in CASES if op.name == "relu"]


def test_a_planted_error_is_caught(monkeypatch):
    """A 2x error in the differentiable derivative only, then in a recomputed intermediate."""
    rows = _relu_rows()
    assert rows
    original = ReLUOp.backward

    def doubled_under_create_graph(self, gy):
        g = original(self, gy)
        return g * 2.0 if grad_mode.is_grad_enabled() else g

    monkeypatch.setattr(ReLUOp, "backward", doubled_under_create_graph)
    caught = 0
    for op, index in rows:
        plain, graph = backward_paths(op, index)
        if not to_numpy(plain[0]).any():
            continue  # an empty input, or every entry negative: 2·0 = 0 hides any factor
        with pytest.raises(AssertionError, match="Not equal to tolerance"):
            assert_paths_agree(op, index)
        np.testing.assert_allclose(2 * to_numpy(plain[0]), to_numpy(graph[0]))
        caught += 1
    assert caught >= 2
    monkeypatch.undo()

    gelu_rows = [(op, i) for op, i in CASES if op.name.startswith("gelu")]
    assert gelu_rows
    inner = GELUOp._inner
    monkeypatch.setattr(GELUOp, "_inner", lambda self, x: 2.0 * inner(self, x))
    caught = 0
    for op, index in gelu_rows:
        if not to_numpy(backward_paths(op, index)[0][0]).any():
            continue  # an empty input
        with pytest.raises(AssertionError, match="Not equal to tolerance"):
            assert_paths_agree(op, index)
        caught += 1
    assert caught >= 2


# -- what forward keeps for backward ------------------------------------------------------------


def _nodes(outs):
    nodes, seen = [], set()
    stack = [o.grad_fn for o in outs if o.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        nodes.append(node)
        stack.extend(e[0] for e in node.next_functions if e[0] is not None)
    return nodes


def _holds_array(value) -> bool:
    if isinstance(value, np.ndarray):
        return True
    if isinstance(value, (tuple, list)):
        return any(_holds_array(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_array(v) for v in value.values())
    return isinstance(value, SavedTensor)


def _held(node) -> set:
    """The names of the node's attributes that hold arrays or saved tensors (not settings)."""
    skip = {"edges", "input_meta"} | SETTINGS
    return {k for k, v in vars(node).items() if k not in skip and _holds_array(v)}


@pytest.mark.parametrize("op,index", CASES, ids=IDS)
def test_backward_paths_agree_and_free_what_forward_kept(op, index):
    """A plain backward equals a create_graph one (module docstring); retain_graph keeps what
    forward saved and kept, and the next plain backward frees all of it. One test per row, so
    that the plain gradients serve both checks."""
    outs, inputs = _outputs_and_inputs(op, index)
    nodes = [n for n in _nodes(outs) if not isinstance(n, AccumulateGrad)]
    before = {n: _held(n) for n in nodes}
    vs = _upstream(outs, index)
    first = minigrad.autograd.grad(outs, inputs, vs, retain_graph=True, allow_unused=True)
    for node in nodes:
        assert _held(node) == before[node], f"{node.name()} lost what it kept (retain_graph)"
    second = minigrad.autograd.grad(outs, inputs, vs, allow_unused=True)
    for a, b in zip(first, second):
        if a is not None:
            np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    for node in nodes:
        assert not _held(node), f"{node.name()} still holds {_held(node)} after backward"
        assert node._saved == () and not node._kept
        if before[node]:  # reading what was freed is the "backward twice" error
            with pytest.raises(RuntimeError, match="backward through the graph a second time"):
                node.saved  # noqa: B018 - the access is the test
            with pytest.raises(RuntimeError, match="backward through the graph a second time"):
                node.kept_arrays  # noqa: B018
    assert_paths_agree(op, index, plain=first)


def test_kept_arrays_are_one_mechanism():
    """Forward's intermediate arrays live in node.kept_arrays, next to the saved tensors."""
    x = minigrad.randn(2, 3, 5, 5, dtype=minigrad.float64, requires_grad=True)
    w = minigrad.randn(4, 3, 3, 3, dtype=minigrad.float64, requires_grad=True)
    y = minigrad.nn.functional.max_pool2d(minigrad.nn.functional.conv2d(x, w), 2)
    pool, conv = y.grad_fn, y.grad_fn.next_functions[0][0]
    assert set(pool.kept_arrays) == {"argmax"} and set(conv.kept_arrays) == {"cols"}
    y.sum().backward()
    for node in (pool, conv):
        with pytest.raises(RuntimeError, match="second time"):
            node.kept_arrays  # noqa: B018 - the access is the test


# -- gradient buffers: adopted only when the engine knows nobody else sees them -----------------


def _no_copies(monkeypatch):
    def clone(self, *args, **kwargs):
        raise AssertionError("a gradient was copied")

    monkeypatch.setattr(minigrad.Tensor, "clone", clone)


def test_fresh_gradients_become_grad_without_a_copy(monkeypatch):
    x = minigrad.randn(4, 3)
    w = minigrad.randn(5, 3, requires_grad=True)
    b = minigrad.randn(5, requires_grad=True)
    v = minigrad.randn(4, 5)
    loss = (minigrad.nn.functional.linear(x, w, b) * v).sum()
    _no_copies(monkeypatch)
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), v.numpy().T @ x.numpy(), rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), v.numpy().sum(0), rtol=1e-5)


def _shares(a, b) -> bool:
    return np.shares_memory(a.numpy(), b.numpy())


def test_a_gradient_a_hook_saw_is_copied():
    x = minigrad.randn(3, requires_grad=True)
    seen = []
    x.register_hook(seen.append)
    for _ in range(2):
        ((x * 2).sum() + (x * 3).sum()).backward()  # the engine sums the two into a new buffer
    assert not _shares(x.grad, seen[0])
    assert seen[0].tolist() == [5.0] * 3 and x.grad.tolist() == [10.0] * 3


def test_a_gradient_handed_to_two_inputs_is_copied():
    a = minigrad.randn(3, requires_grad=True)
    b = minigrad.randn(3, requires_grad=True)
    s = a + b
    ((s * 1).sum() + (s * 2).sum()).backward()  # Add passes its (new) incoming sum to both
    assert not _shares(a.grad, b.grad)
    assert a.grad.tolist() == b.grad.tolist() == [3.0] * 3


def test_a_custom_function_gradient_is_never_adopted():
    held = minigrad.ones(3)

    class Constant(minigrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return held  # user code may keep what it returns

    x = minigrad.randn(3, requires_grad=True)
    for _ in range(2):
        Constant.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0] * 3 and held.tolist() == [1.0] * 3
