"""The constructor call that rebuilds a minigrad.nn layer whose repr does not (a layer with
submodules prints them, as ``MultiheadAttention`` does): its ``__init__`` arguments read back
from the layer's attributes, for :mod:`minigrad.export._serialize`."""

from __future__ import annotations

import inspect

from .. import nn
from ..nn.modules.module import Module

# __init__ arguments that a layer keeps only in another form
_DERIVED = {
    nn.MultiheadAttention: {
        "bias": lambda m: m.in_proj_bias is not None,
        "add_bias_kv": lambda m: m.bias_k is not None,
    },
}
_LITERALS = (bool, int, float, str, type(None))


def constructor_call(module: Module) -> str | None:
    """``Name(arg=value, ...)`` rebuilding ``module`` (literal arguments only), or None where
    an argument cannot be read back."""
    cls = type(module)
    if getattr(nn, cls.__name__, None) is not cls:
        return None
    derived = _DERIVED.get(cls, {})
    parts = []
    for name, p in list(inspect.signature(cls.__init__).parameters.items())[1:]:
        if name in ("device", "dtype") or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if name in derived:
            value = derived[name](module)
        elif name in vars(module):
            value = vars(module)[name]
        elif p.default is not p.empty:
            continue
        else:
            return None
        if not isinstance(value, _LITERALS):
            return None
        parts.append(f"{name}={value!r}")
    return f"{cls.__name__}({', '.join(parts)})"


def same_layer(rebuilt: Module, module: Module) -> bool:
    """Whether ``rebuilt`` is ``module`` up to its tensors' values and its training flag (saved
    apart): class, repr, plain attributes, and the names and shapes of its parameters and
    buffers."""

    def plain(m):
        return {k: v for k, v in vars(m).items() if isinstance(v, _LITERALS) and k != "training"}

    def shapes(m):
        return {k: tuple(v.shape) for k, v in m.state_dict().items() if hasattr(v, "shape")}

    return (
        type(rebuilt) is type(module)
        and repr(rebuilt) == repr(module)
        and plain(rebuilt) == plain(module)
        and shapes(rebuilt) == shapes(module)
    )
