"""Every differentiable primitive, one class per op, with the functions that apply them."""

from . import decompositions
from .activation import elu, gelu, leaky_relu, relu, sigmoid, silu, softplus
from .arrange import meshgrid, roll
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
from .joining import cat, chunk, pad, split, stack, unbind
from .linalg import einsum, matmul, outer
from .matrix import addbmm, addmm, baddbmm, cdist, diag, diag_embed, diagonal, tensordot, trace
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
from .pointwise import allclose, isclose, lerp, logical_and, logical_or, logical_xor, nan_to_num
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
from .sorting import argsort, nonzero, sort, topk
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

__all__ = [name for name in dir() if not name.startswith("_")]
