"""libstdc++'s heap algorithms (``make_heap``, ``sort_heap``, ``__heap_select``) on keys with
ties, run by Python's C ``heapq``.

``heapq`` moves items exactly as libstdc++'s ``__adjust_heap`` does, mirrored: both sift a hole
down to a leaf along the child that is not worse (the right one on a tie), then push the item
up past strictly worse parents; ``heapify`` visits the parents as ``make_heap`` does, and
``heappop``/``heapreplace`` put the last (or the new) item at the root and sift it as
``__pop_heap`` does. libstdc++ builds a max-heap under ``<``; ``heapq`` builds a min-heap under
``<``, so the keys are negated. Equal keys must compare equal, so each item is a key alone:
a fresh int object per element (2**64 minus the key: never one of CPython's cached small
ints), recognized after the heap work by its identity.
"""

from __future__ import annotations

import heapq

import numpy as np

_BLOCK = 4096  # the most keys compared with the heap's top at once
_FRESH = 1 << 64  # above every int64 key: ``_FRESH - key`` is a new object, never a cached one


def _items(keys: np.ndarray) -> list:
    """One distinct int object per key, ordered as the keys reversed (see the module doc)."""
    return [_FRESH - key for key in keys.tolist()]


def heapsort(keys: np.ndarray) -> np.ndarray:
    """The arrangement (indices into ``keys``) libstdc++'s ``__partial_sort(first, last,
    last)`` (``make_heap``, then ``sort_heap``) leaves the 1-D int ``keys`` in."""
    heap = _items(keys)
    where = {id(item): at for at, item in enumerate(heap)}
    heapq.heapify(heap)
    popped = [heapq.heappop(heap) for _ in range(keys.size)]
    return np.array([where[id(item)] for item in reversed(popped)], np.int64)  # tops go last


def heap_select(keys: np.ndarray, middle: int) -> np.ndarray:
    """The arrangement libstdc++'s ``__heap_select(first, first + middle, last)`` leaves the 1-D
    int ``keys`` in: a heap of the first ``middle``; each later key below the heap's top
    replaces the top, which takes the key's place."""
    heap, where = _heap_of(keys[:middle])
    arranged = np.arange(keys.size, dtype=np.int64)
    for at, item in _below_top(keys, middle, heap):
        if heap[0] < item:  # (negated) the key is below the top
            where[id(item)] = at  # (an id may be reused once its object is gone, never before)
            arranged[at] = where[id(heapq.heapreplace(heap, item))]
    arranged[:middle] = [where[id(item)] for item in heap]
    return arranged


def partial_sort(keys: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` indices after libstdc++'s ``std::partial_sort`` of the 1-D int ``keys``
    (``__heap_select``, then ``sort_heap`` of the heap)."""
    heap, where = _heap_of(keys[:k])
    for at, item in _below_top(keys, k, heap):
        if heap[0] < item:
            where[id(item)] = at
            heapq.heapreplace(heap, item)
    popped = [heapq.heappop(heap) for _ in range(k)]
    return np.array([where[id(item)] for item in reversed(popped)], np.int64)


def _heap_of(keys: np.ndarray):
    """``make_heap`` of ``keys``: the heap of items and where each item came from."""
    heap = _items(keys)
    where = {id(item): at for at, item in enumerate(heap)}
    heapq.heapify(heap)
    return heap, where


def _below_top(keys: np.ndarray, start: int, heap: list):
    """``(position, item)`` of the keys from ``start`` on that may replace the heap's top: only
    keys below the top do, and the top only falls, so each block is narrowed in NumPy to its
    keys below the top it starts with (short blocks first, where the top falls fastest)."""
    at, size = start, max(4 * start, 16)
    while at < keys.size:
        block = keys[at : at + size]
        below = np.flatnonzero(block < _FRESH - heap[0])
        yield from zip((below + at).tolist(), _items(block[below]))
        at, size = at + size, min(2 * size, _BLOCK)
