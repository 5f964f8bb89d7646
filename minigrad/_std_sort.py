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

What keeps it fast on inputs with many ties (``python -m benchmarks.ties``):

- the values are dense ranks packed with their index (``rank << 32 | index``), one int64
  array that the swaps move;
- a partitioned range always holds the values the sorted order holds at its positions, so the
  sorted ranks tell, without reading the range, whether it holds a repeated value (if not, it
  ends sorted whatever the later steps do: dropped) or a single value (then every comparison is
  false and its arrangement depends on its length and the depth left only: computed once per
  length, applied at once);
- each scan reads its stops from one comparison of the whole span (``flatnonzero``), and the
  number of swap rounds is found by bisection in them; a level of one range (the first, and
  every level of ``nth_element`` on one row) is worked with scalars and slices;
- the heapsort below the depth limit runs on Python's C ``heapq``, its loops in C
  (:mod:`._std_heap`); many short ranges past the limit are heapsorted all at once in NumPy.
"""

from __future__ import annotations

import numpy as np

from ._std_heap import heapsort, heapsort_ranges

_INSERTION_THRESHOLD = 16  # libstdc++'s _S_threshold: shorter ranges wait for insertion sort
_RADIX_MIN = 32768  # PyTorch sorts 1-D integers at least this long with a stable radix sort
_SHIFT, _INDEX = np.int64(32), np.int64(0xFFFFFFFF)  # packed = value << 32 | index
_PACKED_MAX = 2**31 - 1  # the most elements sorted at once (values below it fit 31 bits)
_FEW_ROUNDS = 65536  # below this many possible swap rounds, test them all (fewer NumPy calls)
_NO_STOP = np.iinfo(np.int64).max
_PACKED_SORT_MIN = 2048  # rows at least this long are ranked by sorting packed (key, index)
_SHORT_ORDER_MAX = 512  # arrangements of ranges of one value up to this long are kept for good
_SHORT_ORDERS: dict = {}


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
    rows, n = values.shape
    keys = _short_keys(values) if _PACKED_SORT_MIN <= n < 2**32 else None
    if keys is not None:  # one sort of (key, index) pairs: stable, and faster than argsort
        pairs = np.sort((keys << _SHIFT) | np.arange(n, dtype=np.int64), axis=1, kind="stable")
        order, ordered = pairs & _INDEX, pairs >> _SHIFT
        same = ordered[:, 1:] == ordered[:, :-1]
    else:
        order = np.argsort(values, axis=1, kind="stable")  # NaN last
        ordered = np.take_along_axis(values, order, axis=1)
        same = ordered[:, 1:] == ordered[:, :-1]
        if ordered.dtype.kind not in "iub":  # NaN (the one value unequal to itself) ties NaN
            same |= (ordered[:, 1:] != ordered[:, 1:]) & (ordered[:, :-1] != ordered[:, :-1])
    steps = np.concatenate([np.zeros((rows, 1), np.int64), ~same], axis=1)
    ranks = np.empty(values.shape, np.int64)
    flat = (order + np.arange(rows, dtype=np.int64)[:, None] * n).reshape(-1)
    ranks.reshape(-1)[flat] = np.cumsum(steps, axis=1).reshape(-1)
    return order, ranks


def _short_keys(values: np.ndarray):
    """int64 keys within 32 bits that order ``values`` as PyTorch compares them (NaN above
    every number, all NaNs equal, -0.0 equal to 0.0), or None for 64-bit dtypes."""
    if values.dtype.kind in "biu" and values.dtype.itemsize <= 4:
        keys = values.astype(np.int64)
        return keys - 2**31 if values.dtype == np.uint32 else keys
    if values.dtype.kind != "f" or values.dtype.itemsize > 4:
        return None
    wide = values.astype(np.float32) + np.float32(0.0)  # -0.0 + 0.0 is 0.0
    bits = wide.view(np.int32)
    keys = np.where(bits < 0, bits ^ np.int32(0x7FFFFFFF), bits).astype(np.int64)
    keys[np.isnan(wide)] = 2**31 - 1  # above +inf's key
    return keys


def introsort_order(ranks: np.ndarray, depth_limit: int | None = None) -> np.ndarray:
    """The permutation ``std::sort`` puts each row of ``ranks`` (a 2-D int64 array of dense
    ranks: each row's values are 0, 1, ... up to its number of distinct values - 1, compared
    with ``<``) in, as int64 indices into the row.

    ``depth_limit`` overrides libstdc++'s ``2 * floor(log2(n))`` (tests use it to reach the
    heapsort).
    """
    if len(ranks) > 1 and ranks.size > _PACKED_MAX:  # (one longer row: packed_rows refuses it)
        return by_chunks(introsort_order, ranks, depth_limit)
    rows, n = ranks.shape
    values, packed = packed_rows(ranks)
    if n > _INSERTION_THRESHOLD:
        ordered = sorted_flat(values)
        ties = np.concatenate([[0], np.cumsum(ordered[1:] == ordered[:-1])])

        def tied(first, last):  # a repeated value in the range (ranges with none end sorted)
            return ties[last - 1] > ties[first]

        depth = 2 * (n.bit_length() - 1) if depth_limit is None else depth_limit
        first = np.arange(rows, dtype=np.int64) * n
        _introsort_levels(packed, ordered, tied, first, first + n, depth)
    # The final insertion sort moves each element left past strictly greater ones only: a
    # stable sort of the arrangement the partitions left.
    values, index = (packed >> _SHIFT).reshape(rows, n), (packed & _INDEX).reshape(rows, n)
    return np.take_along_axis(index, np.argsort(values, axis=1, kind="stable"), axis=1)


def by_chunks(function, rows: np.ndarray, *args) -> np.ndarray:
    """``function(rows, *args)`` on as many rows at once as :func:`packed_rows` packs."""
    step = max(_PACKED_MAX // max(rows.shape[1], 1), 1)
    if rows.shape[0] <= step:
        return function(rows, *args)
    return np.concatenate([function(rows[i : i + step], *args) for i in range(0, len(rows), step)])


def packed_rows(ranks: np.ndarray):
    """``(values, packed)``: the rows of dense ``ranks`` side by side, each offset by ``n``
    times its row (so that values of different rows differ and rise with the row), and each
    value packed with its index in the row as ``value << 32 | index`` (what the steps move)."""
    rows, n = ranks.shape
    if rows * n > _PACKED_MAX:
        raise NotImplementedError(
            f"sorting {rows} x {n} elements with ties in PyTorch's order: at most "
            f"{_PACKED_MAX} elements at once (sort with stable=True)"
        )
    values = (ranks + np.arange(rows, dtype=np.int64)[:, None] * n).reshape(-1)
    return values, (values << _SHIFT) | np.tile(np.arange(n, dtype=np.int64), rows)


def sorted_flat(values: np.ndarray) -> np.ndarray:
    """``np.sort`` of the values of :func:`packed_rows` (each below ``values.size``), by
    counting."""
    counts = np.bincount(values, minlength=values.size)
    return np.repeat(np.arange(values.size, dtype=np.int64), counts)


def _introsort_levels(packed, ordered, keep, first, last, depth: int) -> None:
    """libstdc++'s ``__introsort_loop`` over the ranges ``[first, last)`` (in ascending order),
    one depth at a time (the ranges are disjoint, so the order they are worked in does not
    matter).

    ``ordered`` is the values sorted: the partitions keep each range holding the values that
    ``ordered`` holds there, so a range is of one value when its two ends in ``ordered`` are
    equal (then it is arranged at once). Other ranges are worked on while longer than 16 and
    ``keep(first, last)`` (a boolean per range) says their order matters.
    """
    memo: dict = {}  # arrangements of ranges of one value, by length and depth left
    while True:
        longer = (last - first) > _INSERTION_THRESHOLD
        first, last = first[longer], last[longer]
        constant = ordered[first] == ordered[last - 1]
        if constant.any():
            _arrange_constant(packed, first[constant], last[constant], depth, memo)
            first, last = first[~constant], last[~constant]
        wanted = keep(first, last)
        first, last = first[wanted], last[wanted]
        if not first.size:
            return
        if depth == 0:
            _heapsorts(packed, first, last)
            return
        depth -= 1
        cut = _median_partitions(packed, first, last)
        first, last = _interleaved(first, cut), _interleaved(cut, last)


def _interleaved(a, b):
    """``[a[0], b[0], a[1], b[1], ...]``."""
    out = np.empty(2 * a.size, a.dtype)
    out[0::2], out[1::2] = a, b
    return out


def _arrange_constant(packed, first, last, depth: int, memo: dict) -> None:
    """Arrange the ranges ``[first, last)`` of equal values as the introsort's remaining
    ``depth`` levels (and heapsort) do: the same steps for every range of one length."""
    sizes = last - first
    for size in np.unique(sizes).tolist():
        at = first[sizes == size][:, None]
        packed[at + np.arange(size)] = packed[at + _constant_order(size, depth, memo)]


def _constant_order(size: int, depth: int, memo: dict) -> np.ndarray:
    """The arrangement (indices into the range) the introsort leaves a range of ``size`` equal
    values in, with ``depth`` levels left. Every comparison is false: the median of three is
    the middle element, which goes first; both scans stop at every element, so the partition
    reverses ``[1, size)`` and cuts at ``ceil(size / 2)``."""
    depth = min(depth, size.bit_length())  # enough levels to reach 16: more change nothing
    memo = _SHORT_ORDERS if size <= _SHORT_ORDER_MAX else memo
    if (size, depth) in memo:
        return memo[size, depth]
    if size <= _INSERTION_THRESHOLD:
        order = np.arange(size, dtype=np.int64)
    elif depth == 0:
        order = heapsort(np.zeros(size, np.int64))
    else:
        step = np.concatenate([[size // 2], np.arange(size - 1, 0, -1)])
        step[size - size // 2] = 0  # (the first element went where the middle one was)
        cut = (size + 1) // 2
        left, right = (_constant_order(m, depth - 1, memo) for m in (cut, size - cut))
        order = step[np.concatenate([left, cut + right])]
    order.flags.writeable = False
    memo[size, depth] = order
    return order


def _positions(first, sizes):
    """All positions of the ranges ``[first, first + sizes)``, range after range."""
    starts = np.repeat(first - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
    return starts + np.arange(int(sizes.sum()), dtype=np.int64)


def _swap(values, perm, a, b) -> None:
    values[a], values[b] = values[b], values[a].copy()
    perm[a], perm[b] = perm[b], perm[a].copy()


def _median_partitions(packed, first, last):
    """:func:`_move_median_to_first`, then :func:`_unguarded_partitions`, of every range; returns
    the cuts. One range is worked with scalars and slices (a third of the NumPy calls, most of
    what a short range costs)."""
    if first.size == 1:
        return np.array([_median_partition_one(packed, int(first[0]), int(last[0]))])
    _move_median_to_first(packed, first, last)
    return _unguarded_partitions(packed, first, last)


def _median_partition_one(packed, first: int, last: int) -> int:
    """:func:`_median_partitions` of the one range ``[first, last)``, the same steps: the
    median of three (libstdc++'s comparisons) to ``first``, then the rounds of swaps of the
    left scan's stops L[k] with the right scan's R[k] while L[k] < R[k] (all the rounds that
    do: once false it stays false), the cut at L[K] or R[K-1], whichever comes first."""
    a, b, c = first + 1, first + (last - first) // 2, last - 1
    shift = int(_SHIFT)
    va, vb, vc = (int(packed[i]) >> shift for i in (a, b, c))
    if va < vb:
        chosen = b if vb < vc else c if va < vc else a
    else:
        chosen = a if va < vc else c if vb < vc else b
    packed[first], packed[chosen] = packed[chosen], packed[first]
    low = (int(packed[first]) >> shift) << shift
    lpos, rpos = slice_stops(packed, first + 1, last, low, low | int(_INDEX))
    rpos = rpos[::-1]
    most = min(lpos.size, rpos.size)
    rounds = int(np.count_nonzero(lpos[:most] < rpos[:most]))
    swapped_left, swapped_right = lpos[:rounds], rpos[:rounds]
    packed[swapped_left], packed[swapped_right] = packed[swapped_right], packed[swapped_left]
    cut = int(lpos[rounds]) if rounds < lpos.size else int(_NO_STOP)
    return min(cut, int(rpos[rounds - 1])) if rounds else cut


def _move_median_to_first(packed, first, last) -> None:
    """``__move_median_to_first(first, first + 1, mid, last - 1)``: the median of three to
    ``first``, the comparisons in libstdc++'s order."""
    a, b, c = first + 1, first + (last - first) // 2, last - 1
    va, vb, vc = packed[a] >> _SHIFT, packed[b] >> _SHIFT, packed[c] >> _SHIFT
    ab, bc, ac = va < vb, vb < vc, va < vc
    chosen = np.where(
        ab,
        np.where(bc, b, np.where(ac, c, a)),
        np.where(ac, a, np.where(bc, c, b)),
    )
    packed[first], packed[chosen] = packed[chosen], packed[first]


def _unguarded_partitions(packed, first, last):
    """``__unguarded_partition(first + 1, last, pivot=first)`` of every range (in ascending
    order) at once; returns the cuts.

    The left scan stops at elements not below the pivot (L, ascending), the right scan at
    elements not above it (R, descending); round k swaps L[k] and R[k] while L[k] < R[k] (a
    condition that once false stays false, so the number of rounds K is found by bisection).
    The left scan then stops at L[K] or at R[K-1], now holding a swapped element not below the
    pivot, whichever comes first: that is the cut. (L and R are never empty: the median of
    three leaves an element on each side of the pivot.)
    """
    low = (packed[first] >> _SHIFT) << _SHIFT  # v >= p: packed >= low; v <= p: <= low | index
    lpos, rpos = _stops(packed, first + 1, last, low, low | _INDEX)
    lstart, lend = np.searchsorted(lpos, first + 1), np.searchsorted(lpos, last)
    rstart, rend = np.searchsorted(rpos, first + 1), np.searchsorted(rpos, last) - 1
    lcount, rcount = lend - lstart, rend + 1 - rstart
    rounds = _crossing_rounds(lpos, rpos, lstart, rend, np.minimum(lcount, rcount))
    k = _positions(np.zeros_like(rounds), rounds)  # 0, 1, ..., rounds - 1 for each range
    a, b = lpos[np.repeat(lstart, rounds) + k], rpos[np.repeat(rend, rounds) - k]
    packed[a], packed[b] = packed[b], packed[a]
    left_stop = np.where(rounds < lcount, lpos[np.minimum(lstart + rounds, lend - 1)], _NO_STOP)
    previous_right = rpos[rend - np.maximum(rounds - 1, 0)]  # R[K-1]
    return np.where(rounds > 0, np.minimum(left_stop, previous_right), left_stop)


def _stops(packed, start, stop, low, high):
    """The positions in the ranges ``[start, stop)`` (in ascending order) of the ``packed``
    elements not below the range's ``low`` (L) and not above its ``high`` (R), ascending. Where
    the ranges cover most of their span the whole span is compared (no gathers)."""
    sizes = stop - start
    if 2 * int(sizes.sum()) < stop[-1] - start[0]:
        positions = _positions(start, sizes)
        here = packed[positions]
        lpos = positions[np.flatnonzero(here >= np.repeat(low, sizes))]
        return lpos, positions[np.flatnonzero(here <= np.repeat(high, sizes))]
    # segments: the gap before each range (compared with bounds nothing packed passes), range
    gaps = start - np.concatenate([start[:1], stop[:-1]])
    lengths = _interleaved(gaps, sizes)
    low = np.repeat(_interleaved(np.full(start.size, _NO_STOP), low), lengths)
    high = np.repeat(_interleaved(np.full(start.size, -1), high), lengths)
    span = packed[start[0] : stop[-1]]
    return np.flatnonzero(span >= low) + start[0], np.flatnonzero(span <= high) + start[0]


def slice_stops(data, start: int, stop: int, low, high):
    """The positions in ``[start, stop)`` of the elements of ``data`` not below ``low`` and
    of those not above ``high``, ascending (one range: a slice, no gathers)."""
    span = data[start:stop]
    return np.flatnonzero(span >= low) + start, np.flatnonzero(span <= high) + start


def _crossing_rounds(lpos, rpos, lstart, rend, most):
    """Per range, the first round k < ``most`` with ``L[k] >= R[k]`` (``most`` if none)
    (``L[k] = lpos[lstart + k]``, ``R[k] = rpos[rend - k]``): counted over all rounds where
    they are few, else by bisection."""
    if int(most.sum()) < max(_FEW_ROUNDS, 16 * most.size):
        k = _positions(np.zeros_like(most), most)
        crossing = lpos[np.repeat(lstart, most) + k] < rpos[np.repeat(rend, most) - k]
        total = np.concatenate([[0], np.cumsum(crossing)])  # (a prefix of each range's rounds)
        ends = np.cumsum(most)
        return total[ends] - total[ends - most]
    lo, hi = np.zeros_like(most), most
    open_ = np.flatnonzero(lo < hi)
    while open_.size:
        a, b = lo[open_], hi[open_]
        mid = (a + b) // 2
        crossing = lpos[lstart[open_] + mid] < rpos[rend[open_] - mid]
        lo[open_], hi[open_] = np.where(crossing, mid + 1, a), np.where(crossing, b, mid)
        open_ = open_[lo[open_] < hi[open_]]
    return lo


def _heapsorts(packed, first, last) -> None:
    """libstdc++'s ``__partial_sort(first, last, last)`` (make_heap, sort_heap) of the ranges
    ``[first, last)`` past the depth limit: the shorter ones all at once where they are many
    (as many steps as the longest of them needs, each a few NumPy calls on all), the others
    one by one on ``heapq``, split where the estimates (µs on the 2-core machine) add up least.
    The ranges are disjoint: the order they are worked in does not matter."""
    sizes = last - first
    order = np.argsort(sizes, kind="stable")
    first, last, sizes = first[order], last[order], sizes[order]
    after = np.concatenate([np.cumsum(sizes[::-1])[::-1], [0]])  # elements of ranges i, ...

    def cost(i):  # the i shortest at once, the others one by one
        longest = int(sizes[i - 1]) if i else 0
        at_once = longest * longest.bit_length() * (15 + 0.05 * i)
        return at_once + 50 * (sizes.size - i) + 0.7 * int(after[i])

    splits = np.searchsorted(sizes, 2 ** np.arange(4, 40), "right")
    split = min([0, *np.unique(splits).tolist()], key=cost)
    if split:
        heapsort_ranges(packed, first[:split], last[:split], _SHIFT)
    for a, b in zip(first[split:].tolist(), last[split:].tolist()):
        packed[a:b] = packed[a:b][heapsort(packed[a:b] >> _SHIFT)]
