"""Same seed, same initial weights as PyTorch: nn.init's fills and every parametrized nn module.

After ``manual_seed(s)`` minigrad and PyTorch (CPU) must draw the same numbers in the same
order. Uniform-based fills are compared bit for bit in float32 (their bounds are symmetric,
as every initializer's: PyTorch scales float32 uniform numbers with a float32 fused
multiply-add, which two roundings in double reproduce only for symmetric bounds), and so are
normal fills. One tolerance: float64 uniform numbers, which PyTorch scales with a fused
multiply-add (one rounding), the CPU generator currently with two roundings: at most one ulp
of the largest value.

Whatever the tolerance, the next draw after each fill must equal PyTorch's exactly: the same
number of words was consumed.
"""

import inspect
import math
import warnings

import numpy as np
import pytest

import minigrad
import minigrad.nn as nn

torch = pytest.importorskip("torch")


def _assert_close(ours, theirs, kind, what=""):
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, what
    if kind == "uniform" and ours.dtype == np.float64:  # PyTorch's fused multiply-add
        tol = np.spacing(np.abs(theirs).max()) if theirs.size else 0
        assert np.abs(ours - theirs).max(initial=0) <= tol, what
    else:
        assert np.array_equal(ours, theirs), what


def _seeded(lib, seed, fill, shape, dtype):
    """``fill`` applied to an empty tensor right after ``manual_seed(seed)``, and the next draw."""
    lib.manual_seed(seed)
    tensor = lib.empty(shape, dtype=getattr(lib, dtype))
    fill(lib, tensor)
    return tensor.numpy().copy(), lib.rand(4, dtype=lib.float64).numpy()


# initializer -> (fill(lib, tensor), kind of comparison)
INITS = {
    "uniform_": (lambda L, t: L.nn.init.uniform_(t, -0.25, 0.25), "uniform"),
    "uniform_01": (lambda L, t: L.nn.init.uniform_(t), "uniform"),
    "normal_": (lambda L, t: L.nn.init.normal_(t, 0.1, 2.0), "normal"),
    "xavier_uniform_": (lambda L, t: L.nn.init.xavier_uniform_(t, gain=1.3), "uniform"),
    "xavier_normal_": (lambda L, t: L.nn.init.xavier_normal_(t, gain=0.7), "normal"),
    "kaiming_uniform_": (lambda L, t: L.nn.init.kaiming_uniform_(t, a=math.sqrt(5)), "uniform"),
    "kaiming_uniform_fan_out_relu": (
        lambda L, t: L.nn.init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
        "uniform",
    ),
    "kaiming_uniform_selu": (
        lambda L, t: L.nn.init.kaiming_uniform_(t, nonlinearity="selu"),
        "uniform",
    ),
    "kaiming_normal_": (lambda L, t: L.nn.init.kaiming_normal_(t), "normal"),
    "kaiming_normal_fan_out_tanh": (
        lambda L, t: L.nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="tanh"),
        "normal",
    ),
    "kaiming_normal_leaky": (
        lambda L, t: L.nn.init.kaiming_normal_(t, a=0.2, nonlinearity="leaky_relu"),
        "normal",
    ),
    "trunc_normal_": (lambda L, t: L.nn.init.trunc_normal_(t, std=0.5), "normal"),
    "constant_": (lambda L, t: L.nn.init.constant_(t, 0.3), "exact"),
    "zeros_": (lambda L, t: L.nn.init.zeros_(t), "exact"),
    "ones_": (lambda L, t: L.nn.init.ones_(t), "exact"),
}
SHAPES = [(3, 5), (7, 4), (20, 30), (4, 3, 3, 2)]
DTYPES = ["float32", "float64"]


@pytest.mark.parametrize("name", list(INITS))
def test_init_fill_matches_torch(name):
    fill, kind = INITS[name]
    for shape in SHAPES:
        for dtype in DTYPES:
            what = f"{name} {shape} {dtype}"
            ours, our_next = _seeded(minigrad, 3, fill, shape, dtype)
            theirs, their_next = _seeded(torch, 3, fill, shape, dtype)
            _assert_close(ours, theirs, kind, what)
            assert np.array_equal(our_next, their_next), what  # as many words drawn
            if kind != "exact":  # a different seed gives different numbers
                assert not np.array_equal(_seeded(minigrad, 4, fill, shape, dtype)[0], ours)


@pytest.mark.parametrize(
    "mean, std, a, b",
    [
        (0.0, 1.0, -2.0, 2.0),  # most of the mass inside: whole normal tensors, redrawn
        (0.0, 0.02, -0.04, 0.04),
        (1.0, 1.0, 2.0, 4.0),  # little mass inside: uniform candidates and an accept test
        (0.0, 1.0, -0.25, 0.25),
        (0.0, 1.0, 3.0, 3.5),  # far in the tail (PyTorch and minigrad warn)
    ],
)
def test_trunc_normal_takes_torchs_two_samplers(mean, std, a, b):
    def fill(L, t):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            L.nn.init.trunc_normal_(t, mean, std, a, b)

    for shape, dtype in [((3, 5), "float32"), ((20, 30), "float32"), ((20, 30), "float64")]:
        ours, our_next = _seeded(minigrad, 5, fill, shape, dtype)
        theirs, their_next = _seeded(torch, 5, fill, shape, dtype)
        _assert_close(ours, theirs, "normal", f"{shape} {dtype}")
        assert np.array_equal(our_next, their_next)
        assert ours.min() >= a and ours.max() <= b
        assert not np.array_equal(_seeded(minigrad, 6, fill, shape, dtype)[0], ours)


def test_orthogonal_matches_torch_up_to_the_qr():
    """The normal matrix is PyTorch's (to the normal tolerance); the QR is another LAPACK's, so
    Q is compared with a tolerance and must be orthogonal."""
    fill = lambda L, t: L.nn.init.orthogonal_(t, gain=1.5)  # noqa: E731
    for shape in [(3, 5), (7, 4), (20, 30), (4, 3, 3, 2)]:
        for dtype, atol in [("float32", 5e-6), ("float64", 1e-13)]:  # measured: 1.2e-6, 3e-15
            ours, our_next = _seeded(minigrad, 3, fill, shape, dtype)
            theirs, their_next = _seeded(torch, 3, fill, shape, dtype)
            np.testing.assert_allclose(ours, theirs, rtol=0, atol=atol)
            assert np.array_equal(our_next, their_next)
            flat = ours.reshape(shape[0], -1).astype(np.float64) / 1.5
            gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
            np.testing.assert_allclose(gram, np.eye(len(gram)), atol=1e-5)
            assert not np.allclose(_seeded(minigrad, 4, fill, shape, dtype)[0], ours)


def test_sparse_zeroes_torchs_entries():
    """The normal numbers come from ``generator``, the zeroed rows from the global generator
    (one randperm per column), as PyTorch draws them."""
    for dtype in DTYPES:
        for gen_seed in [None, 9]:

            def fill(L, t, gen_seed=gen_seed):
                gen = None if gen_seed is None else L.Generator().manual_seed(gen_seed)
                L.nn.init.sparse_(t, 0.3, std=0.05, generator=gen)

            ours, our_next = _seeded(minigrad, 3, fill, (10, 6), dtype)
            theirs, their_next = _seeded(torch, 3, fill, (10, 6), dtype)
            assert np.array_equal(ours == 0, theirs == 0)
            assert ((ours == 0).sum(axis=0) == 3).all()
            _assert_close(ours, theirs, "normal")
            assert np.array_equal(our_next, their_next)
            other = _seeded(minigrad, 4, fill, (10, 6), dtype)[0]
            assert not np.array_equal(other == 0, ours == 0)


def test_deterministic_fills_match_torch_and_draw_nothing():
    fills = {
        "eye_": ((4, 6), lambda L, t: L.nn.init.eye_(t)),
        "dirac_": ((6, 3, 3, 3), lambda L, t: L.nn.init.dirac_(t, groups=2)),
        "dirac_1d": ((4, 4, 5), lambda L, t: L.nn.init.dirac_(t)),
    }
    for name, (shape, fill) in fills.items():
        for dtype in DTYPES:
            ours, our_next = _seeded(minigrad, 3, fill, shape, dtype)
            theirs, their_next = _seeded(torch, 3, fill, shape, dtype)
            assert np.array_equal(ours, theirs), name
            assert np.array_equal(our_next, their_next), name


def test_init_with_generator_matches_torch():
    for name in ["uniform_", "normal_", "xavier_uniform_", "kaiming_normal_"]:
        results = []
        for L in (minigrad, torch):
            L.manual_seed(0)
            gen = L.Generator().manual_seed(42)
            t = getattr(L.nn.init, name)(L.empty(20, 10), generator=gen)
            results.append((t.numpy().copy(), L.rand(3).numpy(), L.rand(3, generator=gen).numpy()))
        (ours, our_global, our_gen), (theirs, their_global, their_gen) = results
        _assert_close(ours, theirs, "normal" if "normal" in name else "uniform", name)
        assert np.array_equal(our_global, their_global)  # the global generator untouched
        assert np.array_equal(our_gen, their_gen)


# -- every module that has parameters or draws when it is made -------------------------------
# name -> builder(lib), or (builder, input shape) for lazy modules, materialized by one call
ROWS = {
    "AdaptiveLogSoftmaxWithLoss": lambda L: L.nn.AdaptiveLogSoftmaxWithLoss(
        16, 20, [5, 10], div_value=2.0, head_bias=True
    ),
    "BatchNorm1d": lambda L: L.nn.BatchNorm1d(5),
    "BatchNorm2d": lambda L: L.nn.BatchNorm2d(5, affine=False),
    "BatchNorm3d": lambda L: L.nn.BatchNorm3d(5, track_running_stats=False),
    "Bilinear": lambda L: L.nn.Bilinear(4, 5, 3),
    "Conv1d": lambda L: L.nn.Conv1d(4, 6, 3),
    "Conv2d": lambda L: L.nn.Conv2d(4, 6, (3, 2), groups=2),
    "Conv3d": lambda L: L.nn.Conv3d(2, 3, 2, bias=False),
    "ConvTranspose1d": lambda L: L.nn.ConvTranspose1d(4, 6, 3),
    "ConvTranspose2d": lambda L: L.nn.ConvTranspose2d(4, 6, 3, groups=2),
    "ConvTranspose3d": lambda L: L.nn.ConvTranspose3d(2, 3, 2),
    "DataParallel": lambda L: L.nn.DataParallel(L.nn.Linear(3, 2)),
    "Embedding": lambda L: L.nn.Embedding(10, 4, padding_idx=2),
    "EmbeddingBag": lambda L: L.nn.EmbeddingBag(10, 4, mode="sum"),
    "GRU": lambda L: L.nn.GRU(4, 5, num_layers=2, bidirectional=True),
    "GRUCell": lambda L: L.nn.GRUCell(4, 5),
    "GroupNorm": lambda L: L.nn.GroupNorm(2, 6),
    "InstanceNorm1d": lambda L: L.nn.InstanceNorm1d(5, affine=True, track_running_stats=True),
    "InstanceNorm2d": lambda L: L.nn.InstanceNorm2d(5, affine=True),
    "InstanceNorm3d": lambda L: L.nn.InstanceNorm3d(5, track_running_stats=True),
    "LSTM": lambda L: L.nn.LSTM(4, 6, num_layers=2, bidirectional=True, proj_size=3),
    "LSTMCell": lambda L: L.nn.LSTMCell(4, 5),
    "LayerNorm": lambda L: L.nn.LayerNorm((3, 4)),
    "LazyBatchNorm1d": (lambda L: L.nn.LazyBatchNorm1d(), (2, 5)),
    "LazyBatchNorm2d": (lambda L: L.nn.LazyBatchNorm2d(), (2, 5, 3, 3)),
    "LazyBatchNorm3d": (lambda L: L.nn.LazyBatchNorm3d(), (2, 5, 2, 2, 2)),
    "LazyConv1d": (lambda L: L.nn.LazyConv1d(6, 3), (2, 4, 8)),
    "LazyConv2d": (lambda L: L.nn.LazyConv2d(6, 3), (2, 4, 8, 8)),
    "LazyConv3d": (lambda L: L.nn.LazyConv3d(3, 2), (1, 2, 4, 4, 4)),
    "LazyConvTranspose1d": (lambda L: L.nn.LazyConvTranspose1d(6, 3), (2, 4, 8)),
    "LazyConvTranspose2d": (lambda L: L.nn.LazyConvTranspose2d(6, 3), (2, 4, 5, 5)),
    "LazyConvTranspose3d": (lambda L: L.nn.LazyConvTranspose3d(3, 2), (1, 2, 3, 3, 3)),
    "LazyInstanceNorm1d": (
        lambda L: L.nn.LazyInstanceNorm1d(affine=True, track_running_stats=True),
        (2, 5, 4),
    ),
    "LazyInstanceNorm2d": (lambda L: L.nn.LazyInstanceNorm2d(affine=True), (2, 5, 4, 4)),
    "LazyInstanceNorm3d": (lambda L: L.nn.LazyInstanceNorm3d(affine=True), (2, 5, 2, 2, 2)),
    "LazyLinear": (lambda L: L.nn.LazyLinear(3), (2, 7)),
    "Linear": lambda L: L.nn.Linear(7, 3),
    "LinearCrossEntropyLoss": lambda L: L.nn.LinearCrossEntropyLoss(8, 5),
    "MultiheadAttention": lambda L: L.nn.MultiheadAttention(8, 2),
    "NonDynamicallyQuantizableLinear": lambda L: (
        L.nn.modules.linear.NonDynamicallyQuantizableLinear(7, 3)
    ),
    "PReLU": lambda L: L.nn.PReLU(3, init=0.2),
    "RMSNorm": lambda L: L.nn.RMSNorm([3, 4]),
    "RNN": lambda L: L.nn.RNN(4, 5, num_layers=2, nonlinearity="relu", batch_first=True),
    "RNNBase": lambda L: L.nn.RNNBase("LSTM", 4, 5),
    "RNNCell": lambda L: L.nn.RNNCell(4, 5, bias=False),
    "RNNCellBase": lambda L: L.nn.RNNCellBase(4, 5, True, 2),
    "SyncBatchNorm": lambda L: L.nn.SyncBatchNorm(5),
    "Transformer": lambda L: L.nn.Transformer(8, 2, 1, 1, 16),
    "TransformerDecoder": lambda L: L.nn.TransformerDecoder(
        L.nn.TransformerDecoderLayer(8, 2, 16), 2, norm=L.nn.LayerNorm(8)
    ),
    "TransformerDecoderLayer": lambda L: L.nn.TransformerDecoderLayer(8, 2, 16, norm_first=True),
    "TransformerEncoder": lambda L: L.nn.TransformerEncoder(
        L.nn.TransformerEncoderLayer(8, 2, 16), 2, enable_nested_tensor=False
    ),
    "TransformerEncoderLayer": lambda L: L.nn.TransformerEncoderLayer(8, 2, 16, bias=False),
}
# more configurations of the classes above (not part of the one-row-per-class count)
VARIANTS = {
    "MultiheadAttention_kdim_vdim_bias_kv": lambda L: L.nn.MultiheadAttention(
        8, 2, kdim=5, vdim=6, add_bias_kv=True
    ),
    "MultiheadAttention_no_bias": lambda L: L.nn.MultiheadAttention(
        8, 4, add_bias_kv=True, bias=False, batch_first=True
    ),
    "LSTM_one_layer": lambda L: L.nn.LSTM(4, 5),
    "GRU_no_bias": lambda L: L.nn.GRU(4, 5, bias=False),
    "RNN_bidirectional": lambda L: L.nn.RNN(4, 5, bidirectional=True),
    "Conv2d_same_reflect": lambda L: L.nn.Conv2d(3, 4, 3, padding="same", padding_mode="reflect"),
    "Embedding_max_norm": lambda L: L.nn.Embedding(10, 4, max_norm=1.0),
    "Transformer_two_layers": lambda L: L.nn.Transformer(16, 2, 2, 2, 32),
    "Linear_float64": lambda L: L.nn.Linear(7, 3, dtype=L.float64),
    "LSTM_float64": lambda L: L.nn.LSTM(3, 4, dtype=L.float64),
    "Bilinear_no_bias": lambda L: L.nn.Bilinear(3, 3, 2, bias=False),
    "PReLU_default": lambda L: L.nn.PReLU(),
    "MultiheadAttention_wide_bias_kv": lambda L: L.nn.MultiheadAttention(64, 8, add_bias_kv=True),
    "Embedding_wide_float64": lambda L: L.nn.Embedding(100, 33, dtype=L.float64),
    "EmbeddingBag_padding_max": lambda L: L.nn.EmbeddingBag(10, 3, padding_idx=0, mode="max"),
    "Transformer_gelu_norm_first": lambda L: L.nn.Transformer(
        8, 2, 2, 1, 16, activation="gelu", batch_first=True, norm_first=True, bias=False
    ),
    "LSTM_projection_three_layers": lambda L: L.nn.LSTM(4, 6, proj_size=2, num_layers=3),
    "AdaptiveLogSoftmaxWithLoss_three_clusters": lambda L: L.nn.AdaptiveLogSoftmaxWithLoss(
        8, 30, [4, 10, 20], head_bias=False
    ),
    "Conv2d_float64": lambda L: L.nn.Conv2d(3, 4, 2, dtype=L.float64),
    "ConvTranspose2d_strided_groups": lambda L: L.nn.ConvTranspose2d(
        4, 2, 3, stride=2, output_padding=1, groups=2, bias=False
    ),
    "Sequential_of_layers": lambda L: L.nn.Sequential(
        L.nn.Linear(3, 4), L.nn.ReLU(), L.nn.Linear(4, 2), L.nn.LayerNorm(2), L.nn.Embedding(5, 2)
    ),
}
# normal-based parameters: Embedding's weights, MultiheadAttention's bias_k/bias_v
NORMAL_INIT = {"Embedding", "EmbeddingBag", "Embedding_max_norm", "Embedding_wide_float64"}
NORMAL_INIT |= {"EmbeddingBag_padding_max", "Sequential_of_layers"}
NORMAL_KEYS = {"bias_k", "bias_v"}


def _kind(name, key):
    if name in NORMAL_INIT or key.rsplit(".", 1)[-1] in NORMAL_KEYS:
        return "normal"
    return "uniform"


# modules with neither parameters nor buffers that draw nothing when made: name -> builder
# (a class missing here and in ROWS fails test_every_module_class_has_a_row)
_NO_ARGS = (
    "AlphaDropout BCELoss BCEWithLogitsLoss CELU CTCLoss Container CosineEmbeddingLoss "
    "CosineSimilarity CrossEntropyLoss Dropout Dropout1d Dropout2d Dropout3d ELU "
    "FeatureAlphaDropout Flatten GELU GLU GaussianNLLLoss Hardshrink Hardsigmoid Hardswish "
    "Hardtanh HingeEmbeddingLoss HuberLoss Identity KLDivLoss L1Loss LeakyReLU LogSigmoid "
    "LogSoftmax MSELoss MarginRankingLoss Mish Module ModuleDict ModuleList "
    "MultiLabelMarginLoss MultiLabelSoftMarginLoss MultiMarginLoss NLLLoss NLLLoss2d "
    "PairwiseDistance ParameterDict ParameterList PoissonNLLLoss RReLU ReLU ReLU6 SELU "
    "Sequential SiLU Sigmoid SmoothL1Loss SoftMarginLoss Softmax Softmax2d Softmin Softplus "
    "Softshrink Softsign Tanh Tanhshrink TripletMarginLoss TripletMarginWithDistanceLoss "
    "Upsample UpsamplingBilinear2d UpsamplingNearest2d"
).split()
STATELESS = {name: (lambda L, name=name: getattr(L.nn, name)()) for name in _NO_ARGS}
_WITH_SIZE = (
    "AdaptiveAvgPool1d AdaptiveAvgPool2d AdaptiveAvgPool3d AdaptiveMaxPool1d AdaptiveMaxPool2d "
    "AdaptiveMaxPool3d AvgPool1d AvgPool2d AvgPool3d ChannelShuffle CircularPad1d "
    "CircularPad2d CircularPad3d CrossMapLRN2d LocalResponseNorm MaxPool1d MaxPool2d MaxPool3d "
    "MaxUnpool1d MaxUnpool2d MaxUnpool3d PixelShuffle PixelUnshuffle ReflectionPad1d "
    "ReflectionPad2d ReflectionPad3d ReplicationPad1d ReplicationPad2d ReplicationPad3d "
    "ZeroPad1d ZeroPad2d ZeroPad3d"
).split()
STATELESS.update({name: (lambda L, name=name: getattr(L.nn, name)(2)) for name in _WITH_SIZE})
STATELESS.update(
    {
        "ConstantPad1d": lambda L: L.nn.ConstantPad1d(2, 0.5),
        "ConstantPad2d": lambda L: L.nn.ConstantPad2d(2, 0.5),
        "ConstantPad3d": lambda L: L.nn.ConstantPad3d(2, 0.5),
        "Fold": lambda L: L.nn.Fold((4, 4), 2),
        "Unfold": lambda L: L.nn.Unfold(2),
        "FractionalMaxPool2d": lambda L: L.nn.FractionalMaxPool2d(2, output_size=3),
        "FractionalMaxPool3d": lambda L: L.nn.FractionalMaxPool3d(2, output_size=3),
        "LPPool1d": lambda L: L.nn.LPPool1d(2, 3),
        "LPPool2d": lambda L: L.nn.LPPool2d(2, 3),
        "LPPool3d": lambda L: L.nn.LPPool3d(2, 3),
        "Threshold": lambda L: L.nn.Threshold(0.1, 2.0),
        "Unflatten": lambda L: L.nn.Unflatten(1, (2, 3)),
    }
)
# minigrad's own modules (no class of that name in torch.nn): nothing to compare with
MINIGRAD_ONLY = {"Adapter", "CausalSelfAttention", "FeedForward", "LoRALinear"}
MINIGRAD_ONLY.add("TransformerDecoderBlock")


def _build(lib, row, seed):
    lib.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lazy modules and DataParallel warn
        if isinstance(row, tuple):
            make, shape = row
            module = make(lib)
            module(lib.ones(*shape))
        else:
            module = row(lib)
    return module.state_dict(), lib.rand(4, dtype=lib.float64).numpy()


def _arrays(state):
    return {key: value.detach().numpy().copy() for key, value in state.items()}


@pytest.mark.parametrize("name", list(ROWS) + list(VARIANTS))
def test_module_initial_state_matches_torch(name):
    row = ROWS.get(name) or VARIANTS[name]
    ours, our_next = _build(minigrad, row, 5)
    theirs, their_next = _build(torch, row, 5)
    assert list(ours) == list(theirs)  # same keys, same order
    ours, theirs = _arrays(ours), _arrays(theirs)
    for key in theirs:
        _assert_close(ours[key], theirs[key], _kind(name, key), f"{name}.{key}")
    assert np.array_equal(our_next, their_next)  # as many numbers drawn, in the same order
    # where PyTorch's state depends on the seed, ours does too
    theirs_other = _arrays(_build(torch, row, 6)[0])
    ours_other = _arrays(_build(minigrad, row, 6)[0])
    for key in theirs:
        if not np.array_equal(theirs_other[key], theirs[key]):
            assert not np.array_equal(ours_other[key], ours[key]), key


def _module_classes():
    return sorted(
        name
        for name, value in vars(nn).items()
        if inspect.isclass(value) and issubclass(value, nn.Module)
    )


def test_every_module_class_has_a_row():
    """A new module class needs a row in ROWS (it has state or draws) or in STATELESS."""
    missing = [
        name
        for name in _module_classes()
        if name not in ROWS and name not in STATELESS and name not in MINIGRAD_ONLY
    ]
    assert not missing, f"add rows for {missing}"
    assert not [name for name in MINIGRAD_ONLY if hasattr(torch.nn, name)]
    assert not set(ROWS) & set(STATELESS)


def test_stateless_modules_have_no_state_and_draw_nothing():
    for name, build in STATELESS.items():
        state, after = _build(minigrad, build, 5)
        assert not state, name
        assert np.array_equal(after, _build(torch, lambda L: L.nn.Identity(), 5)[1]), name


def test_reset_parameters_redraws_as_torch():
    """``reset_parameters()`` after a fresh seed draws what PyTorch's draws (where PyTorch's
    module has one, ours has one too)."""
    for name, row in {**ROWS, **VARIANTS}.items():
        results = []
        for lib in (minigrad, torch):
            lib.manual_seed(1)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                module = row[0](lib) if isinstance(row, tuple) else row(lib)
                if isinstance(row, tuple):
                    module(lib.ones(*row[1]))
            if not hasattr(module, "reset_parameters"):
                results.append(None)
                continue
            lib.manual_seed(9)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # zero-element weights (both warn)
                module.reset_parameters()
            results.append((_arrays(module.state_dict()), lib.rand(3, dtype=lib.float64).numpy()))
        ours, theirs = results
        assert (ours is None) == (theirs is None), name
        if theirs is None:
            continue
        assert list(ours[0]) == list(theirs[0]) and np.array_equal(ours[1], theirs[1]), name
        for key in theirs[0]:
            _assert_close(ours[0][key], theirs[0][key], _kind(name, key), f"{name}.{key}")
    linear = nn.Linear(4, 3)
    weights = []
    for seed in (9, 10):  # another seed, other weights
        minigrad.manual_seed(seed)
        linear.reset_parameters()
        weights.append(linear.weight.detach().numpy().copy())
    assert not np.array_equal(*weights)


@pytest.mark.parametrize("flavour", ["utils", "parametrizations"])
def test_spectral_norm_draws_u_and_v_as_torch(flavour):
    def build(lib, seed):
        lib.manual_seed(seed)
        utils = lib.nn.utils if flavour == "utils" else lib.nn.utils.parametrizations
        module = utils.spectral_norm(lib.nn.Linear(5, 4))
        return _arrays(module.state_dict()), lib.rand(3, dtype=lib.float64).numpy()

    (ours, our_next), (theirs, their_next) = build(minigrad, 4), build(torch, 4)
    assert list(ours) == list(theirs) and np.array_equal(our_next, their_next)
    for key in theirs:  # u, v: normalized normal vectors (after power iterations)
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-6, atol=1e-7)
    assert not np.allclose(build(minigrad, 5)[0]["bias"], ours["bias"])
