"""SDPA's two kernels (dense and block-wise) against PyTorch and each other: masks, causal, GQA,
rows with no allowed key, dropout from one seed, kernel selection, and O(L + S) memory."""

import tracemalloc

import numpy as np
import pytest

import minigrad
from minigrad.autograd import gradcheck, gradgradcheck
from minigrad.nn import functional as F
from minigrad.nn.attention import BLOCKWISE_FROM, SDPBackend, sdpa_kernel
from minigrad.nn.functional._attention_select import block_sizes, choose_blocks
from minigrad.testing.fake_device import HostTransfers

torch = pytest.importorskip("torch")

DENSE, BLOCKS = SDPBackend.MATH, SDPBackend.FLASH_ATTENTION


def _attend(kernel, *args, tiles=(3, 2), **kwargs):
    """SDPA on one kernel (block-wise on small tiles, so that there are many and ragged ones)."""
    with sdpa_kernel(kernel), block_sizes(*tiles):
        return F.scaled_dot_product_attention(*args, **kwargs)


def _tensors(rng, shapes, lib, grad=True):
    arrays = [rng.standard_normal(s) for s in shapes]
    return [lib.tensor(a, dtype=lib.float64, requires_grad=grad) for a in arrays]


def _mask(rng, shape, kind):
    if kind == "bool":
        m = rng.random(shape) < 0.5
        m[..., 1, :] = False  # a query with no allowed key
        m[..., 2, :] = False
        m[..., 2, -1] = True  # one allowed key, in the last (ragged) block
        return m
    m = rng.standard_normal(shape)
    m[..., 1, :] = -np.inf  # no allowed key, written as -inf
    m[..., 3, 2:] = -np.inf
    return m


CASES = [
    ((2, 3, 7, 5), (2, 3, 9, 5), (2, 3, 9, 4), None, {}),
    ((2, 3, 7, 5), (2, 3, 9, 5), (2, 3, 9, 4), None, dict(is_causal=True)),
    ((2, 3, 9, 5), (2, 3, 7, 5), (2, 3, 7, 4), None, dict(is_causal=True)),
    ((2, 3, 7, 5), (1, 3, 9, 5), (2, 1, 9, 4), ((3, 7, 9), "bool"), {}),
    ((2, 3, 7, 5), (2, 3, 9, 5), (2, 3, 9, 4), ((7, 9), "float"), dict(scale=0.4)),
    ((2, 3, 7, 5), (2, 3, 9, 5), (2, 3, 9, 4), ((2, 1, 1, 9), "float_row"), {}),
    ((7, 5), (9, 5), (9, 4), ((9,), "bool_1d"), {}),
    ((2, 4, 7, 5), (2, 2, 9, 5), (2, 2, 9, 4), None, dict(enable_gqa=True)),
]


@pytest.mark.parametrize("kernel", [DENSE, BLOCKS])
@pytest.mark.parametrize("qs,ks,vs,mask,kw", CASES)
def test_kernels_match_torch(kernel, qs, ks, vs, mask, kw):
    """Outputs and gradients (q, k, v and a float mask) equal PyTorch's in float64."""
    rng = np.random.default_rng(0)
    seed = int(rng.integers(1 << 30))
    ours = _tensors(np.random.default_rng(seed), (qs, ks, vs), minigrad)
    theirs = _tensors(np.random.default_rng(seed), (qs, ks, vs), torch)
    kw_m, kw_t = dict(kw), dict(kw)
    if mask is not None:
        shape, kind = mask
        if kind == "bool_1d":
            a = rng.random(shape) < 0.5
        elif kind == "float_row":
            a = rng.standard_normal(shape)
        else:
            a = _mask(rng, shape, kind)
        grad = a.dtype != bool
        kw_m["attn_mask"] = minigrad.tensor(a, requires_grad=grad)
        kw_t["attn_mask"] = torch.tensor(a, requires_grad=grad)
        ours.append(kw_m["attn_mask"])
        theirs.append(kw_t["attn_mask"])
    out_m = _attend(kernel, *ours[:3], **kw_m)
    out_t = torch.nn.functional.scaled_dot_product_attention(*theirs[:3], **kw_t)
    np.testing.assert_allclose(out_m.detach().numpy(), out_t.detach().numpy(), atol=1e-12)
    g = rng.standard_normal(tuple(out_t.shape))
    (out_m * minigrad.tensor(g)).sum().backward()
    (out_t * torch.tensor(g)).sum().backward()
    for a, b in zip(ours, theirs):
        if b.requires_grad:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-12)


def test_rows_without_keys_give_zeros_as_torch():
    """A query that may attend to no key outputs zeros and passes no gradient, as PyTorch's SDPA
    (2.13, CPU) does, in both kernels and for bool and -inf masks."""
    rng = np.random.default_rng(1)
    q, k, v = _tensors(rng, ((1, 2, 4, 3), (1, 2, 6, 3), (1, 2, 6, 3)), minigrad)
    allowed = np.ones((4, 6), bool)
    allowed[2] = False
    additive = np.where(allowed, 0.0, -np.inf)
    t = [torch.tensor(x.detach().numpy()) for x in (q, k, v)]
    for a in (allowed, additive):
        expected = torch.nn.functional.scaled_dot_product_attention(*t, attn_mask=torch.tensor(a))
        assert not expected[..., 2, :].any()
        for kernel in (DENSE, BLOCKS):
            out = _attend(kernel, q, k, v, attn_mask=minigrad.tensor(a))
            np.testing.assert_allclose(out.detach().numpy(), expected.numpy(), atol=1e-12)
            (gq,) = minigrad.autograd.grad(out.sum(), [q])
            assert not gq.numpy()[..., 2, :].any()
            assert np.isfinite(gq.numpy()).all()


@pytest.mark.parametrize("kw", [{}, dict(is_causal=True), dict(attn_mask="bool")])
def test_dropout_is_the_same_in_both_kernels(kw):
    """Both kernels drop the same weights for the same seed and leave the generator in the same
    state."""
    rng = np.random.default_rng(2)
    q, k, v = _tensors(rng, ((2, 3, 7, 5), (2, 3, 9, 5), (2, 3, 9, 4)), minigrad)
    if kw.get("attn_mask") == "bool":
        kw = dict(attn_mask=minigrad.tensor(_mask(rng, (7, 9), "bool")))
    results = []
    for kernel in (DENSE, BLOCKS):
        minigrad.manual_seed(5)
        out = _attend(kernel, q, k, v, dropout_p=0.4, **kw)
        after = minigrad.rand(3)
        grads = minigrad.autograd.grad((out * out).sum(), [q, k, v])
        results.append([out, after, *grads])
    for a, b in zip(*results):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-12)
    minigrad.manual_seed(5)
    plain = _attend(DENSE, q, k, v, **kw)
    assert not np.allclose(results[0][0].detach().numpy(), plain.detach().numpy())


@pytest.mark.parametrize("kernel", [DENSE, BLOCKS])
@pytest.mark.parametrize("kw", [dict(is_causal=True), dict(attn_mask="float")])
def test_dropout_gradients_second_derivatives_and_both_backward_paths(kernel, kw):
    """With dropout (the op table has no random rows: device generators differ), gradcheck and
    gradgradcheck pass, and a plain backward equals a create_graph one."""
    rng = np.random.default_rng(3)
    tensors = _tensors(rng, ((1, 2, 5, 3), (1, 2, 6, 3), (1, 2, 6, 2)), minigrad)
    if kw.get("attn_mask"):
        tensors.append(minigrad.tensor(_mask(rng, (5, 6), "float"), requires_grad=True))

    def attend(q, k, v, mask=None):
        minigrad.manual_seed(7)
        extra = dict(kw, attn_mask=mask) if mask is not None else kw
        return _attend(kernel, q, k, v, dropout_p=0.3, **extra)

    assert gradcheck(attend, tensors)
    assert gradgradcheck(attend, tensors)
    g = minigrad.tensor(rng.uniform(-1, 1, (1, 2, 5, 2)))
    plain = minigrad.autograd.grad(attend(*tensors), tensors, g)
    graph = minigrad.autograd.grad(attend(*tensors), tensors, g, create_graph=True)
    for a, b in zip(plain, graph):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_blockwise_float32_and_float16_match_dense():
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(s) for s in ((2, 2, 40, 8), (2, 2, 50, 8), (2, 2, 50, 8))]
    for dtype, tol in ((minigrad.float32, 1e-5), (minigrad.float16, 2e-2)):
        ts = [minigrad.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
        outs = []
        for kernel in (DENSE, BLOCKS):
            out = _attend(kernel, *ts, is_causal=True, tiles=(16, 16))
            outs.append([out, *minigrad.autograd.grad(out.sum(), ts)])
        for a, b in zip(*outs):
            assert a.dtype is dtype and b.dtype is dtype
            np.testing.assert_allclose(
                a.detach().float().numpy(), b.detach().float().numpy(), atol=tol, rtol=tol
            )


def test_kernel_selection():
    assert choose_blocks(BLOCKWISE_FROM - 1, BLOCKWISE_FROM - 1, 4) is None
    assert choose_blocks(8, BLOCKWISE_FROM, 4) is not None
    with sdpa_kernel(SDPBackend.MATH):
        assert choose_blocks(8, 4 * BLOCKWISE_FROM, 4) is None
    with sdpa_kernel([SDPBackend.EFFICIENT_ATTENTION]):
        assert choose_blocks(8, 8, 4) == (8, 8)
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.MATH], set_priority=True):
        assert choose_blocks(8, 8, 4) is not None
    with sdpa_kernel([SDPBackend.MATH, SDPBackend.FLASH_ATTENTION], set_priority=True):
        assert choose_blocks(8, 4 * BLOCKWISE_FROM, 4) is None
    assert choose_blocks(BLOCKWISE_FROM - 1, BLOCKWISE_FROM - 1, 4) is None  # restored


def test_kernel_selection_errors():
    q = minigrad.randn(2, 3, 4)
    with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
        with pytest.raises(RuntimeError, match="No viable backend"):  # PyTorch's CPU words
            F.scaled_dot_product_attention(q, q, q)
        with pytest.raises(RuntimeError, match="no available kernel.*CUDNN_ATTENTION"):
            choose_blocks(4, 4, 2)  # (the words on a device with no PyTorch CPU rule)
    with pytest.raises(TypeError, match="SDPBackend"):
        with sdpa_kernel(["MATH"]):
            pass
    with sdpa_kernel(BLOCKS), block_sizes(2, 2), pytest.raises(RuntimeError, match="not broadcas"):
        F.scaled_dot_product_attention(q, q, q, minigrad.ones(2, 5))


def _peak_bytes(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_blockwise_memory_grows_linearly():
    """The block-wise kernel's peak (forward + backward) stays below one (L, S) array of the
    heads' weights, and doubling L and S at most about doubles it; the dense one's quadruples."""
    rng = np.random.default_rng(5)

    def peak(kernel, length):
        q, k, v = (
            minigrad.tensor(rng.standard_normal((1, 2, length, 8)), requires_grad=True)
            for _ in range(3)
        )

        def step():
            out = _attend(kernel, q, k, v, is_causal=True, tiles=(64, 64))
            out.sum().backward()

        return _peak_bytes(step)

    weights = 2 * 1024 * 1024 * 8  # the (heads, L, S) float64 weights at L = S = 1024
    small, large = peak(BLOCKS, 512), peak(BLOCKS, 1024)
    assert large < weights / 4
    assert large < 2.5 * small
    assert peak(DENSE, 1024) > max(weights, 3 * peak(DENSE, 512))


@pytest.mark.parametrize("kw", [dict(is_causal=True), dict(dropout_p=0.3), dict(attn_mask=True)])
def test_blockwise_on_device_matches_dense_without_host_transfers(device, kw):
    """On every device (the CuPy stand-in included), the block-wise kernel equals the dense one,
    dropout drawn from the device's generator in blocks included, with no host round trips."""
    rng = np.random.default_rng(6)
    arrays = [rng.standard_normal(s) for s in ((2, 7, 4), (2, 9, 4), (2, 9, 3))]
    if kw.get("attn_mask"):
        kw = dict(attn_mask=minigrad.tensor(_mask(rng, (7, 9), "float"), device=device))
    results = []
    for kernel in (DENSE, BLOCKS):
        ts = [minigrad.tensor(a, device=device, requires_grad=True) for a in arrays]
        minigrad.manual_seed(3)
        before = HostTransfers.count
        out = _attend(kernel, *ts, **kw)
        grads = minigrad.autograd.grad((out * out).sum(), ts)
        assert HostTransfers.count == before
        results.append([t.detach().cpu().numpy() for t in (out, *grads)])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, atol=1e-12)
