"""What the twenty-second round of programs (sequence models and long-context attention) found
in minigrad, each checked against PyTorch where it is installed."""

import pytest
from test_programs5 import close

import minigrad


def _both(run):
    torch = pytest.importorskip("torch")
    return run(minigrad), run(torch)


def _complex_cumprod(lib):
    lib.manual_seed(0)
    z = lib.randn(2, 5, dtype=lib.cfloat, requires_grad=True)
    y = z.cumprod(1)
    (y * y.conj()).real.sum().backward()
    return [
        y.dtype == lib.complex64,
        lib.view_as_real(y).tolist(),
        lib.view_as_real(z.grad).tolist(),
    ]


def test_cumprod_of_complex_tensors():
    """The LRU's powers of its complex diagonal (``torch.cumprod``) raised NotImplementedError;
    PyTorch computes it, with the conjugated derivative of its complex-gradient convention."""
    ours, theirs = _both(_complex_cumprod)
    assert ours[0] and theirs[0]
    assert close(ours[1:], theirs[1:], 1e-5, 1e-6)


def _softmax_backward_data(lib):
    lib.manual_seed(0)
    x = lib.randn(2, 4, dtype=lib.float64)
    y = lib.softmax(x, -1).requires_grad_()
    log_y = lib.log_softmax(x, 0).requires_grad_()
    g = lib.randn(2, 4, dtype=lib.float64, requires_grad=True)
    first = lib._softmax_backward_data(g, y, -1, lib.float64)
    second = lib._log_softmax_backward_data(g, log_y, 0, lib.float32)
    (first * second).sum().backward()
    seen = [first.tolist(), second.tolist(), y.grad.tolist(), g.grad.tolist(), log_y.grad.tolist()]
    names = [type(first.grad_fn).__name__, type(second.grad_fn).__name__, str(first.dtype)[-7:]]
    half = lib._softmax_backward_data(g.bfloat16(), y.bfloat16(), 1, lib.float32).dtype
    errors = []
    for args in [(g.float(), y, 1), (g.float().detach(), y.float().detach(), 1, lib.float16)]:
        args = args if len(args) == 4 else (*args, lib.float32)
        with pytest.raises(RuntimeError) as error:
            lib._softmax_backward_data(*args)
        errors.append(str(error.value))
    with pytest.raises(NotImplementedError) as error:
        lib._softmax_backward_data(g.long(), y.long(), 0, lib.int64)
    return seen, names + [half == lib.bfloat16] + errors + [str(error.value)]


def test_softmax_backward_data_kernels():
    """DeBERTa's ``XSoftmax`` Function calls ``torch._softmax_backward_data`` in its backward;
    minigrad had no such function (AttributeError). PyTorch's returns the gradient's dtype,
    checks the tensors' dtypes as its CPU kernel does, and is itself differentiable."""
    (ours, our_words), (theirs, their_words) = _both(_softmax_backward_data)
    assert close(ours, theirs, 1e-12, 1e-14)
    assert our_words == their_words
    assert their_words[:3] == [
        "SoftmaxBackwardDataBackward0",
        "LogSoftmaxBackwardDataBackward0",
        "float64",
    ]


def _causal_with_mask(lib):
    lib.manual_seed(0)
    q, k, v = lib.randn(3, 2, 2, 5, 4, dtype=lib.float64).unbind(0)
    q.requires_grad_()
    band = lib.ones(5, 5, dtype=lib.bool).triu(-1)  # Mistral's band, upper part left to causal
    sdpa = lib.nn.functional.scaled_dot_product_attention
    out = sdpa(q, k, v, attn_mask=band, is_causal=True)
    out.square().sum().backward()
    float_mask = sdpa(q, k, v, attn_mask=lib.zeros(5, 5, dtype=lib.float64), is_causal=True)
    seen = [out.tolist(), q.grad.tolist(), float_mask.tolist(), type(out.grad_fn).__name__]
    with pytest.raises(RuntimeError) as error:  # dropout: PyTorch's math kernel refuses both
        sdpa(q, k, v, attn_mask=band, is_causal=True, dropout_p=0.5)
    return seen + [str(error.value)]


def test_sdpa_applies_is_causal_and_a_mask_together():
    """``is_causal=True`` with an ``attn_mask`` raised in minigrad; PyTorch's CPU flash kernel
    applies both (the band of a sliding window and the causal triangle), and only its math
    kernel, taken for dropout or unequal head counts, raises."""
    ours, theirs = _both(_causal_with_mask)
    assert close(ours[:3], theirs[:3], 1e-12, 1e-14)
    assert ours[3:] == theirs[3:]
