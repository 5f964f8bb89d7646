"""``minigrad.nn.functional`` (``F``): stateless layers, activations and losses, PyTorch's names."""

from __future__ import annotations

from ...ops import pad
from ._multihead import multi_head_attention_forward
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
from .adaptive_max_pool import adaptive_max_pool1d, adaptive_max_pool2d
from .attention import scaled_dot_product_attention
from .basic import dropout, dropout1d, dropout2d, dropout3d, embedding, linear, one_hot
from .conv import conv1d, conv2d, fold, unfold
from .conv_transpose import conv_transpose1d, conv_transpose2d
from .distance import cosine_similarity, pairwise_distance
from .embedding_bag import embedding_bag
from .interpolate import interpolate
from .loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    gaussian_nll_loss,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    poisson_nll_loss,
    smooth_l1_loss,
)
from .margin_loss import (
    cosine_embedding_loss,
    margin_ranking_loss,
    multilabel_soft_margin_loss,
    triplet_margin_loss,
)
from .normalization import batch_norm, group_norm, layer_norm, normalize
from .pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from .shape import bilinear, pixel_shuffle, pixel_unshuffle

# -- branch layers2: more activations, alpha dropout, instance/RMS/local response norm
# isort: split
from ._activation_more import (
    celu,
    celu_,
    elu_,
    gumbel_softmax,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh_,
    leaky_relu_,
    prelu,
    relu_,
    rrelu,
    rrelu_,
    selu,
    selu_,
    softshrink,
    tanhshrink,
    threshold,
    threshold_,
)
from ._alpha_dropout import alpha_dropout, feature_alpha_dropout
from ._norm_more import instance_norm, local_response_norm, rms_norm

# -- branch losses2: CTC, margin and hinge losses
# isort: split
from .ctc import ctc_loss
from .margin_loss import (
    hinge_embedding_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    soft_margin_loss,
    triplet_margin_with_distance_loss,
)

# -- branch spatial: 3-D convolution and pooling, LP pooling, unpooling, grid sampling
# isort: split
from .adaptive_max_pool import (
    adaptive_max_pool1d_with_indices,
    adaptive_max_pool2d_with_indices,
    adaptive_max_pool3d,
    adaptive_max_pool3d_with_indices,
)
from .conv import conv3d
from .conv_transpose import conv_transpose3d
from .distance import pdist
from .grid_sample import affine_grid, grid_sample
from .interpolate import upsample, upsample_bilinear, upsample_nearest
from .lp_pool import lp_pool1d, lp_pool2d, lp_pool3d
from .max_unpool import max_unpool1d, max_unpool2d, max_unpool3d
from .pooling3d import (
    adaptive_avg_pool3d,
    avg_pool3d,
    max_pool1d_with_indices,
    max_pool2d_with_indices,
    max_pool3d,
    max_pool3d_with_indices,
)
from .shape import channel_shuffle

# -- branch surface: fractional max pooling, native_channel_shuffle
# isort: split
from .fractional_max_pool import (
    fractional_max_pool2d,
    fractional_max_pool2d_with_indices,
    fractional_max_pool3d,
    fractional_max_pool3d_with_indices,
)
from .shape import channel_shuffle as native_channel_shuffle

# -- branch flex: linear_cross_entropy, grouped_mm, conv_tbc
# isort: split
from ._grouped_mm import (
    ScalingType,
    SwizzleType,
    conv_tbc,
    grouped_mm,
    scaled_grouped_mm,
    scaled_mm,
)
from ._linear_cross_entropy import linear_cross_entropy

# -- branch docs13: F.grad is torch.nn.grad (conv input/weight gradients), as in PyTorch
# isort: split
from .. import grad
