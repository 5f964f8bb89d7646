"""Property-based checks (hypothesis): broadcasting, type promotion and gradient shapes agree
with PyTorch for arbitrary shapes and dtypes, not only the op table's samples."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad

torch = pytest.importorskip("torch")

DTYPES = ["float32", "float64", "int32", "int64", "bool"]
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "maximum": lambda a, b: a.maximum(b),
}


@st.composite
def broadcastable_shapes(draw):
    """Two shapes that broadcast together (size-1 and missing leading dims included)."""
    ndim = draw(st.integers(0, 3))
    full = draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim))
    shapes = []
    for _ in range(2):
        lead = draw(st.integers(0, ndim))
        dims = [1 if draw(st.booleans()) else n for n in full[lead:]]
        shapes.append(tuple(dims))
    return shapes


def _array(rng, shape, dtype):
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype.startswith("int"):
        return rng.integers(1, 5, shape).astype(dtype)
    return rng.uniform(0.5, 2.0, shape).astype(dtype)


@settings(max_examples=60, deadline=None)
@given(
    shapes=broadcastable_shapes(),
    dtypes=st.tuples(st.sampled_from(DTYPES), st.sampled_from(DTYPES)),
    op=st.sampled_from(sorted(BINARY)),
    seed=st.integers(0, 2**16),
)
def test_binary_ops_broadcast_and_promote_like_pytorch(shapes, dtypes, op, seed):
    if op in ("sub", "maximum") and "bool" in dtypes and dtypes[0] == dtypes[1]:
        return  # PyTorch refuses bool - bool; maximum of bools is bool on both, checked elsewhere
    rng = np.random.default_rng(seed)
    a, b = (_array(rng, s, d) for s, d in zip(shapes, dtypes))
    try:
        expected = BINARY[op](torch.tensor(a), torch.tensor(b))
    except RuntimeError:
        return  # PyTorch refuses this combination (e.g. bool subtraction)
    got = BINARY[op](minigrad.tensor(a), minigrad.tensor(b))
    assert got.shape == tuple(expected.shape)
    assert got.dtype.name == str(expected.dtype).split(".")[-1]
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    shapes=broadcastable_shapes(), op=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2**16)
)
def test_gradients_are_reduced_to_each_input_shape(shapes, op, seed):
    rng = np.random.default_rng(seed)
    a, b = (rng.uniform(0.5, 2.0, s) for s in shapes)
    am, bm = (minigrad.tensor(x, requires_grad=True) for x in (a, b))
    at, bt = (torch.tensor(x, requires_grad=True) for x in (a, b))
    out_m, out_t = BINARY[op](am, bm), BINARY[op](at, bt)
    upstream = rng.uniform(-1, 1, tuple(out_t.shape))
    out_m.backward(minigrad.tensor(upstream))
    out_t.backward(torch.tensor(upstream))
    for m, t in ((am, at), (bm, bt)):
        assert m.grad.shape == tuple(t.grad.shape)
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    data=st.data(),
)
def test_reductions_over_any_dims_match_pytorch(shape, data):
    dims = data.draw(
        st.lists(
            st.integers(-len(shape), len(shape) - 1),
            unique_by=lambda d: d % len(shape),
            max_size=len(shape),
        )
    )
    keepdim = data.draw(st.booleans())
    x = np.random.default_rng(len(shape)).uniform(-2, 2, shape)
    for name in ("sum", "mean", "amax", "logsumexp", "var"):
        if name in ("logsumexp", "var") and not dims:
            continue
        args = (tuple(dims),) if name != "var" else ()
        kwargs = {"keepdim": keepdim} if name != "var" else {"dim": tuple(dims), "keepdim": keepdim}
        got = getattr(minigrad.tensor(x), name)(*args, **kwargs)
        expected = getattr(torch.tensor(x), name)(*args, **kwargs)
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)


@st.composite
def index_keys(draw, shape):
    """A key for ``x[key]``: ints, slices with positive steps, None, Ellipsis, index lists."""
    key, dims_left = [], list(shape)
    used_ellipsis = False
    while dims_left and draw(st.booleans()):
        kind = draw(st.sampled_from(["int", "slice", "none", "ellipsis", "list"]))
        n = dims_left[0]
        if kind == "int":
            key.append(draw(st.integers(-n, n - 1)))
            dims_left.pop(0)
        elif kind == "slice":
            start = draw(st.one_of(st.none(), st.integers(-n, n)))
            stop = draw(st.one_of(st.none(), st.integers(-n, n)))
            key.append(slice(start, stop, draw(st.integers(1, 3))))
            dims_left.pop(0)
        elif kind == "none":
            key.append(None)
        elif kind == "ellipsis" and not used_ellipsis:
            key.append(Ellipsis)
            used_ellipsis = True
            dims_left = dims_left[-draw(st.integers(0, len(dims_left))) :] if dims_left else []
        elif kind == "list":
            key.append(draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4)))
            dims_left.pop(0)
    return tuple(key)


@settings(max_examples=80, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data())
def test_indexing_and_its_gradient_match_pytorch(shape, data):
    key = data.draw(index_keys(tuple(shape)))
    if sum(isinstance(k, list) for k in key) > 1:
        return  # several index lists must broadcast together; covered by the op table
    x = np.random.default_rng(0).uniform(-1, 1, shape)
    xm = minigrad.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    tkey = tuple(torch.tensor(k) if isinstance(k, list) else k for k in key)
    try:
        expected = xt[tkey]
    except (IndexError, RuntimeError, ValueError):
        return
    got = xm[key]
    assert got.shape == tuple(expected.shape)
    np.testing.assert_array_equal(got.detach().numpy(), expected.detach().numpy())
    upstream = np.random.default_rng(1).uniform(-1, 1, tuple(expected.shape))
    got.backward(minigrad.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


SHAPE_OPS = {
    "flip": lambda m, x, d: x.flip([d]),
    "transpose": lambda m, x, d: x.transpose(0, d),
    "movedim": lambda m, x, d: m.movedim(x, d, 0),
    "unsqueeze": lambda m, x, d: x.unsqueeze(d),
    "squeeze": lambda m, x, d: x.squeeze(d),
    "cumsum": lambda m, x, d: x.cumsum(d),
    "chunk": lambda m, x, d: m.cat(x.chunk(2, d), d),
    "split": lambda m, x, d: m.stack(x.split(1, d), 0),
    "repeat": lambda m, x, d: x.repeat(*([2] + [1] * (x.ndim - 1))),
    "softmax": lambda m, x, d: x.softmax(d),
    "max": lambda m, x, d: x.max(d)[0],
    "sort": lambda m, x, d: x.sort(d, descending=True)[0],
}


@settings(max_examples=150, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=4),
    op=st.sampled_from(sorted(SHAPE_OPS)),
    data=st.data(),
)
def test_shape_ops_and_gradients_match_pytorch(shape, op, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = np.random.default_rng(2).permutation(np.prod(shape)).reshape(shape) / 7.0  # no ties
    xm, xt = minigrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    got, expected = SHAPE_OPS[op](minigrad, xm, dim), SHAPE_OPS[op](torch, xt, dim)
    assert got.shape == tuple(expected.shape)
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
    upstream = np.random.default_rng(3).uniform(-1, 1, tuple(expected.shape))
    got.backward(minigrad.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    groups=st.integers(1, 2),
    channels=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    size=st.tuples(st.integers(3, 7), st.integers(3, 7)),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    bias=st.booleans(),
)
def test_conv2d_matches_pytorch_for_any_geometry(
    groups, channels, size, kernel, stride, padding, dilation, bias
):
    c_in, c_out = channels[0] * groups, channels[1] * groups
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, c_in) + size)
    w = rng.standard_normal((c_out, c_in // groups) + kernel)
    b = rng.standard_normal(c_out) if bias else None
    args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    tensors = {}
    for lib in (minigrad, torch):
        xs = lib.tensor(x, requires_grad=True)
        ws = lib.tensor(w, requires_grad=True)
        bs = lib.tensor(b, requires_grad=True) if bias else None
        try:
            out = lib.nn.functional.conv2d(xs, ws, bs, **args)
        except RuntimeError:  # the dilated kernel does not fit in the padded input
            tensors[lib.__name__] = None
            continue
        upstream = np.random.default_rng(5).uniform(-1, 1, tuple(out.shape))
        out.backward(lib.tensor(upstream))
        grads = [t.grad for t in (xs, ws, bs) if t is not None]
        tensors[lib.__name__] = [out.detach()] + grads
    if tensors["torch"] is None or tensors["minigrad"] is None:
        assert tensors["torch"] is tensors["minigrad"], "only one of the two refused"
        return
    for a, e in zip(tensors["minigrad"], tensors["torch"]):
        np.testing.assert_allclose(np.asarray(a.numpy()), e.numpy(), rtol=1e-9, atol=1e-10)


@settings(max_examples=80, deadline=None)
@given(
    kind=st.sampled_from(["max", "avg"]),
    size=st.tuples(st.integers(2, 7), st.integers(2, 7)),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    pad=st.booleans(),
    ceil_mode=st.booleans(),
)
def test_pooling_matches_pytorch_for_any_geometry(kind, size, kernel, stride, pad, ceil_mode):
    padding = tuple(k // 2 for k in kernel) if pad else (0, 0)
    x = np.random.default_rng(6).permutation(2 * 3 * size[0] * size[1]).reshape((2, 3) + size)
    x = x / 10.0  # distinct values: no ties for max pooling
    results = []
    for lib in (minigrad, torch):
        xs = lib.tensor(x, requires_grad=True)
        pool = getattr(lib.nn.functional, f"{kind}_pool2d")
        try:
            out = pool(xs, kernel, stride, padding, ceil_mode=ceil_mode)
        except RuntimeError:  # output would be empty
            results.append(None)
            continue
        out.backward(lib.tensor(np.random.default_rng(7).uniform(-1, 1, tuple(out.shape))))
        results.append((out.detach().numpy(), xs.grad.numpy()))
    if results[0] is None or results[1] is None:
        assert results[0] is results[1], "only one of the two refused"
        return
    for a, e in zip(*results):
        np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-12)


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(1, 5),
    classes=st.integers(2, 5),
    extra=st.integers(0, 3),
    reduction=st.sampled_from(["mean", "sum", "none"]),
    smoothing=st.sampled_from([0.0, 0.1]),
    use_weight=st.booleans(),
    ignore=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_cross_entropy_matches_pytorch(
    n, classes, extra, reduction, smoothing, use_weight, ignore, seed
):
    rng = np.random.default_rng(seed)
    shape = (n, classes) + ((extra,) if extra else ())
    logits = rng.normal(0, 3, shape)
    target = rng.integers(0, classes, (n,) + ((extra,) if extra else ()))
    if ignore:
        target.flat[0] = -100
    weight = rng.uniform(0.5, 2, classes) if use_weight else None
    results = []
    for lib in (minigrad, torch):
        x = lib.tensor(logits, requires_grad=True)
        w = lib.tensor(weight) if use_weight else None
        loss = lib.nn.functional.cross_entropy(
            x, lib.tensor(target), weight=w, reduction=reduction, label_smoothing=smoothing
        )
        loss.backward(lib.tensor(np.ones(tuple(loss.shape))))
        results.append((loss.detach().numpy(), x.grad.numpy()))
    for a, e in zip(*results):
        np.testing.assert_allclose(a, e, rtol=1e-9, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    batch=st.integers(1, 3),
    heads=st.integers(1, 2),
    lengths=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    width=st.integers(1, 3),
    mask=st.sampled_from(["none", "bool", "float", "causal"]),
    seed=st.integers(0, 2**16),
)
def test_attention_matches_pytorch(batch, heads, lengths, width, mask, seed):
    rng = np.random.default_rng(seed)
    lq, lk = lengths
    q, k, v = (rng.standard_normal((batch, heads, n, width)) for n in (lq, lk, lk))
    bool_mask = rng.random((lq, lk)) > 0.3
    bool_mask[:, 0] = True  # every query sees at least one key
    results = []
    for lib in (minigrad, torch):
        qs, ks, vs = (lib.tensor(a, requires_grad=True) for a in (q, k, v))
        kwargs = {}
        if mask == "bool":
            kwargs["attn_mask"] = lib.tensor(bool_mask)
        elif mask == "float":
            kwargs["attn_mask"] = lib.tensor(np.where(bool_mask, 0.0, -3.0))
        elif mask == "causal":
            kwargs["is_causal"] = True
        out = lib.nn.functional.scaled_dot_product_attention(qs, ks, vs, **kwargs)
        out.backward(lib.tensor(np.random.default_rng(8).uniform(-1, 1, tuple(out.shape))))
        results.append([out.detach().numpy()] + [t.grad.numpy() for t in (qs, ks, vs)])
    for a, e in zip(*results):
        np.testing.assert_allclose(a, e, rtol=1e-9, atol=1e-11)


@settings(max_examples=60, deadline=None)
@given(
    shape=st.lists(st.integers(2, 4), min_size=2, max_size=4),
    norm=st.sampled_from(["layer", "batch", "group"]),
    seed=st.integers(0, 2**16),
)
def test_normalization_matches_pytorch(shape, norm, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(1.0, 2.0, shape)
    c = shape[1]
    gamma, beta = rng.uniform(0.5, 1.5, c), rng.normal(0, 1, c)
    results = []
    for lib in (minigrad, torch):
        F = lib.nn.functional
        xs = lib.tensor(x, requires_grad=True)
        if norm == "layer":
            w = lib.tensor(np.full(x.shape[1:], 1.5), requires_grad=True)
            b = lib.tensor(np.full(x.shape[1:], -0.5), requires_grad=True)
            out = F.layer_norm(xs, x.shape[1:], w, b)
        elif norm == "batch":
            w, b = lib.tensor(gamma, requires_grad=True), lib.tensor(beta, requires_grad=True)
            out = F.batch_norm(xs, None, None, w, b, training=True)
        else:
            w, b = lib.tensor(gamma, requires_grad=True), lib.tensor(beta, requires_grad=True)
            groups = 2 if c % 2 == 0 else 1
            out = F.group_norm(xs, groups, w, b)
        out.backward(lib.tensor(np.random.default_rng(9).uniform(-1, 1, tuple(out.shape))))
        results.append([out.detach().numpy(), xs.grad.numpy(), w.grad.numpy(), b.grad.numpy()])
    for a, e in zip(*results):
        np.testing.assert_allclose(a, e, rtol=1e-8, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(
    embed=st.sampled_from([4, 6]),
    heads=st.sampled_from([1, 2]),
    lengths=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    batch_first=st.booleans(),
    padding=st.booleans(),
    causal=st.booleans(),
    average=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_multihead_attention_matches_pytorch(
    embed, heads, lengths, batch_first, padding, causal, average, seed
):
    lq, lk = lengths
    if causal and lq != lk:
        return
    rng = np.random.default_rng(seed)
    torch.manual_seed(0)
    t_mha = torch.nn.MultiheadAttention(embed, heads, batch_first=batch_first).double()
    m_mha = minigrad.nn.MultiheadAttention(embed, heads, batch_first=batch_first).double()
    m_mha.load_state_dict(
        {k: minigrad.tensor(v.detach().numpy()) for k, v in t_mha.state_dict().items()}
    )
    batch = 2
    q_shape = (batch, lq, embed) if batch_first else (lq, batch, embed)
    k_shape = (batch, lk, embed) if batch_first else (lk, batch, embed)
    q, kv = rng.standard_normal(q_shape), rng.standard_normal(k_shape)
    pad = rng.random((batch, lk)) > 0.6
    pad[:, 0] = False  # every query keeps one key
    results = []
    for lib, mha in ((minigrad, m_mha), (torch, t_mha)):
        qs, ks = lib.tensor(q, requires_grad=True), lib.tensor(kv, requires_grad=True)
        kwargs = {"need_weights": True, "average_attn_weights": average}
        if padding:
            kwargs["key_padding_mask"] = lib.tensor(pad)
        if causal:
            mask = np.triu(np.ones((lq, lk), dtype=bool), 1)
            kwargs["attn_mask"] = lib.tensor(mask)
        out, weights = mha(qs, ks, ks, **kwargs)
        (out.sum() + (weights * weights).sum()).backward()
        results.append(
            [out.detach().numpy(), weights.detach().numpy(), qs.grad.numpy(), ks.grad.numpy()]
        )
    for a, e in zip(*results):
        np.testing.assert_allclose(a, e, rtol=1e-8, atol=1e-10)
