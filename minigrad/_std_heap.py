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
"""

from __future__ import annotations

import heapq

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


def heapsort(keys: np.ndarray) -> np.ndarray:
    """The arrangement (indices into ``keys``) libstdc++'s ``__partial_sort(first, last,
    last)`` (``make_heap``, then ``sort_heap``) leaves the 1-D int ``keys`` in."""
    heap, where = _heap_of(keys, _base(keys))
    pop = heapq.heappop
    popped = [pop(heap) for _ in range(keys.size)]
    popped.reverse()  # sort_heap moves each top to the back
    return np.fromiter(map(where.__getitem__, map(id, popped)), np.int64, keys.size)


def heap_select(keys: np.ndarray, middle: int) -> np.ndarray:
    """The arrangement libstdc++'s ``__heap_select(first, first + middle, last)`` leaves the 1-D
    int ``keys`` in: a heap of the first ``middle``; each later key below the heap's top
    replaces the top, which takes the key's place."""
    base = _base(keys)
    heap, where = _heap_of(keys[:middle], base)
    arranged = np.arange(keys.size, dtype=np.int64)
    for at, item in _below_top(keys, middle, heap, base):
        if heap[0] < item:  # (negated) the key is below the top
            where[id(item)] = at  # (an id may be reused once its object is gone, never before)
            arranged[at] = where[id(heapq.heapreplace(heap, item))]
    arranged[:middle] = [where[id(item)] for item in heap]
    return arranged


def partial_sort(keys: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` indices after libstdc++'s ``std::partial_sort`` of the 1-D int ``keys``
    (``__heap_select``, then ``sort_heap`` of the heap)."""
    base = _base(keys)
    heap, where = _heap_of(keys[:k], base)
    for at, item in _below_top(keys, k, heap, base):
        if heap[0] < item:
            where[id(item)] = at
            heapq.heapreplace(heap, item)
    pop = heapq.heappop
    popped = [pop(heap) for _ in range(k)]
    popped.reverse()
    return np.fromiter(map(where.__getitem__, map(id, popped)), np.int64, k)


def _heap_of(keys: np.ndarray, base: int):
    """``make_heap`` of ``keys``: the heap of items and where each item came from."""
    heap = _items(keys, base)
    where = {id(item): at for at, item in enumerate(heap)}
    heapq.heapify(heap)
    return heap, where


def _below_top(keys: np.ndarray, start: int, heap: list, base: int):
    """``(position, item)`` of the keys from ``start`` on that may replace the heap's top: only
    keys below the top do, and the top only falls, so each block is narrowed in NumPy to its
    keys below the top it starts with (short blocks first, where the top falls fastest)."""
    at, size = start, max(4 * start, 16)
    while at < keys.size:
        block = keys[at : at + size]
        below = np.flatnonzero(block < base - heap[0])
        yield from zip((below + at).tolist(), _items(block[below], base))
        at, size = at + size, min(2 * size, _BLOCK)
