"""The workloads, each built for minigrad, PyTorch and NumPy from the same float32 weights.

A workload returns ``{framework: step}`` where ``step()`` runs one iteration (forward,
backward and, where the workload says so, an optimizer step) and waits for the device.
"""

from __future__ import annotations

import numpy as np

import minigrad
from minigrad.nn.attention import SDPBackend, sdpa_kernel

from . import numpy_ref

RNG_SEED = 0


def _weights(sizes, rng):
    return [
        (
            (rng.standard_normal((a, b)) / np.sqrt(a)).astype(np.float32),
            np.zeros(b, np.float32),
        )
        for a, b in zip(sizes, sizes[1:])
    ]


def _sync(device):
    if device.startswith("cuda"):
        minigrad.cuda.synchronize()


def _torch_sync(torch, device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def mlp(sizes, batch, device, torch=None, compile_model=False):
    """MLP with ReLU, cross-entropy and one SGD step per iteration (``compile_model``: the
    minigrad model is ``minigrad.compile(model)``, the loop around it eager)."""
    rng = np.random.default_rng(RNG_SEED)
    weights = _weights(sizes, rng)
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch)
    sync = lambda _m, d: _sync(d)  # noqa: E731
    steps = {"minigrad": _mlp_step(minigrad, weights, x, y, device, sync, compile_model)}
    if torch is not None:
        steps["torch"] = _mlp_step(torch, weights, x, y, device, _torch_sync)
    if device == "cpu":
        params = [(w.copy(), b.copy()) for w, b in weights]
        steps["numpy"] = lambda: numpy_ref.mlp_step(params, x, y)
    return steps


def _mlp_layers(nn, sizes):
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _load_linear_weights(model, weights, to_tensor):
    linears = [m for m in model if hasattr(m, "weight")]
    for layer, (w, b) in zip(linears, weights):
        layer.weight.data.copy_(to_tensor(w.T.copy()))
        layer.bias.data.copy_(to_tensor(b))


def _mlp_step(lib, weights, x, y, device, sync, compile_model=False):
    """One SGD step of the MLP, written once for ``lib`` = minigrad or torch."""
    model = _mlp_layers(lib.nn, [weights[0][0].shape[0]] + [w.shape[1] for w, _ in weights])
    with lib.no_grad():
        _load_linear_weights(model, weights, lib.tensor)
    model.to(device)
    if compile_model:
        model = lib.compile(model, fullgraph=True)
    opt = lib.optim.SGD(model.parameters(), lr=0.01)
    xt, yt = lib.tensor(x, device=device), lib.tensor(y, device=device)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(xt), yt).backward()
        opt.step()
        sync(lib, device)

    return step


N_CHAIN_OPS = 100


def op_overhead(device, torch=None, n_ops=N_CHAIN_OPS, compile_chain=False):
    """A chain of ``n_ops`` (100) small elementwise ops on a (16, 16) tensor, fwd and bwd:
    ``y * (1 + 1/n_ops)`` and ``y + 0.1`` in turn (the factor keeps long chains finite).
    ``compile_chain``: minigrad's chain is ``minigrad.compile(chain)``, its backward outside."""
    x = np.random.default_rng(RNG_SEED).standard_normal((16, 16)).astype(np.float32)
    factor = 1 + 1 / n_ops

    def chain(t):
        y = t
        for i in range(n_ops):
            y = y * factor if i % 2 == 0 else y + 0.1
        return y.sum()

    xm = minigrad.tensor(x, device=device, requires_grad=True)
    chain_minigrad = minigrad.compile(chain, fullgraph=True) if compile_chain else chain

    def step_minigrad():
        chain_minigrad(xm).backward()
        xm.grad = None
        _sync(device)

    steps = {"minigrad": step_minigrad}
    if torch is not None:
        xt = torch.tensor(x, device=device, requires_grad=True)

        def step_torch():
            chain(xt).backward()
            xt.grad = None
            _torch_sync(torch, device)

        steps["torch"] = step_torch
    if device == "cpu":
        steps["numpy"] = lambda: numpy_ref.op_chain(x, n_ops)
    return steps


def attention(device, torch=None, length=256, batch=2, heads=4, head_dim=32):
    """``scaled_dot_product_attention`` over (batch, heads, length, head_dim), mean, backward
    to q, k and v: the part of a transformer whose memory grows as length²."""
    rng = np.random.default_rng(RNG_SEED)
    qkv = [rng.standard_normal((batch, heads, length, head_dim)).astype(np.float32) for _ in "qkv"]
    steps = {"minigrad": _attention_step(minigrad, qkv, device, lambda _m, d: _sync(d))}
    if torch is not None:
        steps["torch"] = _attention_step(torch, qkv, device, _torch_sync)
    if device == "cpu":
        steps["numpy"] = lambda: numpy_ref.attention(*qkv)
    return steps


def _attention_step(lib, arrays, device, sync):
    q, k, v = (lib.tensor(a, device=device, requires_grad=True) for a in arrays)
    attend = lib.nn.functional.scaled_dot_product_attention

    def step():
        attend(q, k, v).mean().backward()
        for t in (q, k, v):
            t.grad = None
        sync(lib, device)

    return step


def transformer_block(device, torch=None, batch=8, seq=64, width=128, heads=4):
    """A pre-norm encoder block (attention + MLP ×4, ReLU), forward and backward, AdamW step."""
    rng = np.random.default_rng(RNG_SEED)
    x = rng.standard_normal((batch, seq, width)).astype(np.float32)
    steps = {}
    if torch is not None:
        torch.manual_seed(0)
        t_block = torch.nn.TransformerEncoderLayer(
            width, heads, 4 * width, dropout=0.0, batch_first=True, norm_first=True
        ).to(device)
        state = {k: v.detach().cpu().numpy() for k, v in t_block.state_dict().items()}
        steps["torch"] = _block_step(torch, t_block, x, device, _torch_sync)
    else:
        state = None
    m_block = minigrad.nn.TransformerEncoderLayer(
        width, heads, 4 * width, dropout=0.0, batch_first=True, norm_first=True
    )
    if state is not None:
        m_block.load_state_dict({k: minigrad.tensor(v) for k, v in state.items()})
    m_block.to(device)
    steps["minigrad"] = _block_step(minigrad, m_block, x, device, lambda _m, d: _sync(d))
    if device == "cpu":
        params = _numpy_block_params(m_block, width)
        steps["numpy"] = lambda: numpy_ref.transformer_block(x, params, heads)
    return steps


def attention_long(device, torch=None, seq=1024, batch=4, heads=4, head_dim=64, kernel=None):
    """Causal SDPA over ``seq`` positions on (batch, heads, seq, head_dim) q, k, v; fwd+bwd.

    ``kernel``: None lets minigrad pick by length; an ``SDPBackend`` name ("MATH" for the dense
    kernel, "FLASH_ATTENTION" for the block-wise one) forces it. PyTorch runs its default kernel.
    """
    rng = np.random.default_rng(RNG_SEED)
    qkv = [rng.standard_normal((batch, heads, seq, head_dim)).astype(np.float32) for _ in range(3)]
    forced = list(SDPBackend) if kernel is None else [SDPBackend[kernel]]

    def step_for(lib, sync, run=lambda f: f()):
        ts = [lib.tensor(a, device=device, requires_grad=True) for a in qkv]

        def step():
            out = run(lambda: lib.nn.functional.scaled_dot_product_attention(*ts, is_causal=True))
            out.sum().backward()
            for t in ts:
                t.grad = None
            sync(lib, device)

        return step

    def with_kernel(f):
        with sdpa_kernel(forced):
            return f()

    steps = {"minigrad": step_for(minigrad, lambda _m, d: _sync(d), with_kernel)}
    if torch is not None:
        steps["torch"] = step_for(torch, _torch_sync)
    if device == "cpu":  # dense, in place: the NumPy floor of this math

        def numpy_step():
            q, k, v = qkv
            p = q @ k.swapaxes(-1, -2)
            p *= 1.0 / np.sqrt(head_dim)
            p[..., ~np.tri(seq, dtype=bool)] = -np.inf
            p -= p.max(-1, keepdims=True)
            np.exp(p, out=p)
            p /= p.sum(-1, keepdims=True)
            y, gy = p @ v, np.ones((batch, heads, seq, head_dim), np.float32)
            gv, gs = p.swapaxes(-1, -2) @ gy, gy @ v.swapaxes(-1, -2)
            gs -= (gy * y).sum(-1, keepdims=True)
            gs *= p
            gs *= 1.0 / np.sqrt(head_dim)
            return gs @ k, gs.swapaxes(-1, -2) @ q, gv

        steps["numpy"] = numpy_step
    return steps


def _block_step(lib, block, x, device, sync):
    opt = lib.optim.AdamW(block.parameters(), lr=1e-3)
    xt = lib.tensor(x, device=device)

    def step():
        opt.zero_grad()
        block(xt).mean().backward()
        opt.step()
        sync(lib, device)

    return step


def _numpy_block_params(block, width):
    sd = {k: v.detach().cpu().numpy() for k, v in block.state_dict().items()}
    return {
        "g1": sd["norm1.weight"], "b1": sd["norm1.bias"],
        "w_qkv": sd["self_attn.in_proj_weight"].T.copy(), "b_qkv": sd["self_attn.in_proj_bias"],
        "w_o": sd["self_attn.out_proj.weight"].T.copy(), "b_o": sd["self_attn.out_proj.bias"],
        "g2": sd["norm2.weight"], "b2": sd["norm2.bias"],
        "w1": sd["linear1.weight"].T.copy(), "c1": sd["linear1.bias"],
        "w2": sd["linear2.weight"].T.copy(), "c2": sd["linear2.bias"],
    }  # fmt: skip


def conv_small(device, torch=None):
    """conv 3×3, 1→8 channels on (32, 1, 28, 28), ReLU, 2×2 max-pool, linear head; fwd+bwd."""
    rng = np.random.default_rng(RNG_SEED)
    x = rng.standard_normal((32, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 32)
    w = (rng.standard_normal((8, 1, 3, 3)) / 3).astype(np.float32)
    b = np.zeros(8, np.float32)
    hw = (rng.standard_normal((8 * 13 * 13, 10)) / 37).astype(np.float32)
    hb = np.zeros(10, np.float32)
    steps = {"minigrad": _conv_step(minigrad, (x, y, w, b, hw, hb), device, lambda _m, d: _sync(d))}
    if torch is not None:
        steps["torch"] = _conv_step(torch, (x, y, w, b, hw, hb), device, _torch_sync)
    if device == "cpu":
        steps["numpy"] = lambda: numpy_ref.conv_step(x, w, b, hw, hb, y)
    return steps


def _conv_step(lib, arrays, device, sync):
    x, y, w, b, hw, hb = (lib.tensor(a, device=device) for a in arrays)
    for p in (w, b, hw, hb):
        p.requires_grad_()
    functional = lib.nn.functional

    def step():
        h = functional.max_pool2d(functional.conv2d(x, w, b).relu(), 2)
        loss = functional.cross_entropy(h.flatten(1) @ hw + hb, y)
        loss.backward()
        for p in (w, b, hw, hb):
            p.grad = None
        sync(lib, device)

    return step


def lstm_sequence(device, torch=None, steps=100, batch=16, width=256):
    """One LSTM layer (hidden 256) over 100 steps of batch 16, a loss on every output; fwd+bwd.

    No NumPy reference: a hand-written LSTM backward is beyond what this suite keeps.
    """
    rng = np.random.default_rng(RNG_SEED)
    x = rng.standard_normal((steps, batch, width)).astype(np.float32)
    out = {"minigrad": _lstm_step(minigrad, x, width, device, lambda _m, d: _sync(d))}
    if torch is not None:
        out["torch"] = _lstm_step(torch, x, width, device, _torch_sync)
    return out


def _lstm_step(lib, x, width, device, sync):
    lib.manual_seed(RNG_SEED)
    layer = lib.nn.LSTM(width, width).to(device)
    inputs = lib.tensor(x, device=device)

    def step():
        output, _ = layer(inputs)
        (output * output).mean().backward()
        for p in layer.parameters():
            p.grad = None
        sync(lib, device)

    return step


def spectral_conv(device, torch=None, batch=32, channels=32, length=256, modes=32):
    """A Fourier layer (FNO): rfft of (32, 32, 256), complex weights (32, 32, 32 modes) mixing
    channels, irfft, a loss; forward and backward to the input and the complex weights."""
    rng = np.random.default_rng(RNG_SEED)
    x = rng.standard_normal((batch, channels, length)).astype(np.float32)
    w = (rng.standard_normal((channels, channels, modes, 2)) / channels).astype(np.float32)
    w = w.view(np.complex64)[..., 0]
    out = {"minigrad": _spectral_step(minigrad, x, w, device, lambda _m, d: _sync(d))}
    if torch is not None:
        out["torch"] = _spectral_step(torch, x, w, device, _torch_sync)
    if device == "cpu":
        out["numpy"] = lambda: numpy_ref.spectral_conv(x, w, modes)
    return out


def _spectral_step(lib, x, w, device, sync):
    inputs = lib.tensor(x, device=device, requires_grad=True)
    weights = lib.tensor(w, device=device, requires_grad=True)
    modes, n = w.shape[-1], x.shape[-1]

    def step():
        spectrum = lib.fft.rfft(inputs)[..., :modes]
        mixed = lib.einsum("bix,iox->box", spectrum, weights)
        y = lib.fft.irfft(lib.nn.functional.pad(mixed, (0, n // 2 + 1 - modes)), n=n)
        (y * y).mean().backward()
        inputs.grad = weights.grad = None
        sync(lib, device)

    return step


def compiled(workload):
    """``workload`` with its minigrad step captured once by :func:`minigrad.compile` and
    replayed (CPU only: GPU replay is not implemented)."""

    def build(device, torch=None, *args, **kwargs):
        if not device.startswith("cpu"):
            raise NotImplementedError("minigrad.compile replays on the CPU only")
        steps = workload(device, torch, *args, **kwargs)
        steps["minigrad"] = minigrad.compile(steps["minigrad"], fullgraph=True)
        return steps

    return build
