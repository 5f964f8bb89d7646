"""The order PyTorch's CPU sort leaves tied elements in.

``torch.sort`` (and ``argsort``, ``msort``, ``pack_padded_sequence``'s sorting of lengths)
without ``stable=True`` runs the C++ library's ``std::sort`` on (value, index) pairs on the
CPU: an introsort (median-of-three quicksort with Hoare partitions, a heapsort below a depth
limit, an insertion sort over the nearly sorted result). Equal values come out in an order that
depends on every step of it; NumPy's stable sort gives another. A program that sorts lengths
with ties and applies dropout to the sorted rows, or prints sorted indices, then differs from
PyTorch although both orders are valid.

:func:`introsort_order` reproduces libstdc++'s algorithm exactly, vectorized: every range of
one recursion depth is partitioned at once, a Hoare partition's swaps being computed from where
its two scans stop (each stop is an element not below, or not above, the pivot; a swapped
element stops the other scan, so the scans never look at an element twice). Where no value
repeats, any correct sort gives the same order and NumPy's is used.
"""

from __future__ import annotations

import numpy as np

from ._std_heap import heapsort

_INSERTION_THRESHOLD = 16  # libstdc++'s _S_threshold: shorter ranges wait for insertion sort
_RADIX_MIN = 32768  # PyTorch sorts 1-D integers at least this long with a stable radix sort


def takes_radix_sort(shape: tuple, dtype: np.dtype, descending: bool) -> bool:
    """Whether PyTorch sorts such a tensor with its radix sort (stable), not ``std::sort``."""
    return len(shape) == 1 and not descending and dtype.kind in "iu" and shape[0] >= _RADIX_MIN


def pytorch_argsort(values: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """The int64 indices PyTorch's CPU ``sort(stable=False)`` orders ``values`` by along
    ``axis`` (NaN above every number), ties included."""
    if takes_radix_sort(values.shape, values.dtype, descending):
        return np.argsort(values, kind="stable").astype(np.int64, copy=False)
    moved = np.moveaxis(values, axis, -1)
    rows = moved.reshape(-1, moved.shape[-1]) if moved.size else moved.reshape(0, 0)
    order, ranks = _ranked(rows)
    if (ranks.max(axis=1, initial=0) == rows.shape[1] - 1).all():  # no ties: sorts agree
        order = order[:, ::-1] if descending else order
    else:
        order = introsort_order(ranks.max(axis=1, keepdims=True) - ranks if descending else ranks)
    return np.moveaxis(order.reshape(moved.shape), -1, axis)


def dense_ranks(values: np.ndarray, descending: bool) -> np.ndarray:
    """Per row of a 2-D array, each value's rank among the row's distinct values in sort order
    (0 first): PyTorch's comparison with NaN above every number (below when descending), all
    NaNs equal, -0.0 equal to 0.0."""
    ranks = _ranked(values)[1]
    return ranks.max(axis=1, keepdims=True) - ranks if descending else ranks


def _ranked(values: np.ndarray):
    """``(stable ascending order, dense ranks)`` of each row; the ranks of a row are
    0, 1, ... in sort order, so a row's last sorted rank is its number of distinct values - 1."""
    order = np.argsort(values, axis=1, kind="stable")  # NaN last
    ordered = np.take_along_axis(values, order, axis=1)
    same = ordered[:, 1:] == ordered[:, :-1]
    if ordered.dtype.kind not in "iub":  # NaN (the one value unequal to itself) ties NaN
        same |= (ordered[:, 1:] != ordered[:, 1:]) & (ordered[:, :-1] != ordered[:, :-1])
    steps = np.concatenate([np.zeros((len(values), 1), np.int64), ~same], axis=1)
    sorted_ranks = np.cumsum(steps, axis=1)
    ranks = np.empty(values.shape, np.int64)
    np.put_along_axis(ranks, order, sorted_ranks, axis=1)
    return order, ranks


def introsort_order(ranks: np.ndarray, depth_limit: int | None = None) -> np.ndarray:
    """The permutation ``std::sort`` puts each row of ``ranks`` (a 2-D int64 array, compared
    with ``<``) in, as int64 indices into the row.

    ``depth_limit`` overrides libstdc++'s ``2 * floor(log2(n))`` (tests use it to reach the
    heapsort).
    """
    rows, n = ranks.shape
    offsets = np.arange(rows, dtype=np.int64)[:, None] * n  # ranks of different rows differ
    values = (ranks + offsets).reshape(-1)
    perm = np.tile(np.arange(n, dtype=np.int64), rows)
    if n > _INSERTION_THRESHOLD:
        depth = 2 * (n.bit_length() - 1) if depth_limit is None else depth_limit
        repeated = np.bincount(values, minlength=rows * n) > 1
        first = offsets[:, 0]
        _introsort_levels(values, perm, repeated, first, first + n, depth)
    # The final insertion sort moves each element left past strictly greater ones only: a
    # stable sort of the arrangement the partitions left.
    values, perm = values.reshape(rows, n), perm.reshape(rows, n)
    return np.take_along_axis(perm, np.argsort(values, axis=1, kind="stable"), axis=1)


def _introsort_levels(values, perm, repeated, first, last, depth: int) -> None:
    """libstdc++'s ``__introsort_loop`` over the ranges ``[first, last)``, one depth at a time
    (the ranges are disjoint, so the order they are worked in does not matter)."""
    while first.size:
        if depth == 0:
            for a, b in zip(first.tolist(), last.tolist()):
                _heapsort(values, perm, a, b)
            return
        depth -= 1
        _move_median_to_first(values, perm, first, last)
        cut = _unguarded_partitions(values, perm, first, last)
        first, last = np.concatenate([first, cut]), np.concatenate([cut, last])
        longer = (last - first) > _INSERTION_THRESHOLD
        first, last = first[longer], last[longer]
        first, last = _with_ties(values, repeated, first, last)


def _with_ties(values, repeated, first, last):
    """The ranges that may hold a repeated value (``repeated[v]``: v occurs more than once in
    its row): a range of distinct values ends sorted whatever the remaining steps do to it."""
    if not first.size:
        return first, last
    order = np.argsort(first)
    first, last = first[order], last[order]
    bounds = np.stack([first, last], axis=1).reshape(-1)
    bounds = bounds[:-1] if bounds[-1] == values.size else bounds
    count = np.add.reduceat(repeated[values].view(np.int8), bounds, dtype=np.int64)[::2]
    keep = count > 1
    return first[keep], last[keep]


def _positions(first, sizes):
    """All positions of the ranges ``[first, first + sizes)``, range after range."""
    starts = np.repeat(first - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
    return starts + np.arange(int(sizes.sum()), dtype=np.int64)


def _swap(values, perm, a, b) -> None:
    values[a], values[b] = values[b], values[a].copy()
    perm[a], perm[b] = perm[b], perm[a].copy()


def _move_median_to_first(values, perm, first, last) -> None:
    """``__move_median_to_first(first, first + 1, mid, last - 1)``: the median of three to
    ``first``, the comparisons in libstdc++'s order."""
    a, b, c = first + 1, first + (last - first) // 2, last - 1
    va, vb, vc = values[a], values[b], values[c]
    ab, bc, ac = va < vb, vb < vc, va < vc
    chosen = np.where(
        ab,
        np.where(bc, b, np.where(ac, c, a)),
        np.where(ac, a, np.where(bc, c, b)),
    )
    _swap(values, perm, first, chosen)


def _unguarded_partitions(values, perm, first, last):
    """``__unguarded_partition(first + 1, last, pivot=first)`` of every range at once; returns
    the cuts.

    The left scan stops at elements not below the pivot (L, ascending), the right scan at
    elements not above it (R, descending); round k swaps L[k] and R[k] while L[k] < R[k] (a
    condition that once false stays false). At the first round K where it fails, the left scan
    stops at L[K] or at R[K-1], now holding a swapped element not below the pivot, whichever
    comes first: that is the cut. (L and R are never empty: the median of three leaves an
    element on each side of the pivot.)
    """
    sizes = last - first - 1
    starts = np.cumsum(sizes) - sizes  # each range's start among ``positions``
    positions = _positions(first + 1, sizes)
    here, pivot = values[positions], np.repeat(values[first], sizes)
    not_below, not_above = here >= pivot, here <= pivot
    lcount, rcount = _counts(not_below, starts), _counts(not_above, starts)
    lstart, rend = np.cumsum(lcount) - lcount, np.cumsum(rcount) - 1
    lpos, rpos = positions[not_below], positions[not_above]  # both ascending in a range
    k = np.arange(lpos.size, dtype=np.int64) - np.repeat(lstart, lcount)
    paired = k < np.repeat(rcount, lcount)  # round k has an R[k]
    partner = rpos[np.where(paired, np.repeat(rend, lcount) - k, 0)]  # R[k]: k-th from the end
    crossing = paired & (lpos < partner)  # true for a prefix of each range's rounds
    swaps = _counts(crossing, lstart)
    _swap(values, perm, lpos[crossing], partner[crossing])
    no_stop = np.iinfo(np.int64).max
    left_stop = np.where(swaps < lcount, lpos[np.minimum(lstart + swaps, lpos.size - 1)], no_stop)
    previous_right = rpos[rend - np.maximum(swaps - 1, 0)]  # R[K-1]
    return np.where(swaps > 0, np.minimum(left_stop, previous_right), left_stop)


def _counts(flags, starts):
    """The number of true flags in each segment ``[starts[i], starts[i + 1])``."""
    total = np.concatenate([[0], np.cumsum(flags, dtype=np.int64)])
    return np.diff(total[np.append(starts, flags.size)])


def _heapsort(values, perm, first: int, last: int) -> None:
    """libstdc++'s ``__partial_sort(first, last, last)`` (make_heap, sort_heap) of the pairs
    (value, index) of ``[first, last)``; for ranges past the depth limit."""
    order = heapsort(values[first:last])
    values[first:last], perm[first:last] = values[first:last][order], perm[first:last][order]
