"""libstdc++'s heap algorithms (``make_heap``, ``sort_heap``, ``__heap_select``) on keys with
ties, run by Python's C ``heapq``.

``heapq`` moves items exactly as libstdc++'s ``__adjust_heap`` does, mirrored: both sift a hole
down to a leaf along the child that is not worse (the right one on a tie), then push the item
up past strictly worse parents; ``heapify`` visits the parents as ``make_heap`` does, and
``heappop``/``heapreplace`` put the last (or the new) item at the root and sift it as
``__pop_heap`` does. libstdc++ builds a max-heap under ``<``; ``heapq`` builds a min-heap under
``<``, so the keys are negated. Equal keys must compare equal, so each item is a key alone:
a fresh int object per element (a base minus the key, never one of CPython's cached small
ints -5..256), recognized after the heap work by its identity.

The loops run in C: ``map(heappop, repeat(heap))`` pops, and ``map(heappushpop, repeat(heap),
items)`` is ``__heap_select``'s loop (``heappushpop`` replaces the top, as ``heapreplace``
does, exactly when the top is below the item, and returns the item itself otherwise). Where
each item came from is found afterwards in NumPy, from the items' ids (each item is kept alive
from its id's reading to its lookup, so no two of them share an id).
"""

from __future__ import annotations

import heapq
from collections import deque
from itertools import compress, repeat

import numpy as np

_BLOCK = 4096  # the most keys compared with the heap's top at once
_CACHED = 256  # CPython shares the int objects -5..256; items stay above


def _base(keys: np.ndarray) -> int:
    """The int each key is subtracted from to make its item: items from ``_CACHED + 1`` up."""
    return int(keys.max(initial=0)) + _CACHED + 1


def _items(keys: np.ndarray, base: int) -> list:
    """One distinct int object per key, ordered as the keys reversed (see the module doc);
    small ints where they fit (faster to compare), else Python's big ints."""
    if keys.size and base - int(keys.min()) < 2**62:
        return ((base - _CACHED - 1 - keys) + (_CACHED + 1)).tolist()
    return [base - key for key in keys.tolist()]


def _ids(items: list) -> np.ndarray:
    """The ids of ``items`` (live objects: distinct)."""
    return np.fromiter(map(id, items), np.uint64, len(items))


class _Origins:
    """Where each item that entered the heap came from, looked up by id."""

    def __init__(self):
        self.ids, self.at, self.alive = [], [], []

    def add(self, items: list, ids: np.ndarray, at: np.ndarray) -> None:
        self.ids.append(ids)
        self.at.append(at)
        self.alive.append(items)  # (alive until the lookups: their ids stay theirs)

    def of(self, ids: np.ndarray) -> np.ndarray:
        """The positions the items of ``ids`` (added before) came from."""
        known, at = np.concatenate(self.ids), np.concatenate(self.at)
        order = np.argsort(known, kind="stable")
        return at[order[np.searchsorted(known, ids, sorter=order)]]


def heapsort(keys: np.ndarray) -> np.ndarray:
    """The arrangement (indices into ``keys``) libstdc++'s ``__partial_sort(first, last,
    last)`` (``make_heap``, then ``sort_heap``) leaves the 1-D int ``keys`` in."""
    heap = _items(keys, _base(keys))
    origins = _Origins()
    origins.add([], _ids(heap), np.arange(keys.size, dtype=np.int64))  # (popped keeps them)
    heapq.heapify(heap)
    popped = list(map(heapq.heappop, repeat(heap, keys.size)))
    popped.reverse()  # sort_heap moves each top to the back
    return origins.of(_ids(popped))


def heap_select(keys: np.ndarray, middle: int) -> np.ndarray:
    """The arrangement libstdc++'s ``__heap_select(first, first + middle, last)`` leaves the 1-D
    int ``keys`` in: a heap of the first ``middle``; each later key below the heap's top
    replaces the top, which takes the key's place."""
    heap, origins, moves = _selected(keys, middle, moves=True)
    arranged = np.arange(keys.size, dtype=np.int64)
    if moves:
        at, ids = (np.concatenate(part) for part in zip(*moves))
        arranged[at] = origins.of(ids)
    arranged[:middle] = origins.of(_ids(heap))
    return arranged


def partial_sort(keys: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` indices after libstdc++'s ``std::partial_sort`` of the 1-D int ``keys``
    (``__heap_select``, then ``sort_heap`` of the heap)."""
    heap, origins, _ = _selected(keys, k, moves=False)
    popped = list(map(heapq.heappop, repeat(heap, k)))
    popped.reverse()
    return origins.of(_ids(popped))


def _selected(keys: np.ndarray, middle: int, moves: bool):
    """``__heap_select`` of ``keys`` at ``middle``: the heap (``make_heap`` of the first
    ``middle`` items, each later item below its top replacing the top), the origins of its
    items and, with ``moves``, the moves: per block, the positions of the items that entered
    and the ids of the items they pushed out (which take their places)."""
    base = _base(keys)
    heap = _items(keys[:middle], base)
    origins = _Origins()
    origins.add(heap.copy(), _ids(heap), np.arange(middle, dtype=np.int64))  # (heap changes)
    heapq.heapify(heap)
    moved = []
    at, size = middle, max(4 * middle, 16)
    while at < keys.size:
        # only keys below the top may enter, and the top only falls: a block is narrowed in
        # NumPy to its keys below the top it starts with (short blocks first: the top falls
        # fastest there)
        block = keys[at : at + size]
        below = np.flatnonzero(block < base - heap[0])
        items = _items(block[below], base)
        if not moves:  # every item kept (its id stays its own): no need to know which entered
            ids = _ids(items)
            deque(map(heapq.heappushpop, repeat(heap), items), maxlen=0)
            origins.add(items, ids, below + at)
        elif items:
            out = list(map(heapq.heappushpop, repeat(heap), items))  # the item itself: stayed out
            ids, out_ids = _ids(items), _ids(out)
            entered = ids != out_ids
            origins.add(list(compress(items, entered.tolist())), ids[entered], below[entered] + at)
            moved.append((below[entered] + at, out_ids[entered]))  # (alive: they entered)
        at, size = at + size, min(2 * size, _BLOCK)
    return heap, origins, moved


def heapsort_ranges(packed: np.ndarray, first: np.ndarray, last: np.ndarray, shift) -> None:
    """:func:`heapsort` of every range ``[first, last)`` of ``packed`` (int64, compared by
    ``packed >> shift``), in place, all ranges at once: ``make_heap`` one level of parents at a
    time (deepest first: parents of one level have disjoint subtrees, whose heaps are built,
    so their order does not matter), then ``sort_heap`` one pop of every range at a time. For
    many ranges: the steps are as many as one range needs (NumPy calls on all of them)."""
    order = np.argsort(first - last, kind="stable")  # longest first: the active ones a prefix
    first, length = first[order], (last - first)[order]
    top = int(length[0]) if length.size else 0
    for depth in range(max(top - 1, 1).bit_length() - 1, -1, -1):
        # the parents p = 2**depth - 1 .. 2**(depth + 1) - 2 with p <= (length - 2) // 2
        lo, count = 2**depth - 1, np.clip((length - 2) // 2 - (2**depth - 1) + 1, 0, 2**depth)
        ranges = np.repeat(np.arange(first.size), count)
        hole = _positions_from(count) + lo
        base, size = first[ranges], length[ranges]
        _adjust_heap(packed, base, hole, size, packed[base + hole], shift)
    for step in range(1, top):
        active = int(np.searchsorted(-length, -step, "left"))  # ranges longer than step
        base, size = first[:active], length[:active] - step  # the heap after the pop
        value = packed[base + size]
        packed[base + size] = packed[base]
        _adjust_heap(packed, base, np.zeros(active, np.int64), size, value, shift)


def _positions_from(count: np.ndarray) -> np.ndarray:
    """``0, 1, ..., count[i] - 1`` for each ``i``, one after another."""
    total = int(count.sum())
    starts = np.repeat(np.cumsum(count) - count, count)
    return np.arange(total, dtype=np.int64) - starts


def _adjust_heap(packed, base, hole, size, value, shift) -> None:
    """libstdc++'s ``__adjust_heap(base, hole, size, value)`` of many heaps at once (one
    ``hole`` each): the hole goes down to a leaf along the greater child (the right one unless
    it is below the left one), then ``value`` goes up from there past parents below it."""
    top = hole.copy()
    hole = hole.copy()
    going = np.flatnonzero(hole < (size - 1) // 2)
    while going.size:
        b, child = base[going], 2 * (hole[going] + 1)
        right, left = packed[b + child], packed[b + child - 1]
        child -= (right >> shift) < (left >> shift)
        packed[b + hole[going]] = packed[b + child]
        hole[going] = child
        going = going[child < (size[going] - 1) // 2]
    tail = np.flatnonzero((size % 2 == 0) & (hole == (size - 2) // 2))  # one left child
    b, child = base[tail], 2 * hole[tail] + 1
    packed[b + hole[tail]] = packed[b + child]
    hole[tail] = child
    key = value >> shift
    going = np.flatnonzero(hole > top)
    while going.size:
        parent = (hole[going] - 1) // 2
        up = (packed[base[going] + parent] >> shift) < key[going]
        going, parent = going[up], parent[up]
        packed[base[going] + hole[going]] = packed[base[going] + parent]
        hole[going] = parent
        going = going[parent > top[going]]
    packed[base + hole] = value
