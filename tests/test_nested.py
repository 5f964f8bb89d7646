"""minigrad.nested against torch.nested: construction, conversion, ops and gradients."""

import warnings

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")
warnings.filterwarnings("ignore", message=".*nested tensors is in prototype.*")

SHAPES = [(2, 4), (3, 4), (1, 4)]


def _arrays(shapes=SHAPES, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def _both(arrays, layout_name, grad=True):
    """The same components in both frameworks (float64 leaves) and the nested tensors."""
    mg = [minigrad.tensor(a, requires_grad=grad) for a in arrays]
    th = [torch.tensor(a, requires_grad=grad) for a in arrays]
    nm = minigrad.nested.as_nested_tensor(mg, layout=getattr(minigrad, layout_name))
    nt = torch.nested.as_nested_tensor(th, layout=getattr(torch, layout_name))
    return mg, th, nm, nt


def _parts(x):
    return list(x.unbind()) if x.is_nested else [x]


def _check(fn, layout_name="jagged", shapes=SHAPES, extra=(), grad=True):
    """fn(lib, nested, *extra) in both frameworks: the values of each component, and (where
    PyTorch has the backward) the gradients of the components and the extra inputs."""
    mg, th, nm, nt = _both(_arrays(shapes), layout_name)
    em = [minigrad.tensor(e, requires_grad=True) for e in extra]
    et = [torch.tensor(e, requires_grad=True) for e in extra]
    pm, pt = _parts(fn(minigrad, nm, *em)), _parts(fn(torch, nt, *et))
    assert len(pm) == len(pt)
    rng = np.random.default_rng(1)
    loss_m = loss_t = 0
    for a, b in zip(pm, pt):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-10)
        w = rng.standard_normal(tuple(b.shape))
        loss_m, loss_t = (
            loss_m + (a * minigrad.tensor(w)).sum(),
            loss_t + (b * torch.tensor(w)).sum(),
        )
    if not grad:
        return
    loss_m.backward()
    loss_t.backward()
    for a, b in zip(mg + em, th + et):
        ga = a.grad.numpy() if a.grad is not None else np.zeros(tuple(b.shape))
        gb = b.grad.numpy() if b.grad is not None else np.zeros(tuple(b.shape))
        np.testing.assert_allclose(ga, gb, atol=1e-10)


@pytest.mark.parametrize("layout", ["strided", "jagged"])
def test_construction_and_conversion(layout):
    arrays = _arrays([(2, 3), (4, 3)])
    lay_m, lay_t = getattr(minigrad, layout), getattr(torch, layout)
    nm = minigrad.nested.nested_tensor([minigrad.tensor(a) for a in arrays], layout=lay_m)
    nt = torch.nested.nested_tensor([torch.tensor(a) for a in arrays], layout=lay_t)
    assert nm.is_nested and nm.layout is lay_m and nm.dim() == nt.dim() == 3
    assert nm.size(0) == nt.size(0) and nm.size(2) == nt.size(2)
    for a, b in zip(nm.unbind(), nt.unbind()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(nm.to_padded_tensor(-1.0).numpy(), nt.to_padded_tensor(-1.0))
    big_m = minigrad.nested.to_padded_tensor(nm, 0.5, (2, 5, 4)).numpy()
    np.testing.assert_array_equal(big_m, torch.nested.to_padded_tensor(nt, 0.5, (2, 5, 4)))
    np.testing.assert_array_equal(nm.values().numpy(), nt.values().detach().numpy())
    np.testing.assert_array_equal(nm[1].numpy(), nt[1].numpy())
    assert not minigrad.ones(2).is_nested


def test_sizes_and_errors_as_torch():
    arrays = [minigrad.ones(2, 3), minigrad.ones(4, 3)]
    strided = minigrad.nested.nested_tensor(arrays)
    with pytest.raises(RuntimeError, match="irregular and does not have a size"):
        strided.size(1)
    jag = minigrad.nested.nested_tensor(arrays, layout=minigrad.jagged)
    assert repr(jag.size(1)).startswith("j") and jag.shape[2] == 3
    np.testing.assert_array_equal(jag.offsets().numpy(), [0, 2, 6])
    assert jag.lengths() is None
    with pytest.raises(RuntimeError, match="expected both self and other to be nested"):
        strided + minigrad.ones(3)
    with pytest.raises(NotImplementedError, match="Cumsum"):
        jag.cumsum(2)
    with pytest.raises(RuntimeError, match="keepdim=True"):
        strided.sum(-1)
    with pytest.raises(RuntimeError, match="batch dimension"):
        jag.sum(0)


def test_repr_like_torch():
    a, b = _arrays([(2, 3), (4, 3)])
    nm = minigrad.nested.nested_tensor([minigrad.tensor(a), minigrad.tensor(b)])
    nt = torch.nested.nested_tensor([torch.tensor(a), torch.tensor(b)])
    assert repr(nm).replace("minigrad", "torch") == repr(nt)
    jm = minigrad.nested.nested_tensor([minigrad.ones(2, 3)] * 2, layout=minigrad.jagged)
    assert repr(jm).startswith("NestedTensor(size=(2, j") and "offsets=tensor([0, 2, 4])" in repr(
        jm
    )


def test_requires_grad_leaf_gets_a_nested_grad():
    nm = minigrad.nested.nested_tensor([minigrad.ones(2, 3), minigrad.ones(1, 3)],
                                       layout=minigrad.jagged, requires_grad=True)  # fmt: skip
    (nm * 3.0).to_padded_tensor(0.0).sum().backward()
    assert nm.is_leaf and nm.grad.is_nested
    np.testing.assert_array_equal(nm.grad.unbind()[1].numpy(), np.full((1, 3), 3.0))
    (nm * 2.0).to_padded_tensor(0.0).sum().backward()  # accumulates nested into nested
    np.testing.assert_array_equal(nm.grad.unbind()[0].numpy(), np.full((2, 3), 5.0))


BOTH = [
    lambda m, x: (x * 2.0 + x).sin().abs() - x,
    lambda m, x: m.nn.functional.gelu(x) + m.relu(x) * x,
    lambda m, x: x.softmax(-1),
    lambda m, x: x.transpose(1, 2),
    lambda m, x: x.reshape(3, -1, 2, 2).sin(),
    lambda m, x: m.nn.functional.dropout(x, 0.3, training=False) / 2.0,
]


@pytest.mark.parametrize("layout", ["strided", "jagged"])
@pytest.mark.parametrize("fn", BOTH)
def test_ops_match_torch(fn, layout):
    _check(fn, layout)


def test_strided_layer_norm_and_sum():
    w, b = np.linspace(0.5, 2.0, 4), np.linspace(-1.0, 1.0, 4)
    _check(lambda m, x, w, b: m.nn.functional.layer_norm(x, (4,), w, b), "strided", extra=(w, b))
    _check(lambda m, x: x.sum(-1, keepdim=True), "strided")


JAGGED = [
    lambda m, x: (x * 2.0 + 1.0).exp() - x.sin() / 3.0 + x**2,
    lambda m, x: m.nn.functional.silu(x) * m.tanh(x),
    lambda m, x: x + m.ones(4, dtype=m.float64),
    lambda m, x: x * m.arange(3.0, dtype=m.float64).reshape(3, 1, 1),
    lambda m, x: m.nn.functional.layer_norm(x, (4,)),
    lambda m, x: x.mean(-1),
    lambda m, x: x.chunk(2, -1)[1] * x.chunk(2, -1)[0],
    lambda m, x: x.unflatten(-1, [2, 2]).transpose(1, 2).transpose(1, 2).flatten(-2),
    lambda m, x: x.view(3, -1, 4, 1).squeeze(-1),
    lambda m, x: m.cat([x, x.sin()], -1),
]


@pytest.mark.parametrize("fn", JAGGED)
def test_jagged_ops_match_torch(fn):
    _check(fn, "jagged")


@pytest.mark.parametrize(
    "fn, dense",
    [
        (lambda m, x: m.nn.functional.log_softmax(x, 2), lambda c: c.log_softmax(1)),
        (lambda m, x: x.softmax(1), lambda c: c.softmax(0)),
        (lambda m, x: x.sum(-1, keepdim=True), lambda c: c.sum(-1, keepdim=True)),
        (lambda m, x: x.sum(-1), lambda c: c.sum(-1)),
        (lambda m, x: x.sum(1), lambda c: c.sum(0)),
        (lambda m, x: x.mean(1), lambda c: c.mean(0)),
        (lambda m, x: x.split(1, -1)[2] * x.split(3, -1)[1], lambda c: c[:, 2:3] * c[:, 3:]),
        (
            lambda m, x: m.nn.functional.layer_norm(x, (4,)) * 2.0,
            lambda c: torch.nn.functional.layer_norm(c, (4,)) * 2,
        ),
    ],
)
def test_jagged_ops_without_torch_backward(fn, dense):
    """Values against PyTorch, whose nested backward of these is missing (or, for softmax over
    the ragged dim, disagrees with its own forward); gradients against PyTorch's dense form of
    the same function on each component."""
    _check(fn, "jagged", grad=False)
    mg, th, nm, _ = _both(_arrays(), "jagged")
    out = fn(minigrad, nm)
    parts = out.unbind() if out.is_nested else [out[i] for i in range(out.shape[0])]
    sum(p.pow(2).sum() for p in parts).backward()
    for a, t in zip(mg, th):
        expected = torch.autograd.grad(dense(t).pow(2).sum(), t)[0]
        np.testing.assert_allclose(a.grad.numpy(), expected.numpy(), atol=1e-10)


def test_jagged_sum_of_all():
    mg, th, nm, nt = _both(_arrays(), "jagged")
    total = nm.sum()
    np.testing.assert_allclose(total.item(), nt.sum().item())
    total.backward()
    assert all(np.allclose(a.grad.numpy(), 1.0) for a in mg)


def test_linear_and_matmul_gradients_reach_parameters():
    w, bias = np.random.default_rng(2).standard_normal((5, 4)), np.zeros(5) + 0.5

    def run(m, x, w, b):
        return m.nn.functional.linear(x, w, b) @ w

    _check(run, "jagged", extra=(w, bias))
    _check(lambda m, x, w, b: m.nn.functional.linear(x, w, b), "strided", extra=(w, bias))
    _check(lambda m, x: m.bmm(x, x.transpose(1, 2)), "strided")


def test_attention_tutorial_pattern():
    """PyTorch's nested-tensor tutorial: ragged sequences through a packed in-projection,
    ``torch.chunk``, per-head SDPA and the out-projection; gradients reach the weights."""
    heads, e = 2, 4
    rng = np.random.default_rng(3)
    w_in, b_in, w_out = (
        rng.standard_normal((3 * e, e)),
        rng.standard_normal(3 * e),
        rng.standard_normal((e, e)),
    )

    def attend(m, x, w_in, b_in, w_out):
        F = m.nn.functional
        q, k, v = m.chunk(F.linear(x, w_in, b_in), 3, dim=-1)
        q, k, v = (t.unflatten(-1, [heads, e // heads]).transpose(1, 2) for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v)
        return F.layer_norm(F.linear(out.transpose(1, 2).flatten(-2), w_out), (e,))

    # PyTorch has no CPU kernel for nested SDPA on these (chunked) q, k, v: its reference is
    # the same function on each sequence as a dense batch of one
    mg, th, nm, _ = _both(_arrays(), "jagged")
    extra = [w_in, b_in, w_out]
    em = [minigrad.tensor(a, requires_grad=True) for a in extra]
    et = [torch.tensor(a, requires_grad=True) for a in extra]
    out = attend(minigrad, nm, *em)
    loss_t = 0
    for a, t in zip(out.unbind(), th):
        ref = attend(torch, t[None], *et)[0]
        np.testing.assert_allclose(a.detach().numpy(), ref.detach().numpy(), atol=1e-10)
        loss_t = loss_t + ref.pow(2).sum()
    out.to_padded_tensor(0.0).pow(2).sum().backward()
    loss_t.backward()
    for a, b in zip(mg + em, th + et):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-10)


def test_from_jagged_and_narrow():
    values = np.arange(24.0).reshape(8, 3)
    vm = minigrad.tensor(values, requires_grad=True)
    vt = torch.tensor(values, requires_grad=True)
    offsets = [0, 2, 3, 8]
    nm = minigrad.nested.nested_tensor_from_jagged(vm, minigrad.tensor(offsets))
    nt = torch.nested.nested_tensor_from_jagged(vt, torch.tensor(offsets))
    (nm.sin() * 2.0).to_padded_tensor(0.0).sum().backward()
    (nt.sin() * 2.0).to_padded_tensor(0.0).sum().backward()
    np.testing.assert_allclose(vm.grad.numpy(), vt.grad.numpy())
    lengths = [1, 1, 4]
    nm = minigrad.nested.nested_tensor_from_jagged(
        vm, minigrad.tensor(offsets), minigrad.tensor(lengths)
    )
    nt = torch.nested.nested_tensor_from_jagged(vt, torch.tensor(offsets), torch.tensor(lengths))
    for a, b in zip(nm.unbind(), nt.unbind()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    np.testing.assert_array_equal(nm.lengths().numpy(), lengths)
    dense = np.arange(30.0).reshape(3, 5, 2)
    start, length = [0, 1, 2], [2, 4, 3]
    nm = minigrad.nested.narrow(minigrad.tensor(dense), 1, minigrad.tensor(start),
                                minigrad.tensor(length), layout=minigrad.jagged)  # fmt: skip
    nt = torch.nested.narrow(torch.tensor(dense), 1, torch.tensor(start), torch.tensor(length),
                             layout=torch.jagged)  # fmt: skip
    for a, b in zip(nm.unbind(), nt.unbind()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(nm.offsets().numpy(), nt.offsets().numpy())
    nm = minigrad.nested.narrow(minigrad.tensor(dense), 0, 1, 2)
    nt = torch.nested.narrow(torch.tensor(dense), 0, 1, 2, layout=torch.strided)
    for a, b in zip(nm.unbind(), nt.unbind()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(RuntimeError, match="only supports dim=1"):
        minigrad.nested.narrow(minigrad.tensor(dense), 2, 0, 1, layout=minigrad.jagged)


def test_dropout_and_modules():
    x = minigrad.nested.nested_tensor([minigrad.ones(2, 4), minigrad.ones(3, 4)],
                                      layout=minigrad.jagged)  # fmt: skip
    y = minigrad.nn.functional.dropout(x, 0.5)
    kept = y.values().numpy()
    assert y.is_nested and set(np.unique(kept)) <= {0.0, 2.0}
    assert minigrad.nn.functional.dropout(x, 0.5, training=False) is x
    lin = minigrad.nn.Linear(4, 3)
    out = lin(x)
    out.to_padded_tensor(0.0).sum().backward()
    np.testing.assert_allclose(lin.weight.grad.numpy(), np.full((3, 4), 5.0))


@pytest.mark.parametrize("layout", ["strided", "jagged"])
def test_multihead_attention_module(layout):
    """nn.MultiheadAttention on a nested batch: PyTorch's (inference-only) fast path gives the
    same values; minigrad's is also differentiable."""
    tm = torch.nn.MultiheadAttention(4, 2, batch_first=True).double().eval()
    mm = minigrad.nn.MultiheadAttention(4, 2, batch_first=True, dtype=minigrad.float64)
    mm.load_state_dict({k: minigrad.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    arrays = _arrays([(2, 4), (3, 4)])
    xt = torch.nested.nested_tensor([torch.tensor(a) for a in arrays])
    xm = minigrad.nested.as_nested_tensor(
        [minigrad.tensor(a) for a in arrays], layout=getattr(minigrad, layout)
    )
    with torch.no_grad():
        yt = tm(xt, xt, xt, need_weights=False)[0]
    ym = mm(xm, xm, xm, need_weights=False)[0]
    for a, b in zip(ym.unbind(), yt.unbind()):
        np.testing.assert_allclose(a.detach().numpy(), b.numpy(), atol=1e-12)
    ym.to_padded_tensor(0.0).sum().backward()
    assert mm.in_proj_weight.grad is not None and mm.out_proj.weight.grad is not None


def test_contiguity():
    dense = minigrad.arange(30.0).reshape(3, 5, 2)
    nm = minigrad.nested.narrow(dense, 1, 1, 2, layout=minigrad.jagged)
    assert not nm.is_contiguous() and nm.contiguous().is_contiguous()
    for a, b in zip(nm.contiguous().unbind(), nm.unbind()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    jag = minigrad.nested.nested_tensor([minigrad.ones(2, 3)], layout=minigrad.jagged)
    assert jag.is_contiguous() and not jag.transpose(1, 2).is_contiguous()


def test_in_place_ops_and_like_factories():
    mg, th, nm, nt = _both(_arrays(), "jagged")

    def steps(lib, y):
        y.mul_(2.0)
        y.sub_(0.5)
        return lib.nn.functional.relu(y, inplace=True).sin()

    ym, yt = steps(minigrad, nm * 1.0), steps(torch, nt * 1.0)
    for a, b in zip(ym.unbind(), yt.unbind()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-12)
    ym.to_padded_tensor(0.0).sum().backward()  # (PyTorch's nested backward here is missing)
    for a, t in zip(mg, th):
        t = t.detach().clone().requires_grad_()
        expected = torch.autograd.grad(steps(torch, t * 1.0).sum(), t)[0]
        np.testing.assert_allclose(a.grad.numpy(), expected.numpy(), atol=1e-12)
    y = nm * 1.0
    y.add_(y.sin())  # sin saved y, which add_ then changed: backward refuses, as PyTorch's
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.to_padded_tensor(0.0).sum().backward()
    z = minigrad.zeros_like(nm).fill_(2.5)
    assert z.is_nested and all(np.all(c.numpy() == 2.5) for c in z.unbind())
    assert [tuple(c.shape) for c in minigrad.rand_like(nm).unbind()] == [s for s in SHAPES]
    with pytest.raises(NotImplementedError, match="nested tensors are not supported"):
        minigrad.save(nm, "/dev/null")


@pytest.mark.parametrize("layout", ["strided", "jagged"])
def test_nested_operands_broadcast(layout):
    """x - x.mean(-1, keepdim=True) and an RMS norm: nested operands of one ragged structure
    broadcast over their regular dims."""
    mg, th, nm, _ = _both(_arrays(), layout)

    def rms(lib, x):
        return x * (x.pow(2).sum(-1, keepdim=True) / 4.0 + 1e-6).rsqrt() - x.sum(-1, keepdim=True)

    out = rms(minigrad, nm)
    out.to_padded_tensor(0.0).pow(2).sum().backward()
    for a, t in zip(out.unbind(), th):
        np.testing.assert_allclose(a.detach().numpy(), rms(torch, t).detach().numpy(), atol=1e-12)
    for a, t in zip(mg, th):
        expected = torch.autograd.grad(rms(torch, t).pow(2).sum(), t)[0]
        np.testing.assert_allclose(a.grad.numpy(), expected.numpy(), atol=1e-10)
    with pytest.raises(RuntimeError, match="cannot broadcast nested"):
        nm + nm.transpose(1, 2)


def test_transformer_encoder_layer_on_ragged_batch():
    """nn.TransformerEncoderLayer on a nested batch equals PyTorch's (fast path) result."""
    kwargs = dict(dropout=0.0, batch_first=True)
    tl = torch.nn.TransformerEncoderLayer(8, 2, 16, **kwargs).double().eval()
    ml = minigrad.nn.TransformerEncoderLayer(8, 2, 16, dtype=minigrad.float64, **kwargs)
    ml.load_state_dict({k: minigrad.tensor(v.detach().numpy()) for k, v in tl.state_dict().items()})
    arrays = _arrays([(2, 8), (3, 8)])
    xt = torch.nested.nested_tensor([torch.tensor(a) for a in arrays])
    xm = minigrad.nested.nested_tensor([minigrad.tensor(a) for a in arrays], layout=minigrad.jagged)
    with torch.no_grad():
        yt = tl(xt)
    ym = ml(xm)
    for a, b in zip(ym.unbind(), yt.unbind()):
        np.testing.assert_allclose(a.detach().numpy(), b.numpy(), atol=1e-12)
    x = minigrad.nested.nested_tensor([minigrad.ones(2, 4), minigrad.ones(3, 4)],
                                      layout=minigrad.jagged)  # fmt: skip
    y = x * 1.0
    assert minigrad.nn.functional.dropout(y, 0.5, inplace=True) is y


def test_masked_select():
    values = np.arange(12.0).reshape(3, 4)
    mask = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 1]], dtype=bool)
    tm, tt = minigrad.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    nm = minigrad.nested.masked_select(tm, minigrad.tensor(mask))
    nt = torch.nested.masked_select(tt, torch.tensor(mask))
    np.testing.assert_array_equal(nm.offsets().numpy(), nt.offsets().numpy())
    for a, b in zip(nm.unbind(), nt.unbind()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    weights = np.arange(5.0)
    (nm.values() * minigrad.tensor(weights)).sum().backward()
    (nt.values() * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(tm.grad.numpy(), tt.grad.numpy())
