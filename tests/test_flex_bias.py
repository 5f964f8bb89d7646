"""nn.attention.bias (CausalBias through scaled_dot_product_attention) and the flash-attention
impl registry against PyTorch."""

import warnings

import numpy as np
import pytest

import minigrad
import minigrad.nn.attention as MA
from minigrad.nn import functional as F
from minigrad.nn.attention import bias as MB

torch = pytest.importorskip("torch")
TB = pytest.importorskip("torch.nn.attention.bias")


@pytest.mark.parametrize("variant", ["causal_upper_left", "causal_lower_right"])
@pytest.mark.parametrize("size", [(4, 4), (3, 6), (6, 3)])
def test_causal_bias_matches_torch(variant, size):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m, t = getattr(MB, variant)(*size), getattr(TB, variant)(*size)
    np.testing.assert_array_equal(m._materialize().numpy(), t._materialize().numpy())
    assert m.variant.value == t.variant.value and m.shape == size
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((2, 3, n, 4)) for n in (size[0], size[1], size[1])]
    mq, mk, mv = (minigrad.tensor(a, requires_grad=True) for a in arrays)
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in arrays)
    out_m = F.scaled_dot_product_attention(mq, mk, mv, attn_mask=m)
    out_t = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, attn_mask=t)
    np.testing.assert_allclose(out_m.detach().numpy(), out_t.detach().numpy(), atol=1e-12)
    g = rng.standard_normal(out_t.shape)
    (out_m * minigrad.tensor(g)).sum().backward()
    (out_t * torch.tensor(g)).sum().backward()
    for a, b in ((mq, tq), (mk, tk), (mv, tv)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-12)


def test_causal_bias_errors_and_registry():
    q = minigrad.randn(1, 2, 4, 8)
    with pytest.raises(ValueError, match="causal=True"):
        F.scaled_dot_product_attention(
            q, q, q, attn_mask=MB.causal_upper_left(4, 4), is_causal=True
        )
    with pytest.raises(ValueError, match="2D"):
        MB.causal_lower_right(4)
    with pytest.raises(RuntimeError, match="does not match"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=MB.causal_lower_right(3, 4))
    assert MA.list_flash_attention_impls() == [] and MA.current_flash_attention_impl() is None
    with pytest.raises(NotImplementedError, match="FA3"):
        MA.activate_flash_attention_impl("FA3")
    MA.restore_flash_attention_impl()
