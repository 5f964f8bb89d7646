"""vmap for functions of several tensors computed on their arrays (no op, so no entry in the
rule table): ``searchsorted``/``bucketize`` and ``isin``. Their functional forms call these
when an argument is batched; each runs the function once on the whole batch."""

from __future__ import annotations

from ..autograd import graph
from ._batched import BatchedTensor, make_batched


def is_batched(*values) -> bool:
    """Whether any of ``values`` is a tensor batched by vmap."""
    return any(type(v) is BatchedTensor for v in values)


def _unwrap(x, level: int):
    """``(value, batched)``: the tensor under ``level`` (batch at dim 0) or ``x`` as it is."""
    if type(x) is BatchedTensor and x._level == level:
        return x._value, True
    return x, False


def _full(x, batched: bool, size: int):
    return x if batched else x.expand((size,) + tuple(x.shape))


def searchsorted(sorted_sequence, values, **kwargs):
    """``searchsorted`` with a batched sequence or batched values: the sequences of the
    samples become rows of one N-D sequence (a shared 1-D one serves the whole batch)."""
    from ..ops import search

    level = max(t._level for t in (sorted_sequence, values) if type(t) is BatchedTensor)
    seq, seq_batched = _unwrap(sorted_sequence, level)
    vals, vals_batched = _unwrap(values, level)
    size = (seq if seq_batched else vals).shape[0]
    if kwargs.get("sorter") is not None:  # sort each row first (a gather: it batches)
        sorter = kwargs.pop("sorter")
        return searchsorted(sorted_sequence.gather(-1, sorter), values, **kwargs)
    scalar = not isinstance(vals, graph.Tensor)
    if scalar:
        vals, vals_batched = seq.new_full((size, 1), vals), True
    if seq.ndim - seq_batched == 1 and not seq_batched:  # one sequence for every sample
        out = search.searchsorted(seq, vals, **kwargs)
    elif seq.ndim - seq_batched == 1:  # a sequence per sample: each sample's values as a row
        vals = _full(vals, vals_batched, size)
        rows = vals.reshape(size, -1)
        out = search.searchsorted(seq, rows, **kwargs).reshape(tuple(vals.shape))
    else:  # N-D sequences: the batch is one more leading dim of both
        out = search.searchsorted(
            _full(seq, seq_batched, size), _full(vals, vals_batched, size), **kwargs
        )
    if scalar:
        out = out.reshape(size)
    return make_batched(out, level)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """``isin`` with a batched argument: each element compared with every test element of its
    sample (ops that batch)."""
    from ..ops.pointwise import isin as plain

    if not is_batched(test_elements):  # one set of tests: elementwise on the whole batch
        level = elements._level
        found = plain(elements._value, test_elements, invert=invert)
        return make_batched(found, level)
    tests = test_elements.reshape(-1)
    if not isinstance(elements, graph.Tensor):
        elements = tests.new_tensor(elements)
    found = (elements.unsqueeze(-1) == tests).any(-1)
    return found.logical_not() if invert else found


def leading_batch(fn, args, cores, **kwargs):
    """``fn(*args)`` for a function that takes leading batch dims and broadcasts them (its
    arguments have ``cores`` trailing dims each): the vmap batch becomes one more leading dim of
    every argument, the samples' own batch dims padded to a common rank behind it."""
    level = max(a._level for a in args if type(a) is BatchedTensor)
    unwrapped = [_unwrap(a, level) for a in args]
    size = next(v.shape[0] for v, b in unwrapped if b)
    rank = max(v.ndim - b - c for (v, b), c in zip(unwrapped, cores))
    full = []
    for (v, b), c in zip(unwrapped, cores):
        v = _full(v, b, size)
        missing = rank - (v.ndim - 1 - c)
        full.append(v.reshape((size,) + (1,) * missing + tuple(v.shape[1:])) if missing else v)
    out = fn(*full, **kwargs)
    if isinstance(out, tuple):
        return type(out)(*[make_batched(o, level) for o in out])
    return make_batched(out, level)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity):
    """``ctc_loss`` with per-sample targets or lengths: the samples' sequences folded into N
    (one call on ``B·N`` sequences, reduction 'none'), then each sample's reduction."""
    from ..nn.functional.ctc import ctc_loss as plain

    args = (log_probs, targets, input_lengths, target_lengths)
    level = max(a._level for a in args if type(a) is BatchedTensor)
    (lp, lp_b), (tg, tg_b), (il, il_b), (tl, tl_b) = (_unwrap(a, level) for a in args)
    size = next(v.shape[0] for v, b in ((lp, lp_b), (tg, tg_b), (il, il_b), (tl, tl_b)) if b)
    single = lp.ndim - lp_b == 2  # one sequence per sample: (T, C)
    lp = _full(lp, lp_b, size)
    lp = lp.unsqueeze(2) if single else lp  # (B, T, N, C)
    t, n, c = lp.shape[1:]
    folded = lp.permute(1, 0, 2, 3).reshape(t, size * n, c)
    tg = _full(tg, tg_b, size)
    concatenated = tg.ndim == 2 and not single  # (B, sum of lengths): one sequence after another
    tg = tg.reshape(-1) if concatenated else tg.reshape(size * n, -1)
    lengths = [_fold_lengths(v, b, size, lp.device) for v, b in ((il, il_b), (tl, tl_b))]
    loss = plain(folded, tg, *lengths, blank, "none", zero_infinity).reshape(size, n)
    if reduction == "mean":
        loss = (loss / lengths[1].reshape(size, n).clamp(min=1).to(loss.dtype)).mean(1)
    elif reduction == "sum":
        loss = loss.sum(1)
    elif single:
        loss = loss.reshape(size)
    return make_batched(loss, level)


def _fold_lengths(v, batched: bool, size: int, device):
    """Lengths (a tensor, or ints) for the folded ``B·N`` sequences."""
    from .. import creation

    if not isinstance(v, graph.Tensor):
        v = creation.tensor(v, device=device).reshape(-1)
    return _full(v.reshape(-1) if not batched else v, batched, size).reshape(-1)
