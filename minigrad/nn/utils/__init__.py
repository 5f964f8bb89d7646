"""``minigrad.nn.utils``, as ``torch.nn.utils``: gradient clipping (``clip_grad``) and parameter
vectors (``convert_parameters``), packed sequences (``rnn``); weight and spectral normalization
(hook-based, and as ``parametrizations``), ``parametrize``, batch-norm fusion, ``skip_init``,
``stateless.functional_call`` and ``prune``."""

# -- branch optimutils
from . import (
    clip_grad,
    convert_parameters,
    fusion,
    parametrizations,
    parametrize,
    prune,
    rnn,
    stateless,
)
from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .fusion import (
    fuse_conv_bn_eval,
    fuse_conv_bn_weights,
    fuse_linear_bn_eval,
    fuse_linear_bn_weights,
)
from .init import skip_init
from .spectral_norm import remove_spectral_norm, spectral_norm
from .weight_norm import remove_weight_norm, weight_norm

# -- branch surface: deprecated clip_grad_norm, weight memory formats
# isort: split
from .clip_grad import clip_grad_norm
from .memory_format import convert_conv2d_weight_memory_format, convert_conv3d_weight_memory_format
