"""PyTorch's ``TypeError`` for a Python number where a parameter is a Tensor (or a tuple), and
for a multi-element Tensor where a parameter is a number.

PyTorch's argument parser refuses ``torch.atan2(x, 2)``, ``F.relu(2.0)``, ``x.maximum(0)`` and
``torch.pow(2, 3)`` ("atan2(): argument 'other' (position 2) must be Tensor, not int"), where
minigrad's functions would broadcast the number (a value PyTorch never gives) or fail inside
with an ``AttributeError``; and ``torch.flip(x, 0)`` ("argument 'dims' (position 2) must be
tuple of ints, not int"), which its method form ``x.flip(0)`` takes. The parameters come from :mod:`minigrad._tensor_params_table`,
which ``scripts/tensor_params_table.py`` generates from PyTorch itself, so that the numbers
PyTorch takes (``torch.add(1, x)``, ``x.add(2)``, ``torch.normal(0.0, std)``) stay taken.

Public functions screen their arguments in their ``__torch_function__`` wrapper
(:func:`refusals` gives :func:`minigrad._torch_function.install` one :class:`Refusal` per
listed name); Tensor methods have no such wrapper, and :func:`install_methods` gives the
listed ones one (:func:`checked`). A call with Tensors pays a class lookup per listed
position (and a method one more call).

The reverse: PyTorch's parser refuses ``torch.cumsum(x, t)`` ("cumsum(): argument 'dim'
(position 2) must be int, not Tensor") where minigrad would fail in ``bool()`` or ``.item()``;
``NUMBER_PARAMS`` lists those parameters, and a call reaching one with a Tensor (a class lookup
in :data:`TENSORS` per number position it reaches, and per keyword argument; only functions
with number parameters pay) gets :meth:`Refusal.refuse_tensors`, which refuses a Tensor of more
than one element. One-element tensors pass (PyTorch takes 0-d ones for most number
parameters; where it refuses a one-element tensor, minigrad still takes it). Hot Tensor methods
(``sum``, ``view``-like ones, ``softmax``: ``HOT_METHODS`` of the generator) are not screened.
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

from ._tensor_params_table import NUMBER_OPS, NUMBER_PARAMS, TENSOR_PAIR, TENSOR_PARAMS
from .autograd import graph

# Python's numbers and NumPy's scalars (np.float64 is also a float): refused as Tensors and as
# tuples of ints; lists and tuples are refused as Tensors too. A wrapper calls its Refusal when
# an argument at one of its positions is of a class in REFUSED.
NUMBERS = frozenset(
    {bool, int, float, complex}
    | {t for t in np.sctypeDict.values() if issubclass(t, (np.number, np.bool_))}
)
_NOT_TENSORS = {"Tensor": NUMBERS | {list, tuple}, "tuple of ints": NUMBERS}
REFUSED = NUMBERS | {list, tuple}
# the classes screened at number parameters: Tensor and its subclasses defined at import (added
# by install_methods); a subclass defined later is not screened (its call runs as before)
TENSORS: set = set()


def _type_name(value) -> str:
    cls = type(value)
    return cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__name__}"


def _positional_names(fn) -> list:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


class Refusal:
    """The number check of one function: ``refusal(args, kwargs)`` raises PyTorch's
    ``TypeError`` if a listed parameter is a number (``pair``: if the first two both are).
    ``positions``: the indexes in ``args`` that callers screen first (a class lookup each;
    the full check only for a number, a list or a tuple there, or keywords)."""

    __slots__ = ("op", "params", "pair", "positions", "numbers", "number_op")

    def __init__(self, fn, op: str, spec, offset: int = 0, pair: bool = False, numbers=()):
        names = _positional_names(fn)
        self.op, self.pair = op, pair
        self.params = _located(spec, names, offset)
        self.positions = (offset,) if pair else tuple(p + offset for p, _, _ in spec)
        self.numbers, self.number_op = _located(numbers, names, offset), op

    def number_screen(self) -> tuple:
        """``(positions, keywords)`` of the number parameters, which callers screen for a class
        in :data:`TENSORS` (a class lookup each) before calling :meth:`refuse_tensors`."""
        return tuple(p[0] for p in self.numbers), frozenset(p[1] for p in self.numbers)

    def refuse_tensors(self, args, kwargs) -> None:
        """PyTorch's ``TypeError`` if a number parameter is a Tensor of more than one element
        (one element passes: PyTorch takes 0-d ones for many, and minigrad takes them all)."""
        for at, keyword, name, position, kind in self.numbers:
            value = args[at] if at < len(args) else kwargs.get(keyword)
            if isinstance(value, graph.Tensor) and value.numel() > 1:
                where = f" (position {position + 1})" if at < len(args) else ""
                raise TypeError(
                    f"{self.number_op}(): argument '{name}'{where} must be {kind}, not Tensor"
                )

    def split(self) -> tuple:
        """``(first, second, more, keywords)``: the first two positions callers screen inline
        (the first twice when there is one), whether there are more (then the full check runs
        on every call), and the keywords of the listed parameters (a call naming one of them
        gets the full check)."""
        if not self.positions:
            return None, 0, False, frozenset()
        first, second = (*self.positions, self.positions[0])[:2]
        return first, second, len(self.positions) > 2, frozenset(p[1] for p in self.params)

    def _value(self, param, args, kwargs):
        at, keyword = param[0], param[1]
        return args[at] if at < len(args) else kwargs.get(keyword)

    def __call__(self, args, kwargs) -> None:
        if self.pair:
            a, b = (self._value(p, args, kwargs) for p in self.params)
            if a.__class__ in NUMBERS and b.__class__ in NUMBERS:
                first, second = self.params[0][1], self.params[1][1]
                raise TypeError(
                    f"{self.op}() received an invalid combination of arguments - got "
                    f"({_type_name(a)}, {_type_name(b)}), but expected a Tensor as '{first}' "
                    f"or '{second}'"
                )
            return
        for param in self.params:
            value = self._value(param, args, kwargs)
            if value.__class__ in _NOT_TENSORS[param[4]]:
                raise TypeError(
                    f"{self.op}(): argument '{param[2]}' (position {param[3] + 1}) must be "
                    f"{param[4]}, not {_type_name(value)}"
                )


def _located(spec, names, offset) -> tuple:
    """``spec``'s ``(position, name, kind)`` as ``(index in args, minigrad's keyword, PyTorch's
    name, PyTorch's position, kind)``."""
    return tuple(
        (p + offset, names[p + offset] if p + offset < len(names) else name, name, p, kind)
        for p, name, kind in spec
    )


def _numbers(path: str) -> dict:
    """``{name: spec}`` of the functions of ``path`` with number parameters."""
    return {
        name: spec
        for (where, spec), names in NUMBER_PARAMS.items()
        if where == path
        for name in names.split()
    }


def refusals(path: str, namespace: dict) -> dict:
    """``{name: Refusal}`` for the listed functions of the namespace ``path`` (PyTorch's path:
    ``""``, ``"nn.functional"``, ``"linalg"``, ...)."""
    numbers, specs = _numbers(path), {}
    for (where, spec), names in TENSOR_PARAMS.items():
        if where == path:
            specs.update((name, (spec, False)) for name in names.split())
    pair = ((0, "input", ""), (1, "other", ""))
    specs.update((name, (pair, True)) for name in TENSOR_PAIR.get(path, "").split())
    specs.update((name, ((), False)) for name in numbers if name not in specs)
    out = {}
    for name, (spec, is_pair) in specs.items():
        fn = namespace.get(name)
        if inspect.isfunction(fn):
            out[name] = Refusal(fn, name, spec, pair=is_pair, numbers=numbers.get(name, ()))
            out[name].number_op = NUMBER_OPS.get((path, name), name)
    return out


def checked(fn, refusal: Refusal):
    """``fn`` screening its arguments first (a Tensor method, or a function that does not
    dispatch); the screens inline, as in :func:`minigrad._torch_function.dispatching`."""
    (first, second, more, keywords), refused = refusal.split(), REFUSED
    (numbers, number_keywords), tensors = refusal.number_screen(), TENSORS

    @functools.wraps(fn)
    def method(*args, **kwargs):
        if first is not None:  # (inline, as in dispatching: see there)
            try:
                hit = args[first].__class__ in refused or args[second].__class__ in refused
            except IndexError:  # passed by keyword
                hit = True
            if hit or more or (kwargs and not keywords.isdisjoint(kwargs)):
                refusal(args, kwargs)
        if numbers:
            screen_numbers(refusal, numbers, number_keywords, tensors, args, kwargs)
        return fn(*args, **kwargs)

    return method


def screen_numbers(refusal, numbers, keywords, tensors, args, kwargs) -> None:
    """The number screen of :func:`checked` (methods pay a call: they are not hot)."""
    n = len(args)
    for at in numbers:
        if at < n and args[at].__class__ in tensors:
            refusal.refuse_tensors(args, kwargs)
    if kwargs and not keywords.isdisjoint(kwargs):
        refusal.refuse_tensors(args, kwargs)


def _subclasses(cls) -> set:
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub} | _subclasses(sub)
    return out


def install_methods(tensor_cls) -> None:
    """Wrap the listed methods of ``tensor_cls`` (called once, at import), and screen the
    Tensor subclasses defined by then (``Parameter``, ``Buffer``) at number parameters."""
    TENSORS.update({tensor_cls} | _subclasses(tensor_cls))
    numbers, specs = _numbers("Tensor"), {}
    for (where, spec), names in TENSOR_PARAMS.items():
        if where == "Tensor":
            specs.update((name, spec) for name in names.split())
    for name in set(specs) | set(numbers):
        fn = getattr(tensor_cls, name, None)
        if inspect.isfunction(fn):
            refusal = Refusal(fn, name, specs.get(name, ()), 1, numbers=numbers.get(name, ()))
            refusal.number_op = NUMBER_OPS.get(("Tensor", name), name)
            setattr(tensor_cls, name, checked(fn, refusal))
