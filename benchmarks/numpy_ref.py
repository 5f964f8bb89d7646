"""Hand-written NumPy forward + backward for each workload: the practical limit for a NumPy
framework (no graph, no Python objects per op, buffers reused where it is natural)."""

from __future__ import annotations

import numpy as np


def _mlp_forward(params, x) -> list:
    """The input of each layer of a ReLU MLP (``params`` = [(W, b), ...], W as (in, out)),
    then its logits."""
    hs, h = [x], x
    for i, (w, b) in enumerate(params):
        h = h @ w
        h += b
        if i < len(params) - 1:
            np.maximum(h, 0, out=h)
        hs.append(h)
    return hs


def mlp_step(params, x, y, lr=0.01):
    """One SGD step of a ReLU MLP with softmax cross-entropy; ``params`` = [(W, b), ...]."""
    hs = _mlp_forward(params, x)
    logits = hs[-1]
    shifted = logits - logits.max(1, keepdims=True)
    p = np.exp(shifted)
    p /= p.sum(1, keepdims=True)
    n = x.shape[0]
    loss = -np.log(p[np.arange(n), y]).mean()
    g = p
    g[np.arange(n), y] -= 1
    g /= n
    for i in range(len(params) - 1, -1, -1):
        w, b = params[i]
        gw, gb = hs[i].T @ g, g.sum(0)
        if i:
            g = g @ w.T
            g *= hs[i] > 0
        w -= lr * gw
        b -= lr * gb
    return loss


def mlp_gradients(params, x, y, per_sample: bool):
    """The gradients of softmax cross-entropy through a ReLU MLP (``params`` = [(W, b), ...],
    W as (in, out)): of the batch's mean loss (one (in, out) matrix per weight), or with
    ``per_sample`` of each sample's own loss (a (batch, in, out) stack of outer products per
    weight: what ``vmap(grad)`` computes). Returns [(gW, gb), ...], last layer first."""
    hs = _mlp_forward(params, x)
    g = np.exp(hs[-1] - hs[-1].max(1, keepdims=True))
    g /= g.sum(1, keepdims=True)
    n = x.shape[0]
    g[np.arange(n), y] -= 1
    if not per_sample:
        g /= n
    grads = []
    for i in range(len(params) - 1, -1, -1):
        if per_sample:
            grads.append((np.einsum("bi,bo->bio", hs[i], g), g.copy()))
        else:
            grads.append((hs[i].T @ g, g.sum(0)))
        if i:
            g = g @ params[i][0].T
            g *= hs[i] > 0
    return grads


def op_chain(x, n_ops):
    """``n_ops`` alternating multiply (by ``1 + 1/n_ops``)/add ops forward, and their
    backward, on a small array."""
    factor = 1 + 1 / n_ops
    y = x
    for i in range(n_ops):
        y = y * factor if i % 2 == 0 else y + 0.1
    g = np.ones_like(y)
    for i in range(n_ops - 1, -1, -1):
        if i % 2 == 0:
            g = g * factor
    return g


def attention(q, k, v):
    """Attention ``softmax(q·kᵀ/√d)·v`` and the gradients of its mean to q, k and v."""
    scale = 1.0 / np.sqrt(q.shape[-1])
    s = q @ k.swapaxes(-1, -2)
    s *= scale
    s -= s.max(-1, keepdims=True)
    p = np.exp(s, out=s)
    p /= p.sum(-1, keepdims=True)
    out = p @ v
    g = np.full_like(out, 1.0 / out.size)
    gv = p.swapaxes(-1, -2) @ g
    gp = g @ v.swapaxes(-1, -2)
    gp -= (gp * p).sum(-1, keepdims=True)
    gp *= p
    gp *= scale
    return out.mean(), gp @ k, gp.swapaxes(-1, -2) @ q, gv


def conv_step(x, w, b, head_w, head_b, y):
    """conv 3×3 (im2col + one GEMM) → ReLU → 2×2 max-pool → linear → cross-entropy, fwd+bwd."""
    n, c, hgt, wid = x.shape
    k = w.shape[-1]
    oh, ow = hgt - k + 1, wid - k + 1
    cols = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))  # n,c,oh,ow,k,k
    cols = cols.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * k * k)
    out = cols @ w.reshape(w.shape[0], -1).T + b  # (n·oh·ow, f)
    out = out.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2)
    relu = np.maximum(out, 0)
    f = relu.shape[1]
    pooled_in = relu[:, :, : oh // 2 * 2, : ow // 2 * 2].reshape(n, f, oh // 2, 2, ow // 2, 2)
    pooled = pooled_in.max(axis=(3, 5))
    flat = pooled.reshape(n, -1)
    logits = flat @ head_w + head_b
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    g = p
    g[np.arange(n), y] -= 1
    g /= n
    g_head_w, g_head_b = flat.T @ g, g.sum(0)
    g_pooled = (g @ head_w.T).reshape(pooled.shape)
    mask = pooled_in == pooled[:, :, :, None, :, None]
    g_relu = np.zeros_like(relu)
    g_relu[:, :, : oh // 2 * 2, : ow // 2 * 2] = (mask * g_pooled[:, :, :, None, :, None]).reshape(
        n, f, oh // 2 * 2, ow // 2 * 2
    )
    g_out = g_relu * (out > 0)
    g_flat = g_out.transpose(0, 2, 3, 1).reshape(n * oh * ow, f)
    g_w = (g_flat.T @ cols).reshape(w.shape)
    return g_w, g_flat.sum(0), g_head_w, g_head_b


def _layer_norm(x, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    xc = x - mu
    inv = 1.0 / np.sqrt((xc * xc).mean(-1, keepdims=True) + eps)
    return xc * inv, inv


def _layer_norm_backward(g, xhat, inv):
    d = g.shape[-1]
    return inv * (g - g.mean(-1, keepdims=True) - xhat * (g * xhat).sum(-1, keepdims=True) / d)


def transformer_block(x, p, heads):
    """A pre-norm block, forward and backward, written naively with NumPy (no fusion)."""
    bsz, t, d = x.shape
    hd = d // heads
    ln1, inv1 = _layer_norm(x)
    a_in = ln1 * p["g1"] + p["b1"]
    qkv = a_in @ p["w_qkv"] + p["b_qkv"]
    q, k, v = (z.reshape(bsz, t, heads, hd).transpose(0, 2, 1, 3) for z in np.split(qkv, 3, -1))
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hd)
    att = np.exp(s - s.max(-1, keepdims=True))
    att /= att.sum(-1, keepdims=True)
    o = (att @ v).transpose(0, 2, 1, 3).reshape(bsz, t, d)
    x1 = x + o @ p["w_o"] + p["b_o"]
    ln2, inv2 = _layer_norm(x1)
    m_in = ln2 * p["g2"] + p["b2"]
    hpre = m_in @ p["w1"] + p["c1"]
    hact = np.maximum(hpre, 0)
    out = x1 + hact @ p["w2"] + p["c2"]
    g = np.ones_like(out) / out.size  # d(mean)/d(out)
    grads = {"w2": hact.reshape(-1, hact.shape[-1]).T @ g.reshape(-1, d), "c2": g.sum((0, 1))}
    gh = (g @ p["w2"].T) * (hpre > 0)
    grads["w1"] = m_in.reshape(-1, d).T @ gh.reshape(-1, gh.shape[-1])
    grads["c1"] = gh.sum((0, 1))
    gm = gh @ p["w1"].T
    grads["g2"], grads["b2"] = (gm * ln2).sum((0, 1)), gm.sum((0, 1))
    gx1 = g + _layer_norm_backward(gm * p["g2"], ln2, inv2)
    grads["w_o"] = o.reshape(-1, d).T @ gx1.reshape(-1, d)
    grads["b_o"] = gx1.sum((0, 1))
    go = (gx1 @ p["w_o"].T).reshape(bsz, t, heads, hd).transpose(0, 2, 1, 3)
    gatt = go @ v.transpose(0, 1, 3, 2)
    gv = att.transpose(0, 1, 3, 2) @ go
    gs = att * (gatt - (gatt * att).sum(-1, keepdims=True)) / np.sqrt(hd)
    gq, gk = gs @ k, gs.transpose(0, 1, 3, 2) @ q
    gqkv = np.concatenate([z.transpose(0, 2, 1, 3).reshape(bsz, t, d) for z in (gq, gk, gv)], -1)
    grads["w_qkv"] = a_in.reshape(-1, d).T @ gqkv.reshape(-1, 3 * d)
    grads["b_qkv"] = gqkv.sum((0, 1))
    ga = gqkv @ p["w_qkv"].T
    grads["g1"], grads["b1"] = (ga * ln1).sum((0, 1)), ga.sum((0, 1))
    grads["x"] = gx1 + _layer_norm_backward(ga * p["g1"], ln1, inv1)
    return out.mean(), grads


def spectral_conv(x, w, n_modes):
    """A Fourier layer (FNO's SpectralConv1d): y = irfft(W·rfft(x) over the lowest modes),
    loss mean(y²); returns (loss, dx, dW). The adjoints: irfft's is rfft with the forward norm
    and the paired bins counted twice; rfft's is irfft with the forward norm and the paired
    bins halved (the kept modes are all below n/2, so every bin past 0 is a pair)."""
    n = x.shape[-1]
    spectrum = np.fft.rfft(x)[..., :n_modes]
    mixed = np.einsum("bix,iox->box", spectrum, w, optimize=True)
    full = np.zeros(mixed.shape[:-1] + (n // 2 + 1,), mixed.dtype)
    full[..., :n_modes] = mixed
    y = np.fft.irfft(full, n=n).astype(x.dtype, copy=False)
    g = y * (2.0 / y.size)
    g_modes = np.fft.rfft(g, norm="forward")[..., :n_modes]
    g_modes[..., 1:] *= 2
    g_w = np.einsum("bix,box->iox", spectrum.conj(), g_modes, optimize=True)
    g_spectrum = np.zeros(x.shape[:-1] + (n // 2 + 1,), g_modes.dtype)
    g_spectrum[..., :n_modes] = np.einsum("box,iox->bix", g_modes, w.conj(), optimize=True)
    g_spectrum[..., 1:n_modes] *= 0.5
    g_x = np.fft.irfft(g_spectrum, n=n, norm="forward").astype(x.dtype, copy=False)
    return float((y * y).mean()), g_x, g_w.astype(w.dtype, copy=False)
