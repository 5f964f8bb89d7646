"""vmap of functions that failed under minigrad's vmap while torch.func.vmap ran them (found by
a sweep over the op table and the public functions): each against torch.func.vmap on the same
inputs, batched over one argument or several."""

import numpy as np
import pytest

import minigrad
from minigrad import func

torch = pytest.importorskip("torch")
F = "nn.functional"


def _arrays():
    rng = np.random.default_rng(0)
    sym = rng.standard_normal((3, 4, 4))
    spd = sym @ sym.transpose(0, 2, 1) + np.eye(4)
    spd[1] = -spd[1]  # one sample that is not positive-definite
    return {
        "x": rng.standard_normal((3, 4, 5)),
        "y": rng.standard_normal((3, 4, 5)),
        "img": rng.standard_normal((3, 2, 3, 6, 6)),
        "i": np.stack([rng.permutation(4)[:2] for _ in range(3)]),  # no repeats (writes)
        "j": rng.integers(-5, 5, (3, 2)),
        "v": rng.standard_normal((3, 2)),
        "r": rng.integers(0, 3, (3, 4, 5)).astype(float),
        "seq": np.sort(rng.standard_normal((3, 6)), -1),
        "seq2": np.sort(rng.standard_normal((3, 2, 6)), -1),
        "vals": rng.standard_normal((3, 2, 4)),
        "sym": sym + sym.transpose(0, 2, 1),
        "spd": spd,
        "wide": rng.standard_normal((3, 3, 4)),
        "w": rng.standard_normal((3, 5)),
        "rm": rng.standard_normal((3, 5)),
        "lp": np.log(rng.dirichlet(np.ones(5), (3, 8, 2))),
        "tg": rng.integers(1, 5, (3, 2, 3)),
        "il": np.array([[8, 7], [6, 8], [8, 8]]),
        "tl": np.array([[3, 2], [1, 3], [2, 2]]),
        "cat": rng.integers(1, 5, (3, 5)),
        "tl2": np.array([[3, 2], [1, 4], [2, 3]]),  # (each sample's lengths add up to 5)
    }


ARRAYS = _arrays()


def _setitem(y, key, value):
    y[key] = value
    return y


def _inplace(y, change):
    change(y)
    return y


# name: (function of (module, *args), the arrays' names, in_dims)
CASES = {
    # per-sample indices
    "getitem_shared_x": (lambda m, x, i: x[i], ("x", "i"), (None, 0)),
    "getitem_batched_x": (lambda m, x, i: x[i], ("x", "i"), (0, 0)),
    "getitem_after_slice": (lambda m, x, i: x[:, i], ("x", "i"), (None, 0)),
    "getitem_two_indices": (lambda m, x, i, j: x[i, j], ("x", "i", "j"), (0, 0, 0)),
    "getitem_separated_shared_indices": (
        lambda m, x: x[m.tensor([0, 2]), :, m.tensor([1, 1])],
        ("img",),
        0,
    ),
    "getitem_split_indices": (lambda m, x, i: x[i, :, 1], ("x", "i"), (0, 0)),
    "getitem_grad": (
        lambda m, x, i: m.func.grad(lambda x: (x[:, i] ** 2).sum())(x),
        ("x", "i"),
        (0, 0),
    ),
    "index_select": (lambda m, x, i: x.index_select(1, i), ("x", "i"), (None, 0)),
    "index_add": (lambda m, x, i, v: x.index_add(0, i, v[:, None].expand(2, 5)), "xiv", 0),
    "index_copy": (lambda m, x, i, v: x.index_copy(0, i[:1], v[:1, None].expand(1, 5)), "xiv", 0),
    "index_fill": (lambda m, x, i: x.index_fill(1, i, 2.0), ("x", "i"), (0, 0)),
    "take": (lambda m, x, i: m.take(x, i), ("x", "i"), (None, 0)),
    "one_hot": (lambda m, i: m.nn.functional.one_hot(i, 4), ("i",), 0),
    "embedding": (lambda m, x, i: m.nn.functional.embedding(i, x[0]), ("x", "i"), (None, 0)),
    "nll_loss_targets": (
        lambda m, x, i: m.nn.functional.nll_loss(x[0, :2, :4], i),
        ("x", "i"),
        (None, 0),
    ),
    "index_put": (lambda m, x, i, j, v: x.index_put((i, j), v, accumulate=True), "xijv", 0),
    "index_put_shared_x": (lambda m, x, i, j, v: x.index_put((i, j), v), "xijv", (None, 0, 0, 0)),
    "put": (lambda m, x, i, v: x.put(i, v), ("x", "i", "v"), (0, 0, 0)),
    "masked_scatter_mask": (
        lambda m, x, r: x.masked_scatter(r > 0, m.arange(20.0, dtype=x.dtype)),
        ("x", "r"),
        (None, 0),
    ),
    "masked_scatter_all": (lambda m, x, y, r: x.masked_scatter(r > 0, y), "xyr", 0),
    "ctc_targets": (
        lambda m, lp, tg: m.nn.functional.ctc_loss(lp, tg, (8, 8), (3, 3)),
        ("lp", "tg"),
        0,
    ),
    "ctc_targets_lengths": (
        lambda m, lp, tg, il, tl: m.nn.functional.ctc_loss(lp, tg, il, tl, reduction="sum"),
        ("lp", "tg", "il", "tl"),
        (None, 0, 0, 0),
    ),
    "ctc_concatenated_none": (
        lambda m, lp, tg, il, tl: m.nn.functional.ctc_loss(lp, tg, il, tl, reduction="none"),
        ("lp", "cat", "il", "tl2"),
        0,
    ),
    # in-place updates of batched tensors
    "relu_": (lambda m, x: _inplace(x * 1, lambda y: y.relu_()), ("x",), 0),
    "add_shared": (lambda m, x, y: _inplace(x * 1, lambda z: z.add_(y)), ("x", "y"), (0, None)),
    "iadd_imul": (lambda m, x, y: _inplace(x * 1, lambda z: (z.__iadd__(y), z.mul_(2))), "xy", 0),
    "setitem_slice": (lambda m, x, y: _setitem(x * 1, slice(1, 3), y[:2]), ("x", "y"), 0),
    "setitem_index": (lambda m, x, i, v: _setitem(x * 1, (i, 0), v), ("x", "i", "v"), 0),
    "view_mul_": (lambda m, x: _inplace(x * 1, lambda y: y[0].mul_(2)), ("x",), 0),
    "copy_": (lambda m, x, y: _inplace(x * 1, lambda z: z.copy_(y)), ("x", "y"), 0),
    "relu_inplace_elu_inplace": (
        lambda m, x: m.nn.functional.elu(m.nn.functional.relu(x * 1, inplace=True), inplace=True),
        ("x",),
        0,
    ),
    "t_": (lambda m, x: _inplace(x * 1, lambda y: y.t_()), ("x",), 0),
    "inplace_grad": (
        lambda m, x: m.func.grad(lambda x: _inplace(x * 1, lambda y: y[1:].sin_()).sum())(x),
        ("x",),
        0,
    ),
    "batched_into_shared": (
        lambda m, x, y: _inplace(y * 1, lambda z: z.add_(x)),
        ("x", "y"),
        (0, None),
    ),
    "batch_norm_running_stats": (
        lambda m, x, rm: (m.nn.functional.batch_norm(x, rm, rm.abs() + 1, training=True), rm),
        ("x", "rm"),
        (0, 0),
    ),
    "batch_norm_shared_stats": (
        lambda m, x, rm: m.nn.functional.batch_norm(x, rm, rm.abs() + 1, training=True),
        ("x", "rm"),
        (0, None),
    ),
    "layer_norm_weights": (
        lambda m, x, w: m.nn.functional.layer_norm(x, (5,), w),
        ("x", "w"),
        (None, 0),
    ),
    # along a dim, elementwise
    "cummax": (lambda m, x: m.cummax(x, 1), ("x",), 0),
    "cummin_indices": (lambda m, x: m.cummin(x, -1).indices, ("x",), 0),
    "cummax_grad": (lambda m, x: m.func.grad(lambda x: m.cummax(x, 0).values.sum())(x), "x", 0),
    "mode": (lambda m, r: m.mode(r), ("r",), 0),
    "mode_dim_keepdim": (lambda m, r: m.mode(r, 0, keepdim=True), ("r",), 0),
    "signbit": (lambda m, x: m.signbit(x), ("x",), 0),
    "frexp": (lambda m, x: m.frexp(x), ("x",), 0),
    # searchsorted, bucketize, isin
    "searchsorted_both": (lambda m, s, v: m.searchsorted(s, v), ("seq", "vals"), 0),
    "searchsorted_seq": (lambda m, s, v: m.searchsorted(s, v), ("seq", "vals"), (0, None)),
    "searchsorted_values": (
        lambda m, s, v: m.searchsorted(s, v, right=True),
        ("seq", "vals"),
        (None, 0),
    ),
    "searchsorted_nd": (lambda m, s, v: m.searchsorted(s, v, side="right"), ("seq2", "vals"), 0),
    "searchsorted_scalar": (lambda m, s: m.searchsorted(s, 0.3), ("seq",), 0),
    "searchsorted_sorter": (
        lambda m, s, v: m.searchsorted(s, v, sorter=s.argsort()),
        ("vals", "vals"),
        0,
    ),
    "bucketize_values": (lambda m, v, s: m.bucketize(v, s), ("vals", "seq"), (0, None)),
    "bucketize_boundaries": (lambda m, v, s: m.bucketize(v, s, right=True), ("vals", "seq"), 0),
    "isin_elements": (lambda m, r: m.isin(r, m.tensor([0.0, 2.0], dtype=r.dtype)), ("r",), 0),
    "isin_scalar": (lambda m, r: m.isin(r, 1.0), ("r",), 0),
    "isin_tests": (lambda m, r, t: m.isin(r, t, invert=True), ("r", "r"), (None, 0)),
    # max pooling's indices
    "max_pool2d_indices": (
        lambda m, a: m.nn.functional.max_pool2d(a, 2, return_indices=True),
        ("img",),
        0,
    ),
    "max_pool1d_indices": (
        lambda m, a: m.nn.functional.max_pool1d(a[0, 0], 3, 2, 1, return_indices=True),
        ("img",),
        0,
    ),
    "max_pool3d_indices": (
        lambda m, a: m.nn.functional.max_pool3d(a, 2, return_indices=True),
        ("img",),
        0,
    ),
    "max_unpool2d": (
        lambda m, a: m.nn.functional.max_unpool2d(
            *m.nn.functional.max_pool2d(a, 2, return_indices=True), 2
        ),
        ("img",),
        0,
    ),
    # linear algebra on arrays
    "svd_full_wide": (lambda m, a: m.linalg.svd(a)[2].abs(), ("wide",), 0),
    "svd_full_tall": (lambda m, a: m.linalg.svd(a.mT)[0].abs(), ("wide",), 0),
    "cholesky_ex_not_pd": (lambda m, a: m.linalg.cholesky_ex(a), ("spd",), 0),
    "geqrf": (lambda m, a: m.geqrf(a), ("wide",), 0),
    "ldl_factor": (lambda m, a: m.linalg.ldl_factor(a), ("sym",), 0),
    "ldl_solve": (
        lambda m, a, b: m.linalg.ldl_solve(*m.linalg.ldl_factor(a), b),
        ("sym", "wide"),
        (None, 0),
    ),
}


def _run(module, vmap, case):
    fn, names, in_dims = case  # names: a tuple, or a string of one-letter names
    dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(names)
    args = [
        module.tensor(ARRAYS[n] if d is not None else ARRAYS[n][0]) for n, d in zip(names, dims)
    ]
    try:
        out = vmap(lambda *a: fn(module, *a), in_dims=dims)(*args)
    except Exception as e:  # the type is what is compared
        return type(e)
    flat = list(out) if isinstance(out, tuple) else [out]
    return [np.asarray(o.tolist()) for o in flat]


@pytest.mark.parametrize("name", sorted(CASES))
def test_vmap_as_torch(name):
    theirs = _run(torch, torch.func.vmap, CASES[name])
    ours = _run(minigrad, func.vmap, CASES[name])
    if isinstance(theirs, type):
        assert isinstance(ours, type) and issubclass(ours, theirs), ours
        return
    assert not isinstance(ours, type), ours
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["uniform_", "normal_", "bernoulli_"])
def test_inplace_random_fills_follow_randomness(name):
    """Random fills of a batched tensor: refused under "error", one draw for all samples under
    "same", a draw per sample under "different" (as torch.func.vmap)."""
    x = minigrad.zeros(3, 50)

    def fill(a):
        return getattr(a * 1, name)()

    with pytest.raises(RuntimeError, match="randomness error mode"):
        func.vmap(fill)(x)
    same = func.vmap(fill, randomness="same")(x).numpy()
    assert (same[0] == same[1]).all() and (same[1] == same[2]).all()
    different = func.vmap(fill, randomness="different")(x).numpy()
    assert not (different[0] == different[1]).all()
    with pytest.raises(NotImplementedError, match="exponential_"):
        func.vmap(lambda a: (a * 1).exponential_(), randomness="different")(x)


def test_reading_a_batched_array_is_refused():
    """Code that computes on a batched tensor's array with operators (no batching rule) raises
    rather than comparing the array object itself (a silent wrong result)."""
    w = minigrad.randn(5, 3)
    bags = minigrad.tensor([[1, 2, 0, 4, 4, 3, 1, 0]] * 3)

    def bag(i):
        return minigrad.nn.functional.embedding_bag(i, w, minigrad.tensor([0, 2, 5]), padding_idx=0)

    with pytest.raises(NotImplementedError, match="array of a batched tensor"):
        func.vmap(bag)(bags)
