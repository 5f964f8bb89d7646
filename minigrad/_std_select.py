"""The order PyTorch's CPU selection ops leave tied elements in: ``topk``, ``kthvalue`` and
``mode`` (``median`` needs nothing: it breaks ties by index, as a stable sort does).

Each copies a slice's (value, index) pairs and reorders them comparing values only, so which
of equal values it returns, and where, depends on every step of its algorithm:

- ``topk`` with ``k * 64 <= n`` runs libstdc++'s ``std::partial_sort`` (a heap of the first
  ``k`` pairs; every later pair better than the heap's worst replaces it; then the heap is
  sorted). Otherwise ``std::nth_element`` at ``k - 1`` (introselect: median-of-three Hoare
  partitions of the one range holding ``nth`` while it is longer than 3, a heap selection below
  a depth limit of ``2 * floor(log2 n)``, an insertion sort of the last range), then, if
  ``sorted``, ``std::sort`` of the first ``k - 1``. With ``sorted=False`` the first ``k`` come
  out in that arrangement.
- ``kthvalue`` runs PyTorch's own quickselect (median of three, a partition that swaps the
  pivot to its place, no depth limit).
- ``mode`` runs ``std::sort`` and returns the index of the last pair of the first longest run.

The selections are vectorized across rows (each row has one active range per step), with
the partitions of :mod:`._std_sort` (one row: with scalars and slices, as the quickselect of
one row is); the heap of ``partial_sort`` is sequential and runs on Python's C ``heapq``
(:mod:`._std_heap`, on keys within 32 bits where the dtype has no more), so it is used only on
rows where ties can change the answer: where the ``k`` selected values do not repeat in their
row, any correct selection gives the same sorted result and NumPy's is used. ``mode`` follows
only the one range of the introsort that holds the last element of the most frequent value.
"""

from __future__ import annotations

import numpy as np

from ._std_heap import heap_select, partial_sort
from ._std_sort import (
    _INDEX,
    _INSERTION_THRESHOLD,
    _PACKED_MAX,
    _SHIFT,
    _crossing_rounds,
    _introsort_levels,
    _median_partitions,
    _positions,
    _ranked,
    _short_keys,
    _swap,
    by_chunks,
    dense_ranks,
    introsort_order,
    packed_rows,
    slice_stops,
    sorted_flat,
)

_PARTIAL_SORT_RATIO = 64  # PyTorch's topk heap-selects where k * 64 <= n


def order_keys(values: np.ndarray) -> np.ndarray:
    """int64 keys that compare as PyTorch compares ``values``: NaN above every number and equal
    to every NaN, -0.0 equal to 0.0 (floats are widened to float64, which is exact)."""
    if values.dtype.kind == "b":
        return values.astype(np.int64)
    if values.dtype == np.uint64:
        return (values.view(np.int64) ^ np.int64(np.iinfo(np.int64).min)).astype(np.int64)
    if values.dtype.kind in "iu":
        return values.astype(np.int64)
    wide = values.astype(np.float64) + 0.0  # -0.0 + 0.0 is 0.0
    bits = wide.view(np.int64)
    keys = np.where(bits < 0, bits ^ np.int64(np.iinfo(np.int64).max), bits)
    keys[np.isnan(wide)] = np.iinfo(np.int64).max
    return keys


def compact_keys(values: np.ndarray) -> np.ndarray:
    """:func:`order_keys`, within 32 bits for dtypes of up to 32 bits (one pass fewer, and
    heap items that Python compares faster)."""
    keys = _short_keys(values)
    return order_keys(values) if keys is None else keys


def _rows(values: np.ndarray, axis: int):
    moved = np.moveaxis(values, axis, -1)
    return moved, moved.reshape(-1, moved.shape[-1])


def topk_indices(values: np.ndarray, k: int, axis: int, largest: bool, sorted: bool):
    """The int64 indices PyTorch's CPU ``topk`` returns along ``axis`` of ``values``."""
    moved, rows = _rows(values, axis)
    n = rows.shape[1]
    out = np.empty((rows.shape[0], k), np.int64)
    if k and rows.shape[0] and k * _PARTIAL_SORT_RATIO <= n:
        keys = compact_keys(rows)
        keys = ~keys if largest else keys  # smaller keys first; ~ reverses without overflow
        out[:], exact = _smallest_sorted(keys, k)
        if exact.any():
            out[exact] = [partial_sort(row, k) for row in keys[exact]]
    elif k and rows.shape[0]:
        order, ranks = _ranked(rows)
        if largest:
            order, ranks = order[:, ::-1], ranks.max(axis=1, keepdims=True) - ranks
        # nth_element's arrangement depends on the algorithm even without ties; sorted, a row
        # whose k first values are distinct, and its k-th unique, comes out in sorted order
        exact = np.ones(rows.shape[0], bool)
        if sorted:
            exact = ((ranks < k).sum(axis=1) != k) | ~(ranks == k - 1).any(axis=1)
            out[~exact] = order[~exact, :k]
        if exact.any():
            out[exact] = _nth_then_sort(ranks[exact], k, sorted)
    return np.moveaxis(out.reshape(moved.shape[:-1] + (k,)), -1, axis)


def _smallest_sorted(keys: np.ndarray, k: int):
    """The indices of each row's ``k`` smallest keys in order, and which rows have a repeated
    key among them (ties, where PyTorch's pick and order may differ)."""
    n = keys.shape[1]
    part = np.argpartition(keys, k - 1, axis=1)[:, :k] if k < n else np.arange(n)[None]
    part = np.broadcast_to(part, (keys.shape[0], k))
    picked = np.take_along_axis(keys, part, axis=1)
    order = np.argsort(picked, axis=1, kind="stable")
    picked = np.take_along_axis(picked, order, axis=1)
    repeated = (picked[:, 1:] == picked[:, :-1]).any(axis=1)
    repeated |= (keys == picked[:, -1:]).sum(axis=1) > 1
    return np.take_along_axis(part, order, axis=1), repeated


def _nth_then_sort(ranks: np.ndarray, k: int, sorted: bool) -> np.ndarray:
    """``nth_element`` at ``k - 1``, then (``sorted``) ``std::sort`` of the first ``k - 1``, of
    rows of dense ranks."""
    arranged = by_chunks(_nth_element_ranked, ranks, k - 1, None)[:, :k]
    if sorted and k > 2:
        head = arranged[:, : k - 1]
        order = introsort_order(_redensified(np.take_along_axis(ranks, head, axis=1)))
        arranged[:, : k - 1] = np.take_along_axis(head, order, axis=1)
    return arranged


def _redensified(ranks: np.ndarray) -> np.ndarray:
    """Dense ranks of rows of small non-negative ints (a subset of each row's dense ranks), by
    counting which occur."""
    rows = ranks.shape[0]
    width = int(ranks.max(initial=0)) + 1
    flat = ranks + np.arange(rows, dtype=np.int64)[:, None] * width
    present = np.zeros(rows * width, bool)
    present[flat] = True
    below = np.concatenate([[0], np.cumsum(present)])  # occurring values before each
    return below[flat] - below[np.arange(rows, dtype=np.int64) * width][:, None]


def nth_element_order(keys: np.ndarray, nth: int, depth_limit: int | None = None):
    """The arrangement (int64 indices into each row) libstdc++'s ``std::nth_element`` leaves
    each row of the int64 ``keys`` in, compared with ``<``. ``depth_limit`` overrides
    libstdc++'s ``2 * floor(log2(n))`` (tests use it to reach the heap selection)."""
    return by_chunks(_nth_element_ranked, dense_ranks(keys, False), nth, depth_limit)


def _nth_element_ranked(ranks: np.ndarray, nth: int, depth_limit: int | None):
    """:func:`nth_element_order` of rows of dense ranks."""
    rows, n = ranks.shape
    packed = packed_rows(ranks)[1]
    first = np.arange(rows, dtype=np.int64) * n
    last, target = first + n, first + nth
    heaped = np.zeros(rows, bool)
    depth = 2 * (n.bit_length() - 1) if depth_limit is None else depth_limit
    active = np.flatnonzero(last - first > 3)
    while active.size:
        if depth == 0:  # rare: heap-select the rest, as libstdc++ does below its depth limit
            for r in active.tolist():
                _heap_select_range(packed, first[r], target[r] + 1, last[r])
                packed[[first[r], target[r]]] = packed[[target[r], first[r]]]
            heaped[active] = True
            break
        depth -= 1
        lo, hi = first[active], last[active]
        cut = _median_partitions(packed, lo, hi)
        right = cut <= target[active]
        first[active], last[active] = np.where(right, cut, lo), np.where(right, hi, cut)
        active = active[last[active] - first[active] > 3]
    _sort_short_ranges(packed, first[~heaped], last[~heaped])
    return (packed & _INDEX).reshape(rows, n)


def _sort_short_ranges(packed, first, last) -> None:
    """Insertion sort of ranges of at most 3 elements (stable, so adjacent swaps of strictly
    smaller elements give the same result)."""
    size = last - first
    for i, j in ((0, 1), (1, 2), (0, 1)):
        at = first[size > j]
        a, b = at + i, at + j
        smaller = (packed[b] >> _SHIFT) < (packed[a] >> _SHIFT)
        a, b = a[smaller], b[smaller]
        packed[a], packed[b] = packed[b], packed[a]


def _heap_select_range(packed, first: int, middle: int, last: int) -> None:
    """libstdc++'s ``__heap_select`` on ``[first, last)`` (see :func:`heap_select`)."""
    order = first + heap_select(packed[first:last] >> _SHIFT, middle - first)
    packed[first:last] = packed[order]


def kthvalue_indices(values: np.ndarray, k: int, axis: int) -> np.ndarray:
    """The int64 index PyTorch's CPU ``kthvalue`` returns for each slice along ``axis`` (the
    axis removed): the ``k``-th smallest (1-based), NaN above every number."""
    moved, rows = _rows(values, axis)
    keys = compact_keys(rows)
    out = np.empty(rows.shape[0], np.int64)
    if rows.shape[0]:
        out[:] = np.argpartition(keys, k - 1, axis=1)[:, k - 1]
        kth = np.take_along_axis(keys, out[:, None], axis=1)
        tied = (keys == kth).sum(axis=1) > 1  # a unique k-th value has one index
        if tied.any():
            out[tied] = quickselect_order(keys[tied], k - 1)[:, k - 1]
    return out.reshape(moved.shape[:-1])


def quickselect_order(keys: np.ndarray, kth: int) -> np.ndarray:
    """The arrangement (indices into each row) PyTorch's quickselect for ``kthvalue`` leaves
    each row of the int64 ``keys`` in: while the range ``[lo, hi]`` holding ``kth`` has three
    or more elements, the median of its first, middle and last goes to ``lo`` (the other two
    to ``lo + 1`` and ``hi``), a Hoare partition around it, the pivot swapped to where the
    right scan stopped; two elements are put in order."""
    rows, n = keys.shape
    values = keys.reshape(-1).copy()
    perm = np.tile(np.arange(n, dtype=np.int64), rows)
    if rows == 1:
        _quickselect_one(values, perm, kth)
        return perm.reshape(rows, n)
    lo = np.arange(rows, dtype=np.int64) * n
    hi, target = lo + n - 1, lo + kth
    active = np.flatnonzero(hi - lo >= 2)
    while active.size:
        a, b = lo[active], hi[active]
        _swap(values, perm, a + (b - a) // 2, a + 1)
        for x, y in ((a + 1, b), (a, b), (a + 1, a)):
            above = values[x] > values[y]
            _swap(values, perm, x[above], y[above])
        i, j = _quickselect_partition(values, perm, a, b)
        _swap(values, perm, a, j)
        t = target[active]
        lo[active], hi[active] = np.where(j <= t, i, a), np.where(j >= t, j - 1, b)
        active = active[hi[active] - lo[active] >= 2]
    pair = np.flatnonzero(hi - lo == 1)
    above = values[lo[pair]] > values[hi[pair]]
    _swap(values, perm, lo[pair][above], hi[pair][above])
    return perm.reshape(rows, n)


def _quickselect_one(values, perm, kth: int) -> None:
    """:func:`quickselect_order` of one row (``values`` and ``perm`` in place), the same steps
    with scalars and slices (a third of the NumPy calls, most of what a short row costs)."""

    def swap(x: int, y: int) -> None:
        values[x], values[y] = values[y], values[x]
        perm[x], perm[y] = perm[y], perm[x]

    lo, hi = 0, values.size - 1
    while hi - lo >= 2:
        swap(lo + (hi - lo) // 2, lo + 1)
        for x, y in ((lo + 1, hi), (lo, hi), (lo + 1, lo)):
            if values[x] > values[y]:
                swap(x, y)
        i, j = _quickselect_partition_one(values, perm, lo, hi)
        swap(lo, j)
        lo, hi = (i if j <= kth else lo), (j - 1 if j >= kth else hi)
    if hi - lo == 1 and values[lo] > values[hi]:
        swap(lo, hi)


def _quickselect_partition_one(values, perm, lo: int, hi: int):
    """:func:`_quickselect_partition` of the one range ``[lo + 1, hi]``: the stops read from
    slices, the rounds counted (a condition that once false stays false)."""
    pivot = values[lo]
    lpos, rpos = slice_stops(values, lo + 1, hi + 1, pivot, pivot)
    lpos = lpos[lpos >= lo + 2]  # the left scan from lo + 2 (hi stops it: not below)
    rpos = rpos[rpos <= hi - 1][::-1]  # the right scan from hi - 1 (lo + 1 stops it)
    most = min(lpos.size, rpos.size)
    rounds = int(np.count_nonzero(lpos[:most] < rpos[:most]))
    swapped_left, swapped_right = lpos[:rounds], rpos[:rounds]
    values[swapped_left], values[swapped_right] = values[swapped_right], values[swapped_left]
    perm[swapped_left], perm[swapped_right] = perm[swapped_right], perm[swapped_left]

    # past its last stop a scan is clipped to it, as in _quickselect_partition (hi is always
    # a left stop and lo + 1 a right one, so neither list is empty)
    def left_at(m: int, missing: int) -> int:
        return int(lpos[min(m, lpos.size - 1)]) if m >= 0 else missing

    def right_at(m: int, missing: int) -> int:
        return int(rpos[min(m, rpos.size - 1)]) if m >= 0 else missing

    far = np.iinfo(np.int64).max
    shift = rounds + 1 if left_at(rounds, far) == right_at(rounds, -1) else rounds
    i = min(left_at(shift, far), right_at(rounds - 1, far))
    j = max(right_at(shift, -1), left_at(rounds - 1, -1))
    return i, j


def _quickselect_partition(values, perm, lo, hi):
    """The partition of ``[lo + 1, hi]`` around ``values[lo]`` (``values[lo + 1]`` is not
    above it, ``values[hi]`` not below): the left scan stops at elements not below the pivot in
    ``[lo + 2, hi]`` (L, ascending), the right scan at elements not above it in
    ``[lo + 1, hi - 1]`` (R, descending); round k swaps L[k] and R[k] while L[k] < R[k]. At the
    first round K where that fails the scans stop at ``i = min(L[K], R[K-1])`` and
    ``j = max(R[K], L[K-1])`` (the swapped elements stop them too), which have crossed unless
    L[K] == R[K] (an element equal to the pivot): then one more round, from L[K + 1] and
    R[K + 1]. Returns the final ``(i, j)``."""
    if lo.size == 1:  # the window [lo + 1, hi] of both scans (ranges in ascending order)
        lpos, rpos = slice_stops(
            values, int(lo[0]) + 1, int(hi[0]) + 1, values[lo[0]], values[lo[0]]
        )
    else:
        sizes = hi - lo
        positions = _positions(lo + 1, sizes)
        here, pivot = values[positions], np.repeat(values[lo], sizes)
        lpos = positions[np.flatnonzero(here >= pivot)]
        rpos = positions[np.flatnonzero(here <= pivot)]
    lstart, lend = np.searchsorted(lpos, lo + 2), np.searchsorted(lpos, hi + 1)
    rstart, rend = np.searchsorted(rpos, lo + 1), np.searchsorted(rpos, hi) - 1
    lcount, rcount = lend - lstart, rend + 1 - rstart
    rounds = _crossing_rounds(lpos, rpos, lstart, rend, np.minimum(lcount, rcount))
    k = _positions(np.zeros_like(rounds), rounds)  # 0, 1, ..., rounds - 1 for each range
    _swap(values, perm, lpos[np.repeat(lstart, rounds) + k], rpos[np.repeat(rend, rounds) - k])

    def left_at(m, missing):
        return np.where(m >= 0, lpos[lstart + np.clip(m, 0, lcount - 1)], missing)

    def right_at(m, missing):
        return np.where(m >= 0, rpos[rend - np.clip(m, 0, rcount - 1)], missing)

    far = np.iinfo(np.int64).max
    i, j = left_at(rounds, far), right_at(rounds, -1)
    equal = i == j
    shift = np.where(equal, rounds + 1, rounds)
    i = np.minimum(left_at(shift, far), right_at(rounds - 1, far))
    j = np.maximum(right_at(shift, -1), left_at(rounds - 1, -1))
    return i, j


def mode_indices(values: np.ndarray, axis: int) -> np.ndarray:
    """The int64 index PyTorch's CPU ``mode`` returns for each slice along ``axis`` (the axis
    removed): of the most frequent value (the smallest of equally frequent ones), the pair
    ``std::sort`` (comparing values with ``<``) leaves last."""
    moved, rows = _rows(values, axis)
    out = np.empty(rows.shape[0], np.int64)
    nan = rows != rows
    has_nan = nan.any(axis=1)
    for r in np.flatnonzero(has_nan).tolist():  # NaN breaks std::sort's ordering: step by step
        out[r] = _mode_of_unordered(rows[r].tolist())
    plain = np.flatnonzero(~has_nan)
    if plain.size:
        out[plain] = _mode_of_ordered(dense_ranks(rows[plain], False))
    return out.reshape(moved.shape[:-1])


def _mode_of_ordered(ranks: np.ndarray) -> np.ndarray:
    """``mode`` of rows of dense ranks: of the most frequent rank (the smallest of equally
    frequent ones), the element ``std::sort`` leaves last. That is the element of that rank
    the introsort's partitions leave last (the final insertion sort keeps equal elements in
    order), which lies in the range that holds the last sorted position of the rank: only that
    range is followed, while it holds two or more of the rank."""
    if len(ranks) > 1 and ranks.size > _PACKED_MAX:  # (one longer row: packed_rows refuses it)
        return by_chunks(_mode_of_ordered, ranks)
    rows, n = ranks.shape
    values, packed = packed_rows(ranks)
    counts = np.bincount(values, minlength=values.size).reshape(rows, n)
    tracked = counts.argmax(axis=1) + np.arange(rows, dtype=np.int64) * n
    if n > _INSERTION_THRESHOLD and (counts > 1).any():  # (else each row's mode is unique)
        ordered = sorted_flat(values)
        end = np.searchsorted(ordered, tracked, "right")  # past each row's last tracked value

        def holds_last(first, last):
            at = end[first // n]
            return (first < at - 1) & (last >= at)

        first = np.arange(rows, dtype=np.int64) * n
        depth = 2 * (n.bit_length() - 1)
        _introsort_levels(packed, ordered, holds_last, first, first + n, depth)
    hit = (packed >> _SHIFT).reshape(rows, n) == tracked[:, None]
    last = n - 1 - np.argmax(hit[:, ::-1], axis=1)
    return (packed & _INDEX).reshape(rows, n)[np.arange(rows), last]


def _mode_of_unordered(row: list) -> int:
    """``mode`` of one row holding NaN (which compares false with everything, so the sort's
    steps decide where each lands): libstdc++'s ``std::sort`` run on it, then the scan."""
    order = std_sort_order(len(row), lambda i, j: row[i] < row[j])
    best, count, run = order[0], 0, 0
    for at, i in enumerate(order):
        run += 1
        if at == len(order) - 1 or row[i] != row[order[at + 1]]:
            if run > count:
                best, count = i, run
            run = 0
    return best


def std_sort_order(n: int, less) -> list:
    """libstdc++'s ``std::sort`` of the indices ``0 .. n-1`` under ``less(i, j)``, step by
    step, exact even where ``less`` is no strict weak order (NaN)."""
    a = list(range(n))

    def comp(i, j):
        return less(a[i], a[j])

    def loop(first, last, depth):
        while last - first > 16:
            if depth == 0:
                keys = a[first:last]
                order = _heapsort_by(keys, less)
                a[first:last] = order
                return
            depth -= 1
            x, y, z = first + 1, first + (last - first) // 2, last - 1
            if comp(x, y):
                m = y if comp(y, z) else z if comp(x, z) else x
            else:
                m = x if comp(x, z) else z if comp(y, z) else y
            a[first], a[m] = a[m], a[first]
            lo, hi = first + 1, last
            while True:
                while comp(lo, first):
                    lo += 1
                hi -= 1
                while comp(first, hi):
                    hi -= 1
                if lo >= hi:
                    break
                a[lo], a[hi] = a[hi], a[lo]
                lo += 1
            loop(lo, last, depth)
            last = lo

    if n > 1:
        loop(0, n, 2 * (n.bit_length() - 1))
    for i in range(1, n):  # the final insertion sort: to the front, else guarded by a[0]
        item = a[i]
        if i < 16 and less(item, a[0]):
            a[1 : i + 1] = a[:i]
            a[0] = item
            continue
        j = i
        while less(item, a[j - 1]):
            a[j], j = a[j - 1], j - 1
        a[j] = item
    return a


def _heapsort_by(items: list, less) -> list:
    """libstdc++'s heapsort (make_heap, sort_heap) of ``items`` under ``less``."""
    n = len(items)

    def sift(hole, length, item):
        top = child = hole
        while child < (length - 1) // 2:
            child = 2 * (child + 1)
            if less(items[child], items[child - 1]):
                child -= 1
            items[hole], hole = items[child], child
        if length % 2 == 0 and child == (length - 2) // 2:
            child = 2 * (child + 1)
            items[hole], hole = items[child - 1], child - 1
        parent = (hole - 1) // 2
        while hole > top and less(items[parent], item):
            items[hole], hole = items[parent], parent
            parent = (hole - 1) // 2
        items[hole] = item

    for parent in range((n - 2) // 2, -1, -1):
        sift(parent, n, items[parent])
    for end in range(n - 1, 0, -1):
        item, items[end] = items[end], items[0]
        sift(0, end, item)
    return items
