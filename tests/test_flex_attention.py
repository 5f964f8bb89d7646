"""flex_attention, create_block_mask, BlockMask and the mask combinators against PyTorch.

Forward values and lse are compared with ``torch.nn.attention.flex_attention`` itself (which has
no backward on CPU); gradients with PyTorch autograd through the dense formula, using the same
user score_mod/mask_mod functions on broadcast index grids.
"""

import warnings

import numpy as np
import pytest

import minigrad
from minigrad.autograd import gradgradcheck
from minigrad.nn.attention import flex_attention as MFA

torch = pytest.importorskip("torch")
TFA = pytest.importorskip("torch.nn.attention.flex_attention")

B, H, L, E = 2, 4, 12, 8
TOL = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-9, atol=1e-10)}
FIELDS = (
    "kv_num_blocks",
    "kv_indices",
    "full_kv_num_blocks",
    "full_kv_indices",
    "q_num_blocks",
    "q_indices",
    "full_q_num_blocks",
    "full_q_indices",
)


def _mods(lib, params):
    """The standard examples, written once for both libraries: name -> (mask_mod, score_mod)."""
    doc = lib.tensor([0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2])
    rel, slopes = params["rel"], params["slopes"]

    def causal(b, h, q, kv):
        return q >= kv

    def window(b, h, q, kv):
        return (q >= kv) & (q - kv <= 3)

    def prefix(b, h, q, kv):
        return kv <= 4

    def document(b, h, q, kv):
        return doc[q] == doc[kv]

    def alibi(score, b, h, q, kv):
        return score - slopes[h] * (q - kv)

    def relative(score, b, h, q, kv):
        return score + rel[h, q - kv + L - 1]

    def softcap(score, b, h, q, kv):
        return 2.0 * lib.tanh(score / 2.0)

    return {
        "causal": (causal, None),
        "window": (window, None),
        "prefix_lm": (MFA.or_masks(causal, prefix) if lib is minigrad else None, None),
        "document": (document, None),
        "alibi_causal": (causal, alibi),
        "relative": (None, relative),
        "softcap_doc": (document, softcap),
        "prefix_raw": (prefix, None),
    }


def _params(rng, lib, dtype, grad):
    rel = rng.standard_normal((H, 2 * L - 1))
    slopes = 2.0 ** -np.arange(1.0, H + 1)
    return {
        "rel": lib.tensor(rel, dtype=getattr(lib, dtype), requires_grad=grad),
        "slopes": lib.tensor(slopes, dtype=getattr(lib, dtype), requires_grad=grad),
    }


def _case(name, rng, dtype, grad):
    pm, pt = _params(rng, minigrad, dtype, grad), None
    pt = {k: torch.tensor(v.detach().numpy(), requires_grad=grad) for k, v in pm.items()}
    mm, ms = _mods(minigrad, pm)[name]
    tm, ts = _mods(torch, pt)[name]
    if name == "prefix_lm":
        tm = TFA.or_masks(_mods(torch, pt)["causal"][0], _mods(torch, pt)["prefix_raw"][0])
    return (mm, ms, pm), (tm, ts, pt)


def _qkv(rng, dtype, hkv=H, grad=False):
    arrays = [rng.standard_normal((B, h, L, E)) for h in (H, hkv, hkv)]
    m = [minigrad.tensor(a, dtype=getattr(minigrad, dtype), requires_grad=grad) for a in arrays]
    t = [torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=grad) for a in arrays]
    return m, t


def _torch_reference(q, k, v, score_mod, mask_mod, enable_gqa=False, scale=E**-0.5):
    """Dense PyTorch autograd of the same formula (flex_attention has no CPU backward)."""
    if enable_gqa:
        k = k.repeat_interleave(q.shape[1] // k.shape[1], 1)
        v = v.repeat_interleave(q.shape[1] // v.shape[1], 1)
    s = q @ k.transpose(-1, -2) * scale
    grids = [torch.arange(n).reshape([n if i == d else 1 for i in range(4)]) for d, n in
             enumerate(s.shape)]  # fmt: skip
    if score_mod is not None:
        s = score_mod(s, *grids)
    if mask_mod is not None:
        s = s.masked_fill(~mask_mod(*grids), float("-inf"))
    p = torch.softmax(s, -1).nan_to_num(0.0)
    return p @ v


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.mark.parametrize(
    "name", ["causal", "window", "prefix_lm", "document", "alibi_causal", "relative", "softcap_doc"]
)
def test_forward_and_lse_match_torch_flex(name):
    rng = np.random.default_rng(0)
    (mm, ms, _), (tm, ts, _) = _case(name, rng, "float64", False)
    (qm, km, vm), (qt, kt, vt) = _qkv(rng, "float64")
    bm_m = MFA.create_block_mask(mm, None, None, L, L, BLOCK_SIZE=4) if mm else None
    bm_t = TFA.create_block_mask(tm, None, None, L, L, device="cpu", BLOCK_SIZE=4) if tm else None
    aux = MFA.AuxRequest(lse=True)
    out_m, aux_m = MFA.flex_attention(qm, km, vm, ms, bm_m, return_aux=aux)
    out_t, aux_t = TFA.flex_attention(qt, kt, vt, ts, bm_t, return_aux=TFA.AuxRequest(lse=True))
    np.testing.assert_allclose(out_m.numpy(), out_t.numpy(), **TOL["float64"])
    np.testing.assert_allclose(aux_m.lse.numpy(), aux_t.lse.numpy(), **TOL["float64"])
    assert aux_m.max_scores is None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["causal", "prefix_lm", "alibi_causal", "relative", "softcap_doc"])
def test_gradients_match_torch(name, dtype):
    rng = np.random.default_rng(1)
    (mm, ms, pm), (tm, ts, pt) = _case(name, rng, dtype, True)
    (qm, km, vm), (qt, kt, vt) = _qkv(rng, dtype, grad=True)
    bm = MFA.create_block_mask(mm, B, None, L, L, BLOCK_SIZE=4) if mm else None
    out_m = MFA.flex_attention(qm, km, vm, score_mod=ms, block_mask=bm)
    out_t = _torch_reference(qt, kt, vt, ts, tm)
    np.testing.assert_allclose(out_m.detach().numpy(), out_t.detach().numpy(), **TOL[dtype])
    g = rng.standard_normal(tuple(out_t.shape))
    (out_m * minigrad.tensor(g, dtype=out_m.dtype)).sum().backward()
    (out_t * torch.tensor(g, dtype=out_t.dtype)).sum().backward()
    pairs = [("q", qm, qt), ("k", km, kt), ("v", vm, vt)]
    if ms is not None:  # captured tables get gradients where the score_mod uses them
        pairs += [(k, pm[k], pt[k]) for k in pm if pt[k].grad is not None]
    for label, m, t in pairs:
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), err_msg=label, **TOL[dtype])


def test_gqa_matches_torch():
    rng = np.random.default_rng(2)
    (qm, km, vm), (qt, kt, vt) = _qkv(rng, "float64", hkv=2, grad=True)
    pm = _params(rng, minigrad, "float64", False)
    causal, alibi = _mods(minigrad, pm)["alibi_causal"]
    pt = {k: torch.tensor(v.numpy()) for k, v in pm.items()}
    tcausal, talibi = _mods(torch, pt)["alibi_causal"]
    bm = MFA.create_block_mask(causal, None, None, L, L, BLOCK_SIZE=8)
    out_m = MFA.flex_attention(qm, km, vm, alibi, bm, scale=0.3, enable_gqa=True)
    with torch.no_grad():
        tbm = TFA.create_block_mask(tcausal, None, None, L, L, device="cpu", BLOCK_SIZE=8)
        qd, kd, vd = (t.detach() for t in (qt, kt, vt))
        out_flex = TFA.flex_attention(qd, kd, vd, talibi, tbm, scale=0.3, enable_gqa=True)
    np.testing.assert_allclose(out_m.detach().numpy(), out_flex.numpy(), **TOL["float64"])
    out_t = _torch_reference(qt, kt, vt, talibi, tcausal, enable_gqa=True, scale=0.3)
    g = rng.standard_normal(tuple(out_t.shape))
    (out_m * minigrad.tensor(g)).sum().backward()
    (out_t * torch.tensor(g)).sum().backward()
    for m, t in ((qm, qt), (km, kt), (vm, vt)):
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), **TOL["float64"])


def test_fully_masked_rows_are_zero_with_zero_grads():
    rng = np.random.default_rng(3)
    (qm, km, vm), (qt, kt, vt) = _qkv(rng, "float64", grad=True)

    def late(b, h, q, kv):
        return (q > 2) & (q >= kv)

    bm = MFA.create_block_mask(late, None, None, L, L, BLOCK_SIZE=4)
    out, lse = MFA.flex_attention(qm, km, vm, block_mask=bm, return_lse=True)
    tbm = TFA.create_block_mask(late, None, None, L, L, device="cpu", BLOCK_SIZE=4)
    with torch.no_grad():
        qd, kd, vd = (t.detach() for t in (qt, kt, vt))
        out_t, lse_t = TFA.flex_attention(qd, kd, vd, block_mask=tbm, return_lse=True)
    np.testing.assert_allclose(out.detach().numpy(), out_t.numpy(), **TOL["float64"])
    np.testing.assert_array_equal(np.isneginf(lse.detach().numpy()), np.isneginf(lse_t.numpy()))
    assert np.all(out.detach().numpy()[:, :, :3] == 0)
    out.sum().backward()
    assert np.all(np.isfinite(qm.grad.numpy())) and np.all(qm.grad.numpy()[:, :, :3] == 0)


@pytest.mark.parametrize("bs", [4, (4, 8), 128])
@pytest.mark.parametrize("name", ["causal", "window", "document"])
def test_block_mask_matches_torch(name, bs):
    rng = np.random.default_rng(4)
    (mm, _, _), (tm, _, _) = _case(name, rng, "float64", False)
    m = MFA.create_block_mask(mm, 2, None, L, L, BLOCK_SIZE=bs)
    t = TFA.create_block_mask(tm, 2, None, L, L, device="cpu", BLOCK_SIZE=bs)
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(m, field).numpy(), getattr(t, field).numpy(), field)
    np.testing.assert_array_equal(m.to_dense().numpy(), t.to_dense().numpy())
    assert m.shape == t.shape and m.BLOCK_SIZE == t.BLOCK_SIZE and m.numel() == t.numel()
    assert m.sparsity() == pytest.approx(t.sparsity())
    assert str(m) == str(t) and m.to_string((3, 2), 1) == t.to_string((3, 2), 1)
    assert m[1].shape == t[1].shape and m[1, 0].shape == t[1, 0].shape
    assert m.as_tuple()[:2] == t.as_tuple()[:2]


def test_from_kv_blocks_and_adjust():
    def causal(b, h, q, kv):
        return q >= kv

    m = MFA.create_block_mask(causal, None, 2, 16, 16, BLOCK_SIZE=4)
    t = TFA.create_block_mask(causal, None, 2, 16, 16, device="cpu", BLOCK_SIZE=4)
    m2 = MFA.BlockMask.from_kv_blocks(
        m.kv_num_blocks, m.kv_indices, m.full_kv_num_blocks, m.full_kv_indices, 4, causal
    )
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(m2, field).numpy(), getattr(t, field).numpy(), field)
    ma, ta = m._adjust(8, 8), t._adjust(8, 8)
    assert ma.shape == ta.shape
    np.testing.assert_array_equal(ma.to_dense().numpy(), ta.to_dense().numpy())
    assert "kv_num_blocks=minigrad.Size([1, 2, 4])" in repr(m)


def test_create_mask_and_combinators_match_torch():
    def causal(lib):
        return lambda b, h, q, kv: q >= kv

    def near(b, h, q, kv):
        return (q - kv).abs() <= 2

    def bias(score, b, h, q, kv):
        return score + q - kv

    for mod_m, mod_t in [
        (MFA.and_masks(causal(minigrad), near), TFA.and_masks(causal(torch), near)),
        (MFA.or_masks(causal(minigrad), near), TFA.or_masks(causal(torch), near)),
        (MFA.noop_mask, TFA.noop_mask),
        (bias, bias),
    ]:
        m = MFA.create_mask(mod_m, 2, 3, 5, 7)
        t = TFA.create_mask(mod_t, 2, 3, 5, 7)
        assert m.dtype is minigrad.bool and m.shape == t.shape
        np.testing.assert_array_equal(m.numpy(), t.numpy())


def test_double_backward_through_score_mod():
    rng = np.random.default_rng(5)
    q, k, v = (
        minigrad.tensor(rng.standard_normal((1, 2, 3, 2)), requires_grad=True) for _ in range(3)
    )
    slopes = minigrad.tensor([0.5, 0.25], dtype=minigrad.float64, requires_grad=True)

    def alibi(score, b, h, qi, kv):
        return score - slopes[h] * (qi - kv)

    bm = MFA.create_block_mask(lambda b, h, qi, kv: qi >= kv, None, None, 3, 3, BLOCK_SIZE=2)
    assert gradgradcheck(
        lambda q, k, v, s: MFA.flex_attention(q, k, v, alibi, bm), (q, k, v, slopes)
    )


def test_half_precision_and_return_forms():
    rng = np.random.default_rng(6)
    (qm, km, vm), _ = _qkv(rng, "float32")
    out, lse = MFA.flex_attention(qm.half(), km.half(), vm.half(), return_lse=True)
    assert out.dtype is minigrad.float16 and lse.dtype is minigrad.float32
    out, aux = MFA.flex_attention(qm, km, vm, return_aux=MFA.AuxRequest(max_scores=True))
    assert aux.lse is None and aux.max_scores.shape == (B, H, L)
    with pytest.raises(ValueError, match="return_lse"):
        MFA.flex_attention(qm, km, vm, return_lse=True, return_aux=MFA.AuxRequest(lse=True))


def test_errors():
    rng = np.random.default_rng(7)
    (qm, km, vm), _ = _qkv(rng, "float32", hkv=2)
    with pytest.raises(ValueError, match="enable_gqa"):
        MFA.flex_attention(qm, km, vm)
    with pytest.raises(NotImplementedError, match="4-D"):
        MFA.flex_attention(qm[0], km[0], vm[0])
    bm = MFA.create_block_mask(lambda b, h, q, kv: q >= kv, None, None, 16, 16)
    with pytest.raises(ValueError, match="_adjust"):
        MFA.flex_attention(qm, km, vm, block_mask=bm, enable_gqa=True)
    with pytest.raises(ValueError, match="mask_mod"):
        MFA.create_block_mask(lambda s, b, h, q, kv: s, None, None, 4, 4)
    with pytest.raises(RuntimeError, match="broadcast"):
        MFA.flex_attention(qm, km, vm, lambda s, b, h, q, kv: s[..., :2], enable_gqa=True)
    sliced = MFA.create_block_mask(lambda b, h, q, kv: q >= kv, 2, None, L, L, BLOCK_SIZE=4)[0]
    with pytest.raises(RuntimeError, match="indexed BlockMask"):
        MFA.flex_attention(qm[:1], km[:1], vm[:1], block_mask=sliced, enable_gqa=True)


def test_each_device_and_both_paths(device):
    """The fused path (no score_mod) and the dense one agree on every device, masked rows too."""
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal((B, H, L, E)) for _ in range(3)]
    qkv = [minigrad.tensor(a, device=device, requires_grad=True) for a in arrays]

    def late(b, h, q, kv):
        return (q > 1) & (q >= kv)

    bm = MFA.create_block_mask(late, None, None, L, L, device=device, BLOCK_SIZE=4)
    fused = MFA.flex_attention(*qkv, block_mask=bm)
    dense = MFA.flex_attention(*qkv, lambda s, b, h, q, kv: s, bm)
    np.testing.assert_allclose(
        fused.detach().cpu().numpy(), dense.detach().cpu().numpy(), atol=1e-12
    )
    assert np.all(fused.detach().cpu().numpy()[:, :, :2] == 0)
    grads = minigrad.autograd.grad((fused - dense * 2).sum(), qkv)
    assert all(g.device == qkv[0].device for g in grads)


def test_query_chunks_equal_one_pass(monkeypatch):
    """Past CHUNK_SCORES the dense path runs checkpointed query chunks: the same values, lse and
    gradients (captured tables included), with block masks whose blocks straddle chunks."""
    rng = np.random.default_rng(9)
    pm = _params(rng, minigrad, "float64", True)
    mask_mod, score_mod = _mods(minigrad, pm)["document"][0], _mods(minigrad, pm)["relative"][1]
    (q, k, v), _ = _qkv(rng, "float64", hkv=2, grad=True)
    bm = MFA.create_block_mask(mask_mod, None, None, L, L, BLOCK_SIZE=(4, 3))
    aux = MFA.AuxRequest(lse=True, max_scores=True)
    results = []
    for limit in (MFA.CHUNK_SCORES, B * H * L * 5):  # one pass; chunks of 5 query rows
        monkeypatch.setattr(MFA, "CHUNK_SCORES", limit)
        out, extra = MFA.flex_attention(q, k, v, score_mod, bm, enable_gqa=True, return_aux=aux)
        grads = minigrad.autograd.grad((out * out).sum() + extra.lse.sum(), [q, k, v, pm["rel"]])
        results.append([out, extra.lse, extra.max_scores, *grads])
    for one, chunked in zip(*results, strict=True):
        np.testing.assert_allclose(chunked.detach().numpy(), one.detach().numpy(), atol=1e-12)
