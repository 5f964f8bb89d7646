"""The forward-mode rules: one line per op, ``rule(op, args, tangents, out) -> tangent``.

``op`` is an unused copy of the op that ran (its settings: ``dims``, ``alpha``, ...), ``args``
its inputs (primals, with the level being differentiated hidden), ``tangents`` one per input
(None where the input has none), ``out`` the primal output. A rule may return a tangent that
broadcasts to ``out`` (``forward_ad`` expands it). Rules use Tensor methods only, so tangents
that are themselves dual (nested levels), batched (vmap) or in a graph (requires grad) work.

Ops not listed get their JVP from their backward by the double-vjp identity
(``forward_ad.double_vjp``): exact, at the cost of a forward and two small backward passes.
"""

from __future__ import annotations

import copy
import math

from .. import dtypes
from . import graph

# -- helpers ---------------------------------------------------------------------------------------


def _zeros(a):
    return graph.Tensor._make(a.device.xp.zeros(a.shape, dtype=a._data.dtype), a.device)


def _total(terms):
    """The sum of the terms that are not None (None when all are)."""
    out = None
    for t in terms:
        if t is not None:
            out = t if out is None else out + t
    return out


def _is_float(a) -> bool:
    """A tensor of values that carry tangents (floating point or complex)."""
    return isinstance(a, graph.Tensor) and dtypes.is_differentiable(a._data.dtype)


def linear(op, args, ts, out):
    """Ops linear in their float tensor inputs (movement, sums, add, cat, where, ...): the op
    itself applied to the tangents, zeros for inputs without one and for Python numbers."""
    targs = []
    for a, t in zip(args, ts):
        if t is not None:
            targs.append(t)
        elif _is_float(a):
            targs.append(_zeros(a))
        elif isinstance(a, (float, int)) and not isinstance(a, bool):
            targs.append(0.0)
        else:
            targs.append(a)  # index and mask tensors, conditions
    return copy.copy(op)(*targs)


def multilinear(op, args, ts, out):
    """Ops linear in each input separately (mul, matmul, einsum): Σᵢ op(…, tᵢ, …)."""
    terms = []
    for i, t in enumerate(ts):
        if t is not None:
            targs = list(args)
            targs[i] = t
            terms.append(copy.copy(op)(*targs))
    return _total(terms)


def unary(f):
    """An elementwise op ``y = f(x)``: the rule ``f(op, x, y, t) = f'(x)·t``."""
    return lambda op, args, ts, out: f(op, args[0], out, ts[0])


def _kept(out, op, x):
    """``out`` of a reduction over ``op.dims`` with the reduced dims kept (size 1)."""
    if op.keepdim:
        return out
    dims = op.dims
    return out.reshape(tuple(1 if i in dims else s for i, s in enumerate(x.shape)))


def _binary(f):
    """``z = f(a, b)``: ``f(op, a, b, z, ta, tb)`` with None for a missing tangent."""
    return lambda op, args, ts, out: f(op, args[0], args[1], out, ts[0], ts[1])


def _div(op, a, b, z, ta, tb):
    return _total([None if ta is None else ta / b, None if tb is None else -tb * z / b])


def _pow(op, a, b, z, ta, tb):
    da = db = None
    if ta is not None:
        if isinstance(b, graph.Tensor):
            da = ta * (b * a ** (b - 1)).where(b != 0, 0.0)
        else:
            da = ta * (b * a ** (b - 1)) if b != 0 else ta * 0.0
    if tb is not None:
        if isinstance(a, graph.Tensor):
            zero = (a == 0) & ((b.real if b.is_complex() else b) >= 0)
            db = tb * (z * a.where(~zero, 1.0).log()).where(~zero, 0.0)
        else:
            db = tb * z * math.log(a) if a != 0 else tb * 0.0
    return _total([da, db])


def _abs(op, x, y, t):
    """``|x|' = sign(x)``; of a complex ``z``: ``d|z| = Re(conj(z/|z|)·dz)``."""
    if x.is_complex():
        return (t * x.sgn().conj()).real
    return t * x.sign()


def _extreme(op, a, b, z, ta, tb):
    """max/min: the tangent of the winner, the mean of both on ties (as the gradient splits)."""
    wins = (a > b) if op.wins == "greater" else (a < b)
    share = wins * 1.0
    share = share.where(a != b, 0.5) if _is_float(share) else share
    return _total([None if ta is None else ta * share, None if tb is None else tb * (1.0 - share)])


def _remainder(op, a, b, z, ta, tb):
    return _total([ta, None if tb is None else -tb * (a / b).floor()])


def _with_bias(bias_shape):
    """``y = op(x, w) + b`` (linear, convolution): bilinear in (x, w), plus the bias tangent laid
    out as the op adds the bias (``bias_shape(tb, w)``)."""

    def rule(op, args, ts, out):
        x, w, _ = args
        tx, tw, tb = ts
        return _total(
            [
                None if tx is None else copy.copy(op)(tx, w, None),
                None if tw is None else copy.copy(op)(x, tw, None),
                None if tb is None else bias_shape(tb, w),
            ]
        )

    return rule


def _clamp(op, x, y, t):
    inside = None
    if op.lo is not None:
        inside = x >= op.lo
    if op.hi is not None:
        inside = (x <= op.hi) if inside is None else inside & (x <= op.hi)
    return t if inside is None else t.where(inside, 0.0)


def _softmax(op, args, ts, out):
    t = ts[0]
    return out * (t - (out * t).sum(op.dim, keepdim=True))


def _log_softmax(op, args, ts, out):
    t = ts[0]
    return t - (out.exp() * t).sum(op.dim, keepdim=True)


def _logsumexp(op, args, ts, out):
    x, t = args[0], ts[0]
    return (t * (x - _kept(out, op, x)).exp()).sum(op.dims, keepdim=op.keepdim)


_ZERO = unary(lambda op, x, y, t: t * 0.0)  # piecewise constant: sign, round, floor, ...


def _hardsigmoid(op, x, y, t):
    """PyTorch's forward rule (its backward has no derivative, so no double-vjp here)."""
    from ..ops.activation import _ONE_SIXTH  # (ops import this module: resolved on use)

    return (t * _ONE_SIXTH).where((x > -3.0) & (x < 3.0), 0.0)


RULES = {
    # arithmetic
    "Add": linear,
    "Sub": linear,
    "Neg": linear,
    "Mul": multilinear,
    "Div": _binary(_div),
    "Pow": _binary(_pow),
    "Maximum": _binary(_extreme),
    "Minimum": _binary(_extreme),
    "Remainder": _binary(_remainder),
    "Where": linear,
    "Cast": linear,
    "ToDevice": linear,
    # unary
    "Exp": unary(lambda op, x, y, t: t * y),
    "Log": unary(lambda op, x, y, t: t / x),
    "Log1p": unary(lambda op, x, y, t: t / (x + 1.0)),
    "Expm1": unary(lambda op, x, y, t: t * (y + 1.0)),
    "Sqrt": unary(lambda op, x, y, t: t / (2.0 * y)),
    "Rsqrt": unary(lambda op, x, y, t: t * (-0.5) * y * y * y),
    "Abs": unary(_abs),
    "Sin": unary(lambda op, x, y, t: t * x.cos()),
    "Cos": unary(lambda op, x, y, t: -t * x.sin()),
    "Tan": unary(lambda op, x, y, t: t * (1.0 + y * y)),
    "TanhOp": unary(lambda op, x, y, t: t * (1.0 - y * y)),
    "Erf": unary(lambda op, x, y, t: t * (2.0 / math.sqrt(math.pi)) * (-(x * x)).exp()),
    "Clamp": unary(_clamp),
    "Sign": _ZERO,
    "Round": _ZERO,
    "Floor": _ZERO,
    "Ceil": _ZERO,
    "Trunc": _ZERO,
    # activations
    "SigmoidOp": unary(lambda op, x, y, t: t * y * (1.0 - y)),
    "HardsigmoidOp": unary(_hardsigmoid),
    # an identity whose backward's gradient is not differentiable: no double-vjp (PyTorch
    # refuses forward AD of pdist, cdist and the margin losses; minigrad computes it)
    "FirstOrderOnly": unary(lambda op, x, y, t: t),
    "ReLUOp": unary(lambda op, x, y, t: t * (y > 0)),
    "LeakyReLUOp": unary(lambda op, x, y, t: t.where(x > 0, t * op.negative_slope)),
    "ELUOp": unary(lambda op, x, y, t: t.where(x > 0, t * op.alpha * x.clamp(max=0.0).exp())),
    "SiLUOp": unary(lambda op, x, y, t: t * x.sigmoid() * (1.0 + x * (1.0 - x.sigmoid()))),
    "SoftplusOp": unary(
        lambda op, x, y, t: t.where(x * op.beta > op.threshold, t * (x * op.beta).sigmoid())
    ),
    "SoftmaxOp": _softmax,
    "LogSoftmaxOp": _log_softmax,
    # reductions and scans
    "Sum": linear,
    "SumToSize": linear,
    "Cumsum": linear,
    "LogSumExp": _logsumexp,
    # movement, indexing, joining
    "Reshape": linear,
    "Permute": linear,
    "Expand": linear,
    "Clone": linear,
    "Flip": linear,
    "Tril": linear,
    "Triu": linear,
    "GetItem": linear,
    "IndexAdd": linear,
    "Gather": linear,
    "ScatterAdd": linear,
    "Scatter": linear,
    "Cat": linear,
    "EmbeddingOp": linear,
    # products
    "MatMul": multilinear,
    "Einsum": multilinear,
    "LinearOp": _with_bias(lambda tb, w: tb.unsqueeze(-2) if w.ndim == 3 else tb),  # stacked
    "Convolution": _with_bias(lambda tb, w: tb.reshape(1, -1, 1, 1)),
    "Im2Col": linear,
    "Col2Im": linear,
    "AvgPool": linear,
    "AvgPoolBackward": linear,
}


def _pad(op, args, ts, out):
    """Constant padding is affine: the tangent is padded with zeros."""
    twin = copy.copy(op)
    twin.value = 0.0
    return twin(ts[0])


RULES["Pad"] = _pad
