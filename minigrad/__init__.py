"""minigrad: a small autograd framework with PyTorch's API, on NumPy (CPU) or CuPy (GPU)."""

from . import _tensor_str, autograd, cpu, cuda, dtypes
from ._format import set_printoptions
from .autograd import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .backend import DeviceType as device  # noqa: N813 - torch.device: a type that parses
from .backend import (
    OutOfMemoryError,
    are_deterministic_algorithms_enabled,
    get_default_device,
    initial_seed,
    is_deterministic_algorithms_warn_only_enabled,
    manual_seed,
    seed,
    set_default_device,
    use_deterministic_algorithms,
)
from .creation import (
    Generator,
    arange,
    as_tensor,
    asarray,
    bernoulli,
    empty,
    empty_like,
    empty_permuted,
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
    bfloat16,
    bool,
    cdouble,
    cfloat,
    chalf,
    complex32,
    complex64,
    complex128,
    double,
    dtype,
    float,
    float8_e4m3fn,
    float8_e4m3fnuz,
    float8_e5m2,
    float8_e5m2fnuz,
    float8_e8m0fnu,
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
    uint16,
    uint32,
    uint64,
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
    complex,
    conj,
    conj_physical,
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
    imag,
    index_select,
    is_complex,
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
    polar,
    pow,
    prod,
    real,
    reciprocal,
    relu,
    remainder,
    repeat,
    reshape,
    resolve_conj,
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
    subtract,
    sum,
    swapaxes,
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
    view_as_complex,
    view_as_real,
    where,
)
from .ops._size import Size
from .ops.base import autocast_op
from .tensor import Tensor
from .torch_version import TorchVersion

__version__ = TorchVersion("0.1.0")  # a str comparable with tuples, as torch.__version__

clip = clamp
concat = concatenate = cat
multiply, divide = mul, div
absolute, negative = abs, neg


def result_type(tensor1, tensor2):
    """The dtype an op on the two operands (tensors or numbers) computes in."""
    from .ops.elementwise import check_int_scalar

    for operand in (tensor1, tensor2):  # (an int beyond 64 bits has no dtype: OverflowError)
        check_int_scalar(operand)
    return dtypes.result_type(tensor1, tensor2)


def promote_types(type1, type2):
    """The smallest dtype both ``type1`` and ``type2`` convert to without losing kind."""
    return dtypes.promote_types(dtypes.to_dtype(type1), dtypes.to_dtype(type2))


def can_cast(from_, to) -> bool:
    """True when PyTorch's casting rules allow ``from_`` → ``to`` implicitly (same kind or
    wider: bool → int → float, never float → int or number → bool)."""
    source, target = dtypes.to_dtype(from_), dtypes.to_dtype(to)
    return dtypes.category(source) <= dtypes.category(target)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input) -> int:
    return input.numel()


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return input.allclose(other, rtol, atol, equal_nan)


def equal(input, other) -> bool:
    return input.equal(other)


# -- legacy constructors, dtype limits, more tensor ops, minigrad.linalg and minigrad.fft ---------
from . import fft, linalg  # noqa: E402
from ._legacy import (  # noqa: E402
    BFloat16Tensor,
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
from ._stft import istft, stft  # noqa: E402
from ._typeinfo import finfo, iinfo  # noqa: E402
from .ops.arrange import cartesian_prod, combinations, meshgrid, roll, rot90, vander  # noqa: E402
from .ops.joining import (  # noqa: E402
    atleast_1d,
    atleast_2d,
    atleast_3d,
    column_stack,
    dsplit,
    dstack,
    hsplit,
    hstack,
    row_stack,
    tensor_split,
    vsplit,
    vstack,
)
from .ops.matrix import (  # noqa: E402
    addbmm,
    addmm,
    baddbmm,
    block_diag,
    cdist,
    cross,
    diag,
    diag_embed,
    diagonal,
    kron,
    tensordot,
    trace,
)
from .ops.pointwise import (  # noqa: E402
    addcdiv,
    addcmul,
    deg2rad,
    float_power,
    fmax,
    fmin,
    frac,
    heaviside,
    isclose,
    isin,
    lerp,
    logical_and,
    logical_or,
    logical_xor,
    logit,
    nan_to_num,
    positive,
    rad2deg,
    signbit,
)
from .ops.scan import (  # noqa: E402
    cummax,
    cummin,
    cumprod,
    cumulative_trapezoid,
    diff,
    trapezoid,
    trapz,
)
from .ops.scatter import (  # noqa: E402
    index_add,
    index_copy,
    index_fill,
    masked_scatter,
    scatter,
    scatter_reduce,
)
from .ops.search import bincount, bucketize, searchsorted, unique, unravel_index  # noqa: E402
from .ops.selection import (  # noqa: E402
    argwhere,
    masked_select,
    repeat_interleave,
    take,
    take_along_dim,
)
from .ops.statistics import (  # noqa: E402
    aminmax,
    count_nonzero,
    histc,
    kthvalue,
    median,
    nanmean,
    nanmedian,
    nanquantile,
    nansum,
    quantile,
    std_mean,
    var_mean,
)
from .ops.trig import (  # noqa: E402
    acos,
    acosh,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    copysign,
    cosh,
    exp2,
    fmod,
    hypot,
    log2,
    log10,
    logaddexp,
    logaddexp2,
    sinh,
    xlogy,
)

arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
arcsinh, arccosh, arctanh = asinh, acosh, atanh
swapdims = transpose
true_divide = div


def det(input):
    return linalg.det(input)


def logdet(input):
    return input.logdet()


def slogdet(input):
    return input.slogdet()


@autocast_op("inverse")
def inverse(input):
    return linalg.inv(input)


def matrix_power(input, n):
    return linalg.matrix_power(input, n)


chain_matmul = linalg.chain_matmul


def mm(input, mat2):
    return input.mm(mat2)


def bmm(input, mat2):
    return input.bmm(mat2)


def dot(input, other):
    return input.dot(other)


def t(input):
    return input.t()


from . import (  # noqa: E402
    __future__,  # torch.__future__: module conversion switches (not Python's __future__)
    _checkout,  # minigrad.models from a source checkout
    _runtime,  # BLAS thread policy and malloc tuning, applied below
    accelerator,
    amp,
    backends,
    compiler,
    distributed,
    distributions,
    func,
    hub,
    jit,
    nn,
    optim,
    profiler,
    serialization,
    testing,
    utils,
    viz,
)
from ._compile import compile  # noqa: E402 - torch.compile's name (shadows the builtin)
from ._runtime import get_num_threads, set_num_threads  # noqa: E402
from ._streams import Event, Stream  # noqa: E402 - torch.Stream / torch.Event
from .amp import GradScaler, autocast  # noqa: E402
from .backends.cuda import (  # noqa: E402 - torch.set_float32_matmul_precision's home
    get_float32_matmul_precision,
    set_float32_matmul_precision,
)
from .io import load, save  # noqa: E402
from .io.file_reader import PyTorchFileReader  # noqa: E402 - torch._C.PyTorchFileReader
from .jit import ScriptModule  # noqa: E402 - torch.ScriptModule (Lightning's hints)
from .nn.functional.rnn import (  # noqa: E402 - torch.lstm_cell and friends, as PyTorch has them
    gru,
    gru_cell,
    lstm,
    lstm_cell,
    rnn_relu,
    rnn_relu_cell,
    rnn_tanh,
    rnn_tanh_cell,
)
from .utils.dlpack import from_dlpack  # noqa: E402

_checkout.install()
_runtime.apply()

# -- branch special: torch.lgamma and friends, and minigrad.special (as torch.special)
from . import library, signal, special  # noqa: E402 - torch.library, torch.signal (windows)

# -- branch methods: bitwise/integer functions, slice scatters, products, statistics, linalg
from .ops import (  # noqa: E402
    addmv,
    addr,
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    clamp_max,
    clamp_min,
    corrcoef,
    cov,
    diagflat,
    diagonal_scatter,
    dist,
    fix,
    fliplr,
    flipud,
    frexp,
    gcd,
    index_put,
    index_reduce,
    inner,
    isneginf,
    isposinf,
    isreal,
    lcm,
    ldexp,
    logcumsumexp,
    mode,
    moveaxis,
    msort,
    narrow_copy,
    nextafter,
    put,
    renorm,
    select,
    select_scatter,
    sgn,
    slice_scatter,
    split_with_sizes,
    unique_consecutive,
    vdot,
)
from .ops.elementwise import compare as _compare  # noqa: E402
from .ops.special import (  # noqa: E402
    digamma,
    erfc,
    erfinv,
    i0,
    lgamma,
    mvlgamma,
    polygamma,
    sinc,
)


def _compare_function(ufunc, name):
    def fn(input, other):
        return _compare(ufunc, input, other)

    fn.__name__, fn.__doc__ = name, f"Elementwise ``{name}`` as a bool tensor (no gradient)."
    return fn


greater, less = _compare_function("greater", "greater"), _compare_function("less", "less")
greater_equal = _compare_function("greater_equal", "greater_equal")
less_equal = _compare_function("less_equal", "less_equal")
not_equal = _compare_function("not_equal", "not_equal")


def index_put_(input, indices, values, accumulate=False):
    return input.index_put_(indices, values, accumulate)


def matrix_exp(input):
    return linalg.matrix_exp(input)


@autocast_op("pinverse")
def pinverse(input, rcond=1e-15):
    """:meth:`Tensor.pinverse` as a function."""
    from . import _tensor_meta

    return _tensor_meta.pinverse(input, rcond)


def _method_function(name: str):
    """``minigrad.<name>(input, ...)`` as ``input.<name>(...)``, as torch's function forms."""

    def fn(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``input.{name}(...)``: see :meth:`Tensor.{name}`."
    return fn


for _name in (
    "abs_ acos_ acosh_ addmv_ adjoint angle arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ "
    "asin_ asinh_ atan_ atanh_ ceil_ cholesky cholesky_inverse cholesky_solve clamp_ clamp_max_ "
    "clamp_min_ clip_ cos_ cosh_ deg2rad_ detach detach_ eq erf_ exp2_ exp_ "
    "expm1_ fill_ fix_ floor_ frac_ gcd_ ge ger get_device gt histogram is_conj "
    "i0_ sinc_ erfc_ igamma igammac "
    "is_distributed is_floating_point is_inference is_neg is_nonzero is_same_size is_signed "
    "lcm_ ldexp_ le log10_ log1p_ log2_ log_ logit_ lt mv nan_to_num_ ne neg_ negative_ "
    "nonzero_static qr rad2deg_ ravel reciprocal_ relu_ resize_as_ resolve_neg "
    "round_ rsqrt_ sigmoid_ sin_ sinh_ sqrt_ square_ svd tan_ tanh_ triangular_solve trunc_ "
    "unsafe_chunk unsafe_split unsafe_split_with_sizes xlogy_ zero_"
).split():
    if _name not in globals():
        globals()[_name] = _method_function(_name)


# imported on first use, as torch.onnx: import minigrad stays lean
# (as_torch too: ``python -m minigrad.as_torch`` runs it as __main__, which runpy warns about
# when ``import minigrad`` has imported it already)
_LAZY_SUBMODULES = ("onnx", "multiprocessing", "version", "as_torch", "quasirandom", "masked", "fx")
_LAZY_SUBMODULES += ("export",)  # minigrad.export, as torch.export
_LAZY_SUBMODULES += ("_dynamo",)  # torch._dynamo.eval_frame.OptimizedModule, as PyTorch's
_LAZY_SUBMODULES += ("__config__",)  # torch.__config__.show()
_LAZY_SUBMODULES += ("_utils",)  # torch._utils._rebuild_tensor_v2 in subclasses' __reduce_ex__
_LAZY_SUBMODULES += ("functional",)  # torch.functional.einsum (e3nn)


def __getattr__(name: str):
    """``minigrad.onnx``, ``minigrad.multiprocessing`` and ``minigrad.version`` without an
    explicit import, loaded the first time they are asked for."""
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"minigrad.{name}")  # __name__ is torch under as_torch
    raise AttributeError(f"module 'minigrad' has no attribute {name!r}")


# isort: split
import math as _math  # noqa: E402

from ._functional_aliases import *  # noqa: E402, F403 - torch.conv2d, torch.dropout, ...
from ._memory_format import (  # noqa: E402
    channels_last,
    channels_last_3d,
    contiguous_format,
    jagged,
    layout,
    memory_format,
    preserve_format,
    strided,
)
from ._windows_indices import (  # noqa: E402
    bartlett_window,
    blackman_window,
    hamming_window,
    hann_window,
    kaiser_window,
    tril_indices,
    triu_indices,
)

# PyTorch's constants (torch.pi, torch.e, torch.inf, torch.nan, torch.newaxis)
pi, e, inf, nan, newaxis = _math.pi, _math.e, _math.inf, _math.nan, None

# isort: split
from . import random  # noqa: E402 - torch.random (the name shadows nothing: imports are absolute)
from .random import default_generator, get_rng_state, set_rng_state  # noqa: E402

# isort: split
# -- sparse tensors; linalg's top-level forms; autocast state, global switches, *_copy
# functions, strides and storage
from . import _strided, nested, sparse  # noqa: E402
from ._aten_aliases import *  # noqa: E402, F403
from ._autocast_state import *  # noqa: E402, F403
from ._checks import (  # noqa: E402 - torch._check and its kin
    _check,
    _check_index,
    _check_is_size,
    _check_not_implemented,
    _check_tensor_all,
    _check_tensor_all_with,
    _check_type,
    _check_value,
    _check_with,
)
from ._copy_variants import *  # noqa: E402, F403
from ._foreach import *  # noqa: E402, F403 - torch._foreach_mul_ and friends
from ._from_file import from_file  # noqa: E402
from ._hash_tensor import hash_tensor  # noqa: E402
from ._linalg_top import (  # noqa: E402 - branch linalg2: torch.lu and friends
    eig,
    frobenius_norm,
    geqrf,
    lobpcg,
    lstsq,
    lu,
    lu_solve,
    lu_unpack,
    matrix_rank,
    nuclear_norm,
    orgqr,
    ormqr,
    pca_lowrank,
    solve,
    svd_lowrank,
    symeig,
)
from ._quantized import (  # noqa: E402 - branch quant: quantized tensors
    _make_per_channel_quantized_tensor,
    _make_per_tensor_quantized_tensor,
    dequantize,
    per_channel_affine,
    per_channel_affine_float_qparams,
    per_channel_symmetric,
    per_tensor_affine,
    per_tensor_symmetric,
    qscheme,
    quantize_per_channel,
    quantize_per_tensor,
    quantize_per_tensor_dynamic,
)
from ._quantized_top import (  # noqa: E402
    quantized_batch_norm,
    quantized_max_pool1d,
    quantized_max_pool2d,
    quantized_max_pool3d,
)
from ._sampling import _sample_dirichlet, _standard_gamma, binomial, poisson  # noqa: E402
from ._scaled_mm import _scaled_mm  # noqa: E402 - float8 products (torch._scaled_mm)
from ._sparse_compressed import sparse_bsc, sparse_bsr, sparse_csc, sparse_csr  # noqa: E402
from ._sparse_coo import sparse_coo  # noqa: E402
from ._strided import as_strided, as_strided_, as_strided_copy, as_strided_scatter  # noqa: E402
from ._surface import *  # noqa: E402, F403
from ._surface import _assert  # noqa: E402
from ._surface_math import gradient, histogramdd, segment_reduce  # noqa: E402
from .dtypes import qint8, qint32, quint4x2, quint8  # noqa: E402
from .func import vmap  # noqa: E402
from .ops.nn import _log_softmax_backward_data, _softmax_backward_data  # noqa: E402
from .ops.quantize import (  # noqa: E402 - branch quant: quantization-aware training
    _fake_quantize_learnable_per_channel_affine,
    _fake_quantize_learnable_per_tensor_affine,
    fake_quantize_per_channel_affine,
    fake_quantize_per_tensor_affine,
)
from .sparse import (  # noqa: E402 - sparse2 added the compressed constructors, smm, ...
    hspmm,
    smm,
    sparse_bsc_tensor,
    sparse_bsr_tensor,
    sparse_compressed_tensor,
    sparse_coo_tensor,
    sparse_csc_tensor,
    sparse_csr_tensor,
    spmm,
    sspaddmm,
)

_strided.install()

# isort: split
from . import ao, quantization  # noqa: E402 - branch quant: torch.ao.quantization, its alias
from .nn import intrinsic as _nn_intrinsic  # noqa: E402 - torch.nn.intrinsic, ...
from .nn import qat as _nn_qat  # noqa: E402
from .nn import quantized as _nn_quantized  # noqa: E402

# isort: split
# -- branch surface2: torch.futures, torch.return_types, torch.storage, torch.types
from . import futures, mps, mtia, return_types, storage, types, xpu  # noqa: E402
from ._symbolic import SymBool, SymFloat, SymInt  # noqa: E402 - isinstance checks only
from .storage import *  # noqa: E402, F403 - UntypedStorage, TypedStorage, FloatStorage, ...

# isort: split
from . import _out  # noqa: E402 - last: wraps the functions above that take out= in PyTorch

_out.install(globals())

# isort: split
from . import _C, _tensor_params, overrides  # noqa: E402 - last: functions dispatch
from ._C import DeviceObjType, Type  # noqa: E402 - TorchScript's types, for annotations
from ._torch_function import DisableTorchFunction, DisableTorchFunctionSubclass  # noqa: E402

_tensor_params.install_methods(Tensor)  # numbers refused where PyTorch's methods refuse them
overrides.install()

# ``torch.torch`` is ``torch`` itself (PyTorch's __init__ imports its own package); kornia
# annotates with ``torch.torch.Tensor``, so under ``minigrad.as_torch`` it must resolve too.
torch = __import__("sys").modules[__name__]
