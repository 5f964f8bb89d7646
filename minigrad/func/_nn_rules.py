"""vmap's batching rules for layers and losses: linear (per-sample weights as one stacked
product), embedding, convolution and pooling (the batch folded into N, or per-sample weights
as groups), recurrent cells and layers, normalization layers and cross-entropy (each sample's reduction).
Registered in :data:`minigrad.func._rules.RULES` on import."""

from __future__ import annotations

import copy
import math

from ..ops.base import constant
from ._batched import BatchedTensor, LogicalArray
from ._dispatch import op_name
from ._rules import _align, _array_of, _expanded, _fallback, _with, rule


@rule("LayerNorm", "GroupNorm", "BatchNorm")
def _normalize(op, vals, flags, size):
    if not flags[0]:  # per-sample weights of one input: the input repeated over the batch (view)
        vals, flags = [_expanded(vals[0], False, size)] + list(vals[1:]), [True] + list(flags[1:])
    return _with(op, axes=tuple(a + 1 for a in op.axes))(*_align(vals, flags))


@rule("Linear")
def _linear(op, vals, flags, size):
    x, w, b = vals
    if not (flags[1] or flags[2]):
        return op(x, w, b)  # Linear takes any leading dims: the batch is one more
    if w.ndim - flags[1] == 3:  # the stacked form already, from an inner vmap level
        return _linear_stacked(op, vals, flags, size)
    # per-sample weights: the op's stacked form, (B, M, in) with (B, out, in) and (B, out)
    lead = tuple(x.shape[1:-1]) if flags[0] else tuple(x.shape[:-1])
    rows = (size if flags[0] else 1, math.prod(lead), x.shape[-1])
    rows = x if tuple(x.shape) == rows else x.reshape(rows)
    w = w if flags[1] else _expanded(w, False, size)
    y = op(rows, w, b)  # an unbatched bias (out,) broadcasts as it is
    out = (size,) + lead + (y.shape[-1],)
    return y if tuple(y.shape) == out else y.reshape(out)


def _linear_stacked(op, vals, flags, size):
    """Linear on stacked samples ``(I, M, in)``, ``(I, out, in)`` (the rule of an inner vmap
    level) batched again at this level: both batches merged into the stack's dim."""
    x, w, b = (_expanded(v, f, size) if v is not None else None for v, f in zip(vals, flags))
    inner = w.shape[1]
    merged = size * inner
    x = x.expand((size, inner) + tuple(x.shape[2:]))  # a stack of one x serves every sample
    y = op(
        x.reshape((merged,) + tuple(x.shape[2:])),
        w.reshape((merged,) + tuple(w.shape[2:])),
        None if b is None or b.ndim == 2 else b.reshape((merged,) + tuple(b.shape[2:])),
    )
    y = y.reshape((size, inner) + tuple(y.shape[1:]))
    if b is not None and b.ndim == 2:  # one bias (out,) for every sample of both levels
        y = y + b[:, None, None, :]
    return y


@rule("Embedding")
def _embedding(op, vals, flags, size):
    (w,) = vals
    indices = op.indices
    if isinstance(indices, LogicalArray):
        if flags[0]:
            return _fallback(op, vals, flags, size)
        return _with(op, indices=_array_of(indices))(w)  # (B, ...) rows of one table
    from ..ops.indexing import GetItem  # per-sample tables (B, V, D), the same indices

    return GetItem((slice(None), indices))(w)


@rule("Convolution", "MaxPool", "AvgPool", "Im2Col", "Col2Im")
def _fold_batch(op, vals, flags, size):
    """Ops over (N, C, ...) that treat samples alike: fold the vmap batch into N."""
    if any(flags[1:]):
        if op_name(type(op)) == "Convolution":
            return _conv_per_sample_weights(op, vals, flags, size)
        return _fallback(op, vals, flags, size)
    x = vals[0]
    merged = x.reshape((size * x.shape[1],) + tuple(x.shape[2:]))
    caller = None
    if op_name(type(op)) == "MaxPool":  # the copy runs (and backpropagates) on the batch ...
        op, caller = copy.copy(op), op
        refused = _Refused("max pooling's return_indices in nested vmap")
        caller.argmax, caller._kept = refused, {"argmax": refused}
    out = op(merged, *vals[1:])
    if caller is not None and type(x) is not BatchedTensor:
        # ... the caller reads the batch's argmax (max_pool2d's indices batch it again)
        caller._kept = {"argmax": op.kept_arrays["argmax"]}
    return out.reshape((size, x.shape[1]) + tuple(out.shape[1:]))


def _conv_per_sample_weights(op, vals, flags, size):
    """A weight per sample: one grouped convolution, each sample's channels a group of their own
    (x (B, N, C, ...) becomes (N, B·C, ...), the weights (B·O, C/g, ...), groups × B)."""
    x, w, b = vals
    x = _expanded(x, flags[0], size)
    w = _expanded(w, flags[1], size)
    n, spatial = x.shape[1], tuple(x.shape[3:])
    xs = x.transpose(0, 1).reshape((n, size * x.shape[2]) + spatial)
    ws = w.reshape((size * w.shape[1],) + tuple(w.shape[2:]))
    bs = None if b is None else _expanded(b, flags[2], size).reshape(-1)
    out = _with(op, groups=op.groups * size)(xs, ws, bs)
    return out.reshape((n, size, w.shape[1]) + tuple(out.shape[2:])).transpose(0, 1)


@rule("LSTMCell", "GRUCell")
def _rows(op, vals, flags, size):
    """Recurrent cells work row by row on (N, features): fold the batch into N."""
    full = [_expanded(v, f, size) for v, f in zip(vals, flags)]
    n = full[0].shape[1]
    out = op(*[v.reshape((size * n,) + tuple(v.shape[2:])) for v in full])
    if out.ndim == 3:  # LSTM: stacked [h', c'] (2, B·N, H)
        return out.reshape((2, size, n, out.shape[-1])).transpose(0, 1)
    return out.reshape((size, n) + tuple(out.shape[1:]))


@rule("RecurrentSequence")
def _recurrent_sequence(op, vals, flags, size):
    """A recurrent layer treats its N sequences alike: fold the batch into N (proj (B, T, N, G)
    becomes (T, B·N, G)); with per-sample recurrent weights, the recurrence step by step with
    batched matrix products."""
    states = [None if v is None else _expanded(v, f, size) for v, f in zip(vals[:3], flags[:3])]
    proj, h0, c0 = states
    if flags[3] or flags[4]:
        return _recurrence_per_sample_weights(op, proj, h0, c0, vals[3:], flags[3:], size)
    steps, n = proj.shape[1], proj.shape[2]
    merged = proj.transpose(0, 1).reshape((steps, size * n, proj.shape[-1]))
    rows = [None if v is None else v.reshape(size * n, -1) for v in (h0, c0)]
    out = op(merged, *rows, *vals[3:])
    return out.reshape((out.shape[0], size, n, out.shape[-1])).transpose(0, 1)


def _recurrence_per_sample_weights(op, proj, h0, c0, weights, flags, size):
    from ..nn.functional import _rnn_math, _rnn_sequence
    from ..ops import stack

    w_hh = _expanded(weights[0], flags[0], size)
    b_hh = weights[1]
    if b_hh is not None:
        b_hh = _expanded(b_hh, flags[1], size).unsqueeze(1)  # (B, 1, G): one per sample
    step = _rnn_sequence.STEPS[op.mode]
    hs, c, _ = _rnn_sequence.recurrence(
        _rnn_math.TENSOR_MATH, step, lambda h: h @ w_hh.mT, proj.transpose(0, 1), h0, c0, b_hh,
        op.order(proj.shape[1]),
    )  # fmt: skip
    return stack(hs + [c] if step.has_cell else hs, 1)


class _Refused:
    """Stands in for an array an op stores for its caller, where vmap has no batched form."""

    def __init__(self, what: str):
        self.what = what

    def __getattr__(self, name):
        raise NotImplementedError(f"vmap: {self.what} is not supported inside vmap")


@rule("CrossEntropy")
def _cross_entropy(op, vals, flags, size):
    """Rows of every sample in one call with reduction='none', then each sample's reduction."""
    x, target, weight = vals
    if flags[2] or any(type(v) is BatchedTensor for v in vals if v is not None):
        return _fallback(op, vals, flags, size)  # per-sample class weights, or nested vmap
    x, target = _expanded(x, flags[0], size), _expanded(target, flags[1], size)
    m, c = x.shape[1], x.shape[-1]
    flat_target = target.reshape((size * m,) + tuple(target.shape[2:]))
    reduction = op.reduction
    per = _with(op, reduction="none")(x.reshape(size * m, c), flat_target, weight)
    per = per.reshape(size, m)
    if reduction == "none":
        return per
    total = per.sum(1)
    if reduction == "sum":
        return total
    if op.probs:
        return total / m
    if weight is None:  # each sample's count of rows not ignored: no grad, so on the arrays
        valid = target._data != op.ignore_index
        return total / constant(valid.sum(1).astype(per._data.dtype), per.device)
    valid = target != op.ignore_index
    safe = target.masked_fill(valid.logical_not(), 0).reshape(-1)
    denom = (weight.index_select(0, safe).reshape(size, m) * valid.to(per.dtype)).sum(1)
    return total / denom


# -- branch losses2 ------------------------------------------------------------------------------
@rule("CTCLoss")
def _ctc_loss(op, vals, flags, size):
    """The batch folded into CTC's N: (B, T, N, C) -> (T, B·N, C), the label plan tiled."""
    (v,) = vals
    if type(v) is BatchedTensor:  # nested vmap
        return _fallback(op, vals, flags, size)
    _, t, n, c = v.shape
    folded = v.permute(1, 0, 2, 3).reshape(t, size * n, c)
    return _with(op, plan=op.plan.tiled(size))(folded).reshape(size, n)
