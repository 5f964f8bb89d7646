"""What a captured call depends on besides its input arrays: the Python state it can see.

A replay skips all Python code, so it is only valid when that code would take the same path
and bake in the same constants as during the trace. :func:`signature` walks what the function
can reach (its arguments, closure cells, the globals it names, modules' attributes, optimizers'
param groups and state) and returns a hashable key of everything Python code could branch on or
read as a number: scalars by value (learning rates, step counts, ``training`` flags, dropout
probabilities), tensors by shape, dtype, device, ``requires_grad`` and whether they have a
``.grad``. The tensors met on the way are listed in walk order, so that the tensors a trace read
can be found in the same places later.
"""

from __future__ import annotations

import dis
import types

import numpy as np

from .. import backend
from ..amp import autocast_mode
from ..autograd import anomaly, grad_mode
from ..autograd.function import Function
from ..dtypes import get_default_dtype
from ..ops import base
from ..optim.optimizer import Optimizer
from ..tensor import Tensor
from .symbolic import Sym

_SCALARS = (bool, int, float, complex, str, bytes, type(None))
_MAX_ITEMS = 1024  # containers longer than this are keyed by identity and length only
_MAX_DEPTH = 24
_LIBRARY = ("minigrad", "numpy", "builtins")


class Snapshot:
    """The same state as a key, checked by identity: a cheap test that nothing changed.

    Holds each container walked with its length, each entry's value (numbers) or object
    (anything else, by identity), each tensor's array, ``.grad`` and ``requires_grad``. If
    every check passes, a new walk would give the same key, so the replay it was made for is
    still valid (step counters are only checked to be numbers).
    """

    __slots__ = (
        "roots", "lens", "values", "idents", "attrs", "absent", "numbers", "tensors", "opaque"
    )  # fmt: skip

    def __init__(self, roots):
        self.roots = tuple(roots)
        self.opaque = False  # state that only a full walk can compare (a generator's locals)
        self.lens, self.values, self.idents, self.attrs = [], [], [], []
        self.absent, self.numbers, self.tensors = [], [], []

    def check(self, roots) -> bool:
        """Whether the state reachable from ``roots`` is still the one snapshotted."""
        if self.opaque or len(roots) != len(self.roots):
            return False
        try:
            for r, e in zip(roots, self.roots):
                if r is not e and (type(r) is not type(e) or type(r) not in _SCALARS or r != e):
                    return False
            for c, n in self.lens:
                if len(c) != n:
                    return False
            for c, k, o in self.idents:
                if c[k] is not o:
                    return False
            for c, k, v in self.values:
                x = c[k]
                if x is not v and (type(x) is not type(v) or x != v):
                    return False
            for o, name, e in self.attrs:
                if getattr(o, name) is not e:
                    return False
            for g, name in self.absent:
                if name in g:
                    return False
            for c, k in self.numbers:
                if type(c[k]) not in _NUMBERS:
                    return False
            for t, a, g, rg in self.tensors:
                if (
                    t._data is not a
                    or t._requires_grad is not rg
                    or (t._grad is not g and g is not ANY)
                ):
                    return False
        except (KeyError, IndexError, ValueError):
            return False
        return True


class _Walk:
    __slots__ = ("tokens", "tensors", "seen", "slots", "counter_maps", "snap", "counters")
    __slots__ += ("outside",)

    def __init__(self, snap=None, counters=(), outside=False):
        self.tokens, self.tensors, self.seen = [], [], {}
        self.outside = outside  # tensors' .grad and hooks are left out (see signature)
        self.slots = {}  # token position -> (mapping, key) of each number (counter candidates)
        self.counter_maps = set()  # ids of optimizers' per-parameter state dicts
        self.snap, self.counters = snap, frozenset(counters)

    def visit(self, obj, depth: int = 0) -> None:
        tokens = self.tokens
        cls = type(obj)
        if cls in _SCALARS:
            tokens.append((cls, obj))
            return
        key = id(obj)
        first = self.seen.get(key)
        if first is not None:
            tokens.append(("ref", first))
            return
        self.seen[key] = len(tokens)
        if isinstance(obj, Tensor):
            d = obj._data
            tokens.append(("T", d.shape, d.dtype, obj.device.type, obj._requires_grad))
            self.tensors.append(obj)
            if self.outside:
                if self.snap is not None:
                    self.snap.tensors.append((obj, d, ANY, obj._requires_grad))
                return
            if self.snap is not None:
                self.snap.tensors.append((obj, d, obj._grad, obj._requires_grad))
                self.snap.attrs.append((obj, "_hooks", obj._hooks))
            self.visit(obj._grad, depth + 1)
            if obj._hooks:  # hooks run Python code in backward: which ones is part of the key
                self.visit(obj._hooks, depth + 1)
            return
        if cls is Sym:
            tokens.append(("sym",))
            return
        if depth > _MAX_DEPTH:
            tokens.append(("deep", key))
            return
        if isinstance(obj, np.generic):
            tokens.append((cls, obj.item()))
        elif isinstance(obj, np.ndarray):
            tokens.append(("A", obj.shape, obj.dtype, key))
        elif cls in (list, tuple):
            self._items(obj, obj, depth)
        elif isinstance(obj, dict):
            self._mapping(obj, depth)
        elif cls is types.FunctionType:
            self._function(obj, depth)
        elif cls is types.MethodType:
            tokens.append(("method",))
            self.visit(obj.__self__, depth + 1)
            self.visit(obj.__func__, depth + 1)
        elif cls is types.GeneratorType:  # its state is its frame's locals
            tokens.append(("gen", key))
            if self.snap is not None:
                self.snap.opaque = True  # a copy of the locals: only a full walk can compare
            if obj.gi_frame is not None:
                self._mapping(dict(obj.gi_frame.f_locals), depth)
        elif cls is type and user_function_class(obj):
            self._function_class(obj, depth)
        elif cls in (staticmethod, classmethod):
            self.visit(obj.__func__, depth + 1)
        elif isinstance(obj, (types.ModuleType, type, types.BuiltinFunctionType)) or getattr(
            cls, "_walk_by_identity", False
        ):
            tokens.append(("const", key))
        elif hasattr(obj, "__dict__"):
            if isinstance(obj, Optimizer):
                obj._count_steps_on_host()  # step tensors as numbers, traced as Sym
                self.counter_maps.update(id(s) for s in obj.state.values())
            tokens.append(("O", cls))
            self._mapping(vars(obj), depth)
        else:
            tokens.append(("id", cls, key))  # an opaque object: the same one must come back

    def _items(self, obj, items, depth) -> None:
        if len(items) > _MAX_ITEMS:
            self.tokens.append(("big", type(obj), len(items), id(obj)))
            return
        self.tokens.append((type(obj), len(items)))
        snap = self.snap
        if snap is not None and type(obj) is list:
            snap.lens.append((obj, len(obj)))
            for i, item in enumerate(items):
                (snap.values if type(item) in _SCALARS else snap.idents).append((obj, i, item))
        for item in items:
            self.visit(item, depth + 1)

    def _mapping(self, obj: dict, depth) -> None:
        if len(obj) > _MAX_ITEMS:
            self.tokens.append(("big", type(obj), len(obj), id(obj)))
            return
        self.tokens.append((type(obj), len(obj)))
        tokens, slots, snap = self.tokens, self.slots, self.snap
        if snap is not None:
            snap.lens.append((obj, len(obj)))
        for k, v in obj.items():
            tokens.append(k if type(k) in _SCALARS else ("key", id(k)))
            pos = len(tokens)
            if type(v) in _COUNTABLE:
                slots[pos] = (obj, k)
            if snap is not None:
                if pos in self.counters:
                    snap.numbers.append((obj, k))
                else:
                    (snap.values if type(v) in _SCALARS else snap.idents).append((obj, k, v))
            self.visit(v, depth + 1)

    def _function_class(self, cls, depth) -> None:
        """A user's ``autograd.Function``: its forward and backward run only when traced, so
        what they read (their closures and globals, attributes kept on the class such as a
        call counter) is part of the key, as the step's own code is."""
        self.tokens.append(FUNCTION_CLASS + (id(cls),))
        snap = self.snap
        for klass in cls.__mro__:
            if klass is Function or not user_function_class(klass):
                break
            attrs = klass.__dict__
            for name, v in attrs.items():
                if name.startswith("__") or name == "_backward_cls":  # (set by its first apply)
                    continue
                self.tokens.append(name)
                if snap is not None:
                    (snap.values if type(v) in _SCALARS else snap.idents).append((attrs, name, v))
                self.visit(v, depth + 1)

    def _function(self, fn, depth) -> None:
        """A function's identity; for user code also what it closes over and the globals it
        names (library functions are part of minigrad and change only with its code)."""
        self.tokens.append(("F", fn.__code__))
        if _is_library(fn):
            return
        snap = self.snap
        if snap is not None:
            snap.attrs.append((fn, "__defaults__", fn.__defaults__))
        if fn.__defaults__:
            self.visit(fn.__defaults__, depth + 1)
        for cell in fn.__closure__ or ():
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                self.tokens.append(("empty",))
                continue
            if snap is not None:
                snap.attrs.append((cell, "cell_contents", value))
            self.visit(value, depth + 1)
        g = fn.__globals__
        for name in _global_names(fn.__code__):
            if name in g:
                self.tokens.append(name)
                v = g[name]
                if snap is not None:
                    (snap.values if type(v) in _SCALARS else snap.idents).append((g, name, v))
                self.visit(v, depth + 1)
            elif snap is not None:
                snap.absent.append((g, name))


FUNCTION_CLASS = ("Function",)  # the token of a user's autograd.Function class, + its id


def user_function_class(cls) -> bool:
    """Whether ``cls`` is a subclass of ``autograd.Function`` written outside minigrad."""
    return issubclass(cls, Function) and not cls.__module__.startswith("minigrad.")


def _is_library(fn, _cache={}) -> bool:  # noqa: B006 - a per-code-object memo
    found = _cache.get(fn.__code__)
    if found is None:
        found = _cache[fn.__code__] = (fn.__module__ or "").split(".")[0] in _LIBRARY
    return found


_GLOBAL_OPS = frozenset(("LOAD_GLOBAL", "LOAD_NAME", "STORE_GLOBAL", "DELETE_GLOBAL"))


def _global_names(code, _cache={}) -> tuple:  # noqa: B006 - a per-code-object memo
    """The names a code object (and the functions defined inside it) may read as globals:
    those its bytecode loads as globals, not every name in ``co_names`` (``opt.step()``'s
    attribute name would pick up a global loop variable ``step`` and change the key on every
    call)."""
    names = _cache.get(code)
    if names is None:
        found = [i.argval for i in dis.get_instructions(code) if i.opname in _GLOBAL_OPS]
        for c in code.co_consts:
            if isinstance(c, types.CodeType):
                found.extend(_global_names(c))
        names = _cache[code] = tuple(dict.fromkeys(found))
    return names


def modes() -> tuple:
    """The global modes a trace bakes in: grad, inference and anomaly modes, the default
    dtype and device, an active transform or ONNX tracer, autocast's state (which device types
    it casts for and to which dtype, its parameter cache) and deterministic mode (``empty``'s
    fill, ops that refuse to run). A call under other modes traces again."""
    g, a, c, d = grad_mode._state, anomaly._state, autocast_mode._state, backend.DETERMINISM
    cast = None  # (autocast never entered nor set: nothing to key)
    if c.depth or c.dtypes or c.enabled:
        cast = (tuple(c.enabled.items()), tuple(c.dtypes.items()), c.__dict__.get("cache_enabled"))
    return (
        g.enabled, g.inference, a.enabled, get_default_dtype(), backend.get_default_device(),
        base.interposer, base.tracer, cast,
        (d.enabled, d.warn_only, d.fill_uninitialized_memory) if d.enabled else None,
    )  # fmt: skip


ANY = object()  # a snapshot's .grad entry that any value matches (a compiled module's call)
_NUMBERS = (int, float)
_COUNTABLE = frozenset((int, float, Sym))
COUNTER = ("counter",)  # the token of a counter position in a key


def signature(
    roots, counters=(), snap: Snapshot | None = None, outside: bool = False
) -> tuple[tuple, list, dict]:
    """``(key, tensors, slots)`` of the state reachable from ``roots`` (see the module
    docstring); the tokens at the positions ``counters`` are masked (see :mod:`.symbolic`).
    ``slots`` maps the position of each number kept in a dict to ``(dict, key)``, plus
    ``True`` where the dict is an optimizer's per-parameter state. With ``snap``, also fills
    that :class:`Snapshot` of the same state. ``outside``: a compiled module's call, whose
    tensors' ``.grad`` and hooks are used by the backward and optimizer step outside it (a
    ``.grad`` its forward reads is not found in the walk: such a trace does not replay)."""
    walk = _Walk(snap, counters, outside)
    for r in roots:
        walk.visit(r)
    tokens = walk.tokens
    n = len(tokens)
    for p in counters:
        if p < n:
            tokens[p] = COUNTER
    slots = walk.slots
    for p, (mapping, _) in slots.items():
        if id(mapping) in walk.counter_maps:
            slots[p] += (True,)  # a candidate counter: in an optimizer's state
    return tuple(tokens), walk.tensors, slots


def counter_positions(pre: tuple, post: tuple, slots: dict) -> tuple:
    """The positions where two keys differ only in numbers kept in an optimizer's
    per-parameter state (a step count, NAdam's running product; ``slots`` lists where those
    are), or () if they differ in anything else. Only optimizers' code uses these numbers, and
    only in arithmetic, so they can be traced as :class:`Sym`: a user's counter could go where
    a Sym cannot (a tensor op), so it makes the function run eagerly instead."""
    if len(pre) != len(post):
        return ()
    found = []
    for i, (a, b) in enumerate(zip(pre, post)):
        if a != b:
            if len(slots.get(i, ())) != 3 or not (
                type(a) is tuple and len(a) == 2 and a[0] in _NUMBERS and b[0] in _NUMBERS
            ):
                return ()
            found.append(i)
    return tuple(found)
