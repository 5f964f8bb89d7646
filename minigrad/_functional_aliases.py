"""``torch.conv2d``, ``torch.dropout``, ``torch.layer_norm`` and the other functions of
``nn.functional`` that PyTorch also has at the top level, with the top-level signatures.

Where both signatures agree the function is ``nn.functional``'s own; ``dropout`` and friends
take ``train`` (required, as in PyTorch) and the norms accept and ignore ``cudnn_enable(d)``.
Top-level forms whose arguments differ from ``nn.functional``'s in order or meaning
(``torch.batch_norm``, ``torch.instance_norm``, ``torch.embedding``, the losses with an integer
``reduction``) live in :mod:`minigrad._aten_aliases`, with PyTorch's top-level signatures.
"""

from __future__ import annotations

from .nn import functional as F

# nn.functional's own functions, under the same names at the top level
SAME_SIGNATURE = (
    "adaptive_avg_pool1d",
    "avg_pool1d",
    "bilinear",
    "channel_shuffle",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "cosine_similarity",
    "hardshrink",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "pairwise_distance",
    "pdist",
    "pixel_shuffle",
    "pixel_unshuffle",
    "prelu",
    "rms_norm",
    "rrelu",
    "rrelu_",
    "threshold_",
)
globals().update({name: getattr(F, name) for name in SAME_SIGNATURE})


# nn.functional's with an ``inplace`` flag PyTorch's top-level forms do not take: a third
# positional argument there (``torch.selu(x, 5)``) raises TypeError instead of changing ``x``
def selu(input):
    """``torch.selu(input)``: :func:`minigrad.nn.functional.selu`."""
    return F.selu(input)


def selu_(input):
    """``torch.selu_(input)``: :func:`minigrad.nn.functional.selu_`."""
    return F.selu_(input)


def celu(input, alpha=1.0):
    """``torch.celu(input, alpha)``: :func:`minigrad.nn.functional.celu`."""
    return F.celu(input, alpha)


def celu_(input, alpha=1.0):
    """``torch.celu_(input, alpha)``: :func:`minigrad.nn.functional.celu_`."""
    return F.celu_(input, alpha)


def threshold(input, threshold, value):
    """``torch.threshold(input, threshold, value)``: :func:`minigrad.nn.functional.threshold`."""
    return F.threshold(input, threshold, value)


def dropout(input, p: float, train: bool):
    """``torch.dropout(input, p, train)``: :func:`minigrad.nn.functional.dropout`."""
    return F.dropout(input, p, train)


def dropout_(input, p: float, train: bool):
    """In-place :func:`dropout`."""
    return F.dropout(input, p, train, inplace=True)


def alpha_dropout(input, p: float, train: bool):
    """``torch.alpha_dropout(input, p, train)``: :func:`minigrad.nn.functional.alpha_dropout`."""
    return F.alpha_dropout(input, p, train)


def feature_alpha_dropout(input, p: float, train: bool):
    """``torch.feature_alpha_dropout(input, p, train)``."""
    return F.feature_alpha_dropout(input, p, train)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    """``torch.layer_norm``: :func:`minigrad.nn.functional.layer_norm` (``cudnn_enable``
    accepted, no effect)."""
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    """``torch.group_norm``: :func:`minigrad.nn.functional.group_norm` (``cudnn_enabled``
    accepted, no effect)."""
    return F.group_norm(input, num_groups, weight, bias, eps)


__all__ = [
    *SAME_SIGNATURE,
    "selu",
    "selu_",
    "celu",
    "celu_",
    "threshold",
    "dropout",
    "dropout_",
    "alpha_dropout",
    "feature_alpha_dropout",
    "layer_norm",
    "group_norm",
]
