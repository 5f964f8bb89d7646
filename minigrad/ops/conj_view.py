"""Lazy conjugate views: ``x.conj()`` of a complex tensor, as PyTorch's conjugate bit.

PyTorch's ``conj()`` returns a view of ``x`` whose reads conjugate (``is_conj()`` is True): it
shares ``x``'s storage and version counter, a write through it lands conjugated in ``x``, and a
write to ``x`` shows in it. NumPy has no lazily conjugated array, so minigrad keeps the view's
values, conjugated, in an array of its own and keeps the two in step at each in-place write.
Every write goes through the version counter the view shares with ``x``; a counter with
conjugate views attached becomes a :class:`SyncedCounter`, which, when bumped, copies the side
that changed into the other (conjugated). Reads of the view are ordinary reads of its array,
so every op sees conjugated values without a conjugate-aware kernel; ops that must know
(``view_as_real``, ``numpy()``) ask :func:`is_conj`.

Differs from PyTorch: a write that bypasses the version counter -- into the array
``x.numpy()`` returned, or through ``x.data`` -- is not seen by a conjugate view made before it.
"""

from __future__ import annotations

import sys
import weakref

import numpy as np  # (addresses of host arrays)

from ..autograd.graph import VersionCounter, version_counter
from .base import Op

_VALUE = VersionCounter.__dict__["value"]  # the slot itself: SyncedCounter wraps it


class SyncedCounter(VersionCounter):
    """The version counter of a tensor that has conjugate views: each bump (one in-place
    write, after it happened) brings the views and their sources back in step."""

    __slots__ = ()

    @property
    def value(self) -> int:
        return _VALUE.__get__(self)

    @value.setter
    def value(self, v: int) -> None:
        _VALUE.__set__(self, v)
        _sync(self)


class _Link:
    """A conjugate view's own array (``ref``), the array it conjugates (``source``, memory of
    the base) and the view's values at the last sync (to tell which side was written)."""

    __slots__ = ("ref", "key", "source", "snapshot", "xp")

    def __init__(self, key, source, snapshot, xp):
        self.key, self.source, self.snapshot, self.xp = key, source, snapshot, xp


class _Held:
    """A strong reference, for arrays without weak references (CuPy's): the array counts as
    gone once nothing else holds it (CPython's reference count)."""

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __call__(self):
        array = self.array
        if array is not None and sys.getrefcount(array) <= 3:  # the slot, `array`, the argument
            self.array = None
        return self.array


_LINKS: dict = {}  # id(counter) -> (counter, [_Link, ...]) in the order the views were made
# id(array) -> (its weak reference, its memory's first and past-the-end addresses, whether its
# values are conjugated): the views of a conjugate view are the tensors whose memory it owns
# (NumPy: found through their bases) or whose memory lies there (device arrays)
_OWNERS: dict = {}


def _sync(counter) -> None:
    """After a write: copy each view that changed into its source (repeated, for a conjugate
    of a conjugate), then refresh every view from its source, in the order they were made."""
    entry = _LINKS.get(id(counter))
    if entry is None:
        return
    links = []
    for link in list(entry[1]):
        view = link.ref()
        if view is None:
            _forget(counter, link, link.key)
        else:
            links.append((link, view))
    changed = True
    while changed:
        changed = False
        for link, view in reversed(links):
            if not link.xp.array_equal(view, link.snapshot, equal_nan=True):
                link.xp.conjugate(view, out=link.source)
                link.snapshot[...] = view
                changed = True
    for link, view in links:
        link.xp.conjugate(link.source, out=view)
        link.snapshot[...] = view


def _forget(counter, link, key: int) -> None:
    """The view's array is gone: drop its link."""
    _OWNERS.pop(key, None)
    entry = _LINKS.get(id(counter))
    if entry is None or link not in entry[1]:
        return
    entry[1].remove(link)
    if not entry[1]:  # (the counter stays synced: a loop conjugates the same tensor again)
        del _LINKS[id(counter)]


def _read_only(array) -> None:
    """Make ``array`` refuse in-place writes (where its backend lets it: NumPy's)."""
    if hasattr(array.flags, "writeable"):
        array.flags.writeable = False


def _address(array) -> int:
    """The address of ``array``'s first element (NumPy's, CuPy's, or the stand-in device's)."""
    if isinstance(array, np.ndarray):
        return array.ctypes.data
    memory = array.data
    ptr = getattr(memory, "ptr", None)  # CuPy: a memory pointer
    return int(ptr) if ptr is not None else np.asarray(memory).ctypes.data  # (a memoryview)


def _link(source, view, conjugated: bool) -> None:
    """Tie ``view`` (a new conjugate view of ``source``) to ``source``'s memory."""
    src, array = source._data, view._data
    xp = source.device.xp
    counter = version_counter(view)  # (the view op shares the source's counter)
    key = id(array)
    link = _Link(key, src, array.copy(), xp)
    try:
        link.ref = weakref.ref(array, lambda _: _forget(counter, link, key))
    except TypeError:  # (CuPy's arrays take no weak references)
        link.ref = _Held(array)
    start = 0 if isinstance(array, np.ndarray) else _address(array)  # (see is_conj)
    _OWNERS[key] = (link.ref, start, start + array.nbytes, conjugated)
    if not getattr(src.flags, "writeable", True) or any(
        st == 0 and n > 1 for st, n in zip(src.strides, src.shape)
    ):
        _read_only(array)  # (an expanded or read-only source takes no writes)
    if type(counter) is VersionCounter:
        counter.__class__ = SyncedCounter
    elif type(counter) is not SyncedCounter:  # an inference tensor's counter counts nothing
        _read_only(array)
        return
    _LINKS.setdefault(id(counter), (counter, []))[1].append(link)


class Conj(Op):
    """w = conj(z), computed (``conj_physical``); grad_z = conj(grad_w)"""

    supports_complex = True
    backward_name = "ConjPhysicalBackward0"

    def forward(self, z):
        return self.xp.conj(z)

    def backward(self, gw):
        return self.formula(_conj_vjp, gw)


def _conj_vjp(ns, g):
    return ns.conj_physical(g) if hasattr(ns, "conj_physical") else ns.conj(g)


def conj_physical(input):
    """The complex conjugate, computed (an ordinary new tensor, not a view)."""
    return Conj()(input) if input._data.dtype.kind == "c" else input


class ConjView(Conj):
    """w = conj(z), a view of z (reads conjugate, writes go through); grad_z = conj(grad_w)"""

    is_view = True
    conjugates = True  # (read by view_conjugates: an in-place write through it is conjugated)
    backward_name = "ConjBackward0"

    def __call__(self, z):
        out = super().__call__(z)
        try:
            plain = type(z._data) is type(out._data) and hasattr(out._data, "strides")
        except NotImplementedError:  # a vmap batch: its samples are values, not views
            return out
        if plain:
            _link(z, out, not is_conj(z))
        return out


def is_conj(input) -> bool:
    """Whether ``input`` is a conjugate view (PyTorch's conjugate bit): its reads conjugate
    the memory it shares with the tensor ``conj()`` was called on. False for real tensors."""
    if not _OWNERS:
        return False
    try:
        data = input._data
        if getattr(getattr(data, "dtype", None), "kind", None) != "c":
            return False
        if isinstance(data, np.ndarray):  # NumPy: the array that owns the memory, by identity
            owner = data
            while owner.base is not None:  # (through as_strided's DummyArray too)
                owner = owner.base
            entry = _OWNERS.get(id(owner))
            return entry is not None and entry[0]() is owner and entry[3]
        address = _address(data)  # (device arrays: by address)
    except NotImplementedError:  # a vmap batch: its samples are values, never views
        return False
    for ref, start, stop, conjugated in list(_OWNERS.values()):
        if start <= address < stop and ref() is not None:
            return conjugated
    return False


def conj(input):
    """The complex conjugate as a view of ``input`` (PyTorch's lazy conjugation: ``is_conj()``
    is True, writes through it reach ``input`` conjugated, writes to ``input`` show in it);
    a real tensor itself. The conjugate of a conjugate view is a view with plain values.

    Example:
        >>> z = minigrad.tensor([1 + 2j]); w = z.conj(); w.mul_(2); z
        tensor([2.+4.j])
    """
    if input._data.dtype.kind != "c":
        return input
    return ConjView()(input)


def resolve_conj(input):
    """``input``, or for a conjugate view a new tensor with its values (not a view)."""
    return input.clone() if is_conj(input) else input


def is_neg(input) -> bool:
    """Whether ``input`` is a negated view (PyTorch's negative bit): the imaginary part of a
    conjugate view (``x.conj().imag``)."""
    if input._base is None or input._data.dtype.kind == "c":
        return False
    ops = input._view[0]
    return any(getattr(op, "selects_part", None) == "imag" for op in ops) and view_conjugates(ops)


def resolve_neg(input):
    """``input``, or for a negated view (:func:`is_neg`) a new tensor with its values."""
    return input.clone() if is_neg(input) else input


def view_conjugates(ops: tuple) -> bool:
    """Whether the chain of view ops ``ops`` conjugates (an odd number of conjugate views)."""
    return sum(bool(getattr(op, "conjugates", False)) for op in ops) % 2 == 1


def refuse_conj(input, message: str) -> None:
    """Raise ``message`` (PyTorch's words) for a conjugate view, where an op needs the
    conjugation resolved first."""
    if is_conj(input):
        raise RuntimeError(message)
