"""Memory planning for a replay: temporaries whose lifetimes do not overlap share memory.

A trace leaves one array per intermediate result; replaying into all of them keeps a working
set several times larger than the step needs (NumPy's own temporaries are reused by the
allocator while still in cache). Arrays that only the instructions see — not held by any
tensor after the call, not state, inputs or outputs — are given storage from a pool: each is
live from the instruction that computes it to the last one that uses it, and storage is
reused by a later array of the same size once the earlier one is dead.
"""

from __future__ import annotations

import bisect

import numpy as np
from numpy.lib.array_utils import byte_bounds

from .recorder import _arrays_in, root
from .tree import tree_map


def _address(a) -> int:
    return a.__array_interface__["data"][0]


def plan(instrs, candidates: dict) -> dict:
    """``{id(array): replacement}`` for every array of ``instrs`` (the needed instructions,
    guards included, in order) that lives in one of ``candidates`` (``{id(root): root}``,
    roots that an instruction computes afresh before anything reads them)."""
    first, last, arrays = {}, {}, {}
    for i, ins in enumerate(instrs):
        found = [ins[1]] if ins[0] == "guard" else _arrays_in((ins[2], ins[3], ins[4]), [])
        for a in found:
            r = id(root(a))
            if r in candidates:
                first.setdefault(r, i)
                last[r] = i
                arrays[id(a)] = a
    # A candidate's first use must be the instruction that computes it (else it carries a
    # value from before): drop any that is read first.
    for r, i in list(first.items()):
        ins = instrs[i]
        if ins[0] == "guard" or r not in ins[5]:
            del first[r]
    _drop_overlapped(first, candidates, instrs)
    starts, ends = {}, {}
    for r, i in first.items():
        starts.setdefault(i, []).append(r)
        ends.setdefault(last[r], []).append(r)
    storage, free = {}, {}
    for i in range(len(instrs)):
        for r in starts.get(i, ()):
            n = candidates[r].nbytes
            pool = free.get(n)
            storage[r] = pool.pop() if pool else np.empty(n, np.uint8)
        for r in ends.get(i, ()):
            if r in storage:
                free.setdefault(candidates[r].nbytes, []).append(storage[r])
    moved = {}
    for a in arrays.values():
        r = root(a)
        buf = storage.get(id(r))
        if buf is not None:
            offset = _address(a) - _address(r)
            moved[id(a)] = np.ndarray(a.shape, a.dtype, buf, offset, a.strides)
    return moved


def _drop_overlapped(first: dict, candidates: dict, instrs) -> None:
    """Keep in place any candidate whose memory an array not known to be its view reaches
    (a view made without a ``base`` chain back to it): moving it would leave that view behind."""
    bounds = sorted((_address(candidates[r]), _address(candidates[r]) + candidates[r].nbytes, r)
                    for r in first)  # fmt: skip
    if not bounds:
        return
    starts = [b[0] for b in bounds]
    for ins in instrs:
        found = [ins[1]] if ins[0] == "guard" else _arrays_in((ins[2], ins[3], ins[4]), [])
        for a in found:
            if id(root(a)) in candidates or not a.size:
                continue
            lo, hi = byte_bounds(a)
            i = bisect.bisect_right(starts, hi - 1) - 1
            while i >= 0 and bounds[i][1] > lo:
                first.pop(bounds[i][2], None)
                i -= 1


def remap(obj, moved: dict):
    """``obj`` with every array in ``moved`` (inside tuples, lists, dicts) replaced."""
    return tree_map(lambda a: moved.get(id(a), a) if isinstance(a, np.ndarray) else a, obj)
