"""torch.conv2d, torch.dropout, torch.layer_norm, ...: nn.functional's functions at the top
level, called with PyTorch's top-level signatures, against PyTorch."""

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")

rng = np.random.default_rng(0)
IMG, W2 = rng.standard_normal((2, 4, 6, 6)), rng.standard_normal((3, 4, 3, 3))
SEQ, W1 = rng.standard_normal((2, 4, 9)), rng.standard_normal((3, 4, 2))
VOL = rng.standard_normal((1, 2, 4, 4, 4))
X, Y = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))

CALLS = [
    ("conv1d", lambda m, t: m.conv1d(t(SEQ), t(W1), None, 2, 1)),
    ("conv2d", lambda m, t: m.conv2d(t(IMG), t(W2), t(np.ones(3)), 1, 1, 1, 1)),
    ("conv3d", lambda m, t: m.conv3d(t(VOL), t(np.ones((2, 2, 2, 2, 2))), None, 2)),
    (
        "conv_transpose1d",
        lambda m, t: m.conv_transpose1d(t(SEQ), t(W1.transpose(1, 0, 2)), None, 2),
    ),
    (
        "conv_transpose2d",
        lambda m, t: m.conv_transpose2d(t(IMG), t(W2.transpose(1, 0, 2, 3)), None, 2, 1, 1),
    ),
    ("conv_transpose3d", lambda m, t: m.conv_transpose3d(t(VOL), t(np.ones((2, 1, 2, 2, 2))))),
    ("avg_pool1d", lambda m, t: m.avg_pool1d(t(SEQ), 3, 2, 1)),
    ("max_pool1d", lambda m, t: m.max_pool1d(t(SEQ), 2)),
    ("max_pool2d", lambda m, t: m.max_pool2d(t(IMG), 3, 2, 1)),
    ("max_pool3d", lambda m, t: m.max_pool3d(t(VOL), 2)),
    ("adaptive_avg_pool1d", lambda m, t: m.adaptive_avg_pool1d(t(SEQ), 4)),
    ("pixel_shuffle", lambda m, t: m.pixel_shuffle(t(IMG), 2)),
    ("pixel_unshuffle", lambda m, t: m.pixel_unshuffle(t(IMG), 3)),
    ("channel_shuffle", lambda m, t: m.channel_shuffle(t(IMG), 2)),
    ("cosine_similarity", lambda m, t: m.cosine_similarity(t(X), t(Y))),
    ("pairwise_distance", lambda m, t: m.pairwise_distance(t(X), t(Y), 3.0)),
    ("pdist", lambda m, t: m.pdist(t(X))),
    ("celu", lambda m, t: m.celu(t(X), 0.5)),
    ("selu", lambda m, t: m.selu(t(X))),
    ("prelu", lambda m, t: m.prelu(t(IMG), t(np.full(4, 0.2)))),
    ("rrelu eval", lambda m, t: m.rrelu(t(X))),
    ("threshold", lambda m, t: m.threshold(t(X), 0.1, 20.0)),
    ("hardshrink", lambda m, t: m.hardshrink(t(X), 0.3)),
    ("bilinear", lambda m, t: m.bilinear(t(X), t(Y), t(np.ones((2, 5, 5))), t(np.ones(2)))),
    ("layer_norm", lambda m, t: m.layer_norm(t(X), [5], t(np.full(5, 2.0)), None, 1e-5, True)),
    ("group_norm", lambda m, t: m.group_norm(t(IMG), 2, None, None, 1e-5, True)),
    ("rms_norm", lambda m, t: m.rms_norm(t(X), [5])),
    ("dropout eval", lambda m, t: m.dropout(t(X), 0.5, False)),
    ("alpha_dropout eval", lambda m, t: m.alpha_dropout(t(X), 0.5, False)),
    ("feature_alpha_dropout eval", lambda m, t: m.feature_alpha_dropout(t(IMG), 0.5, False)),
    ("threshold_", lambda m, t: m.threshold_(t(X), 0.0, -1.0)),
    ("selu_", lambda m, t: m.selu_(t(X))),
]


@pytest.mark.parametrize("name, call", CALLS, ids=[c[0] for c in CALLS])
def test_top_level_functions_match_torch(name, call):
    ours = call(minigrad, lambda a: minigrad.tensor(a))
    theirs = call(torch, lambda a: torch.tensor(a))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_top_level_dropout_trains_and_takes_train_positionally():
    x = minigrad.ones(1000)
    y = minigrad.dropout(x, 0.5, True)
    assert set(np.unique(y.numpy())) <= {0.0, 2.0} and 300 < int((y == 0).sum()) < 700
    with pytest.raises(TypeError):
        minigrad.dropout(x, 0.5)  # train is required, as in PyTorch
