"""PyTorch's ``TypeError`` for a Python number where a parameter is a Tensor (or a tuple).

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
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

from ._tensor_params_table import TENSOR_PAIR, TENSOR_PARAMS

# Python's numbers and NumPy's scalars (np.float64 is also a float): refused as Tensors and as
# tuples of ints; lists and tuples are refused as Tensors too. A wrapper calls its Refusal when
# an argument at one of its positions is of a class in REFUSED.
NUMBERS = frozenset(
    {bool, int, float, complex}
    | {t for t in np.sctypeDict.values() if issubclass(t, (np.number, np.bool_))}
)
_NOT_TENSORS = {"Tensor": NUMBERS | {list, tuple}, "tuple of ints": NUMBERS}
REFUSED = NUMBERS | {list, tuple}


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

    __slots__ = ("op", "params", "pair", "positions")

    def __init__(self, fn, op: str, spec, offset: int = 0, pair: bool = False):
        names = _positional_names(fn)
        self.op, self.pair = op, pair
        # (index in args, minigrad's keyword, PyTorch's name, PyTorch's position, kind)
        self.params = tuple(
            (p + offset, names[p + offset] if p + offset < len(names) else name, name, p, kind)
            for p, name, kind in spec
        )
        self.positions = (offset,) if pair else tuple(p + offset for p, _, _ in spec)

    def split(self) -> tuple:
        """``(first, second, more, keywords)``: the first two positions callers screen inline
        (the first twice when there is one), whether there are more (then the full check runs
        on every call), and the keywords of the listed parameters (a call naming one of them
        gets the full check)."""
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


def refusals(path: str, namespace: dict) -> dict:
    """``{name: Refusal}`` for the listed functions of the namespace ``path`` (PyTorch's path:
    ``""``, ``"nn.functional"``, ``"linalg"``, ...)."""
    out = {}
    for (where, spec), names in TENSOR_PARAMS.items():
        if where == path:
            for name in names.split():
                if inspect.isfunction(namespace.get(name)):
                    out[name] = Refusal(namespace[name], name, spec)
    for name in TENSOR_PAIR.get(path, "").split():
        if inspect.isfunction(namespace.get(name)):
            out[name] = Refusal(
                namespace[name], name, ((0, "input", ""), (1, "other", "")), pair=True
            )
    return out


def checked(fn, refusal: Refusal):
    """``fn`` screening its arguments first (a Tensor method, or a function that does not
    dispatch); the screen inline, as in :func:`minigrad._torch_function.dispatching`."""
    (first, second, more, keywords), refused = refusal.split(), REFUSED

    @functools.wraps(fn)
    def method(*args, **kwargs):
        try:  # (inline, as in dispatching: see there)
            hit = args[first].__class__ in refused or args[second].__class__ in refused
        except IndexError:  # passed by keyword
            hit = True
        if hit or more or (kwargs and not keywords.isdisjoint(kwargs)):
            refusal(args, kwargs)
        return fn(*args, **kwargs)

    return method


def install_methods(tensor_cls) -> None:
    """Wrap the listed methods of ``tensor_cls`` (called once, at import)."""
    for (where, spec), names in TENSOR_PARAMS.items():
        if where != "Tensor":
            continue
        for name in names.split():
            fn = getattr(tensor_cls, name, None)
            if inspect.isfunction(fn):
                refusal = Refusal(fn, name, spec, offset=1)
                setattr(tensor_cls, name, checked(fn, refusal))
