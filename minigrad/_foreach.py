"""PyTorch's ``torch._foreach_*`` functions over lists of tensors (``_foreach_mul_(params, tau)``,
``_foreach_add_(params, others, alpha=...)``, ``_foreach_norm(grads)``, ...), which EMA updates,
hand-written optimizers and gradient utilities call. Each applies the tensor op of its name to
every tensor of the list (a loop: minigrad has no multi-tensor kernels), so the out-of-place
forms are differentiable and the in-place forms follow the rules of in-place ops. Arguments
are PyTorch's: a scalar, a list of scalars, a list of tensors or one tensor, with PyTorch's
errors for lists of different lengths. In-place forms return the list they changed, the others
a tuple of new tensors."""

from __future__ import annotations

from numbers import Number

from . import ops as _ops
from .autograd import graph

UNARY = (
    "abs acos asin atan ceil cos cosh erf erfc exp expm1 floor frac lgamma log log10 log1p log2 "
    "neg reciprocal round rsqrt sigmoid sign sin sinh sqrt tan tanh trunc"
).split()
BINARY = "add sub mul div pow maximum minimum clamp_min clamp_max".split()


def _check_list(name: str, tensors) -> list:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"_foreach_{name}: Tensor list must have at least one tensor.")
    for t in tensors:
        if not isinstance(t, graph.Tensor):
            raise TypeError(
                f"_foreach_{name}: expected a list of tensors, got an element of type "
                f"{type(t).__name__}"
            )
    return tensors


def _per_tensor(name: str, tensors: list, other) -> list:
    """``other`` spread over the list: a scalar or one tensor for every entry, or a list of
    the same length (of scalars or tensors)."""
    if isinstance(other, (Number, graph.Tensor)):
        return [other] * len(tensors)
    other = list(other)
    if len(other) != len(tensors):
        if other and all(isinstance(o, graph.Tensor) for o in other):
            raise RuntimeError(
                f"_foreach_{name}: Tensor lists must have the same number of tensors, got "
                f"{len(tensors)} and {len(other)}"
            )
        raise RuntimeError(
            f"_foreach_{name}: Tensor list must have same number of elements as scalar list."
        )
    return other


def _bounded(name: str, t, other):
    """``maximum``/``minimum`` of ``t`` with a tensor, or with a number as PyTorch's foreach
    takes it: a clamp (NaN stays NaN; an integer tensor with a float bound gives floats)."""
    if isinstance(other, Number):
        return _ops.clamp(t, min=other) if name == "maximum" else _ops.clamp(t, max=other)
    return getattr(t, name)(other)


def _refuse_tensor_scalar(method: str, other) -> None:
    """PyTorch's errors for one tensor of one or more dimensions as the scalar of a binary
    foreach op: add/mul/div have a scalar-tensor overload that wants it 0-d, the others none."""
    if method.rstrip("_") in ("add", "mul", "div"):
        raise RuntimeError(
            f"scalar tensor expected to be 0 dim but it has {other.ndim} dimensions and "
            f"{other.numel()} elements."
        )
    raise TypeError(
        f"_foreach_{method}() received an invalid combination of arguments - got (list, Tensor),"
        " but expected a scalar, a 0-d tensor, a list of scalars or a list of tensors"
    )


def _binary(name: str, inplace: bool):
    method = f"{name}_" if inplace else name
    takes_alpha = name in ("add", "sub")

    def foreach(self, other, *, alpha=1):
        if name == "pow" and isinstance(self, Number):  # _foreach_pow(scalar, exponents)
            exponents = _check_list(name, other)
            return tuple(_ops.pow(self, e) for e in exponents)
        tensors = _check_list(name, self)
        if isinstance(other, graph.Tensor) and other.ndim != 0:
            _refuse_tensor_scalar(method, other)
        others = _per_tensor(name, tensors, other)
        if alpha != 1:
            if not takes_alpha:
                raise TypeError(f"_foreach_{method}() got an unexpected keyword argument 'alpha'")
            others = [o * alpha for o in others]
        if name in ("maximum", "minimum"):  # a scalar bound: clamp's (maximum takes tensors)
            results = [_bounded(name, t, o) for t, o in zip(tensors, others)]
            if inplace:  # (no Tensor.maximum_: written back)
                for t, r in zip(tensors, results):
                    t.copy_(r)
                return self
            return tuple(results)
        results = [getattr(t, method)(o) for t, o in zip(tensors, others)]
        return self if inplace else tuple(results)

    foreach.__name__ = f"_foreach_{method}"
    foreach.__doc__ = (
        f"``{name}`` of each tensor of ``self`` with ``other`` (a scalar, one tensor, or a list "
        "of scalars or tensors of the same length)"
        + (", scaled by ``alpha``" if takes_alpha else "")
        + (": in place, returns ``self``." if inplace else ": a tuple of new tensors.")
    )
    return foreach


def _unary(name: str, inplace: bool):
    method = f"{name}_" if inplace else name

    def foreach(self):
        tensors = _check_list(name, self)
        results = [getattr(t, method)() for t in tensors]
        return self if inplace else tuple(results)

    foreach.__name__ = f"_foreach_{method}"
    foreach.__doc__ = f"``{method}`` of each tensor of ``self``" + (
        ", in place; returns ``self``." if inplace else "; a tuple of new tensors."
    )
    return foreach


def _ternary(name: str, inplace: bool):
    method = f"{name}_" if inplace else name

    def foreach(self, tensor1, tensor2, value=1):
        tensors = _check_list(name, self)
        firsts = _per_tensor(name, tensors, _check_list(name, tensor1))
        seconds = _per_tensor(name, tensors, _check_list(name, tensor2))
        if isinstance(value, graph.Tensor) and value.ndim == 1:
            value = value.tolist()  # PyTorch's scalars given as one tensor
        values = _per_tensor(name, tensors, value)
        results = [
            getattr(t, method)(a, b, value=v)
            for t, a, b, v in zip(tensors, firsts, seconds, values)
        ]
        return self if inplace else tuple(results)

    foreach.__name__ = f"_foreach_{method}"
    foreach.__doc__ = (
        f"``{name}(self[i], tensor1[i], tensor2[i], value=value[i])`` for each tensor; ``value`` "
        "is a scalar or a list of scalars" + ("; in place, returns ``self``." if inplace else ".")
    )
    return foreach


def _lerp(inplace: bool):
    def foreach(self, tensors1, weight):
        tensors = _check_list("lerp", self)
        ends = _per_tensor("lerp", tensors, _check_list("lerp", tensors1))
        weights = _per_tensor("lerp", tensors, weight)
        method = "lerp_" if inplace else "lerp"
        results = [getattr(t, method)(e, w) for t, e, w in zip(tensors, ends, weights)]
        return self if inplace else tuple(results)

    foreach.__name__ = "_foreach_lerp_" if inplace else "_foreach_lerp"
    foreach.__doc__ = "``self[i] + weight * (tensors1[i] - self[i])`` for each tensor" + (
        "; in place, returns ``self``." if inplace else "."
    )
    return foreach


def _foreach_norm(self, ord=2, dtype=None):
    """The vector norm of each tensor (over all its entries): a tuple of 0-d tensors."""
    from . import linalg

    return tuple(linalg.vector_norm(t, ord, dtype=dtype) for t in _check_list("norm", self))


def _foreach_max(self):
    """The largest entry of each tensor: a tuple of 0-d tensors."""
    return tuple(t.max() for t in _check_list("max", self))


def _foreach_zero_(self):
    """Zero every tensor of ``self`` in place; returns ``self``."""
    for t in _check_list("zero_", self):
        t.zero_()
    return self


def _foreach_copy_(self, src, non_blocking=False):
    """Copy ``src[i]`` into ``self[i]`` for each tensor; returns ``self``."""
    tensors = _check_list("copy_", self)
    for t, s in zip(tensors, _per_tensor("copy_", tensors, _check_list("copy_", src))):
        t.copy_(s, non_blocking=non_blocking)
    return self


def _foreach_clone(self):
    """A clone of each tensor: a tuple."""
    return tuple(t.clone() for t in _check_list("clone", self))


__all__ = ["_foreach_norm", "_foreach_max", "_foreach_zero_", "_foreach_copy_", "_foreach_clone"]
for _name in UNARY:
    for _inplace in (False, True):
        _f = _unary(_name, _inplace)
        globals()[_f.__name__] = _f
        __all__.append(_f.__name__)
for _name in BINARY:
    for _inplace in (False, True):
        _f = _binary(_name, _inplace)
        globals()[_f.__name__] = _f
        __all__.append(_f.__name__)
for _name in ("addcmul", "addcdiv"):
    for _inplace in (False, True):
        _f = _ternary(_name, _inplace)
        globals()[_f.__name__] = _f
        __all__.append(_f.__name__)
for _inplace in (False, True):
    _f = _lerp(_inplace)
    globals()[_f.__name__] = _f
    __all__.append(_f.__name__)
