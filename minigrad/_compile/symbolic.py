"""Python counters a step advances (an optimizer's ``state["step"]``), traced as expressions.

A replay skips Python, so a number that changes on every call (Adam's step count, used in its
bias correction) would be baked in stale. When consecutive traces differ only in such integers,
the next trace puts a :class:`Sym` in their place: it computes exactly as the Python number it
stands for (same operators, same order, same floats) and also remembers how its value follows
from the counters. The recorder stores a ``Sym`` argument as that expression, so each replay
evaluates it from the counters' current values, and then writes the counters' new values back.
Any other use (``float(step)``, ``math.sqrt(step)``, ``if step > 10``, ``range(step)``) would
turn it into a plain number out of sight, so it ends the capture instead.
"""

from __future__ import annotations

import operator

from .tree import leaves, tree_map


class Sym:
    """A number that a replay recomputes from the counters (``env``)."""

    __slots__ = ("value", "fn", "_on_escape")

    def __init__(self, value, fn, on_escape):
        self.value, self.fn, self._on_escape = value, fn, on_escape

    def _binary(self, other, op, reflected=False):
        if isinstance(other, Sym):
            a, b = other.fn, None
            value = op(other.value, self.value) if reflected else op(self.value, other.value)
        elif isinstance(other, (int, float)) and not isinstance(other, bool):
            a, b = None, other
            value = op(other, self.value) if reflected else op(self.value, other)
        else:
            return NotImplemented
        f = self.fn
        if a is not None:
            fn = (lambda e: op(a(e), f(e))) if reflected else (lambda e: op(f(e), a(e)))
        else:
            fn = (lambda e: op(b, f(e))) if reflected else (lambda e: op(f(e), b))
        return Sym(value, fn, self._on_escape)

    def __neg__(self):
        f = self.fn
        return Sym(-self.value, lambda e: -f(e), self._on_escape)

    def __pos__(self):
        return self

    def __abs__(self):
        f = self.fn
        return Sym(abs(self.value), lambda e: abs(f(e)), self._on_escape)

    def apply(self, fn):
        """``fn`` of this number (a pure function of one number, such as rounding it to
        float32), recomputed from the counters on each replay."""
        f = self.fn
        return Sym(fn(self.value), lambda e: fn(f(e)), self._on_escape)

    def _escape(self, what):
        self._on_escape(f"a step counter used as {what}")
        return self.value

    def __float__(self):
        return float(self._escape("float()"))

    def __int__(self):
        return int(self._escape("int()"))

    def __index__(self):
        return operator.index(self._escape("an index"))

    def __bool__(self):
        return bool(self._escape("a condition"))

    def __hash__(self):
        return hash(self._escape("a key"))

    def __repr__(self):
        return repr(self._escape("text"))

    __str__ = __repr__

    def __format__(self, spec):
        return format(self._escape("text"), spec)

    def __eq__(self, other):
        return self._escape("a comparison") == other

    def __lt__(self, other):
        return self._escape("a comparison") < other

    def __le__(self, other):
        return self._escape("a comparison") <= other

    def __gt__(self, other):
        return self._escape("a comparison") > other

    def __ge__(self, other):
        return self._escape("a comparison") >= other


def _define(name, op):
    setattr(Sym, f"__{name}__", lambda self, other: self._binary(other, op))
    setattr(Sym, f"__r{name}__", lambda self, other: self._binary(other, op, reflected=True))


for _name, _op in (
    ("add", operator.add),
    ("sub", operator.sub),
    ("mul", operator.mul),
    ("truediv", operator.truediv),
    ("floordiv", operator.floordiv),
    ("mod", operator.mod),
    ("pow", operator.pow),
):
    _define(_name, _op)


def counter(value: int, index: int, on_escape) -> Sym:
    """The counter number ``index`` of a replay's ``env``, now worth ``value``."""
    return Sym(value, lambda e: e[index], on_escape)


def evaluate(obj, env):
    """``obj`` with every :class:`Sym` inside tuples, lists and dicts replaced by its value
    under ``env`` (``env=None``: its value now)."""
    if env is None:
        return tree_map(lambda x: x.value if type(x) is Sym else x, obj)
    return tree_map(lambda x: x.fn(env) if type(x) is Sym else x, obj)


def contains(obj) -> bool:
    """Whether a :class:`Sym` is inside ``obj`` (tuples, lists, dicts)."""
    return any(type(x) is Sym for x in leaves(obj, []))
