"""The array side of tracing: an ndarray subclass that records every NumPy call made on it.

While :func:`minigrad.compile` traces a call, every array a tensor hands out is a
:class:`Traced` view. NumPy routes operators, ufuncs and its functions on such arrays through
``__array_ufunc__`` / ``__array_function__``; the methods that NumPy runs in C without those
protocols (``reshape``, ``__getitem__``, ``astype``, ...) are overridden below. Each call runs
on plain arrays (so the eager result is exactly NumPy's) and is appended to the active
:class:`Recorder` as an instruction that can run again later, writing into the same result
array. Reading a value on the host (``bool``, ``float``, ``.item()``, printing) is recorded as a
guard or ends the capture (see :meth:`Recorder.host_read`).
"""

from __future__ import annotations

import numpy as np

from .symbolic import contains, evaluate
from .tree import tree_map

# The recorder of the trace now running, or None (then Traced arrays behave as plain ones).
active = None

_ndarray = np.ndarray
_view = np.ndarray.view


def plain(a):
    """``a`` as a plain ndarray sharing its memory (other objects unchanged)."""
    return _view(a, _ndarray) if isinstance(a, Traced) else a


def plain_tree(obj):
    """``obj`` with every :class:`Traced` inside tuples, lists and dicts made plain."""
    return tree_map(plain, obj)


def _run(rec, func, args, kwargs):
    """``func(*args, **kwargs)``, with step counters (:class:`Sym`) as the numbers they are."""
    if rec is not None and rec.symbolic and (contains(args) or contains(kwargs)):
        return func(*evaluate(args, None), **evaluate(kwargs, None))
    return func(*args, **kwargs)


class Traced(np.ndarray):
    """An ndarray whose NumPy calls are recorded while a trace is active."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        rec = active
        args = plain_tree(inputs)
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = plain_tree(out)
        if rec is not None and rec.symbolic and contains(args):
            result = getattr(ufunc, method)(*evaluate(args, None), **kwargs)
        else:
            result = getattr(ufunc, method)(*args, **kwargs)
        if rec is None:
            return result
        return rec.ufunc(ufunc, method, inputs, args, kwargs, out, result)

    def __array_function__(self, func, types, args, kwargs):
        rec = active
        pargs, pkwargs = plain_tree(args), plain_tree(kwargs)
        result = _run(rec, func, pargs, pkwargs)
        if rec is None:
            return result
        return rec.function(func, pargs, pkwargs, result, args, kwargs)

    # -- reading values on the host ----------------------------------------------------------
    def _host(self, what):
        if active is not None:
            active.host_read(self, what)
        return plain(self)

    def __bool__(self):
        return bool(self._host("bool()"))

    def __float__(self):
        return float(self._host("float()"))

    def __int__(self):
        return int(self._host("int()"))

    def __index__(self):
        return self._host("an index").__index__()

    def __complex__(self):
        return complex(self._host("complex()"))

    def item(self, *args):
        return self._host(".item()").item(*args)

    def tolist(self):
        return self._host(".tolist()").tolist()

    def tobytes(self, order="C"):
        return self._host(".tobytes()").tobytes(order)

    def __repr__(self):
        return repr(self._host("printing"))

    def __str__(self):
        return str(self._host("printing"))

    def __format__(self, spec):
        return format(self._host("formatting"), spec)

    def __reduce__(self):
        return self._host("pickling").__reduce__()

    @property
    def T(self):  # noqa: N802 - ndarray's name
        return self.transpose()

    @property
    def mT(self):  # noqa: N802 - ndarray's name
        return self.swapaxes(-1, -2)


def _method(name):
    base = getattr(np.ndarray, name)

    def call(self, *args, **kwargs):
        pself, pargs, pkwargs = plain(self), plain_tree(args), plain_tree(kwargs)
        rec = active
        result = _run(rec, base, (pself,) + pargs, pkwargs)
        if rec is None:
            return result
        return rec.function(base, (pself,) + pargs, pkwargs, result, (self,) + args, kwargs)

    call.__name__ = name
    call.__doc__ = f"``ndarray.{name}``, recorded while a trace is active."
    return call


# Methods NumPy runs in C without the array protocols (reductions such as sum/max/mean go
# through ufuncs already). A method missing here that makes a view is still found (its base is
# a known array); one that makes a new array ends the capture instead of being missed.
_METHODS = (
    "__getitem__", "__setitem__", "reshape", "transpose", "swapaxes", "squeeze", "ravel",
    "flatten", "astype", "copy", "fill", "argmax", "argmin", "argsort", "sort", "cumsum",
    "cumprod", "dot", "take", "repeat", "diagonal", "round", "nonzero", "put", "conj",
    "conjugate", "searchsorted", "partition", "argpartition", "trace", "choose",
    "compress", "__copy__", "__deepcopy__", "byteswap", "view",
)  # fmt: skip
for _name in _METHODS:
    setattr(Traced, _name, _method(_name))


class XpProxy:
    """The NumPy module as ops see it during a trace: array creation is recorded too.

    Functions that take no array (``zeros``, ``arange``, ``asarray`` of a list) never reach
    ``__array_function__``; their results become traced constants here.
    """

    _CREATE = frozenset(
        "zeros ones empty full arange eye identity linspace array asarray asanyarray "
        "ascontiguousarray asfortranarray tri frombuffer fromiter".split()
    )

    def __init__(self, recorder):
        self._recorder = recorder

    def __getattr__(self, name):
        value = getattr(np, name)
        if name in self._CREATE:
            return self._recorder.creator(name, value)
        if name == "random":  # draws that a replay would repeat unchanged
            self._recorder.poison("NumPy's own random numbers (minigrad's generators replay)")
        return value
