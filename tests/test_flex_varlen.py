"""nn.attention.varlen: packed variable-length attention against PyTorch's SDPA run per sequence
(PyTorch's varlen_attn needs CUDA FlashAttention)."""

import numpy as np
import pytest

import minigrad
from minigrad.nn.attention import varlen as MV

torch = pytest.importorskip("torch")
LQ, LK, HQ, D = [3, 5, 2], [3, 6, 4], 4, 8


def _reference(q, k, v, window, hkv):
    """Per sequence: PyTorch SDPA with the FlashAttention window mask; (out, lse)."""
    outs, lses, sq, sk = [], [], 0, 0
    for lq, lk in zip(LQ, LK, strict=True):
        qi = q[sq : sq + lq].transpose(0, 1)
        ki = k[sk : sk + lk].transpose(0, 1).repeat_interleave(HQ // hkv, 0)
        vi = v[sk : sk + lk].transpose(0, 1).repeat_interleave(HQ // hkv, 0)
        i = torch.arange(lq)[:, None] + lk - lq
        j = torch.arange(lk)
        keep = torch.ones(lq, lk, dtype=torch.bool)
        if window[1] >= 0:
            keep &= j <= i + window[1]
        if window[0] >= 0:
            keep &= j >= i - window[0]
        s = (qi @ ki.transpose(-1, -2) / D**0.5).masked_fill(~keep, float("-inf"))
        lses.append(torch.logsumexp(s, -1).transpose(0, 1))
        outs.append((torch.softmax(s, -1).nan_to_num(0.0) @ vi).transpose(0, 1))
        sq, sk = sq + lq, sk + lk
    return torch.cat(outs), torch.cat(lses)


@pytest.mark.parametrize("window,hkv", [((-1, -1), 4), ((-1, 0), 2), ((1, 0), 4), ((2, 1), 1)])
def test_varlen_matches_torch(window, hkv):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((sum(n), h, D)) for n, h in ((LQ, HQ), (LK, hkv), (LK, hkv))]
    m = [minigrad.tensor(a, requires_grad=True) for a in arrays]
    t = [torch.tensor(a, requires_grad=True) for a in arrays]
    cu_q = minigrad.tensor(np.cumsum([0, *LQ]), dtype=minigrad.int32)
    cu_k = minigrad.tensor(np.cumsum([0, *LK]), dtype=minigrad.int32)
    out_m, lse_m = MV.varlen_attn(*m, cu_q, cu_k, max(LQ), max(LK), window_size=window,
                                  enable_gqa=hkv != HQ, return_aux=MV.AuxRequest(lse=True))  # fmt: skip
    out_t, lse_t = _reference(*t, window, hkv)
    np.testing.assert_allclose(out_m.detach().numpy(), out_t.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(lse_m.detach().numpy(), lse_t.detach().numpy(), atol=1e-12)
    g = rng.standard_normal(tuple(out_t.shape))
    (out_m * minigrad.tensor(g)).sum().backward()
    (out_t * torch.tensor(g)).sum().backward()
    for a, b in zip(m, t, strict=True):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-12)


def test_paged_kv_and_out_variant_equal_contiguous():
    rng = np.random.default_rng(1)
    q = minigrad.tensor(rng.standard_normal((sum(LQ), HQ, D)))
    k, v = (minigrad.tensor(rng.standard_normal((sum(LK), HQ, D))) for _ in range(2))
    cu_q = minigrad.tensor(np.cumsum([0, *LQ]), dtype=minigrad.int32)
    cu_k = minigrad.tensor(np.cumsum([0, *LK]), dtype=minigrad.int32)
    used = minigrad.tensor([2, 5, 4], dtype=minigrad.int32)
    ref = MV.varlen_attn(q, k, v, cu_q, cu_k, 5, 6, seqused_k=used)
    page, pool_k, pool_v, table = 2, [], [], np.zeros((3, 3), dtype=np.int32)
    order = [4, 0, 5, 2, 1, 3, 6]  # pages placed out of order in the pool
    pool_k = np.zeros((8, page, HQ, D))
    pool_v = np.zeros((8, page, HQ, D))
    starts, n = np.cumsum([0, *LK]), 0
    for s, u in enumerate([2, 5, 4]):
        for p in range(-(-u // page)):
            rows = slice(starts[s] + p * page, min(starts[s] + (p + 1) * page, starts[s + 1]))
            kk, vv = k.numpy()[rows], v.numpy()[rows]
            pool_k[order[n], : len(kk)], pool_v[order[n], : len(vv)] = kk, vv
            table[s, p], n = order[n], n + 1
    paged = MV.varlen_attn(q, minigrad.tensor(pool_k), minigrad.tensor(pool_v), cu_q, None, 5, 6,
                           seqused_k=used, block_table=minigrad.tensor(table))  # fmt: skip
    np.testing.assert_allclose(paged.numpy(), ref.numpy(), atol=1e-12)
    out = minigrad.empty(sum(LQ), HQ, D, dtype=minigrad.float64)
    assert MV.varlen_attn_out(out, q, k, v, cu_q, cu_k, 5, 6, seqused_k=used) is out
    np.testing.assert_allclose(out.numpy(), ref.numpy(), atol=1e-12)
    with pytest.raises(ValueError, match="enable_gqa"):
        MV.varlen_attn(q, k[:, :2], v[:, :2], cu_q, cu_k, 5, 6)
    with pytest.raises(ValueError, match="seqused_k"):
        MV.varlen_attn(q, minigrad.tensor(pool_k), minigrad.tensor(pool_v), cu_q, None, 5, 6,
                       block_table=minigrad.tensor(table))  # fmt: skip
