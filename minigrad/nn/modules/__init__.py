"""The layers of ``minigrad.nn``, one file per family under PyTorch's file names, so that
``minigrad.nn.modules.linear.Linear`` is ``minigrad.nn.Linear`` as in ``torch.nn``."""

from .activation import (
    ELU,
    GELU,
    GLU,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    MultiheadAttention,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Softsign,
    Tanh,
)
from .adapters import Adapter, LoRALinear
from .batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d, SyncBatchNorm
from .causal import CausalSelfAttention, FeedForward, TransformerDecoderBlock
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .distance import CosineSimilarity, PairwiseDistance
from .dropout import Dropout, Dropout1d, Dropout2d, Dropout3d
from .flatten import Flatten, Unflatten
from .fold import Fold, Unfold
from .linear import Bilinear, Identity, Linear, NonDynamicallyQuantizableLinear
from .linear_cross_entropy import LinearCrossEntropyLoss, LinearCrossEntropyOptions
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineEmbeddingLoss,
    CrossEntropyLoss,
    GaussianNLLLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    MultiLabelSoftMarginLoss,
    NLLLoss,
    PoissonNLLLoss,
    SmoothL1Loss,
    TripletMarginLoss,
)
from .module import Module
from .normalization import GroupNorm, LayerNorm
from .padding import (
    CircularPad1d,
    CircularPad2d,
    CircularPad3d,
    ConstantPad1d,
    ConstantPad2d,
    ConstantPad3d,
    ReflectionPad1d,
    ReflectionPad2d,
    ReflectionPad3d,
    ReplicationPad1d,
    ReplicationPad2d,
    ReplicationPad3d,
    ZeroPad1d,
    ZeroPad2d,
    ZeroPad3d,
)
from .pixelshuffle import PixelShuffle, PixelUnshuffle
from .pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .sparse import Embedding, EmbeddingBag
from .transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from .upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

# -- branch optimutils: lazy modules
# isort: split
from .batchnorm import LazyBatchNorm1d, LazyBatchNorm2d
from .conv import LazyConv1d, LazyConv2d, LazyConvTranspose1d, LazyConvTranspose2d
from .lazy import LazyModuleMixin
from .linear import LazyLinear

# -- branch layers2: more activations, alpha dropout, instance/RMS/local response norm
# isort: split
from .activation import (
    CELU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    PReLU,
    RReLU,
    Softmax2d,
    Softshrink,
    Tanhshrink,
    Threshold,
)
from .dropout import AlphaDropout, FeatureAlphaDropout
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .normalization import CrossMapLRN2d, LocalResponseNorm, RMSNorm

# -- branch losses2: CTC, margin and hinge losses, NLLLoss2d, AdaptiveLogSoftmaxWithLoss
# isort: split
from .adaptive import AdaptiveLogSoftmaxWithLoss
from .loss import (
    CTCLoss,
    HingeEmbeddingLoss,
    MultiLabelMarginLoss,
    MultiMarginLoss,
    NLLLoss2d,
    SoftMarginLoss,
    TripletMarginWithDistanceLoss,
)

# -- branch spatial: 3-D convolution and pooling, LP pooling, unpooling, channel shuffle
# isort: split
from .channelshuffle import ChannelShuffle
from .conv import Conv3d, ConvTranspose3d
from .pooling import (
    AdaptiveAvgPool3d,
    AdaptiveMaxPool3d,
    AvgPool3d,
    LPPool1d,
    LPPool2d,
    LPPool3d,
    MaxPool3d,
    MaxUnpool1d,
    MaxUnpool2d,
    MaxUnpool3d,
)

# -- branch surface: deprecated Container, fractional max pooling, more lazy modules
# isort: split
from .batchnorm import LazyBatchNorm3d
from .container import Container
from .conv import LazyConv3d, LazyConvTranspose3d
from .instancenorm import LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d
from .pooling import FractionalMaxPool2d, FractionalMaxPool3d

__all__ = [name for name in dir() if not name.startswith("_") and name[0].isupper()]
