"""minigrad: a small autograd framework with PyTorch's API, on NumPy (CPU) or CuPy (GPU)."""

from . import autograd, cuda, dtypes
from .autograd import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .backend import device, initial_seed, manual_seed
from .creation import (
    Generator,
    arange,
    as_tensor,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    multinomial,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .dtypes import (
    bool,
    double,
    dtype,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from .ops import (
    abs,
    add,
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    argsort,
    broadcast_tensors,
    broadcast_to,
    cat,
    ceil,
    chunk,
    clamp,
    clone,
    cos,
    cumsum,
    div,
    einsum,
    erf,
    exp,
    expm1,
    flatten,
    flip,
    floor,
    floor_divide,
    gather,
    index_select,
    isfinite,
    isinf,
    isnan,
    log,
    log1p,
    log_softmax,
    logical_not,
    logsumexp,
    masked_fill,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    movedim,
    mul,
    narrow,
    neg,
    nonzero,
    norm,
    outer,
    permute,
    pow,
    prod,
    reciprocal,
    relu,
    remainder,
    repeat,
    reshape,
    round,
    rsqrt,
    scatter_add,
    sigmoid,
    sign,
    sin,
    softmax,
    sort,
    split,
    sqrt,
    square,
    squeeze,
    stack,
    std,
    sub,
    sum,
    tan,
    tanh,
    tile,
    topk,
    transpose,
    tril,
    triu,
    trunc,
    unbind,
    unflatten,
    unsqueeze,
    var,
    where,
)
from .tensor import Tensor

__version__ = "0.1.0"

clip = clamp
concat = concatenate = cat
multiply, subtract, divide = mul, sub, div
absolute, negative = abs, neg


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input) -> int:
    return input.numel()


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return input.allclose(other, rtol, atol, equal_nan)


def equal(input, other) -> bool:
    return input.equal(other)


# -- issue 12: legacy constructors, dtype limits, more tensor ops, minigrad.linalg --------------
from . import linalg  # noqa: E402
from ._legacy import (  # noqa: E402
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
)
from ._typeinfo import finfo, iinfo  # noqa: E402
from .ops.arrange import meshgrid, roll  # noqa: E402
from .ops.matrix import (  # noqa: E402
    addbmm,
    addmm,
    baddbmm,
    cdist,
    diag,
    diag_embed,
    diagonal,
    tensordot,
    trace,
)
from .ops.pointwise import (  # noqa: E402
    isclose,
    lerp,
    logical_and,
    logical_or,
    logical_xor,
    nan_to_num,
)
from .ops.scan import cummax, cummin, cumprod, diff  # noqa: E402
from .ops.scatter import (  # noqa: E402
    index_add,
    index_copy,
    index_fill,
    masked_scatter,
    scatter,
    scatter_reduce,
)
from .ops.search import bincount, bucketize, searchsorted, unique  # noqa: E402


def det(input):
    return linalg.det(input)


def logdet(input):
    return input.logdet()


def slogdet(input):
    return linalg.slogdet(input)


def inverse(input):
    return linalg.inv(input)


def mm(input, mat2):
    return input.mm(mat2)


def bmm(input, mat2):
    return input.bmm(mat2)


def dot(input, other):
    return input.dot(other)


def t(input):
    return input.t()


from . import (  # noqa: E402
    _checkout,  # minigrad.models from a source checkout
    accelerator,
    amp,
    backends,
    distributed,
    func,
    nn,
    optim,
    serialization,
    utils,
    viz,
)
from ._compile import compile  # noqa: E402 - torch.compile's name (shadows the builtin)
from .amp import autocast  # noqa: E402
from .io import load, save  # noqa: E402
from .nn.functional.rnn import (  # noqa: E402 - torch.lstm_cell and friends, as PyTorch has them
    gru_cell,
    lstm_cell,
    rnn_relu_cell,
    rnn_tanh_cell,
)
from .utils.dlpack import from_dlpack  # noqa: E402

_checkout.install()
