"""Every differentiable primitive, one class per op, with the functions that apply them."""

from .activation import elu, gelu, leaky_relu, relu, sigmoid, silu, softplus
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
