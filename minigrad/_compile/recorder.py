"""The instruction list of one traced call: what each recorded NumPy call becomes on replay.

Every instruction writes into arrays the trace created (or into the state arrays it was given),
so replaying the list recomputes every value in place and all Python references made during the
trace (``param.grad``, optimizer state, outputs) see the new values. Views need no instruction:
they share the memory of an array that is recomputed.
"""

from __future__ import annotations

import numpy as np

from . import arrays
from .arrays import Traced, _view, plain, plain_tree
from .symbolic import contains, evaluate
from .tree import leaves

# NumPy functions whose result describes an array (not its values): safe to bake in.
_METADATA = frozenset(
    f
    for f in (
        np.shape, np.ndim, np.size, np.result_type, np.may_share_memory, np.shares_memory,
        np.iscomplexobj, np.isrealobj, np.min_scalar_type, np.can_cast,
    )
)  # fmt: skip


_SCALAR_READS = ("bool()", "int()", "float()", "an index", ".item()")
# integer arrays read whole on the host (.tolist()) up to this size become guards
GUARD_ELEMENTS = 4096
_NO_POSITIONAL_OUT = (np.maximum, np.minimum)  # NumPy deprecates their third positional argument


def root(a):
    """The object that owns ``a``'s memory: the end of its ``base`` chain, also through the
    holders that ``as_strided`` puts between a view and its array."""
    base = a.base
    while base is not None:
        a, base = base, getattr(base, "base", None)
    return a


# NumPy calls whose result's shape depends on the values of their arguments, not only on
# their shapes: a replay checks the shape before writing the result (a guard)
_DATA_SHAPED = frozenset(
    getattr(np, name)
    for name in (
        "nonzero argwhere flatnonzero unique unique_all unique_counts unique_inverse "
        "unique_values compress extract trim_zeros setdiff1d intersect1d union1d setxor1d "
        "bincount delete insert"
    ).split()
    if hasattr(np, name)
) | {np.ndarray.nonzero, np.ndarray.compress}


# results whose values are whatever memory held (never constants, whatever their arguments)
_UNINITIALIZED = frozenset((np.empty_like, np.empty))


def _data_shaped(func, pargs, pkwargs) -> bool:
    """Whether ``func(*pargs, **pkwargs)`` has a shape that depends on array values."""
    if func in _DATA_SHAPED:
        return True
    if func is np.ndarray.__getitem__:  # a boolean mask picks a data-dependent count
        return any(a.dtype == bool for a in _arrays_in(pargs[1:], []))
    if func is np.repeat or func is np.ndarray.repeat:  # repeats given per element
        return any(isinstance(a, np.ndarray) and a.size > 1 for a in _arrays_in(pargs[1:], []))
    if func is np.where:
        return len(pargs) + len(pkwargs) == 1
    return False


def _arrays_in(obj, found):
    """The arrays among the leaves of ``obj``, appended to ``found``."""
    found.extend(a for a in leaves(obj, []) if isinstance(a, np.ndarray))
    return found


class Recorder:
    """Collects the instructions of one traced call; :attr:`poisoned` says why it cannot replay."""

    def __init__(self):
        self.known = {}  # id -> Traced array: every array the instructions may touch
        self.roots = {}  # id(root) -> root: memory that recorded arrays live in
        # (kind, func, args, kwargs, dests, written root ids), or ("guard", array, value, what);
        # kind "call" writes into dests, "copy" returns what is copied into them, "shaped" too
        # after checking the shape (its last dest is the flag that the next guard reads)
        self.instrs = []
        self.produced = set()  # ids of the arrays that instructions compute afresh each replay
        self.resets = {}  # instruction index -> root id, for constants rewritten each replay
        self.generators = {}  # id -> backend Generator drawn from
        self.symbolic = False  # whether step counters are traced as expressions (see Sym)
        self.env = [None]  # the counters' values during a replay, read by late-bound calls
        # roots whose value so far is a function of the trace's constants alone (see _emit)
        self.constant_roots = set()
        self.on_write = None  # called with the roots each instruction writes (see Capture)
        # id(instruction) -> np.geterr() where it differs from the trace's (np.errstate blocks)
        self.outer_err, self.errstates = np.geterr(), {}
        self.poisoned = None

    def poison(self, reason: str) -> None:
        """Mark the trace as not replayable (the first reason is kept); the call itself stays
        correct, it ran eagerly."""
        if self.poisoned is None:
            self.poisoned = reason

    # -- registration -----------------------------------------------------------------------
    def register(self, array) -> Traced:
        """``array`` (plain, fresh or adopted) as a known :class:`Traced` array."""
        t = array if isinstance(array, Traced) else _view(np.asarray(array), Traced)
        self.known[id(t)] = t
        r = root(t)
        self.roots[id(r)] = r
        return t

    def fresh(self, array) -> Traced:
        """A new array's value in a new traced array that owns its memory (``base is None``,
        as the array was: the engine lets a leaf adopt such a gradient buffer without a copy)."""
        array = np.asarray(array)
        order = "F" if array.flags.f_contiguous and not array.flags.c_contiguous else "C"
        t = np.ndarray.__new__(Traced, array.shape, array.dtype, order=order)
        np.copyto(_view(t, np.ndarray), array)
        return self.register(t)

    def _check(self, args) -> None:
        """Every traced array among ``args`` must be known, or a view of known memory."""
        for a in _arrays_in(args, []):
            if isinstance(a, Traced) and id(a) not in self.known:
                if id(root(a)) in self.roots:
                    self.register(a)
                else:
                    self.poison(f"an array of shape {a.shape} made by an unrecorded call")

    def _emit(self, kind, func, args, kwargs, dests, fresh=False, source=False) -> None:
        """Append an instruction: ``kind`` "call" runs ``func(*args, **kwargs)``, which writes
        into ``dests``; "copy" copies what it returns into ``dests``. ``fresh``: the dests are
        new arrays it fills whole; ``source``: it brings in new values (a random draw)."""
        written = frozenset(id(root(d)) for d in dests)
        if not written <= self.roots.keys():  # its old value would be kept across replays
            self.poison("a write into an array made outside the recorded calls")
        ins = (kind, func, args, kwargs, tuple(dests), written)
        self.instrs.append(ins)
        err = np.geterr()
        if err != self.outer_err:
            self.errstates[id(ins)] = err
        if self.on_write is not None:
            self.on_write(written)
        # Constant propagation: the written arrays stay functions of the trace's constants
        # only if every array it reads is one (and, written in place, they were before).
        known = self.constant_roots
        if (
            not source
            and func not in _UNINITIALIZED
            and (fresh or written <= known)
            and not (contains(args) or contains(kwargs))
            and all(
                r in known or (fresh and r in written)  # (a fresh result is passed as out=)
                for r in map(id, map(root, _arrays_in((args, kwargs), [])))
            )
        ):
            known |= written
        else:
            known -= written

    def _fresh(self, func, pargs, pkwargs, result):
        """Register ``result`` (a new array or tuple of arrays) and the instruction that
        recomputes it into the same arrays."""
        many = isinstance(result, (tuple, list))
        bufs = tuple(self.fresh(r) for r in (result if many else (result,)))
        dests = tuple(plain(b) for b in bufs)
        if _data_shaped(func, pargs, pkwargs):  # x[mask], nonzero, unique: a shape guard
            flag = plain(self.fresh(np.ones((), bool)))
            self._emit("shaped", func, pargs, pkwargs, dests + (flag,), fresh=True)
            self.instrs.append(("guard", flag, True, "a shape"))
        else:
            self._emit("copy", func, pargs, pkwargs, dests, fresh=True)
        self.produced.update(id(b) for b in bufs)
        if not many:
            return bufs[0]
        return type(result)(*bufs) if hasattr(result, "_fields") else type(result)(bufs)

    # -- the array protocols ------------------------------------------------------------------
    def ufunc(self, ufunc, method, inputs, args, kwargs, out, result):
        self._check(inputs)
        self._check(out)
        f = getattr(ufunc, method)
        if method == "at":  # in place into the first input
            self._emit("call", f, args, kwargs, (args[0],))
            return result
        if out is not None:
            self._emit_ufunc(ufunc, method, args, kwargs)
            return out[0] if len(out) == 1 else out
        results = result if isinstance(result, tuple) else (result,)
        bufs = tuple(self.fresh(r) for r in results)
        outs = tuple(plain(b) for b in bufs)
        self._emit_ufunc(ufunc, method, args, dict(kwargs, out=outs), fresh=True)
        self.produced.update(id(b) for b in bufs)
        return bufs if isinstance(result, tuple) else bufs[0]

    def _emit_ufunc(self, ufunc, method, args, kwargs, fresh=False):
        out = kwargs["out"]
        if method == "__call__" and len(kwargs) == 1 and ufunc not in _NO_POSITIONAL_OUT:
            self._emit("call", ufunc, tuple(args) + tuple(out), {}, out, fresh)  # parsed faster
        else:
            self._emit("call", getattr(ufunc, method), args, kwargs, out, fresh)

    def function(self, func, pargs, pkwargs, result, args, kwargs):
        """A NumPy function or ndarray method called with traced arrays."""
        self._check(args)
        self._check(kwargs)
        out = pkwargs.get("out")
        if result is None:  # in place into the first argument (copyto, fill, __setitem__, sort)
            self._emit("call", func, pargs, pkwargs, (pargs[0],))
            return None
        if out is not None and result is out:
            self._emit("call", func, pargs, pkwargs, (out,))
            return kwargs["out"]
        if isinstance(result, np.generic):
            result = np.asarray(result)
        if isinstance(result, np.ndarray):
            inputs = _arrays_in((pargs, pkwargs), [])
            if any(np.may_share_memory(result, a) for a in inputs):
                return self.register(result)  # a view: recomputed with its base
            return self._fresh(func, pargs, pkwargs, result)
        if isinstance(result, tuple) and result and all(isinstance(r, np.generic) for r in result):
            result = (
                type(result)(*map(np.asarray, result))
                if hasattr(result, "_fields")
                else (tuple(map(np.asarray, result)))
            )  # slogdet of one matrix: numbers, recomputed as 0-d arrays
        if (
            isinstance(result, (tuple, list))
            and result
            and all(isinstance(r, np.ndarray) for r in result)
        ):
            inputs = _arrays_in((pargs, pkwargs), [])
            if any(np.may_share_memory(r, a) for r in result for a in inputs):
                views = [self.register(r) for r in result]  # views (split, ...)
                return type(result)(*views) if hasattr(result, "_fields") else type(result)(views)
            return self._fresh(func, pargs, pkwargs, result)
        if func not in _METADATA:
            self.poison(f"{getattr(func, '__name__', func)} returned a value on the host")
        return result

    def creator(self, name, fn):
        """``xp.<name>`` (a creation function) for the trace: results are traced constants."""

        def create(*args, **kwargs):
            if arrays.active is not self:  # an op made during the trace, run after it
                return fn(*args, **kwargs)
            pargs, pkwargs = plain_tree(args), plain_tree(kwargs)
            if contains(pargs) or contains(pkwargs):
                self.poison(f"a step counter passed to {name}()")
                pargs, pkwargs = evaluate(pargs, None), evaluate(pkwargs, None)
            result = fn(*pargs, **pkwargs)
            if _arrays_in((args, kwargs), []):  # asarray(x) of arrays: an ordinary function
                return self.function(fn, pargs, pkwargs, result, args, kwargs)
            return self.constant(result, reset=name != "empty")

        return create

    def constant(self, array, reset: bool = True) -> Traced:
        """A constant made during the trace (by ``xp.zeros``, from Python data): restored at
        this point of each replay if a later instruction writes into it."""
        buf = self.fresh(array)
        if reset:
            snapshot, dest = np.array(array, copy=True), plain(buf)
            self.resets[len(self.instrs)] = id(root(buf))
            self._emit("call", np.copyto, (dest, snapshot), {}, (dest,))
            self.constant_roots.add(id(root(buf)))  # (``empty``'s contents are not)
        return buf

    def draw(self, method, gen, args, result):
        """A random draw of ``gen``: replayed as a new draw from the same generator."""
        if contains(args):
            self.poison("a step counter passed to a random draw")
        buf = self.fresh(result)
        self.generators[id(gen)] = gen
        self._emit("copy", method, (gen,) + tuple(args), {}, (plain(buf),), source=True)
        self.produced.add(id(buf))
        return buf

    def generator_state(self, read, gen) -> Traced:
        """A random generator's state as ``read()`` returns it now, read again at this point
        of each replay."""
        buf = self.fresh(read())
        self.generators[id(gen)] = gen
        self._emit("copy", read, (), {}, (plain(buf),), source=True)
        self.produced.add(id(buf))
        return buf

    def set_generator_state(self, write, array, gen) -> None:
        """``write(array)`` sets a generator's state from a traced array at this point of each
        replay (the array read by :meth:`generator_state`)."""
        self._check((array,))
        self.generators[id(gen)] = gen
        self._emit("call", write, (plain(array),), {}, ())

    def host_read(self, array, what: str) -> None:
        """A value read on the host: nothing to check if it is a function of the trace's
        constants alone (shapes, Python numbers: the key holds them); else a guard the replay
        re-checks (bool/int/float/.item() of a one-element array, ``.tolist()`` of a small
        integer array), else the end of the capture."""
        p = plain(array)
        if id(root(p)) in self.constant_roots:
            return  # the same value on every replay
        if what in _SCALAR_READS and p.size == 1:
            self.instrs.append(("guard", p, p.item(), what))
        elif what == ".tolist()" and p.dtype.kind in "biu" and p.size <= GUARD_ELEMENTS:
            self.instrs.append(("guard", p, p.copy(), what))  # lengths, offsets, pivots
        else:
            self.poison(f"{what} of a traced array")
