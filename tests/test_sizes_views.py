"""PyTorch's checks on sizes, views and arguments: non-integer sizes raise TypeError, views
never silently copy, shape ops return new tensor objects, bad arguments name themselves, and
max-like reductions of empty tensors give empty results."""

import numpy as np
import pytest

import minigrad
from minigrad.testing import fake_device  # noqa: F401 - the fakegpu device

try:
    import torch
except ImportError:  # the comparisons skip; minigrad's own checks still run
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def outcome(fn):
    """``("ok", shape, dtype name)`` or ``(exception type name,)`` of ``fn()``."""
    try:
        r = fn()
    except Exception as e:
        return (type(e).__name__,)
    if isinstance(r, tuple) and hasattr(r, "values"):
        r = r.values
    return ("ok", tuple(r.shape), str(r.dtype).split(".")[-1])


# Each case runs against both libraries: `m` is minigrad or torch, `t` a (2, 3) float tensor.
SIZE_CASES = {
    "zeros(2.5)": lambda m, t: m.zeros(2.5),
    "zeros((2.5,))": lambda m, t: m.zeros((2.5,)),
    "zeros([2, 2.0])": lambda m, t: m.zeros([2, 2.0]),
    "zeros(2, (3,))": lambda m, t: m.zeros(2, (3,)),
    "zeros(None)": lambda m, t: m.zeros(None),
    "zeros(2, None)": lambda m, t: m.zeros(2, None),
    "zeros(True)": lambda m, t: m.zeros(True),
    "zeros(np.float64(2))": lambda m, t: m.zeros(np.float64(2)),
    "zeros(np.int64(2))": lambda m, t: m.zeros(np.int64(2)),
    "zeros(int tensor)": lambda m, t: m.zeros(m.tensor(2)),
    "zeros(float tensor)": lambda m, t: m.zeros(m.tensor(2.0)),
    "zeros(())": lambda m, t: m.zeros(()),
    "zeros(-1)": lambda m, t: m.zeros(-1),
    "ones('3')": lambda m, t: m.ones("3"),
    "empty(2.0, 3)": lambda m, t: m.empty(2.0, 3),
    "full((2.5,), 1.0)": lambda m, t: m.full((2.5,), 1.0),
    "randn(2.0)": lambda m, t: m.randn(2.0),
    "rand(2, 1.5)": lambda m, t: m.rand(2, 1.5),
    "randint(0, 3, (2.5,))": lambda m, t: m.randint(0, 3, (2.5,)),
    "randperm(2.5)": lambda m, t: m.randperm(2.5),
    "eye(2.5)": lambda m, t: m.eye(2.5),
    "linspace(0, 1, 2.5)": lambda m, t: m.linspace(0, 1, 2.5),
    "new_zeros((2.5,))": lambda m, t: t.new_zeros((2.5,)),
    "new_zeros(2, 3)": lambda m, t: t.new_zeros(2, 3),
    "new_ones([2, 3])": lambda m, t: t.new_ones([2, 3]),
    "new_empty(2.0)": lambda m, t: t.new_empty(2.0),
    "new_full((2, 1.5), 1.0)": lambda m, t: t.new_full((2, 1.5), 1.0),
    "nn.Linear(2.5, 3)": lambda m, t: m.nn.Linear(2.5, 3).weight,
    "nn.Linear(2, 3.0)": lambda m, t: m.nn.Linear(2, 3.0).weight,
    "reshape(2.5, 2)": lambda m, t: t.reshape(2.5, 2),
    "reshape(True, 6)": lambda m, t: t.reshape(True, 6),
    "reshape(-2, 3)": lambda m, t: t.reshape(-2, 3),
    "reshape(-1, -1)": lambda m, t: t.reshape(-1, -1),
    "reshape(-1, 4)": lambda m, t: t.reshape(-1, 4),
    "reshape(3, -1)": lambda m, t: t.reshape(3, -1),
    "reshape((6,))": lambda m, t: t.reshape((6,)),
    "reshape(t.shape)": lambda m, t: t.reshape(t.shape),
    "view(2.0, 3)": lambda m, t: t.view(2.0, 3),
    "view(-1)": lambda m, t: t.view(-1),
    "expand(2.0, 3)": lambda m, t: t.expand(2.0, 3),
    "expand(-2, 3)": lambda m, t: t.expand(-2, 3),
    "expand(-1, 2, 3)": lambda m, t: t.expand(-1, 2, 3),
    "expand(4, -1, -1)": lambda m, t: t.expand(4, -1, -1),
    "broadcast_to((2.0, 3))": lambda m, t: t.broadcast_to((2.0, 3)),
    "repeat(2.0, 1)": lambda m, t: t.repeat(2.0, 1),
    "repeat(-1, 1)": lambda m, t: t.repeat(-1, 1),
    "tile((2.0,))": lambda m, t: t.tile((2.0,)),
    "permute(0.0, 1)": lambda m, t: t.permute(0.0, 1),
    "unflatten(1, (1.5, 2))": lambda m, t: t.unflatten(1, (1.5, 2)),
    "cat(t)": lambda m, t: m.cat(t),
    "stack(t)": lambda m, t: m.stack(t),
    "cat(None)": lambda m, t: m.cat(None),
    "cat([t, None])": lambda m, t: m.cat([t, None]),
    "cat([t, list])": lambda m, t: m.cat([t, [1.0, 2.0, 3.0]]),
    "cat([t, 1.0])": lambda m, t: m.cat([t, 1.0]),
    "stack([t, None])": lambda m, t: m.stack([t, None]),
    "cat((t, t))": lambda m, t: m.cat((t, t)),
    "pad(t, (1.5, 1))": lambda m, t: m.nn.functional.pad(t, (1.5, 1)),
    "split(1.5, 1)": lambda m, t: t.split(1.5, 1)[0],
    "split([1, 2.0], 1)": lambda m, t: t.split([1, 2.0], 1)[0],
    "chunk(2.0, 1)": lambda m, t: t.chunk(2.0, 1)[0],
    "sum(1.0)": lambda m, t: t.sum(1.0),
    "nn.Embedding(2.5, 3)": lambda m, t: m.nn.Embedding(2.5, 3).weight,
    "stack([t])": lambda m, t: m.stack([t]),
}


@needs_torch
@pytest.mark.parametrize("case", sorted(SIZE_CASES))
def test_sizes_and_sequences_match_pytorch(case):
    fn = SIZE_CASES[case]
    expected = outcome(lambda: fn(torch, torch.zeros(2, 3)))
    assert outcome(lambda: fn(minigrad, minigrad.zeros(2, 3))) == expected


@needs_torch
def test_factories_without_a_size_give_a_0d_tensor_on_purpose():
    # Differs from PyTorch on purpose (factory_size's docstring): torch.zeros() raises, but
    # minigrad keeps randn(*t.shape) working for a 0-d t.
    with pytest.raises(TypeError):
        torch.zeros()
    for fn in (minigrad.zeros, minigrad.ones, minigrad.empty, minigrad.randn, minigrad.rand):
        assert fn().shape == ()
    assert minigrad.randn(*minigrad.tensor(1.0).shape).shape == ()


def test_size_errors_name_the_op_argument_and_position():
    with pytest.raises(TypeError, match=r"zeros\(\): argument 'size' .*tuple of ints, not float"):
        minigrad.zeros(2.5)
    with pytest.raises(TypeError, match=r"reshape\(\): argument 'shape' .* float at pos 0"):
        minigrad.zeros(2, 3).reshape(2.5, 2)
    with pytest.raises(TypeError, match=r"empty\(\): argument 'size' .* float at pos 1"):
        minigrad.nn.Linear(2.5, 3)
    with pytest.raises(RuntimeError, match=r"invalid shape dimension -2 at index 0"):
        minigrad.zeros(2, 3).reshape(-2, 3)
    with pytest.raises(TypeError, match=r"cat\(\): argument 'tensors' .* not Tensor"):
        minigrad.cat(minigrad.zeros(2, 3))
    with pytest.raises(TypeError, match=r"cat\(\): expected Tensor as element 1 .* NoneType"):
        minigrad.cat([minigrad.zeros(2), None])


# -- views -----------------------------------------------------------------------------------


@needs_torch
def test_view_of_a_transposed_tensor_raises_and_points_to_reshape():
    x = minigrad.zeros(2, 3)
    with pytest.raises(RuntimeError, match=r"view size is not compatible .*\.reshape\(\.\.\.\)"):
        x.t().view(6)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        torch.zeros(2, 3).t().view(6)
    assert x.t().view(3, 2).shape == (3, 2)  # no dim spans two subspaces: a view is fine
    y = x.t().reshape(6)  # reshape copies instead, and is not a view
    y[0] = 5.0
    assert x.tolist() == [[0.0] * 3] * 2


@needs_torch
@pytest.mark.parametrize(
    "shape, transpose, new_shape",
    [
        ((2, 3), True, (6,)),
        ((2, 3), True, (3, 2)),
        ((2, 3, 4), False, (6, 4)),
        ((2, 3, 4), True, (2, 12)),
        ((2, 3, 4), True, (4, 6)),
        ((4, 1, 3), True, (3, 4)),
        ((2, 1, 3), True, (3, 1, 2, 1)),
        ((0, 3), True, (3, 0)),
        ((), False, (1, 1)),
    ],
)
def test_view_succeeds_exactly_where_pytorch_can_and_writes_through(shape, transpose, new_shape):
    base_m = minigrad.zeros(shape)
    base_t = torch.zeros(shape)
    src_m, src_t = base_m, base_t
    if transpose:
        src_m, src_t = base_m.transpose(0, -1), base_t.transpose(0, -1)
    expected = outcome(lambda: src_t.view(new_shape))
    assert outcome(lambda: src_m.view(new_shape)) == expected
    if expected[0] == "ok" and base_m.numel():
        v = src_m.view(new_shape)
        v.fill_(1.0)  # a view: the write reaches the base
        assert base_m.sum().item() == base_m.numel()


@needs_torch
@pytest.mark.parametrize(
    "name, fn",
    [
        ("view", lambda x: x.view(2, 3)),
        ("view(-1) of 1-D", lambda x: x.reshape(-1).view(-1)),
        ("reshape", lambda x: x.reshape(2, 3)),
        ("expand", lambda x: x.expand(2, 3)),
        ("broadcast_to", lambda x: x.broadcast_to((2, 3))),
        ("view_as", lambda x: x.view_as(x)),
        ("reshape_as", lambda x: x.reshape_as(x)),
        ("expand_as", lambda x: x.expand_as(x)),
        ("squeeze", lambda x: x.squeeze()),
        ("permute", lambda x: x.permute(0, 1)),
        ("unflatten", lambda x: x.unflatten(1, (3,))),
        ("repeat", lambda x: x.repeat(1, 1)),
        ("tile", lambda x: x.tile((1, 1))),
        ("flip", lambda x: x.flip(())),
        ("narrow", lambda x: x.narrow(0, 0, 2)),
        ("t of 1-D", lambda x: x.reshape(-1).t()),
    ],
)
def test_shape_ops_to_the_same_shape_return_a_new_tensor(name, fn):
    x = minigrad.zeros(2, 3)
    tx = torch.zeros(2, 3)
    y = fn(x)
    assert (y is x) == (fn(tx) is tx) is False
    y.requires_grad_()  # a new object: x is not touched
    assert not x.requires_grad


@needs_torch
def test_flatten_and_contiguous_return_the_input_itself_as_pytorch():
    # PyTorch returns the input object when nothing is flattened or copied; so does minigrad.
    x, tx = minigrad.zeros(3), torch.zeros(3)
    assert (x.flatten() is x) and (tx.flatten() is tx)
    m, tm = minigrad.zeros(2, 3), torch.zeros(2, 3)
    assert (m.flatten(1, 1) is m) and (tm.flatten(1, 1) is tm)
    assert (m.contiguous() is m) and (tm.contiguous() is tm)
    assert m.flatten() is not m


def test_repeat_and_flip_copy_like_pytorch():
    x = minigrad.zeros(2, 3)
    for y in (x.repeat(1, 1), x.flip(0), x.flip(()), minigrad.zeros(1).repeat(3)):
        y.fill_(7.0)
    assert x.sum().item() == 0.0


def test_views_share_the_version_counter_with_their_base():
    x = minigrad.ones(2, 3, requires_grad=True)
    h = x * 2
    v = h.view(6)
    y = (h * h).sum()  # saves h
    with minigrad.no_grad():
        v.mul_(3)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_reshape_that_copies_is_not_a_view_of_its_input():
    h = minigrad.ones(2, 3, requires_grad=True) * 2
    r = h.t().reshape(6)
    assert r._base is None and h.t()._base is h
    v = h.view(6)
    assert v._base is h


# -- argument errors -------------------------------------------------------------------------


@needs_torch
def test_grad_with_non_tensor_inputs_names_them():
    x = minigrad.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"grad\(\): all inputs have to be Tensors.*float"):
        minigrad.autograd.grad((x * 2).sum(), [3.0])
    with pytest.raises(RuntimeError, match=r"all inputs have to be Tensors"):
        torch.autograd.grad((torch.ones(2, requires_grad=True) * 2).sum(), [3.0])
    with pytest.raises(RuntimeError, match=r"backward\(\): all inputs have to be Tensors"):
        (x * 2).sum().backward(inputs=[x, "x"])


@needs_torch
def test_sign_of_bool_is_bool_as_pytorch():
    for m in (minigrad, torch):
        b = m.tensor([True, False])
        s = m.sign(b)
        assert s.tolist() == [True, False] and str(s.dtype).endswith("bool")
        assert b.sign_().tolist() == [True, False]


@needs_torch
@pytest.mark.parametrize(
    "a, b",
    [
        (np.float32(1), np.float32(2)),
        (np.float64(1), np.float64(2)),
        (np.int32(1), 2),
        (1, 2),
        (1.5, 2),
        (True, False),
    ],
)
def test_binary_ops_of_two_numbers_give_a_0d_tensor_as_pytorch(a, b):
    for op in ("add", "mul", "sub"):
        if op == "sub" and isinstance(a, bool):
            continue
        got, want = getattr(minigrad, op)(a, b), getattr(torch, op)(a, b)
        assert got.shape == () and got.item() == want.item()
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]


def test_binary_op_with_a_non_number_names_what_is_valid():
    with pytest.raises(TypeError, match="expected a Tensor or a"):
        minigrad.add("a", 1)
    with pytest.raises(TypeError, match="expected a Tensor or a"):
        minigrad.add(minigrad.ones(2), None)


@pytest.mark.parametrize("op", ["gather", "scatter_add", "index_select"])
def test_index_on_another_device_is_refused(op):
    x = minigrad.zeros(2, 3)
    idx = minigrad.zeros(2, 3, dtype=minigrad.int64, device="fakegpu")
    with pytest.raises(RuntimeError, match=rf"{op}\(\): expected all tensors to be on the same"):
        if op == "gather":
            x.gather(1, idx)
        elif op == "scatter_add":
            x.scatter_add(1, idx, minigrad.ones(2, 3))
        else:
            x.index_select(1, idx[0])


# -- empty reductions and narrow ---------------------------------------------------------------

EMPTY_CASES = {
    "max(1)": lambda e: e.max(1),
    "max(1, keepdim)": lambda e: e.max(1, keepdim=True),
    "min(-1)": lambda e: e.min(-1),
    "max(0)": lambda e: e.max(0),
    "max()": lambda e: e.max(),
    "amax(1)": lambda e: e.amax(1),
    "amin(1, keepdim)": lambda e: e.amin(1, keepdim=True),
    "amax(0)": lambda e: e.amax(0),
    "amax()": lambda e: e.amax(),
    "argmax(1)": lambda e: e.argmax(1),
    "argmin(1, keepdim)": lambda e: e.argmin(1, keepdim=True),
    "argmax(0)": lambda e: e.argmax(0),
    "argmax()": lambda e: e.argmax(),
}


@needs_torch
@pytest.mark.parametrize("case", sorted(EMPTY_CASES))
def test_max_like_reductions_of_empty_tensors_match_pytorch(case):
    fn = EMPTY_CASES[case]
    assert outcome(lambda: fn(minigrad.zeros(0, 3))) == outcome(lambda: fn(torch.zeros(0, 3)))


def test_empty_max_along_a_non_empty_dim_is_differentiable():
    x = minigrad.zeros(0, 3, requires_grad=True)
    x.amax(1).sum().backward()
    assert x.grad.shape == (0, 3)
    values, indices = x.max(1)
    assert values.shape == (0,) and indices.dtype == minigrad.int64


NARROW_CASES = [
    (1, 1, 2),
    (-1, -2, 2),
    (0, 2, 0),
    (1, 2, 2),
    (1, -4, 1),
    (1, 1, -1),
    (1, 3, 0),
    (2, 0, 1),
    (1, 1.0, 1),
]


@needs_torch
@pytest.mark.parametrize("dim, start, length", NARROW_CASES)
def test_narrow_matches_pytorch(dim, start, length):
    t = torch.arange(6.0).reshape(2, 3)
    x = minigrad.arange(6.0).reshape(2, 3)
    expected = outcome(lambda: t.narrow(dim, start, length))
    assert outcome(lambda: x.narrow(dim, start, length)) == expected
    if expected[0] == "ok":
        assert x.narrow(dim, start, length).tolist() == t.narrow(dim, start, length).tolist()


def test_narrow_is_a_view_and_accepts_an_integer_tensor_start():
    x = minigrad.zeros(2, 4)
    x.narrow(1, minigrad.tensor(1), 2).fill_(1.0)
    assert x.tolist() == [[0, 1, 1, 0], [0, 1, 1, 0]]
    with pytest.raises(RuntimeError, match="0-dim"):
        minigrad.tensor(1.0).narrow(0, 0, 1)


# -- in-place changes through views (CopySlices) ----------------------------------------------


def _scenario(m, name):
    """One in-place-through-a-view program, written once for minigrad and torch; returns the
    gradients it produces and the final values."""
    x = m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=m.float64, requires_grad=True)
    w = m.tensor([2.0, 3.0], dtype=m.float64, requires_grad=True)
    weights = m.arange(6.0, dtype=m.float64).reshape(2, 3) + 1
    h = x * x
    if name == "mul_ column":
        v = h[:, 1]
        v.mul_(w)
        out = (h * weights).sum() + (v * 10).sum()
    elif name == "view of a transposed view":
        v = h.t()[1:]
        v.add_(w.unsqueeze(1) * 2)
        out = (h.view(-1) * weights.view(-1)).sum() + (v * v).sum()
    elif name == "base needs no grad":
        h = m.zeros(2, 3, dtype=m.float64)
        h[1, 1:].addcmul_(w, w)
        out = (h * weights).sum()
    elif name == "sibling view sees the change":
        s1, s2 = h[0], h[:, 0]
        s2.mul_(3)
        out = (s1 * weights[1]).sum()
    elif name == "in-place on the base, then a view":
        v = h[1]
        h.mul_(w.sum())
        out = (v * v).sum()
    elif name == "two in-place ops on views":
        h[0].sub_(w[0])
        h.narrow(1, 1, 2).div_(w.unsqueeze(0) + 1)
        out = (h * h * weights).sum()
    elif name == "copy_ and fill_":
        h[1].copy_(w[1] * x[0])
        h[:, 2].fill_(0.5)
        out = (h * weights).sum()
    else:
        raise AssertionError(name)
    out.backward()
    return [None if g is None else g.tolist() for g in (x.grad, w.grad)] + [
        h.detach().tolist(),
        h.requires_grad,
    ]


SCENARIOS = [
    "mul_ column",
    "view of a transposed view",
    "base needs no grad",
    "sibling view sees the change",
    "in-place on the base, then a view",
    "two in-place ops on views",
    "copy_ and fill_",
]


@needs_torch
@pytest.mark.parametrize("name", SCENARIOS)
def test_inplace_on_a_view_rebases_the_base_as_pytorch(name):
    got, want = _scenario(minigrad, name), _scenario(torch, name)
    for a, b in zip(got, want):
        if isinstance(a, list):
            np.testing.assert_allclose(np.array(a, dtype=float), np.array(b, dtype=float))
        else:
            assert a == b


@needs_torch
def test_inplace_on_a_view_with_create_graph_gives_second_derivatives():
    results = []
    for m in (minigrad, torch):
        x = m.tensor([1.0, 2.0, 3.0], dtype=m.float64, requires_grad=True)
        h = x * 1
        h[1:].mul_(x[:2] * x[1:])  # h = [x0, x1 * x0 * x1, x2 * x1 * x2]
        (g,) = m.autograd.grad(h.sum(), x, create_graph=True)
        (gg,) = m.autograd.grad((g * g).sum(), x)
        results.append((g.tolist(), gg.tolist()))
    np.testing.assert_allclose(results[0], results[1])


def test_inplace_on_views_refused_as_pytorch_refuses():
    x = minigrad.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        x[0].mul_(2)
    with minigrad.no_grad():
        x[0].mul_(2)  # not recorded: fine
    h = x * 1
    with minigrad.no_grad():
        v = h[:2]
    with pytest.raises(RuntimeError, match="created in no_grad mode"):
        v.add_(1)
    with minigrad.no_grad():
        v.add_(1)  # both under no_grad: fine
    assert h.tolist() == [3.0, 2.0, 1.0]


def test_a_stale_view_takes_its_base_s_new_history():
    b = minigrad.zeros(3)
    v = b[1:]
    w = minigrad.ones(3, requires_grad=True)
    b.add_(w)  # b now requires grad: so does the view taken before the change
    assert v.requires_grad and v.grad_fn is not None
    (v * 2).sum().backward()
    assert w.grad.tolist() == [0.0, 2.0, 2.0]


def test_the_graph_of_an_inplace_on_a_view_is_freed_by_reference_counting():
    import gc
    import weakref

    gc.disable()
    try:
        x = minigrad.ones(2, 3, requires_grad=True)
        h = x * 2
        h[0].mul_(x[1])
        ref = weakref.ref(h.grad_fn)
        h.sum().backward()
        del h
        assert ref() is None
    finally:
        gc.enable()


@needs_torch
def test_setitem_in_the_graph_is_recorded_as_pytorch():
    results = []
    for m in (minigrad, torch):
        x = m.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=m.float64, requires_grad=True)
        w = m.tensor([5.0, 6.0], dtype=m.float64, requires_grad=True)
        h = x * x
        h[0] = w * 2
        h[1, 1] = 7.0
        (h * m.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=m.float64)).sum().backward()
        results.append((h.tolist(), x.grad.tolist(), w.grad.tolist()))
    assert results[0] == results[1]


@needs_torch
def test_setitem_with_index_tensors_and_masks_in_the_graph_as_pytorch():
    """``y[mask] = v``, ``y[rows, cols] = v``, ``y[:, idx] = v`` on tensors in the graph:
    values and the gradients of both the target and the assigned values as PyTorch's."""
    rng = np.random.default_rng(0)
    X, V = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))

    def run(m):
        x, v = m.tensor(X, requires_grad=True), m.tensor(V, requires_grad=True)
        outs = [x.clone(), x * 1, x * 1, x * 1, x * 1]
        mask = outs[0][:, 0] > 0
        outs[0][mask] = v[: int(mask.sum())] * 2
        outs[1][m.tensor([0, 2]), m.tensor([1, 3])] = v[0, :2]
        outs[2][:, m.tensor([4, 0])] = v[:, 1:2]  # broadcast over the selected columns
        outs[3][outs[3] > 0.5] = 0.0
        outs[4][1, m.tensor([0, 1])] = v[2, 3]
        sum((o * m.tensor(V).cos()).sum() for o in outs).backward()
        return [o.detach().numpy() for o in outs] + [x.grad.numpy(), v.grad.numpy()]

    for got, want in zip(run(minigrad), run(torch)):
        np.testing.assert_allclose(got, want, atol=1e-12)
    h = minigrad.ones(3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="cannot be broadcast to indexing result"):
        h[minigrad.tensor([0, 2])] = minigrad.ones(3)
    with minigrad.no_grad():
        h[minigrad.tensor([0, 2])] = 1.0
    assert h.tolist() == [1.0, 2.0, 1.0]


@pytest.mark.parametrize("device", ["cpu", "fakegpu"])
def test_in_place_on_an_expanded_view_as_pytorch(device):
    x = minigrad.zeros(3, device=device)
    column = (slice(None), 0)  # a column of an expanded row: the same element twice
    for change in (lambda e: e.add_(1), lambda e: e.mul_(2.0), lambda e: e.__setitem__(column, 1)):
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            change(x.expand(2, 3))
    x.expand(1, 3).add_(1)  # nothing repeated: a writable view, as in PyTorch
    x.expand(3).add_(1)
    assert x.tolist() == [2.0, 2.0, 2.0]
    x.expand(2, 3)[0] = 3.0  # one row repeats nothing: written through, as in PyTorch
    x.expand(2, 3)[1, 2] = 4.0
    x.expand(2, 3)[1][:1].sub_(1)
    assert x.tolist() == [2.0, 3.0, 4.0]
    x.expand(2, 3).fill_(5.0)  # every copy of an element gets the same value: allowed
    assert x.tolist() == [5.0, 5.0, 5.0]


def test_view_as_a_dtype_reads_the_same_bytes():
    assert minigrad.ones(2).view(minigrad.int32).tolist() == [1065353216, 1065353216]


@needs_torch
def test_inplace_on_unbind_outputs_is_recorded_on_purpose():
    # Differs from PyTorch on purpose (see _record_copy_slices): PyTorch refuses in-place ops
    # on the outputs of unbind/split/chunk; minigrad records them like any view.
    x = minigrad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    h = x * 1
    first, _ = h.unbind(0)
    first.mul_(3)
    (h * h).sum().backward()
    tx = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    th = tx * 1
    th[0].mul_(3)  # what unbind's first output is: a view of row 0
    (th * th).sum().backward()
    assert x.grad.tolist() == tx.grad.tolist() and h.tolist() == th.tolist()
    with pytest.raises(RuntimeError, match="is a view and is being modified inplace"):
        torch.ones(2, 2, requires_grad=True).mul(1).unbind(0)[0].mul_(3)


def test_a_view_s_grad_fn_is_refreshed_when_next_used():
    # Documented in refresh_view: reading .grad_fn right after a sibling view changed shows
    # the old node; any use (requires_grad, an op, backward) brings it up to date.
    x = minigrad.ones(2, 2, requires_grad=True)
    h = x * 1
    row, col = h[0], h[:, 0]
    old = row.grad_fn
    col.mul_(2)
    assert row.grad_fn is old
    assert row.requires_grad and row.grad_fn is not old


@needs_torch
@pytest.mark.parametrize("how", ["split", "chunk", "unbind(1)"])
def test_inplace_on_split_pieces_matches_the_same_change_through_a_slice(how):
    results = []
    for m in (minigrad, torch):
        x = m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=m.float64, requires_grad=True)
        w = m.tensor([2.0, 3.0], dtype=m.float64, requires_grad=True)
        h = x * x
        if m is torch:  # PyTorch refuses this on split outputs: the same change through a slice
            piece = {"split": h[:, 1:3], "chunk": h[:, 2:3], "unbind(1)": h[:, 1]}[how]
        else:
            if how == "split":
                piece = h.split([1, 2], 1)[1]
            elif how == "chunk":
                piece = h.chunk(2, 1)[1]
            else:
                piece = h.unbind(1)[1]
        piece.mul_(w if how == "unbind(1)" else w.unsqueeze(1))
        (h * h).sum().backward()
        results.append((h.tolist(), x.grad.tolist(), w.grad.tolist()))
    np.testing.assert_allclose(np.array(results[0][0]), np.array(results[1][0]))
    np.testing.assert_allclose(np.array(results[0][1]), np.array(results[1][1]))
    np.testing.assert_allclose(np.array(results[0][2]), np.array(results[1][2]))


@needs_torch
def test_randint_high_and_size_as_pytorch():
    for m in (minigrad, torch):
        a = m.randint(10, (2, 3))
        b = m.randint(5, 10, (4,))
        assert tuple(a.shape) == (2, 3) and 0 <= int(a.min()) and int(a.max()) < 10
        assert tuple(b.shape) == (4,) and 5 <= int(b.min()) and int(b.max()) < 10
        assert str(a.dtype).endswith("int64")
    with pytest.raises(TypeError):
        minigrad.randint(0, 3, (2.5,))


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_factories_take_size_as_a_keyword(name):
    make = getattr(minigrad, name)
    assert make(size=(2, 3)).shape == make(2, 3).shape == make((2, 3)).shape == (2, 3)
    with pytest.raises(TypeError, match="multiple values for argument 'size'"):
        make(2, size=(3,))


def test_shapes_are_sizes_as_torch_size():
    torch = pytest.importorskip("torch")
    for lib in (minigrad, torch):
        x = lib.zeros(2, 3, 4)
        prefix = lib.__name__
        assert type(x.shape) is lib.Size and type(x.size()) is lib.Size
        assert repr(x.shape) == str(x.shape) == f"{prefix}.Size([2, 3, 4])"
        assert x.shape == (2, 3, 4) and hash(x.shape) == hash((2, 3, 4))
        assert type(x.shape[1:]) is lib.Size and x.shape[1:] == (3, 4) and x.shape[-1] == 4
        assert type(x.shape + (5,)) is lib.Size and type(x.shape * 2) is lib.Size
        assert x.shape.numel() == 24 and lib.Size().numel() == 1 and lib.Size([]) == ()
        assert lib.Tensor(x.shape).shape == (2, 3, 4) and lib.Tensor((2, 3)).tolist() == [2, 3]
        with pytest.raises(TypeError):
            lib.Size([2.5])
        with pytest.raises(TypeError):
            x.shape + [5]


@needs_torch
@pytest.mark.parametrize(
    "source, destination",
    [(1, 0), (-1, 0), ((0, 1), (2, 3)), ([3, 0], [0, -1]), ((0, 1), (0,)), ((0, 0), (1, 2)),
     ((0, 1), (1, 1)), ((5,), (0,)), ((), ())],
)  # fmt: skip
def test_movedim_with_several_dims_as_torch(source, destination):
    """``movedim(x, (a, b), (c, d))`` places each source dim at its destination, the rest in
    order; mismatched lengths, repeated and out-of-range dims raise as in PyTorch."""
    data = np.arange(120.0).reshape(2, 3, 4, 5)
    got = outcome(lambda: minigrad.tensor(data).movedim(source, destination))
    assert got == outcome(lambda: torch.tensor(data).movedim(source, destination))
    if got[0] == "ok":
        m = minigrad.moveaxis(minigrad.tensor(data), source, destination)
        np.testing.assert_array_equal(
            m.numpy(), torch.movedim(torch.tensor(data), source, destination).numpy()
        )


@needs_torch
def test_split_keyword_names_as_torch():
    """``Tensor.split(split_size=...)`` but ``torch.split(t, split_size_or_sections=...)``."""
    for m in (minigrad, torch):
        x = m.arange(6.0)
        assert [t.tolist() for t in x.split(split_size=[2, 4], dim=0)] == [[0, 1], [2, 3, 4, 5]]
        assert [len(t) for t in m.split(x, split_size_or_sections=4)] == [4, 2]
        assert [len(t) for t in x.unsafe_split(split_size=3)] == [3, 3]
        with pytest.raises(TypeError):
            x.split(split_size_or_sections=2)


def test_is_view_as_pytorch():
    """``Tensor._is_view()``: PyTorch's private method that graph tools (torchviz) call."""
    x = minigrad.randn(3, 4)
    views = [x[1:], x.view(12), x.t(), x.reshape(4, 3), x.unsqueeze(0)]
    others = [x, x.clone(), x + 1, x.detach()]  # detach shares storage but is no view
    assert [v._is_view() for v in views] == [True] * 5
    assert [c._is_view() for c in others] == [False] * 4
    torch = pytest.importorskip("torch")
    t = torch.randn(3, 4)
    assert [v._is_view() for v in (t[1:], t.view(12), t.t(), t.reshape(4, 3), t.unsqueeze(0))]
    assert not any(c._is_view() for c in (t.detach(), t.clone(), t + 1))
