"""Focused tests for what the seventeenth round of programs (tests/test_programs17.py) found
different from PyTorch."""

import pytest

import minigrad

torch = pytest.importorskip("torch")


def lib_tensor(like, value):
    """A 0-d tensor of ``like``'s library."""
    return like.new_tensor(value)


def _outcome(lib, change):
    """The base row after ``change(row.expand(4, 3))``, or the error's type and message."""
    row = lib.arange(3.0).reshape(1, 3)
    try:
        change(row.expand(4, 3))
    except RuntimeError as e:
        return ["RuntimeError", str(e)]
    return row.tolist()


@pytest.mark.parametrize(
    "change",
    [
        lambda e: e.__setitem__((0, 0), 5.0),  # one element: allowed, the shared one changes
        lambda e: e.__setitem__(0, 5.0),  # one row: three distinct elements
        lambda e: e.__setitem__((slice(0, 1),), 5.0),
        lambda e: e.__setitem__((slice(None), 0), 5.0),  # a column: one element four times
        lambda e: e[1].add_(1),
        lambda e: e[1].exp_(),
        lambda e: e[:, 2].mul_(2),
        lambda e: e.fill_(1.0),  # the same value into every copy: allowed
        lambda e: e.zero_(),
        lambda e: e.fill_(lib_tensor(e, 2.0)),
        lambda e: e[0].copy_(e[0] * 3),
    ],
)
def test_writes_into_an_expanded_tensor_as_pytorch(change):
    # PyTorch refuses a write only where the written region repeats an element
    ours, theirs = _outcome(minigrad, change), _outcome(torch, change)
    if theirs[0] == "RuntimeError":
        assert ours == theirs
    else:
        assert ours[0] == pytest.approx(theirs[0], rel=1e-6)


@pytest.mark.parametrize(
    "target", [lambda lib: lib.zeros(5, 4), lambda lib: lib.zeros(2, 5), lambda lib: lib.zeros(5)]
)
def test_nll_loss_checks_the_target_shape_before_its_dtype(target):
    # log_softmax outputs with one-hot float targets: PyTorch's shape words, not the dtype's
    def error(lib, shape):
        try:
            lib.nn.functional.nll_loss(lib.zeros(*shape), target(lib))
        except (RuntimeError, ValueError) as e:
            return type(e), str(e)

    for shape in ((5, 4), (2, 4, 3)):
        ours, theirs = error(minigrad, shape), error(torch, shape)
        assert ours[0] is theirs[0] and theirs[1].rstrip(".").lower() in ours[1].lower()


def _call(lib, fn):
    try:
        return fn(lib).tolist()
    except (RuntimeError, IndexError) as e:
        return str(e)


def _set_items(x, i, v):
    y = x.clone()
    y[i] = v
    return y


@pytest.mark.parametrize(
    "write",
    [
        lambda x, i, v: x.index_put((i,), v),
        lambda x, i, v: x.index_copy(0, i, v),
        _set_items,
    ],
)
def test_every_write_of_a_repeated_index_gets_its_places_gradient(write):
    """The last write wins in the forward, yet PyTorch gives each write (overwritten or not)
    the gradient of the place it was written to."""
    torch = pytest.importorskip("torch")
    got = []
    for m in (minigrad, torch):
        x = m.zeros(3, dtype=m.float64, requires_grad=True)
        v = m.tensor([1.0, 2.0, 5.0], dtype=m.float64, requires_grad=True)
        y = write(x, m.tensor([0, 0, 2]), v)
        (y * m.tensor([10.0, 20.0, 30.0], dtype=m.float64)).sum().backward()
        got.append((y.tolist(), v.grad.tolist(), x.grad.tolist()))
    assert got[0] == got[1] == ([2.0, 0.0, 5.0], [10.0, 10.0, 30.0], [0.0, 20.0, 0.0])


@pytest.mark.parametrize(
    "fn",
    [
        # a repeated index without accumulate: the last write wins (not the sum of the writes)
        lambda m: m.zeros(3).index_put_((m.tensor([0, 0, 1, 1, 0]),), m.arange(1.0, 6.0)),
        lambda m: m.zeros(3, 2).index_copy(1, m.tensor([1, 1]), m.arange(6.0).reshape(3, 2)),
        lambda m: m.zeros(4).index_put((m.tensor([2, 2]),), m.tensor(7.0)),
        # scatter and scatter_reduce take int32 indices, as gather does
        lambda m: m.zeros(3, 4).scatter(1, m.tensor([[1], [0], [3]], dtype=m.int32), 1.0),
        lambda m: m.zeros(2, 3).scatter_reduce(
            1, m.tensor([[0, 0], [2, 1]], dtype=m.int32), m.ones(2, 2), "sum"
        ),
        # PyTorch's words: gather's dims, index dtypes, scatter_reduce's reduce names,
        # masked_fill's value, index tensors that do not broadcast
        lambda m: m.gather(m.zeros(3, 4), 1, m.tensor([0, 1])),
        lambda m: m.gather(m.zeros(3, 4), 1, m.zeros(3, 1)),
        lambda m: m.zeros(3, 4).scatter(1, m.zeros(3, 1), 1.0),
        lambda m: m.zeros(2, 2).scatter_reduce(1, m.tensor([[0]]), m.ones(1, 1), "avg"),
        lambda m: m.zeros(2, 2).masked_fill(m.tensor([True, False]), m.ones(2)),
        lambda m: m.zeros(5, 3)[[0, 1], [0, 1, 2]],
        lambda m: m.zeros(5, 3)[m.tensor([[0], [1]]), m.tensor([[0, 1, 2]] * 3)],
    ],
)
def test_index_writes_and_index_errors_as_pytorch(fn):
    ours, theirs = _call(minigrad, fn), _call(torch, fn)
    if isinstance(theirs, str):
        assert isinstance(ours, str) and theirs.rstrip(".") in ours, (ours, theirs)
    else:
        assert ours == theirs


@pytest.mark.parametrize(
    "fn",
    [
        # true division in place into integers: refused (it wrote the truncated quotient)
        lambda m: m.tensor([7, -7]).div_(m.tensor([2, 2])),
        lambda m: m.tensor([7, -7]).div_(2),
        lambda m: m.tensor([7, -7], dtype=m.uint8).div_(2.0),
        lambda m: m.tensor([7, -7]).div_(m.tensor([2.0, 2.0], dtype=m.float64)),
        lambda m: m.tensor([7, -7]).div_(2, rounding_mode="floor"),  # (an integer result: fine)
        # PyTorch's words: div's rounding_mode, isclose's dtypes, mean of integers, clamp
        lambda m: m.div(m.ones(2), 2, rounding_mode="round"),
        lambda m: m.isclose(m.ones(2), m.ones(2).double()),
        lambda m: m.arange(3).mean(),
        lambda m: m.ones(2).clamp(),
        lambda m: m.ones(3).topk(4),  # and the order statistics' k
        lambda m: m.ones(3).kthvalue(4),
    ],
)
def test_division_and_dtype_words_as_pytorch(fn):
    ours, theirs = _call(minigrad, fn), _call(torch, fn)
    if isinstance(theirs, str):
        assert isinstance(ours, str) and theirs.rstrip(".") in ours, (ours, theirs)
    else:
        assert ours == theirs


def test_optimizer_repr_separates_groups_as_pytorch():
    def text(lib):
        p = [lib.nn.Parameter(lib.zeros(1)) for _ in range(3)]
        return repr(lib.optim.Adam([{"params": [q]} for q in p], lr=0.1))

    assert text(minigrad) == text(torch)


@pytest.mark.parametrize(
    "fn",
    [  # PyTorch's words for einsum's equation errors
        lambda m: m.einsum("ij,jk->ik", m.ones(2, 3), m.ones(4, 5)),
        lambda m: m.einsum("ij,jk->ik", m.ones(2, 3)),
        lambda m: m.einsum("i->i", m.ones(2), m.ones(2)),
        lambda m: m.einsum("ij->ik", m.ones(2, 2)),
        lambda m: m.einsum("ij->ii", m.ones(2, 2)),
        lambda m: m.einsum("ijk->i", m.ones(2, 2)),
        lambda m: m.einsum("ii->i", m.ones(2, 3)),
        lambda m: m.einsum("ij,jk", m.ones(2, 1), m.ones(3, 2)),  # size 1 broadcasts
    ],
)
def test_einsum_errors_as_pytorch(fn):
    ours, theirs = _call(minigrad, fn), _call(torch, fn)
    if isinstance(theirs, str):
        assert isinstance(ours, str) and theirs.rstrip(".") in ours, (ours, theirs)
    else:
        assert ours == theirs


@pytest.mark.parametrize("make", ["from_numpy", "as_tensor", "tensor", "asarray"])
def test_negative_numpy_strides_refused_as_pytorch(make):
    # np.flip / a[::-1] / an image's [..., ::-1]: PyTorch asks for a copy
    import numpy as np

    flipped = np.arange(6.0).reshape(2, 3)[:, ::-1]
    errors = []
    for lib in (minigrad, torch):
        with pytest.raises(ValueError) as info:
            getattr(lib, make)(flipped)
        errors.append(str(info.value))
    assert errors[0] == errors[1] and "with array.copy()" in errors[0]
    assert getattr(minigrad, make)(flipped.copy()).tolist() == flipped.tolist()


@pytest.mark.parametrize("equation", ["ii->i", "ii", "iij->ij", "iji->j", "ii,i->i", "ii->"])
def test_einsum_repeated_subscripts_are_differentiable(equation):
    # (minigrad raised NotImplementedError for gradients through a diagonal)
    import numpy as np

    rng = np.random.default_rng(0)
    shapes = {"ii->i": [(3, 3)], "ii": [(3, 3)], "iij->ij": [(3, 3, 2)], "iji->j": [(2, 3, 2)]}
    shapes.update({"ii,i->i": [(3, 3), (3,)], "ii->": [(3, 3)]})
    arrays = [rng.standard_normal(s) for s in shapes[equation]]
    ours = [minigrad.tensor(a, requires_grad=True) for a in arrays]
    assert minigrad.autograd.gradcheck(lambda *t: minigrad.einsum(equation, *t), ours)
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_m, out_t = minigrad.einsum(equation, *ours), torch.einsum(equation, *theirs)
    g_m = minigrad.autograd.grad((out_m * out_m).sum(), ours)
    g_t = torch.autograd.grad((out_t * out_t).sum(), theirs)
    assert np.allclose(out_m.tolist(), out_t.tolist())
    assert all(np.allclose(a.tolist(), b.tolist()) for a, b in zip(g_m, g_t))


@pytest.mark.parametrize("dtype", ["bfloat16", "float8_e5m2", "float16", "bool", "complex64"])
def test_expanded_rows_are_written_through_in_every_dtype(dtype):
    row = minigrad.zeros(1, 3, dtype=getattr(minigrad, dtype))
    wide = row.expand(2, 3)
    wide[1, 2] = 1
    assert wide.dtype is row.dtype and row.tolist()[0][2] == 1 and wide.tolist()[0][2] == 1


@pytest.mark.parametrize(
    "fn",
    [
        lambda m: m.ones(2, 3).clamp(min=m.zeros(3), max=1.0),
        lambda m: m.clamp(m.ones(2, 3), 0.0, m.ones(3)),
        lambda m: m.ones(2, 3).clamp_(m.zeros(3), 1),
    ],
)
def test_clamp_refuses_a_tensor_bound_with_a_number_bound(fn):
    # PyTorch's clamp has a (Tensor, Tensor) and a (Number, Number) overload, no mix of the two
    for lib in (minigrad, torch):
        with pytest.raises(TypeError, match="received an invalid combination of arguments"):
            fn(lib)
    assert minigrad.ones(2).clamp(min=minigrad.zeros(2)).tolist() == [1.0, 1.0]  # one: fine
