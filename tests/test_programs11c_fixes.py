"""Regression tests for what the eleventh round's third set of programs
(tests/test_programs11c.py) found missing in minigrad, each compared with PyTorch."""

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("condition", [True, 1, minigrad.tensor(True), minigrad.tensor([2.0])])
def test_assert_passes_on_true_conditions(condition):
    assert minigrad._assert(condition, "unused") is None


@pytest.mark.parametrize("lib", [minigrad, torch])
@pytest.mark.parametrize("make", [lambda lib: False, lambda lib: lib.tensor(False)])
def test_assert_raises_assertion_error_with_the_message_as_pytorch(lib, make):
    # torchvision's ViT checks its input shapes with torch._assert
    with pytest.raises(AssertionError, match="^expected 4 patches$"):
        lib._assert(make(lib), "expected 4 patches")


@pytest.mark.parametrize("lib", [minigrad, torch])
def test_assert_on_a_many_element_tensor_is_ambiguous_as_pytorch(lib):
    with pytest.raises(RuntimeError, match="ambiguous"):
        lib._assert(lib.tensor([True, False]), "unused")


@pytest.mark.parametrize("lib", [minigrad, torch])
def test_assert_is_recorded_by_symbolic_trace_and_survives_dead_code_elimination(lib):
    class Model(lib.nn.Module):
        def forward(self, x):
            lib._assert(x.dim() == 2, "two dims")
            return x + 1

    traced = lib.fx.symbolic_trace(Model())
    traced.graph.eliminate_dead_code()
    traced.recompile()
    assert "_assert" in traced.code
    assert traced(lib.ones(2, 2)).tolist() == [[2.0, 2.0], [2.0, 2.0]]
    with pytest.raises(AssertionError, match="two dims"):
        traced(lib.ones(2))


_SCALAR_KEYS = 7  # fewer keys than PyTorch's narrowest (AVX2) vector of 8 floats


def _sdpa_pair(dtype, batch, seq_q, seq_k, dim=8, kv_heads=None, seed=0):
    gen = np.random.default_rng(seed)
    shapes = [(batch, 4, seq_q, dim)] + [(batch, kv_heads or 4, seq_k, dim)] * 2
    arrays = [gen.standard_normal(s).astype(np.float32) for s in shapes]
    theirs = [torch.tensor(a).to(getattr(torch, dtype)) for a in arrays]
    ours = [minigrad.tensor(a).to(getattr(minigrad, dtype)) for a in arrays]
    return ours, theirs


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize(
    "case", ["plain", "causal", "bool_mask", "float_mask", "scale", "gqa", "cross"]
)
def test_half_precision_sdpa_rounds_the_softmax_numerators_as_pytorch(dtype, case):
    # PyTorch's fused CPU kernel rounds exp(s - max) to the input dtype for the product with v
    # and divides by the float32 sum after: bit for bit while the keys are fewer than its
    # vectors (16 floats with AVX-512, 8 on an AVX2-only CPU, which vectorizes 12 keys)
    n = _SCALAR_KEYS
    ours, theirs = _sdpa_pair(
        dtype, 2, 5 if case == "cross" else n, n, kv_heads=2 if case == "gqa" else None
    )
    kw = {
        "causal": {"is_causal": True},
        "scale": {"scale": 0.3},
        "gqa": {"enable_gqa": True, "is_causal": True},
    }.get(case, {})
    ours_kw, theirs_kw = dict(kw), dict(kw)
    if case == "bool_mask":
        mask = np.random.default_rng(1).random((n, n)) > 0.3
        mask[:, 0] = True
        ours_kw["attn_mask"], theirs_kw["attn_mask"] = minigrad.tensor(mask), torch.tensor(mask)
    if case == "float_mask":
        mask = np.random.default_rng(1).standard_normal((2, 1, n, n)).astype(np.float32)
        ours_kw["attn_mask"] = minigrad.tensor(mask).to(getattr(minigrad, dtype))
        theirs_kw["attn_mask"] = torch.tensor(mask).to(getattr(torch, dtype))
    got = F.scaled_dot_product_attention(*ours, **ours_kw)
    want = torch.nn.functional.scaled_dot_product_attention(*theirs, **theirs_kw)
    assert got.dtype is getattr(minigrad, dtype)
    assert np.array_equal(got.float().numpy(), want.float().numpy())


@pytest.mark.parametrize(
    "dtype,unit,share", [("bfloat16", 2.0**-8, 0.06), ("float16", 2.0**-11, 0.3)]
)
def test_half_precision_sdpa_over_many_keys_stays_close_to_pytorch(dtype, unit, share):
    # from 16 keys PyTorch's vectorized path (a faster exp, lane-wise sums) differs by a
    # rounding in a share of the outputs (before the numerators were rounded: 30%, 60%)
    ours, theirs = _sdpa_pair(dtype, 1, 40, 70)
    got = F.scaled_dot_product_attention(*ours, is_causal=True).float().numpy()
    want = torch.nn.functional.scaled_dot_product_attention(*theirs, is_causal=True)
    want = want.float().numpy()
    assert np.allclose(got, want, rtol=2 * unit, atol=unit)
    assert np.mean(got != want) < share


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("causal", [False, True])
def test_half_precision_sdpa_gradients_follow_pytorchs_fused_kernel(dtype, causal):
    # dS = P ⊙ (dy·vᵀ − Σ dy ⊙ y) with the output y as rounded, P and dS rounded for the
    # products: bfloat16 bit for bit; PyTorch's float16 products sum in another order (in
    # float32: a rounding or two apart in a few of the gradients)
    n = _SCALAR_KEYS
    ours, theirs = _sdpa_pair(dtype, 2, n, n, seed=3)
    upstream = np.random.default_rng(4).standard_normal((2, 4, n, 8)).astype(np.float32)
    ours = [t.requires_grad_() for t in ours]
    theirs = [t.requires_grad_() for t in theirs]
    got = minigrad.autograd.grad(
        F.scaled_dot_product_attention(*ours, is_causal=causal),
        ours,
        minigrad.tensor(upstream).to(getattr(minigrad, dtype)),
    )
    want = torch.autograd.grad(
        torch.nn.functional.scaled_dot_product_attention(*theirs, is_causal=causal),
        theirs,
        torch.tensor(upstream).to(getattr(torch, dtype)),
    )
    for name, a, b in zip("qkv", got, want):
        a, b = a.float().numpy(), b.float().numpy()
        if dtype == "bfloat16":
            assert np.array_equal(a, b), name
        else:
            # a sum's rounding is relative to its largest terms: one float16 ulp of the largest
            assert np.allclose(a, b, rtol=2.0**-10, atol=2.0**-10 * np.abs(b).max()), name
            assert np.mean(a != b) < 0.05, name
