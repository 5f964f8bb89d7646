"""``minigrad.nn.functional`` (``F``): stateless layers, activations and losses, PyTorch's names.

Functions that other files of ``minigrad.nn`` define (convolution, pooling, attention) are
found here too: a name not defined below is looked up, on first use, in those files (see
``minigrad/nn/_providers.py``).
"""

from __future__ import annotations

from ...ops import pad
from .activation import (
    elu,
    gelu,
    glu,
    hardtanh,
    leaky_relu,
    log_softmax,
    logsigmoid,
    mish,
    relu,
    relu6,
    sigmoid,
    silu,
    softmax,
    softmin,
    softplus,
    softsign,
    tanh,
)
from .basic import dropout, dropout1d, dropout2d, embedding, linear, one_hot
from .loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from .normalization import batch_norm, group_norm, layer_norm, normalize


def __getattr__(name: str):
    """Find ``F.conv2d``, ``F.max_pool2d``, ``F.scaled_dot_product_attention``, ... in the files
    of ``minigrad.nn`` that define them."""
    if name[:1].islower():
        from .. import _providers

        try:
            value = _providers.find(name, callable)
        except AttributeError:
            pass
        else:
            globals()[name] = value
            return value
    raise AttributeError(f"module 'minigrad.nn.functional' has no attribute '{name}'")
