"""Convolutions in chunks of samples (``conv.SCRATCH_BYTES``): the same values, gradients and
second derivatives as in one piece, for every rank, transposed, with groups and dilation, and
scratch memory bounded by the budget; batches of no samples."""

import tracemalloc

import numpy as np
import pytest

import minigrad
from minigrad.nn import functional as F
from minigrad.nn.functional import conv as convolution

torch = pytest.importorskip("torch")

# (name, function of (x, w, b), input shape, weight shape): strides, padding, dilation and
# groups mixed so every chunked path (and conv3d's nested conv2d chunks) is taken
CASES = [
    ("conv1d", lambda x, w, b: F.conv1d(x, w, b, 2, 1, 2, 2), (5, 4, 11), (6, 2, 3)),
    ("conv2d", lambda x, w, b: F.conv2d(x, w, b, 1, 1, 1, 2), (5, 4, 6, 7), (6, 2, 3, 3)),
    (
        "conv3d",
        lambda x, w, b: F.conv3d(x, w, b, (2, 1, 1), (1, 0, 1), (1, 2, 1), 2),
        (3, 4, 5, 6, 5),
        (6, 2, 3, 2, 2),
    ),
    (
        "conv_transpose1d",
        lambda x, w, b: F.conv_transpose1d(x, w, b, 2, 0, 1, 2),
        (5, 4, 7),
        (4, 3, 3),
    ),
    (
        "conv_transpose2d",
        lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1, 1, 2, 1),
        (5, 4, 4, 5),
        (4, 3, 3, 2),
    ),
    (
        "conv_transpose3d",
        lambda x, w, b: F.conv_transpose3d(x, w, b, (2, 1, 2), (1, 0, 0), 0, 1, (1, 2, 1)),
        (3, 2, 3, 4, 3),
        (2, 3, 3, 2, 2),
    ),
]
IDS = [c[0] for c in CASES]


def _derivatives(f, arrays):
    """The output, first derivatives (of a fixed random projection) and second derivatives
    (of the squared first ones, in x and w: the bias enters linearly) of ``f`` at ``arrays`` =
    (x, w, b)."""
    x, w, b = (minigrad.tensor(a, requires_grad=True) for a in arrays)
    y = f(x, w, b)
    g = minigrad.tensor(np.random.default_rng(1).standard_normal(tuple(y.shape)))
    first = minigrad.autograd.grad((y * g).sum(), (x, w, b), create_graph=True)
    second = minigrad.autograd.grad(sum((d**2).sum() for d in first), (x, w))
    return y, [t.detach().numpy() for t in (y, *first, *second)]


def _arrays(x_shape, w_shape, name):
    """Random (x, w, b); transposed weights are (C_in, C_out / groups, ...)."""
    rng = np.random.default_rng(0)
    groups = _torch_kwargs(name).get("groups", 1)
    channels = w_shape[1] * groups if "transpose" in name else w_shape[0]
    return rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(channels)


@pytest.mark.parametrize("name, f, x_shape, w_shape", CASES, ids=IDS)
def test_chunked_equals_whole(monkeypatch, name, f, x_shape, w_shape):
    """A budget of one byte runs every sample (every output depth of a 3-D one) on its own:
    forward values identical, first and second derivatives equal up to the rounding of the
    sums over chunks, and the node still PyTorch's."""
    arrays = _arrays(x_shape, w_shape, name)
    y, whole = _derivatives(f, arrays)
    monkeypatch.setattr(convolution, "SCRATCH_BYTES", 1)
    y_chunked, chunked = _derivatives(f, arrays)
    np.testing.assert_array_equal(chunked[0], whole[0])
    for got, want in zip(chunked[1:], whole[1:]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert y_chunked.grad_fn.name() == y.grad_fn.name() == "ConvolutionBackward0"


@pytest.mark.parametrize("name, f, x_shape, w_shape", CASES, ids=IDS)
def test_chunked_matches_torch(monkeypatch, name, f, x_shape, w_shape):
    """Chunked results and gradients are PyTorch's (float32, so the chunks' GEMMs are the
    ones a model runs)."""
    monkeypatch.setattr(convolution, "SCRATCH_BYTES", 1)
    arrays = [a.astype(np.float32) for a in _arrays(x_shape, w_shape, name)]
    ms = [minigrad.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y_m, y_t = f(*ms), getattr(torch.nn.functional, name)(*ts, **_torch_kwargs(name))
    np.testing.assert_allclose(y_m.detach().numpy(), y_t.detach().numpy(), rtol=1e-5, atol=1e-5)
    y_m.sum().backward(), y_t.sum().backward()
    for m, t in zip(ms, ts):
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-4)


def _torch_kwargs(name):
    """The keyword form of the positional arguments each case passes."""
    return {
        "conv1d": dict(stride=2, padding=1, dilation=2, groups=2),
        "conv2d": dict(stride=1, padding=1, dilation=1, groups=2),
        "conv3d": dict(stride=(2, 1, 1), padding=(1, 0, 1), dilation=(1, 2, 1), groups=2),
        "conv_transpose1d": dict(stride=2, padding=0, output_padding=1, groups=2),
        "conv_transpose2d": dict(stride=2, padding=1, output_padding=1, groups=2, dilation=1),
        "conv_transpose3d": dict(stride=(2, 1, 2), padding=(1, 0, 0), dilation=(1, 2, 1)),
    }[name]


def _peak_bytes(run) -> int:
    """The peak of traced allocations (NumPy reports its buffers to tracemalloc) during run."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "f, x_shape, w_shape",
    [
        (F.conv2d, (32, 8, 24, 24), (8, 8, 3, 3)),  # windows: 32 x 1.3 MB (float32)
        (F.conv3d, (8, 4, 8, 16, 16), (4, 4, 3, 3, 3)),  # windows: 8 x 2.1 MB
        (F.conv_transpose2d, (32, 8, 16, 16), (8, 8, 3, 3)),  # columns: 32 x 0.6 MB
        (F.conv_transpose3d, (8, 4, 4, 16, 16), (4, 4, 3, 3, 3)),
    ],
    ids=["conv2d", "conv3d", "conv_transpose2d", "conv_transpose3d"],
)
def test_scratch_memory_is_bounded(monkeypatch, f, x_shape, w_shape):
    """With a small budget the peak memory of forward and backward shrinks to about the
    budget plus the tensors themselves; in one piece it holds the whole batch's windows."""
    rng = np.random.default_rng(0)
    x = minigrad.tensor(rng.standard_normal(x_shape, dtype=np.float32), requires_grad=True)
    w = minigrad.tensor(rng.standard_normal(w_shape, dtype=np.float32), requires_grad=True)

    def run():
        f(x, w).sum().backward()

    whole = _peak_bytes(run)
    monkeypatch.setattr(convolution, "SCRATCH_BYTES", 2**20)
    chunked = _peak_bytes(run)
    assert chunked < whole / 2, (chunked, whole)


@pytest.mark.parametrize("name, f, x_shape, w_shape", CASES, ids=IDS)
def test_empty_batch(name, f, x_shape, w_shape):
    """A batch of no samples convolves to an empty batch, with empty and zero gradients, as in
    PyTorch (the GEMM's inner size was once read off the empty windows: a division by zero)."""
    x_np, w_np, b_np = _arrays((0, *x_shape[1:]), w_shape, name)
    ms = [minigrad.tensor(a, requires_grad=True) for a in (x_np, w_np, b_np)]
    ts = [torch.tensor(a, requires_grad=True) for a in (x_np, w_np, b_np)]
    y_m, y_t = f(*ms), getattr(torch.nn.functional, name)(*ts, **_torch_kwargs(name))
    assert tuple(y_m.shape) == tuple(y_t.shape)
    y_m.sum().backward(), y_t.sum().backward()
    for m, t in zip(ms, ts):
        np.testing.assert_array_equal(m.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("name", ["max_pool1d", "max_pool2d", "avg_pool2d", "max_pool3d"])
def test_empty_batch_pools(name):
    """Pooling a batch of no samples gives an empty batch, as PyTorch (max pooling's windows
    were reshaped with a -1 that an empty array cannot resolve)."""
    shape = {"max_pool1d": (0, 2, 7), "max_pool3d": (0, 2, 4, 5, 6)}.get(name, (0, 2, 5, 6))
    got = getattr(F, name)(minigrad.zeros(*shape), 2)
    want = getattr(torch.nn.functional, name)(torch.zeros(*shape), 2)
    assert tuple(got.shape) == tuple(want.shape)
