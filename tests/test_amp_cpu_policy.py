"""CPU autocast's per-op dtype decisions against PyTorch's: the ops its AutocastCPU kernels run
in bfloat16 (matrix products, convolutions incl. transposed, prelu, the padded LSTM layer),
in float32 (decompositions, FFTs, 3-D pooling, reflect/replicate padding, quantiles, the
margin losses, ...), the ones it promotes (``index_copy``), and the ones it leaves in their
inputs' dtype although they multiply matrices inside (``dot``, ``mv``, ``F.bilinear``, the
LSTM/GRU cells, the GRU layer, in-place ``addmm_``)."""

import pytest

import minigrad


def _cases(lib):
    F = lib.nn.functional
    lib.manual_seed(0)
    a = lib.randn(4, 4) + 4 * lib.eye(4)
    b = lib.randn(4, 4)
    long = lib.long

    def h():  # a bfloat16 matrix product
        return a @ b

    def packed():
        return lib.nn.utils.rnn.pack_sequence([lib.randn(3, 4), lib.randn(2, 4)])

    return {
        "addmm": lambda: lib.addmm(a, a, b),
        "baddbmm": lambda: lib.baddbmm(a[None], a[None], b[None]),
        "addbmm": lambda: lib.addbmm(a, a[None], b[None]),
        "addmm_": lambda: a.clone().addmm_(a, b),
        "prelu": lambda: F.prelu(a, lib.tensor([0.25])),
        "vecdot": lambda: lib.linalg.vecdot(a, b),
        "dot": lambda: lib.dot(a[0], b[0]),
        "mv": lambda: lib.mv(a, b[0]),
        "bilinear": lambda: F.bilinear(a, a, lib.ones(2, 4, 4)),
        "conv_transpose2d_bias": lambda: lib.nn.ConvTranspose2d(1, 2, 3)(a[None, None]),
        "cdist": lambda: lib.cdist(h(), h()),
        "trace": lambda: lib.trace(h()),
        "inverse": lambda: lib.inverse(a.to(lib.bfloat16)),
        "linalg.inv": lambda: lib.linalg.inv(h()),
        "linalg.qr": lambda: lib.linalg.qr(h())[0],
        "linalg.svdvals": lambda: lib.linalg.svdvals(h()),
        "linalg.solve": lambda: lib.linalg.solve(h(), h()),
        "linalg.eigvalsh": lambda: lib.linalg.eigvalsh(h() + h().mT),
        "linalg.lstsq": lambda: lib.linalg.lstsq(h(), b).solution,
        "pinverse": lambda: lib.pinverse(h()),
        "cholesky_solve": lambda: lib.cholesky_solve(h(), lib.eye(4)),
        "fft.rfft": lambda: lib.fft.rfft(h()).abs(),
        "fft.fft2": lambda: lib.fft.fft2(h()).real,
        "quantile": lambda: lib.quantile(h().flatten(), 0.5),
        "polar": lambda: lib.polar(h().abs(), h()).real,
        "view_as_complex": lambda: lib.view_as_complex(h().reshape(4, 2, 2)).real,
        "grid_sample": lambda: F.grid_sample(
            h()[None, None], lib.zeros(1, 2, 2, 2), align_corners=False
        ),
        "avg_pool3d": lambda: F.avg_pool3d(h()[None, None, None].expand(1, 1, 2, 4, 4), 2),
        "adaptive_max_pool3d": lambda: F.adaptive_max_pool3d(h()[None, None, None], 1),
        "max_unpool2d": lambda: F.max_unpool2d(
            *F.max_pool2d(h()[None, None], 2, return_indices=True), 2
        ),
        "reflect_pad": lambda: F.pad(h()[None], (1, 1), mode="reflect"),
        "replicate_pad3d": lambda: F.pad(h()[None, None], (1, 1, 1, 1, 1, 1), mode="replicate"),
        "circular_pad": lambda: F.pad(h()[None], (1, 1), mode="circular"),
        "cosine_embedding_loss": lambda: F.cosine_embedding_loss(h(), h(), lib.ones(4)),
        "triplet_margin_loss": lambda: F.triplet_margin_loss(h(), h(), h()),
        "multi_margin_loss": lambda: F.multi_margin_loss(h(), lib.zeros(4, dtype=long)),
        "batch_norm_eval": lambda: F.batch_norm(h(), lib.zeros(4), lib.ones(4)),
        "index_copy": lambda: lib.zeros(4, 4).index_copy(0, lib.tensor([0]), h()[:1]),
        "LSTM": lambda: lib.nn.LSTM(4, 4)(a)[0],
        "LSTM_bf16_input": lambda: lib.nn.LSTM(4, 4)(a.to(lib.bfloat16))[0],
        "LSTM_packed": lambda: lib.nn.LSTM(4, 4)(packed())[0].data,
        "GRU": lambda: lib.nn.GRU(4, 4)(a)[0],
        "RNN": lambda: lib.nn.RNN(4, 4)(a)[0],
        "LSTMCell": lambda: lib.nn.LSTMCell(4, 4)(a)[0],
        "GRUCell": lambda: lib.nn.GRUCell(4, 4)(a),
        "RNNCell": lambda: lib.nn.RNNCell(4, 4)(a),
    }


def _dtype_under_autocast(lib, name):
    with lib.autocast("cpu", dtype=lib.bfloat16):
        try:
            return str(_cases(lib)[name]().dtype).split(".")[-1]
        except Exception as error:  # the decision to compare may be a refusal
            return type(error).__name__


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", list(_cases(minigrad)))
def test_cpu_autocast_runs_each_op_in_pytorchs_dtype(name):
    torch = pytest.importorskip("torch")
    assert _dtype_under_autocast(minigrad, name) == _dtype_under_autocast(torch, name)


def test_in_place_addmm_is_left_alone_and_exact():
    """``addmm_`` has no autocast kernel: float32 through and through, so exactly the plain
    result (a bfloat16 product added in would differ)."""
    lib = minigrad
    lib.manual_seed(0)
    a, b = lib.randn(8, 8), lib.randn(8, 8)
    with lib.autocast("cpu", dtype=lib.bfloat16):
        inside = a.clone().addmm_(a, b)
    assert lib.equal(inside, a.clone().addmm_(a, b))


def test_lstm_under_autocast_trains_in_bfloat16_with_float32_gradients():
    lib = minigrad
    m = lib.nn.LSTM(4, 4)
    x = lib.randn(3, 2, 4, requires_grad=True)
    with lib.autocast("cpu", dtype=lib.bfloat16):
        out, (h, c) = m(x)
    assert (out.dtype, h.dtype, c.dtype) == (lib.bfloat16,) * 3
    out.float().sum().backward()
    assert x.grad.dtype is lib.float32 and m.weight_ih_l0.grad.dtype is lib.float32
