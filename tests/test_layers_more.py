"""The layers of issue 12 against ``torch.nn`` with copied weights: transposed convolution,
upsampling, padding, pixel shuffle, fold, bilinear, distances, adaptive max pooling, the
encoder-decoder transformer, the new losses; reprs and state-dict keys included."""

import numpy as np
import pytest
from helpers import check_layer_matches_torch

import minigrad
from minigrad import nn

# (class name, constructor args, kwargs, input shapes)
LAYERS = [
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1), [(2, 4, 5, 5)]),
    ("ConvTranspose2d", (4, 6, (2, 3)), dict(groups=2, dilation=2, bias=False), [(4, 5, 5)]),
    ("ConvTranspose1d", (3, 2, 4), dict(stride=3), [(2, 3, 7)]),
    ("Upsample", (), dict(scale_factor=2, mode="bilinear", align_corners=False), [(1, 2, 3, 4)]),
    ("Upsample", (), dict(size=(5, 7), mode="nearest"), [(1, 2, 3, 4)]),
    ("Upsample", (), dict(scale_factor=2, mode="bicubic", align_corners=False), [(1, 2, 3, 4)]),
    ("Upsample", (), dict(size=(2, 7), mode="bicubic", align_corners=True), [(1, 2, 3, 4)]),
    ("UpsamplingBilinear2d", (), dict(scale_factor=2), [(1, 2, 3, 4)]),
    ("ZeroPad2d", ((1, 2, 0, 3),), {}, [(1, 2, 3, 4)]),
    ("ConstantPad1d", (2, 3.5), {}, [(2, 3, 4)]),
    ("ReflectionPad2d", (2,), {}, [(1, 2, 3, 4)]),
    ("ReplicationPad1d", ((3, 1),), {}, [(2, 3, 4)]),
    ("CircularPad2d", (1,), {}, [(1, 2, 3, 4)]),
    ("PixelShuffle", (2,), {}, [(1, 8, 3, 3)]),
    ("PixelUnshuffle", (3,), {}, [(1, 2, 6, 3)]),
    ("Unfold", (2,), dict(padding=1, stride=2), [(2, 3, 5, 4)]),
    ("Fold", ((4, 5), 2), {}, [(2, 12, 12)]),
    ("Bilinear", (3, 4, 5), {}, [(6, 3), (6, 4)]),
    ("CosineSimilarity", (), dict(dim=1), [(4, 5), (4, 5)]),
    ("PairwiseDistance", (), dict(p=1.0, keepdim=True), [(4, 5), (4, 5)]),
    ("AdaptiveMaxPool2d", ((3, 2),), {}, [(2, 3, 7, 5)]),
    ("AdaptiveMaxPool1d", (4,), {}, [(2, 3, 9)]),
    ("TransformerDecoderLayer", (8, 2, 16), dict(dropout=0.0, batch_first=True), [(2, 3, 8), (2, 5, 8)]),
    ("TransformerDecoderLayer", (8, 2, 16), dict(dropout=0.0, norm_first=True), [(3, 2, 8), (5, 2, 8)]),
]  # fmt: skip
IDS = [f"{name}-{i}" for i, (name, *_rest) in enumerate(LAYERS)]


@pytest.mark.parametrize("name,args,kwargs,shapes", LAYERS, ids=IDS)
def test_layer_matches_torch(name, args, kwargs, shapes, device):
    pytest.importorskip("torch")
    check_layer_matches_torch(name, args, kwargs, shapes, device)


LOSSES = [
    ("MarginRankingLoss", dict(margin=0.3), 3),
    ("TripletMarginLoss", dict(margin=2.0, swap=True), 3),
    ("CosineEmbeddingLoss", dict(margin=-0.2, reduction="sum"), 3),
    ("MultiLabelSoftMarginLoss", {}, 2),
    ("GaussianNLLLoss", dict(full=True), 3),
    ("PoissonNLLLoss", dict(log_input=True, full=True), 2),
]


@pytest.mark.parametrize("name,kwargs,arity", LOSSES, ids=[c[0] for c in LOSSES])
def test_loss_modules_match_torch(name, kwargs, arity):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    shape = (4,) if name == "MarginRankingLoss" else (4, 3)
    arrays = [rng.standard_normal(shape) for _ in range(arity)]
    if name in ("MarginRankingLoss", "CosineEmbeddingLoss"):
        arrays[2] = np.array([1.0, -1.0, -1.0, 1.0])
    if name == "MultiLabelSoftMarginLoss":
        arrays[1] = (arrays[1] > 0).astype(np.float64)
    if name == "GaussianNLLLoss":
        arrays[2] = np.abs(arrays[2]) + 0.1
    if name == "PoissonNLLLoss":
        arrays[1] = np.floor(np.abs(arrays[1]) * 3)
    got = getattr(nn, name)(**kwargs)(*[minigrad.tensor(a) for a in arrays])
    want = getattr(torch.nn, name)(**kwargs)(*[torch.tensor(a) for a in arrays])
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def test_transformer_matches_torch_with_masks():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    kwargs = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1,
                  dim_feedforward=16, dropout=0.0, batch_first=True)  # fmt: skip
    theirs, ours = torch.nn.Transformer(**kwargs).double(), nn.Transformer(**kwargs)
    ours.load_state_dict(
        {k: minigrad.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    )
    ours = ours.double()
    rng = np.random.default_rng(2)
    src, tgt = rng.standard_normal((2, 5, 8)), rng.standard_normal((2, 4, 8))
    pad = np.array([[False] * 5, [False, False, False, True, True]])
    got = ours(
        minigrad.tensor(src), minigrad.tensor(tgt),
        tgt_mask=nn.Transformer.generate_square_subsequent_mask(4, dtype=minigrad.float64),
        src_key_padding_mask=minigrad.tensor(pad), memory_key_padding_mask=minigrad.tensor(pad),
    )  # fmt: skip
    want = theirs(
        torch.tensor(src), torch.tensor(tgt),
        tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64),
        src_key_padding_mask=torch.tensor(pad), memory_key_padding_mask=torch.tensor(pad),
    )  # fmt: skip
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), atol=1e-12)
    assert len(list(ours.encoder.layers)) == 2 and ours.decoder.norm is not None


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(scale_factor=3),
        dict(scale_factor=0.6),
        dict(scale_factor=(1.7, 0.5), recompute_scale_factor=True),
        dict(size=(9, 4), align_corners=True),
        dict(size=(1, 1), align_corners=True),
        dict(size=(2, 11), align_corners=False),
    ],
)
def test_bicubic_interpolate_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((2, 3, 5, 6))
    upstream = None
    results = []
    for lib in (minigrad, torch):
        inp = lib.tensor(x, requires_grad=True)
        out = lib.nn.functional.interpolate(inp, mode="bicubic", **kwargs)
        if upstream is None:
            upstream = np.random.default_rng(4).standard_normal(tuple(out.shape))
        (out * lib.tensor(upstream)).sum().backward()
        results.append((out.detach().numpy(), inp.grad.numpy()))
    (ours, our_grad), (theirs, their_grad) = results
    np.testing.assert_allclose(ours, theirs, atol=1e-12)
    np.testing.assert_allclose(our_grad, their_grad, atol=1e-12)


def test_dropout3d_zeroes_whole_channels():
    x = minigrad.ones(4, 6, 2, 3, 3)
    y = nn.Dropout3d(0.5)(x)
    per_channel = y.reshape(4, 6, -1)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()
    assert bool((nn.Dropout3d(0.5).eval()(x) == x).all())


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="valid sizes range"):
        nn.ConvTranspose2d(2, 2, 3, stride=2)(minigrad.randn(1, 2, 4, 4), output_size=(20, 20))
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        nn.ConvTranspose2d(2, 2, 3, stride=1, output_padding=1)(minigrad.randn(1, 2, 4, 4))
    with pytest.raises(
        RuntimeError, match="Padding size should be less than the corresponding input dimension"
    ):
        nn.ReflectionPad1d(3)(minigrad.randn(1, 2, 3))
    with pytest.raises(ValueError, match="Anti-alias option is restricted to bilinear and bicubic"):
        nn.functional.interpolate(minigrad.randn(1, 1, 2, 2), scale_factor=2, antialias=True)
    with pytest.raises(NotImplementedError, match="bicubic mode needs 4D input"):
        nn.functional.interpolate(minigrad.randn(1, 1, 2), scale_factor=2, mode="bicubic")
    with pytest.raises(RuntimeError, match="divisible by the square"):
        nn.PixelShuffle(2)(minigrad.randn(1, 3, 2, 2))
    with pytest.raises(ValueError, match="var has negative"):
        nn.GaussianNLLLoss()(minigrad.zeros(2), minigrad.zeros(2), minigrad.tensor([1.0, -1.0]))
