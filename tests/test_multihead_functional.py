"""F.multi_head_attention_forward against PyTorch's: values, gradients and errors."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F

torch = pytest.importorskip("torch")

E, H, N, L, S = 8, 2, 3, 4, 5


def _make(rng, cfg):
    """numpy arrays for every tensor argument of a case: (args, kwargs) by name."""
    kdim, vdim = cfg.get("kdim", E), cfg.get("vdim", E)
    src = L if cfg.get("self") else S
    lead = (lambda seq: (seq,)) if cfg.get("unbatched") else (lambda seq: (seq, N))
    a = {"query": rng.standard_normal(lead(L) + (E,))}
    if not cfg.get("self"):
        a["key"] = rng.standard_normal(lead(src) + (kdim,))
        a["value"] = rng.standard_normal(lead(src) + (vdim,))
    if cfg.get("separate"):
        a["q_proj_weight"] = rng.standard_normal((E, E)) / 3
        a["k_proj_weight"] = rng.standard_normal((E, kdim)) / 3
        a["v_proj_weight"] = rng.standard_normal((E, vdim)) / 3
    else:
        a["in_proj_weight"] = rng.standard_normal((3 * E, E)) / 3
    if cfg.get("bias", True):
        a["in_proj_bias"] = rng.standard_normal(3 * E)
        a["out_proj_bias"] = rng.standard_normal(E)
    a["out_proj_weight"] = rng.standard_normal((E, E)) / 3
    if cfg.get("bias_kv"):
        a["bias_k"], a["bias_v"] = rng.standard_normal((2, 1, 1, E))
    static = cfg.get("static")
    if static:
        a["static_k"] = rng.standard_normal((N * H, static, E // H))
        a["static_v"] = rng.standard_normal((N * H, static, E // H))
    width = static or src
    if "kpm" in cfg:
        shape = (width,) if cfg.get("unbatched") else (N, width)
        a["key_padding_mask"] = _mask(rng, shape, cfg["kpm"])
    if "mask" in cfg:
        kind, rows = cfg["mask"]
        a["attn_mask"] = _mask(rng, ((rows,) if rows else ()) + (L, width), kind)
    return a


def _mask(rng, shape, kind):
    if kind == "bool":
        m = rng.random(shape) < 0.3
        m[..., 0] = False  # every query sees a key (PyTorch gives NaN weights otherwise)
        return m
    if kind == "causal":
        return np.triu(np.ones(shape, bool), 1)
    return rng.standard_normal(shape)


def _call(m, arrays, cfg):
    grads = []

    def t(name):
        if name not in arrays:
            return None
        a = arrays[name]
        if a.dtype == bool:
            return m.tensor(a)
        x = m.tensor(a, dtype=m.float64, requires_grad=True)
        grads.append((name, x))
        return x

    query = t("query")
    key, value = (query, query) if cfg.get("self") else (t("key"), t("value"))
    out = m.nn.functional.multi_head_attention_forward(
        query, key, value, E, H, t("in_proj_weight"), t("in_proj_bias"), t("bias_k"),
        t("bias_v"), cfg.get("zero_attn", False), cfg.get("dropout_p", 0.0),
        t("out_proj_weight"), t("out_proj_bias"), training=cfg.get("training", True),
        key_padding_mask=t("key_padding_mask"), need_weights=cfg.get("need_weights", True),
        attn_mask=t("attn_mask"), use_separate_proj_weight=cfg.get("separate", False),
        q_proj_weight=t("q_proj_weight"), k_proj_weight=t("k_proj_weight"),
        v_proj_weight=t("v_proj_weight"), static_k=t("static_k"), static_v=t("static_v"),
        average_attn_weights=cfg.get("average", True), is_causal=cfg.get("causal", False),
    )  # fmt: skip
    return out, grads


CASES = {
    "self-attention": dict(self=True),
    "cross, per-head weights, bool masks": dict(average=False, kpm="bool", mask=("bool", 0)),
    "separate weights, 3-D float mask, no weights": dict(
        separate=True, kdim=6, vdim=5, mask=("float", N * H), need_weights=False
    ),
    "bias_k/v, zero attention, float kpm": dict(
        bias_kv=True, zero_attn=True, kpm="float", mask=("bool", 0)
    ),
    "static key and value, zero attention": dict(static=6, zero_attn=True, kpm="bool"),
    "causal hint, no weights": dict(self=True, mask=("causal", 0), causal=True, need_weights=False),
    "causal hint with weights": dict(self=True, mask=("causal", 0), causal=True),
    "unbatched, per-head mask": dict(unbatched=True, mask=("float", H), average=False),
    "unbatched self-attention, no weights": dict(unbatched=True, self=True, need_weights=False),
    "no biases": dict(bias=False, kpm="bool"),
    "dropout off outside training": dict(dropout_p=0.7, training=False, kpm="bool"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_matches_torch_values_and_gradients(case):
    cfg = CASES[case]
    rng = np.random.default_rng(sorted(CASES).index(case))
    arrays = _make(rng, cfg)
    (out_m, w_m), grads_m = _call(minigrad, arrays, cfg)
    (out_t, w_t), grads_t = _call(torch, arrays, cfg)
    assert out_m.shape == tuple(out_t.shape)
    np.testing.assert_allclose(out_m.detach().numpy(), out_t.detach().numpy(), atol=1e-10)
    if w_t is None:
        assert w_m is None
    else:
        assert w_m.shape == tuple(w_t.shape)
        np.testing.assert_allclose(w_m.detach().numpy(), w_t.detach().numpy(), atol=1e-10)
    # a random upstream gradient through the output and the weights
    g_out = rng.standard_normal(out_t.shape)
    g_w = None if w_t is None else rng.standard_normal(w_t.shape)
    loss_m = (out_m * minigrad.tensor(g_out)).sum()
    loss_t = (out_t * torch.tensor(g_out)).sum()
    if g_w is not None:
        loss_m = loss_m + (w_m * minigrad.tensor(g_w)).sum()
        loss_t = loss_t + (w_t * torch.tensor(g_w)).sum()
    loss_m.backward()
    loss_t.backward()
    assert [n for n, _ in grads_m] == [n for n, _ in grads_t]
    for (name, xm), (_, xt) in zip(grads_m, grads_t):
        if xt.grad is None:
            assert xm.grad is None or not xm.grad.numpy().any(), name
            continue
        np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), atol=1e-9, err_msg=name)


def test_dropout_in_training_drops_the_weights():
    """dropout_p=1 in training drops every weight: the output is the output bias alone."""
    cfg = dict(dropout_p=1.0, training=True)
    arrays = _make(np.random.default_rng(0), cfg)
    (out, weights), _ = _call(minigrad, arrays, cfg)
    assert not weights.detach().numpy().any()
    expected = np.broadcast_to(arrays["out_proj_bias"], out.shape)
    np.testing.assert_allclose(out.detach().numpy(), expected, atol=1e-12)
    (out_t, _), _ = _call(torch, arrays, cfg)
    np.testing.assert_allclose(out_t.detach().numpy(), expected, atol=1e-12)


def test_the_module_is_the_function_with_its_weights():
    minigrad.manual_seed(0)
    mha = minigrad.nn.MultiheadAttention(E, H, add_bias_kv=True).double()
    x = minigrad.randn(L, N, E, dtype=minigrad.float64)
    kpm = minigrad.tensor(np.random.default_rng(1).random((N, L)) < 0.3)
    kpm[:, 0] = False
    out, w = mha(x, x, x, key_padding_mask=kpm)
    out_f, w_f = F.multi_head_attention_forward(
        x, x, x, E, H, mha.in_proj_weight, mha.in_proj_bias, mha.bias_k, mha.bias_v, False,
        0.0, mha.out_proj.weight, mha.out_proj.bias, key_padding_mask=kpm,
    )  # fmt: skip
    np.testing.assert_array_equal(out.detach().numpy(), out_f.detach().numpy())
    np.testing.assert_array_equal(w.detach().numpy(), w_f.detach().numpy())


def _args(**change):
    rng = np.random.default_rng(0)
    x = minigrad.tensor(rng.standard_normal((L, N, E)))
    args = dict(
        query=x, key=x, value=x, embed_dim_to_check=E, num_heads=H,
        in_proj_weight=minigrad.randn(3 * E, E, dtype=minigrad.float64), in_proj_bias=None,
        bias_k=None, bias_v=None, add_zero_attn=False, dropout_p=0.0,
        out_proj_weight=minigrad.randn(E, E, dtype=minigrad.float64), out_proj_bias=None,
    )  # fmt: skip
    args.update(change)
    return args


def _boolean(*shape):
    return minigrad.zeros(*shape, dtype=minigrad.bool)


@pytest.mark.parametrize(
    "change, error, pattern",
    [
        (dict(embed_dim_to_check=6), RuntimeError, r"expected query of shape \(L, N, E\).*E=6"),
        (dict(num_heads=3), RuntimeError, r"embed_dim \(8\) must be divisible by num_heads \(3\)"),
        (dict(key=minigrad.randn(S, N, 6)), RuntimeError, r"expected key .*last dim 8.*\[5, 3, 6\]"),
        (dict(value=minigrad.randn(S, N, E)), RuntimeError, r"key \[4, 3, 8\] and value \[5, 3, 8\]"),
        (dict(key=minigrad.randn(L, 2, E), value=minigrad.randn(L, 2, E)), RuntimeError,
         "different batch sizes, 3 and 2"),
        (dict(attn_mask=_boolean(L, S)), RuntimeError,
         r"expected attn_mask of shape \[4, 4\] or \[6, 4, 4\], got \[4, 5\]"),
        (dict(attn_mask=minigrad.zeros(L, L, dtype=minigrad.int64)), TypeError,
         "only bool and floating attn_mask"),
        (dict(key_padding_mask=_boolean(L, N)), RuntimeError,
         r"expected key_padding_mask of shape \[3, 4\], got \[4, 3\]"),
        (dict(is_causal=True), RuntimeError, "need attn_mask if specifying the is_causal hint"),
        (dict(static_k=minigrad.randn(N, L, E // H)), RuntimeError,
         r"expected static_k of shape \[6, S, 4\].*got \[3, 4, 4\]"),
        (dict(static_k=minigrad.randn(N * H, L, E // H), bias_k=minigrad.randn(1, 1, E),
              bias_v=minigrad.randn(1, 1, E)), RuntimeError, "bias cannot be added to a static"),
        (dict(bias_k=minigrad.randn(1, 1, E)), RuntimeError, "bias_k and bias_v must be given"),
        (dict(in_proj_weight=None), RuntimeError, "in_proj_weight is None"),
        (dict(use_separate_proj_weight=True), RuntimeError, "q_proj_weight, k_proj_weight or"),
        (dict(query=minigrad.randn(2, L, N, E)), RuntimeError, r"got shape \[2, 4, 3, 8\]"),
    ],
)  # fmt: skip
def test_bad_arguments_are_named(change, error, pattern):
    with pytest.raises(error, match=pattern):
        F.multi_head_attention_forward(**_args(**change))
