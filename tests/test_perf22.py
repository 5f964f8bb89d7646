"""Results of the eager fast paths of session 22's overhead pass (no timing here): binary ops'
inline promotion check, ``a + b`` without add's alpha checks, Mul's one-factor backward, the
layout check's first test, number-only saved entries, and the engine's topological order."""

import random

import numpy as np
import pytest

import minigrad
from minigrad._result_layout import iterator_layout, pair_layout
from minigrad.autograd import engine

torch = pytest.importorskip("torch")

_DTYPES = ["float16", "bfloat16", "float32", "float64", "int32", "int64", "uint8", "bool"]


def _pair(dtype: str, seed: int):
    """The same (2, 3) values as a minigrad and a PyTorch tensor of ``dtype``."""
    values = np.random.default_rng(seed).uniform(-3, 3, (2, 3)).round(2)
    m = minigrad.tensor(values, dtype=getattr(minigrad, dtype))
    return m, torch.tensor(values, dtype=getattr(torch, dtype))


def _same(m, t):
    assert str(m.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (m.dtype, t.dtype)
    assert m.shape == tuple(t.shape)
    expected = t.float().numpy() if t.dtype == torch.bfloat16 else t.numpy()
    got = m.float().numpy() if m.dtype == minigrad.bfloat16 else m.numpy()
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", _DTYPES)
@pytest.mark.parametrize("other", [1.5, 2, -0.25, True, "same", "float32", "int64"])
def test_binary_fast_paths_promote_as_pytorch(dtype, other):
    # the inline check of binary() takes float tensors with a float or with a tensor of their
    # dtype; every other pairing goes through promote: all must give PyTorch's dtype and values
    m, t = _pair(dtype, 0)
    if isinstance(other, str):
        om, ot = _pair(dtype if other == "same" else other, 1)
    else:
        om = ot = other
    for fn in ("mul", "add"):
        if dtype == "bool" and other is True and fn == "add":
            continue  # (bool + bool: PyTorch's add is logical or, as minigrad's; covered below)
        try:
            expected = getattr(torch, fn)(t, ot)
        except RuntimeError:
            continue
        _same(getattr(minigrad, fn)(m, om), expected)
        if isinstance(om, minigrad.Tensor):
            _same(getattr(minigrad, fn)(om, m), getattr(torch, fn)(ot, t))


def test_add_alpha_paths_unchanged():
    # alpha == 1 (an int) skips add's checks; 1.0, True and other values still take them
    m, t = _pair("float32", 2)
    om, ot = _pair("float32", 3)
    for alpha in (1, 1.0, 2, 0.5, -1):
        _same(minigrad.add(m, om, alpha=alpha), torch.add(t, ot, alpha=alpha))
    bm, bt = _pair("bool", 4)
    _same(minigrad.add(bm, bm, alpha=True), torch.add(bt, bt, alpha=True))
    im, it = _pair("int64", 5)
    with pytest.raises(RuntimeError, match="must not be a floating point"):
        minigrad.add(im, im, alpha=1.0)
    with pytest.raises(RuntimeError):
        torch.add(it, it, alpha=1.0)


def _grads(lib, make):
    """Gradients of sum(make(x, y) * w) for x, y requiring grad as ``make`` decides."""
    rng = np.random.default_rng(6)
    xv, yv, wv = (rng.standard_normal(s) for s in ((2, 3), (2, 3), (2, 3)))
    x = lib.tensor(xv, requires_grad=True)
    y = lib.tensor(yv, requires_grad=True)
    mask = lib.tensor(yv > 0)
    out = make(x, y, mask)
    (out * lib.tensor(wv)).sum().backward()
    return [None if g is None else g.numpy() for g in (x.grad, y.grad)]


@pytest.mark.parametrize(
    "make",
    [
        lambda x, y, mask: x * 2.5,
        lambda x, y, mask: 3 * x,
        lambda x, y, mask: x * mask,
        lambda x, y, mask: mask * x,
        lambda x, y, mask: x * y.detach(),
        lambda x, y, mask: x.detach() * y,
        lambda x, y, mask: x * y,
        lambda x, y, mask: x * x,
    ],
)
def test_mul_backward_per_needed_factor(make):
    for got, expected in zip(_grads(minigrad, make), _grads(torch, make)):
        if expected is None:
            assert got is None
        else:
            np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_mul_backward_one_factor_double_backward_and_complex():
    x = minigrad.tensor([1.0, -2.0, 3.0], dtype=minigrad.float64, requires_grad=True)
    (g,) = minigrad.autograd.grad((x * x.detach() * 3.0).sum(), x, create_graph=True)
    assert not g.requires_grad and g.tolist() == [3.0, -6.0, 9.0]  # as PyTorch's
    (g,) = minigrad.autograd.grad((x * 3.0 * x).sum(), x, create_graph=True)
    assert g.requires_grad and g.tolist() == [6.0, -12.0, 18.0]
    (gg,) = minigrad.autograd.grad(g.sum(), x)  # through the one-factor node x * 3.0
    assert gg.tolist() == [6.0] * 3
    c = minigrad.tensor([1 + 2j, 3 - 1j], requires_grad=True)
    k = minigrad.tensor([2 - 1j, 0.5j])
    (c * k).abs().sum().backward()
    ct = torch.tensor([1 + 2j, 3 - 1j], requires_grad=True)
    (ct * torch.tensor([2 - 1j, 0.5j])).abs().sum().backward()
    np.testing.assert_allclose(c.grad.numpy(), ct.grad.numpy(), rtol=1e-6)
    h = minigrad.tensor([1.0, 2.0], dtype=minigrad.float16, requires_grad=True)
    (h * 1.1).sum().backward()  # 16-bit with a number: computed in float32 as PyTorch's kernel
    ht = torch.tensor([1.0, 2.0], dtype=torch.float16, requires_grad=True)
    (ht * 1.1).sum().backward()
    _same(h.grad, ht.grad)
    _same(h.detach() * 1.1, ht.detach() * 1.1)


def test_number_only_saved_entries_release_as_before():
    x = minigrad.ones(3, requires_grad=True)
    y = x * 2.0
    assert y.grad_fn._saved_other == 2.0
    y.sum().backward(retain_graph=True)
    y.sum().backward()  # saved entries kept for a second pass
    assert x.grad.tolist() == [4.0] * 3
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()


def test_pair_layout_first_test_agrees_with_iterator_layout():
    # arrays laid out as the result (size-1 dims' strides included) with numbers or arrays
    base = np.arange(6.0).reshape(2, 3)
    odd = np.lib.stride_tricks.as_strided(np.arange(3.0), (3, 1), (8, 64))  # a size-1 stride
    arrays = [base, base.T, odd, odd.copy(), np.arange(3.0)[::2], np.array(1.0), np.ones((1, 3))]
    for a in arrays:
        for b in arrays + [2.0, 3, True]:
            for x, y in ((a, b), (b, a)):
                try:
                    out = np.multiply(x, y)
                except ValueError:
                    continue
                if not isinstance(out, np.ndarray):
                    continue
                fast = pair_layout(np, out.copy(), x, y)
                full = iterator_layout(np, out.copy(), x, y)
                assert fast.strides == full.strides, (x.__class__, y.__class__)
    t, tt = minigrad.arange(3.0).reshape(1, 3).t(), torch.arange(3.0).reshape(1, 3).t()
    for fn in (lambda v: v * 2.0, lambda v: v + 1, lambda v: v * v, lambda v: v + v.clone()):
        assert fn(t).stride() == fn(tt).stride()


class _N:
    """A stand-in node: the engine's sort reads only ``edges``."""

    def __init__(self, edges):
        self.edges = edges


def _reference_order(roots):
    """Reverse post-order of a recursive depth-first walk, edges in order (the engine's order)."""
    order, seen = [], set()

    def visit(node):
        seen.add(node)
        for edge in node.edges:
            if edge is not None and edge[0] not in seen:
                visit(edge[0])
        order.append(node)

    for root in roots:
        if root not in seen:
            visit(root)
    return order[::-1]


def test_topological_order_is_the_reverse_depth_first_post_order():
    rng = random.Random(0)
    for _ in range(300):
        nodes = []
        for _ in range(rng.randint(1, 25)):
            edges = tuple(
                (rng.choice(nodes), 0) if nodes and rng.random() > 0.2 else None
                for _ in range(rng.randint(0, 3))
            )
            nodes.append(_N(edges))
        roots = [rng.choice(nodes) for _ in range(rng.randint(1, 3))]
        order = engine._topological_order(roots)
        assert order == _reference_order(roots)
        position = {node: i for i, node in enumerate(order)}
        for node in order:  # each node before every node it sends gradient to
            for edge in node.edges:
                if edge is not None:
                    assert position[node] < position[edge[0]]


def test_topological_order_of_a_deep_chain_needs_no_recursion():
    x = minigrad.ones(2, requires_grad=True)
    y = x
    for _ in range(3000):  # (past the recursion limit)
        y = y * 1.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_hooks_run_in_pytorch_order_on_a_diamond():
    def run(lib):
        calls = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a, b = x * 2.0, x + 1.0
        c = a * b
        for name, t in (("a", a), ("b", b), ("c", c), ("x", x)):
            t.register_hook(lambda g, name=name: calls.append(name))
        (c + a).sum().backward()
        return calls, x.grad.tolist()

    assert run(minigrad) == run(torch)


def test_engine_hook_tests_start_with_the_first_registered_hook(monkeypatch):
    from minigrad.autograd import graph

    monkeypatch.setattr(graph, "hooked", False)  # as in a process that has registered none
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    ((x * 2.0) + 1.0).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0] and graph.hooked is False
    seen = []
    y = x * 3.0
    y.register_hook(lambda g: seen.append(g.tolist()) or g * 10)  # a node's pre-hook
    y.grad_fn.register_hook(lambda gi, go: seen.append("post"))
    assert graph.hooked is True
    x.grad = None
    y.sum().backward()
    assert seen == [[1.0, 1.0], "post"] and x.grad.tolist() == [30.0, 30.0]
