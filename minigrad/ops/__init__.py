"""Every differentiable primitive, one class per op, with the functions that apply them."""

from . import (  # every op class is defined at import (vmap rules, op table)
    decompositions,
    lobpcg,
    strided,
)
from ._size import sized_by_keyword
from .activation import elu, gelu, leaky_relu, relu, sigmoid, silu, softplus
from .arrange import cartesian_prod, combinations, meshgrid, roll, rot90
from .base import Op
from .complex import (
    complex,
    imag,
    is_complex,
    polar,
    real,
    set_imag,
    set_real,
    view_as_complex,
    view_as_real,
)
from .conj_view import conj, conj_physical, is_conj, is_neg, resolve_conj, resolve_neg
from .elementwise import (
    add,
    compare,
    div,
    floor_divide,
    isfinite,
    isinf,
    isnan,
    logical_not,
    masked_fill,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    promote,
    remainder,
    sub,
    subtract,
    where,
)
from .indexing import gather, getitem, index_select, scatter_add
from .joining import cat, chunk, dsplit, hsplit, pad, split, stack, tensor_split, unbind, vsplit
from .linalg import einsum, matmul, outer
from .matrix import (
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
from .movement import (
    broadcast_tensors,
    broadcast_to,
    clone,
    contiguous,
    expand,
    flatten,
    flip,
    movedim,
    narrow,
    permute,
    repeat,
    reshape,
    squeeze,
    swapaxes,
    tile,
    transpose,
    tril,
    triu,
    unflatten,
    unsqueeze,
    view,
)
from .nn import tensor_log_softmax as log_softmax  # (F's, with _stacklevel, in ops.nn)
from .nn import tensor_softmax as softmax
from .pointwise import (
    addcdiv,
    addcmul,
    allclose,
    deg2rad,
    float_power,
    fmax,
    fmin,
    frac,
    heaviside,
    isclose,
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
from .reduce import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    cumsum,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    std,
    sum,
    sum_to_size,
    var,
)
from .scan import cummax, cummin, cumprod, cumulative_trapezoid, diff, trapezoid, trapz
from .scatter import index_add, index_copy, index_fill, masked_scatter, scatter, scatter_reduce
from .search import bincount, bucketize, searchsorted, unique
from .selection import argwhere, masked_select, repeat_interleave, take, take_along_dim, unfold
from .sorting import argsort, nonzero, sort, topk
from .statistics import (
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
)
from .trig import (
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
from .unary import (
    abs,
    ceil,
    clamp,
    cos,
    erf,
    exp,
    expm1,
    floor,
    log,
    log1p,
    reciprocal,
    round,
    rsqrt,
    sign,
    sin,
    sqrt,
    square,
    tan,
    tanh,
    trunc,
)

# isort: split
# -- branch special: special functions (lgamma, digamma, erfinv, i0, ...)
from .special import (
    digamma,
    entr,
    erfc,
    erfcx,
    erfinv,
    i0,
    i0e,
    i1,
    i1e,
    lgamma,
    log_ndtr,
    mvlgamma,
    ndtr,
    ndtri,
    polygamma,
    sinc,
    xlog1py,
)

# -- branch methods: bitwise/integer functions, slice scatters, products and statistics
# isort: split
from .bitwise import (
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    clamp_max,
    clamp_min,
    fix,
    frexp,
    gcd,
    isneginf,
    isposinf,
    isreal,
    lcm,
    ldexp,
    nextafter,
    sgn,
)
from .products_stats import (
    addmv,
    addr,
    corrcoef,
    cov,
    dist,
    inner,
    logcumsumexp,
    mode,
    renorm,
    unique_consecutive,
    vdot,
)
from .scatter_slices import (
    diagflat,
    diagonal_scatter,
    fliplr,
    flipud,
    index_put,
    index_reduce,
    moveaxis,
    msort,
    narrow_copy,
    put,
    select,
    select_scatter,
    slice_scatter,
    split_with_sizes,
)

__all__ = [name for name in dir() if not name.startswith("_")]


def __getattr__(name: str):
    """``minigrad.ops.<namespace>``: the custom ops ``minigrad.library`` registered there (as
    ``torch.ops.mylib.foo``), and ``aten``; consulted only for names this package does not
    define."""
    import sys

    if name == "aten":  # PyTorch's operators by name (minigrad.library._aten)
        from ..library._aten import aten

        return aten
    library = sys.modules.get("minigrad.library")  # no upward import: None until it is loaded
    found = library.namespace(name) if library and not name.startswith("_") else None
    if found is None:
        raise AttributeError(f"module 'minigrad.ops' has no attribute {name!r}")
    return found
