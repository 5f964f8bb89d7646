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

import types

import numpy as np

from ..autograd import grad_mode
from ..dtypes import get_default_dtype
from ..optim.optimizer import Optimizer
from ..tensor import Tensor
from .symbolic import Sym

_SCALARS = (bool, int, float, complex, str, bytes, type(None))
_MAX_ITEMS = 1024  # containers longer than this are keyed by identity and length only
_MAX_DEPTH = 24
_LIBRARY = ("minigrad", "numpy", "builtins")


class _Walk:
    __slots__ = ("tokens", "tensors", "seen", "slots", "counter_maps")

    def __init__(self):
        self.tokens, self.tensors, self.seen = [], [], {}
        self.slots = {}  # token position -> (mapping, key) of each number (counter candidates)
        self.counter_maps = set()  # ids of optimizers' per-parameter state dicts

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
            self.visit(obj._grad, depth + 1)
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
        elif isinstance(obj, (types.ModuleType, type, types.BuiltinFunctionType)):
            tokens.append(("const", key))
        elif hasattr(obj, "__dict__"):
            if isinstance(obj, Optimizer):
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
        for item in items:
            self.visit(item, depth + 1)

    def _mapping(self, obj: dict, depth) -> None:
        if len(obj) > _MAX_ITEMS:
            self.tokens.append(("big", type(obj), len(obj), id(obj)))
            return
        self.tokens.append((type(obj), len(obj)))
        tokens, slots = self.tokens, self.slots
        for k, v in obj.items():
            tokens.append(k if type(k) in _SCALARS else ("key", id(k)))
            if type(v) in _COUNTABLE:
                slots[len(tokens)] = (obj, k)
            self.visit(v, depth + 1)

    def _function(self, fn, depth) -> None:
        """A function's identity; for user code also what it closes over and the globals it
        names (library functions are part of minigrad and change only with its code)."""
        self.tokens.append(("F", fn.__code__))
        if (fn.__module__ or "").split(".")[0] in _LIBRARY:
            return
        if fn.__defaults__:
            self.visit(fn.__defaults__, depth + 1)
        for cell in fn.__closure__ or ():
            try:
                self.visit(cell.cell_contents, depth + 1)
            except ValueError:  # an empty cell
                self.tokens.append(("empty",))
        g = fn.__globals__
        for name in _global_names(fn.__code__):
            if name in g:
                self.tokens.append(name)
                self.visit(g[name], depth + 1)


def _global_names(code, _cache={}) -> tuple:  # noqa: B006 - a per-code-object memo
    """The names a code object (and the functions defined inside it) may read as globals."""
    names = _cache.get(code)
    if names is None:
        found = list(code.co_names)
        for c in code.co_consts:
            if isinstance(c, types.CodeType):
                found.extend(_global_names(c))
        names = _cache[code] = tuple(dict.fromkeys(found))
    return names


def modes() -> tuple:
    """The global modes a trace bakes in."""
    from ..ops import base

    return (
        grad_mode.is_grad_enabled(),
        get_default_dtype(),
        id(base.interposer),
        id(base.tracer),
    )


_NUMBERS = (int, float)
_COUNTABLE = frozenset((int, float, Sym))
COUNTER = ("counter",)  # the token of a counter position in a key


def signature(roots, counters=()) -> tuple[tuple, list, dict]:
    """``(key, tensors, slots)`` of the state reachable from ``roots`` (see the module
    docstring); the tokens at the positions ``counters`` are masked (see :mod:`.symbolic`).
    ``slots`` maps the position of each number kept in a dict to ``(dict, key)``, plus
    ``True`` where the dict is an optimizer's per-parameter state."""
    walk = _Walk()
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
