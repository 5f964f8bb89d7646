"""Summing windows back into an image by stride phase (``_windows.add_windows``) and joining
convolution chunks into one preallocated result (``conv._join``): the same numbers as the plain
per-offset sum and as PyTorch, with the memory the join saves."""

import random
import tracemalloc

import numpy as np
import pytest

import minigrad
from minigrad.nn import functional as F
from minigrad.nn.functional import _windows
from minigrad.nn.functional import conv as convolution


def _plain_sum(parts, geom, shape):
    """The adjoint of reading windows, offset by offset in (i, j) order into a zero frame
    (disjoint windows assign): the definition add_windows must reproduce bit for bit."""
    n, c, h, w = shape
    (hp, wp), (pt, pl) = geom.padded, geom.pad
    frame = np.zeros((n, c, max(hp, pt + h), max(wp, pl + w)))
    for i in range(geom.kernel[0]):
        for j in range(geom.kernel[1]):
            view = _windows.offset_view(frame, geom, i, j)
            if geom.disjoint:
                view[...] = parts[i, j]
            else:
                view += parts[i, j]
    return frame[:, :, pt : pt + h, pl : pl + w]


@pytest.mark.parametrize("views", [False, True])
def test_phases_sum_as_the_plain_loop(monkeypatch, views):
    """Every kernel, stride, dilation and padding up to 3-4: the same bits as the plain sum,
    also in blocks of a few planes (``views``) and for signed zeros."""
    rng, pick = np.random.default_rng(0), random.Random(0)
    for _ in range(150):
        k, s, d, p = ((pick.randint(1, hi), pick.randint(1, hi)) for hi in (4, 4, 3, 3))
        size = (pick.randint(1, 10), pick.randint(1, 10))
        geom = _windows.make_geometry(size, k, s, d, p, p)
        if 0 in geom.out:
            continue
        monkeypatch.setattr(_windows, "BLOCK_BYTES", pick.choice([8, 300, 2**18]))
        parts = rng.standard_normal((*k, 2, 3, *geom.out))
        parts[parts > 1.5] = -0.0
        got = _windows.add_windows(
            np, lambda i, j, parts=parts: parts[i, j], geom, (2, 3, *size), np.float64, views=views
        )
        want = _plain_sum(parts, geom, (2, 3, *size))
        assert got.flags.c_contiguous
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def test_depth_output_padding_below_the_dilation():
    """PyTorch takes an output padding of at least the stride when it is below the dilation;
    along depth this once raised a fold shape error."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 2, 3, 4, 3)), rng.standard_normal((2, 3, 2, 2, 2))
    args = ((1, 2, 1), 0, (1, 1, 0), 1, (2, 2, 1))  # stride, padding, output_padding, groups, dil
    xm, wm = (minigrad.tensor(a, requires_grad=True) for a in (x, w))
    xt, wt = (torch.tensor(a, requires_grad=True) for a in (x, w))
    ym = F.conv_transpose3d(xm, wm, None, *args)
    yt = torch.nn.functional.conv_transpose3d(xt, wt, None, *args)
    g = rng.standard_normal(tuple(yt.shape))
    ym.backward(minigrad.tensor(g)), yt.backward(torch.tensor(g))
    for m, t in ((ym.detach(), yt.detach()), (xm.grad, xt.grad), (wm.grad, wt.grad)):
        np.testing.assert_allclose(m.numpy(), t.numpy(), rtol=1e-12, atol=1e-12)


def _forward_peak(f):
    tracemalloc.start()
    try:
        y = f()
        return y, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("grad", [False, True])
def test_chunks_join_into_one_result(monkeypatch, grad):
    """Chunks of a result larger than the scratch budget go into one preallocated array: the
    forward peaks near the output plus one chunk's scratch, not twice the output as a cat of
    all chunks would; the values, and gradients through the join, are those of one piece."""
    rng = np.random.default_rng(0)
    x = minigrad.tensor(rng.standard_normal((16, 2, 12, 12), dtype=np.float32), requires_grad=grad)
    w = minigrad.tensor(rng.standard_normal((2, 8, 3, 3), dtype=np.float32), requires_grad=grad)

    def run():
        return F.conv_transpose2d(x, w, None, 2)

    whole, _ = _forward_peak(run)
    out_bytes = whole.detach().numpy().nbytes
    monkeypatch.setattr(convolution, "SCRATCH_BYTES", out_bytes // 8)
    chunked, peak = _forward_peak(run)
    assert peak < 1.5 * out_bytes, (peak, out_bytes)
    np.testing.assert_array_equal(chunked.detach().numpy(), whole.detach().numpy())
    if grad:
        assert chunked.grad_fn.name() == "ConvolutionBackward0"
        g = minigrad.tensor(rng.standard_normal(tuple(whole.shape), dtype=np.float32))
        first = minigrad.autograd.grad((whole * g).sum(), (x, w))
        second = minigrad.autograd.grad((chunked * g).sum(), (x, w))
        np.testing.assert_array_equal(first[0].numpy(), second[0].numpy())
        np.testing.assert_allclose(first[1].numpy(), second[1].numpy(), rtol=1e-5)
