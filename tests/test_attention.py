"""Attention: SDPA, MultiheadAttention and transformer blocks against PyTorch, errors, devices."""

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.autograd import gradcheck, gradgradcheck
from minigrad.nn import functional as F
from minigrad.nn.modules.transformer import generate_square_subsequent_mask
from minigrad.testing.fake_device import HostTransfers

torch = pytest.importorskip("torch")
TF = torch.nn.functional

TOL = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-9, atol=1e-10)}


def _pair(a, dtype, grad=True):
    m = minigrad.tensor(a, dtype=getattr(minigrad, dtype), requires_grad=grad)
    t = torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=grad)
    return m, t


def _mask_pair(a, dtype):
    if a.dtype == bool:
        return minigrad.tensor(a), torch.tensor(a)
    return _pair(a, dtype)


def _check(out_m, out_t, pairs, dtype, rng):
    """Forward values and the gradients of a random upstream gradient are PyTorch's."""
    np.testing.assert_allclose(out_m.detach().numpy(), out_t.detach().numpy(), **TOL[dtype])
    g = rng.standard_normal(tuple(out_t.shape))
    (out_m * minigrad.tensor(g, dtype=out_m.dtype)).sum().backward()
    (out_t * torch.tensor(g, dtype=out_t.dtype)).sum().backward()
    for name, (m, t) in pairs:
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), err_msg=name, **TOL[dtype])


def _random_mask(rng, shape, empty_row=False):
    mask = rng.random(shape) < 0.6
    mask[..., 0] = True
    if empty_row:
        mask[..., 1, :] = False  # a query that may see no key: zero output, as PyTorch
    return mask


SDPA = [
    ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), {}),
    ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), dict(is_causal=True)),
    ((2, 3, 6, 5), (2, 3, 4, 5), (2, 3, 4, 7), dict(is_causal=True)),
    ((4, 5), (6, 5), (6, 7), dict(scale=0.3)),
    ((2, 3, 4, 5), (1, 3, 6, 5), (2, 1, 6, 7), {}),
    ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), dict(attn_mask="bool")),
    ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), dict(attn_mask="bool_empty_row")),
    ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), dict(attn_mask="float")),
    ((2, 4, 4, 5), (2, 2, 6, 5), (2, 2, 6, 7), dict(enable_gqa=True)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("qs,ks,vs,kw", SDPA)
def test_sdpa_matches_torch(qs, ks, vs, kw, dtype):
    rng = np.random.default_rng(0)
    (qm, qt), (km, kt), (vm, vt) = (_pair(rng.standard_normal(s), dtype) for s in (qs, ks, vs))
    pairs = [("q", (qm, qt)), ("k", (km, kt)), ("v", (vm, vt))]
    kw_m, kw_t = dict(kw), dict(kw)
    mask = kw.get("attn_mask")
    if mask is not None:
        shape = (3, qs[-2], ks[-2])
        a = (
            rng.standard_normal(shape)
            if mask == "float"
            else _random_mask(rng, shape, "empty" in mask)
        )
        kw_m["attn_mask"], kw_t["attn_mask"] = _mask_pair(a, dtype)
        if mask == "float":
            pairs.append(("mask", (kw_m["attn_mask"], kw_t["attn_mask"])))
    out_m = F.scaled_dot_product_attention(qm, km, vm, **kw_m)
    out_t = TF.scaled_dot_product_attention(qt, kt, vt, **kw_t)
    _check(out_m, out_t, pairs, dtype, rng)


def test_sdpa_dropout_is_seeded_and_differentiable():
    rng = np.random.default_rng(1)
    q, k, v = (
        minigrad.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True, dtype=minigrad.float64)
        for _ in range(3)
    )

    def attend(q, k, v):
        minigrad.manual_seed(3)  # the same dropout mask on every call
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)

    assert gradcheck(attend, (q, k, v))
    no_drop = F.scaled_dot_product_attention(q, k, v)
    assert not np.allclose(attend(q, k, v).detach().numpy(), no_drop.detach().numpy())
    zeros = F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    assert not zeros.detach().numpy().any()


@pytest.mark.parametrize(
    "call,pattern",
    [
        (
            lambda q: F.scaled_dot_product_attention(
                q, q, q, minigrad.ones(3, 3, dtype=minigrad.bool), is_causal=True
            ),
            "is_causal",
        ),
        (lambda q: F.scaled_dot_product_attention(q, q[..., :2], q), "same embedding size"),
        (lambda q: F.scaled_dot_product_attention(q, q, q[:, :2]), "same sequence length"),
        (lambda q: F.scaled_dot_product_attention(q, q, q.double()), "same floating dtype"),
        (
            lambda q: F.scaled_dot_product_attention(q, q, q, minigrad.ones(2, 5)),
            "not broadcastable",
        ),
    ],
)
def test_sdpa_bad_input(call, pattern):
    with pytest.raises(RuntimeError, match=pattern):
        call(minigrad.randn(2, 3, 4))


# -- MultiheadAttention ---------------------------------------------------------------------------


def _copy_weights(module_m, module_t):
    module_m.load_state_dict(
        {k: minigrad.tensor(v.detach().numpy()) for k, v in module_t.state_dict().items()}
    )


def _mha_masks(rng, names, n, heads, length, source, dtype):
    kw_m, kw_t = {}, {}
    for name in names:
        if name == "kpm_bool":
            a = rng.random((n, source)) < 0.3
            a[:, 0] = False
            key = "key_padding_mask"
        elif name == "kpm_float":
            a, key = rng.standard_normal((n, source)), "key_padding_mask"
        elif name == "mask_bool":
            a = rng.random((length, source)) < 0.3
            a[:, 0] = False
            key = "attn_mask"
        elif name == "mask_float3d":
            a, key = rng.standard_normal((n * heads, length, source)), "attn_mask"
        else:  # causal
            a, key = np.triu(np.ones((length, source), bool), 1), "attn_mask"
            kw_m["is_causal"] = kw_t["is_causal"] = True
        kw_m[key], kw_t[key] = _mask_pair(a, dtype) if a.dtype == bool else _pair(a, dtype, False)
    return kw_m, kw_t


MHA = [
    (dict(), dict(), (), False),
    (dict(batch_first=True), dict(average_attn_weights=False), (), False),
    (dict(), dict(need_weights=False), (), True),
    (dict(batch_first=True), dict(), ("kpm_bool", "mask_bool"), False),
    (dict(), dict(need_weights=False), ("kpm_bool", "mask_float3d"), False),
    (dict(batch_first=True), dict(need_weights=False), ("kpm_float",), True),
    (dict(batch_first=True), dict(need_weights=False), ("causal",), True),
    (dict(), dict(), ("causal",), True),
    (dict(kdim=6, vdim=5, bias=False), dict(), ("mask_bool",), False),
    (dict(add_bias_kv=True), dict(), ("kpm_bool", "mask_bool"), False),
    (
        dict(add_zero_attn=True, add_bias_kv=True),
        dict(need_weights=False),
        ("mask_float3d",),
        False,
    ),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kw,call_kw,masks,self_attention", MHA)
def test_multihead_attention_matches_torch(kw, call_kw, masks, self_attention, dtype):
    rng = np.random.default_rng(2)
    e, heads, n, length = 8, 2, 3, 4
    source = length if self_attention else 5
    mha_t = torch.nn.MultiheadAttention(e, heads, **kw).to(getattr(torch, dtype))
    mha_m = nn.MultiheadAttention(e, heads, **kw).to(getattr(minigrad, dtype))
    assert list(mha_m.state_dict()) == list(mha_t.state_dict())
    assert repr(mha_m) == repr(mha_t)
    _copy_weights(mha_m, mha_t)

    def shape(seq, width):
        return (n, seq, width) if kw.get("batch_first") else (seq, n, width)

    (qm, qt) = _pair(rng.standard_normal(shape(length, e)), dtype)
    if self_attention:
        (km, kt), (vm, vt) = (qm, qt), (qm, qt)
    else:
        (km, kt) = _pair(rng.standard_normal(shape(source, kw.get("kdim", e))), dtype)
        (vm, vt) = _pair(rng.standard_normal(shape(source, kw.get("vdim", e))), dtype)
    mask_m, mask_t = _mha_masks(rng, masks, n, heads, length, source, dtype)
    out_m, w_m = mha_m(qm, km, vm, **mask_m, **call_kw)
    out_t, w_t = mha_t(qt, kt, vt, **mask_t, **call_kw)
    if w_t is None:
        assert w_m is None
    else:
        np.testing.assert_allclose(w_m.detach().numpy(), w_t.detach().numpy(), **TOL[dtype])
    params = [
        (name, (p, dict(mha_t.named_parameters())[name])) for name, p in mha_m.named_parameters()
    ]
    inputs = [("q", (qm, qt))] + ([] if self_attention else [("k", (km, kt)), ("v", (vm, vt))])
    _check(out_m, out_t, inputs + params, dtype, rng)


def test_multihead_attention_unbatched():
    mha_t, mha_m = torch.nn.MultiheadAttention(8, 2).double(), nn.MultiheadAttention(8, 2).double()
    _copy_weights(mha_m, mha_t)
    a = np.random.default_rng(3).standard_normal((4, 8))
    out_m, w_m = mha_m(*(minigrad.tensor(a, dtype=minigrad.float64),) * 3)
    out_t, w_t = mha_t(*(torch.tensor(a),) * 3)
    np.testing.assert_allclose(out_m.detach().numpy(), out_t.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(w_m.detach().numpy(), w_t.detach().numpy(), atol=1e-10)


def test_multihead_attention_bad_input():
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = minigrad.randn(2, 4, 8)
    with pytest.raises(
        RuntimeError,
        match=r"MultiheadAttention\(embed_dim=8, num_heads=2\) expected query .*\[2, 4, 6\]",
    ):
        mha(minigrad.randn(2, 4, 6), x, x)
    with pytest.raises(RuntimeError, match=r"attn_mask of shape \[4, 4\]"):
        mha(x, x, x, attn_mask=minigrad.zeros(3, 4, dtype=minigrad.bool))
    with pytest.raises(RuntimeError, match="key_padding_mask of shape"):
        mha(x, x, x, key_padding_mask=minigrad.zeros(2, 5, dtype=minigrad.bool))
    with pytest.raises(RuntimeError, match="is_causal"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(AssertionError, match="divisible by num_heads"):
        nn.MultiheadAttention(10, 3)


# -- transformer layers ---------------------------------------------------------------------------


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_encoder_layer_matches_torch(norm_first, batch_first, dtype):
    rng = np.random.default_rng(4)
    kw = dict(dim_feedforward=16, norm_first=norm_first, batch_first=batch_first)
    layer_t = torch.nn.TransformerEncoderLayer(8, 2, **kw).to(getattr(torch, dtype)).eval()
    layer_m = nn.TransformerEncoderLayer(8, 2, **kw).to(getattr(minigrad, dtype)).eval()
    assert list(layer_m.state_dict()) == list(layer_t.state_dict())
    _copy_weights(layer_m, layer_t)
    xm, xt = _pair(rng.standard_normal((3, 5, 8) if batch_first else (5, 3, 8)), dtype)
    kpm = rng.random((3, 5)) < 0.3
    kpm[:, 0] = False
    out_m = layer_m(xm, src_key_padding_mask=minigrad.tensor(kpm))
    out_t = layer_t(xt, src_key_padding_mask=torch.tensor(kpm))
    params = [(n, (p, dict(layer_t.named_parameters())[n])) for n, p in layer_m.named_parameters()]
    _check(out_m, out_t, [("x", (xm, xt))] + params, dtype, rng)


def test_encoder_layer_train_mode_gelu_causal_matches_torch():
    rng = np.random.default_rng(5)
    kw = dict(dim_feedforward=16, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
    layer_t, layer_m = (
        torch.nn.TransformerEncoderLayer(8, 2, **kw).double(),
        nn.TransformerEncoderLayer(8, 2, **kw).double(),
    )
    _copy_weights(layer_m, layer_t)
    xm, xt = _pair(rng.standard_normal((2, 6, 8)), "float64")
    mask_t = torch.nn.Transformer.generate_square_subsequent_mask(6, dtype=torch.float64)
    mask_m = generate_square_subsequent_mask(6, dtype=minigrad.float64)
    np.testing.assert_array_equal(mask_m.numpy(), mask_t.numpy())
    out_m = layer_m(xm, src_mask=mask_m, is_causal=True)
    out_t = layer_t(xt, src_mask=mask_t, is_causal=True)
    params = [(n, (p, dict(layer_t.named_parameters())[n])) for n, p in layer_m.named_parameters()]
    _check(out_m, out_t, [("x", (xm, xt))] + params, "float64", rng)


def test_encoder_matches_torch_and_copies_layers():
    layer_t = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    encoder_t = torch.nn.TransformerEncoder(
        layer_t, 2, norm=torch.nn.LayerNorm(8), enable_nested_tensor=False
    ).double()
    layer_m = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    encoder_m = nn.TransformerEncoder(layer_m, 2, norm=nn.LayerNorm(8)).double()
    assert list(encoder_m.state_dict()) == list(encoder_t.state_dict())
    assert encoder_m.layers[0].linear1.weight is not encoder_m.layers[1].linear1.weight
    _copy_weights(encoder_m, encoder_t)
    a = np.random.default_rng(6).standard_normal((2, 5, 8))
    np.testing.assert_allclose(
        encoder_m(minigrad.tensor(a, dtype=minigrad.float64)).detach().numpy(),
        encoder_t(torch.tensor(a)).detach().numpy(),
        atol=1e-10,
    )


class _TorchDecoderBlock(torch.nn.Module):
    """The same architecture as nn.TransformerDecoderBlock, written with torch."""

    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln_1, self.ln_2 = torch.nn.LayerNorm(d), torch.nn.LayerNorm(d)
        self.attn = torch.nn.ModuleDict(
            {k: torch.nn.Linear(d, d) for k in ("q_proj", "k_proj", "v_proj", "out_proj")}
        )
        self.mlp = torch.nn.ModuleDict(
            dict(fc1=torch.nn.Linear(d, 4 * d), fc2=torch.nn.Linear(4 * d, d))
        )

    def forward(self, x):
        b, t, c = x.shape
        h = self.ln_1(x)
        q, k, v = (
            self.attn[p](h).view(b, t, self.heads, -1).transpose(1, 2)
            for p in ("q_proj", "k_proj", "v_proj")
        )
        y = (
            TF.scaled_dot_product_attention(q, k, v, is_causal=True)
            .transpose(1, 2)
            .reshape(b, t, c)
        )
        x = x + self.attn["out_proj"](y)
        return x + self.mlp["fc2"](TF.gelu(self.mlp["fc1"](self.ln_2(x))))


def test_decoder_block_matches_torch_reference():
    rng = np.random.default_rng(7)
    block_t, block_m = (
        _TorchDecoderBlock(16, 4).double(),
        nn.TransformerDecoderBlock(16, 4).double(),
    )
    assert sorted(block_m.state_dict()) == sorted(block_t.state_dict())
    _copy_weights(block_m, block_t)
    xm, xt = _pair(rng.standard_normal((2, 6, 16)), "float64")
    params = [(n, (p, dict(block_t.named_parameters())[n])) for n, p in block_m.named_parameters()]
    _check(block_m(xm), block_t(xt), [("x", (xm, xt))] + params, "float64", rng)


def test_decoder_block_is_causal():
    block = nn.TransformerDecoderBlock(16, 4, dropout=0.1).eval()
    x = minigrad.randn(2, 6, 16)
    changed = minigrad.cat([x[:, :4], minigrad.randn(2, 2, 16)], 1)
    np.testing.assert_allclose(
        block(x)[:, :4].detach().numpy(), block(changed)[:, :4].detach().numpy(), atol=1e-6
    )
    with pytest.raises(RuntimeError, match=r"CausalSelfAttention\(d_model=16.*\[2, 6, 8\]"):
        block.attn(minigrad.randn(2, 6, 8))


def test_attention_blocks_on_device_match_cpu_without_host_transfers(device):
    def run(dev):
        minigrad.manual_seed(0)
        model = nn.Sequential(
            nn.TransformerDecoderBlock(8, 2),
            nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
        ).to(dev)
        x = minigrad.tensor(
            np.random.default_rng(8).standard_normal((2, 5, 8)), dtype=minigrad.float32, device=dev
        )
        before = HostTransfers.count
        out = model(x)
        (out * out).sum().backward()
        transfers = HostTransfers.count - before
        grads = [p.grad.detach().cpu().numpy() for p in model.parameters()]
        return out.detach().cpu().numpy(), grads, transfers

    out_cpu, grads_cpu, _ = run("cpu")
    out_dev, grads_dev, transfers = run(device)
    assert transfers == 0
    np.testing.assert_allclose(out_dev, out_cpu, rtol=1e-5, atol=1e-6)
    for a, b in zip(grads_dev, grads_cpu):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("need_weights", [False, True])
def test_multihead_attention_second_derivatives(need_weights):
    minigrad.manual_seed(0)
    mha = nn.MultiheadAttention(4, 2, batch_first=True).double()
    x = minigrad.randn(1, 3, 4, dtype=minigrad.float64, requires_grad=True)
    mask = minigrad.tensor([[False, True, False], [False, False, True], [True, False, False]])

    def attend(x):
        out, weights = mha(x, x, x, attn_mask=mask, need_weights=need_weights)
        return (out, weights) if need_weights else out

    assert gradcheck(attend, (x,))
    assert gradgradcheck(attend, (x,))
