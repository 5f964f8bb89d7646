"""Every differentiable primitive, one class per op, with the functions that apply them."""

from . import decompositions
from .activation import elu, gelu, leaky_relu, relu, sigmoid, silu, softplus
from .arrange import cartesian_prod, combinations, meshgrid, roll, rot90
from .base import Op
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
    tile,
    transpose,
    tril,
    triu,
    unflatten,
    unsqueeze,
    view,
)
from .nn import log_softmax, softmax
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
from .scan import cummax, cummin, cumprod, diff
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

__all__ = [name for name in dir() if not name.startswith("_")]
