"""Nested tensors as Tensors: the Tensor methods of the nested layout (``to_padded_tensor``,
``values``/``offsets``/``lengths``) and of shape arithmetic (each a dense method that hands a
nested tensor to :mod:`minigrad.nested._functions`), and PyTorch's repr."""

from __future__ import annotations

import functools
import inspect
import sys

from .. import _format, _memory_format, _public_name, backend, dtypes
from .. import sparse as _sparse  # noqa: F401 - its Tensor.values is wrapped below
from .._inplace import _check_inplace_allowed
from .._nested_record import NestedRecord, jagged
from ..autograd import _jvp_rules, grad_mode
from ..autograd.graph import class_name, version_counter
from ..ops import base as _base
from ..tensor import Tensor
from . import _functions
from ._core import buffer_of, components, expect_nested, pack, to_padded_tensor

_SHAPE_METHODS = (
    "reshape", "view", "flatten", "unflatten", "unsqueeze", "squeeze", "mean", "unbind",
    "split", "chunk",
)  # fmt: skip


def _dispatching(name: str, nested_fn, owner=Tensor):
    """``owner.name`` (a Tensor method, or a function of ``minigrad`` taking the tensor first)
    that hands a nested tensor to ``nested_fn``."""
    dense_fn = getattr(owner, name)
    if owner is Tensor:  # a method: one type check in front of the dense method

        @functools.wraps(dense_fn)
        def method(self, *args, **kwargs):
            if type(self._data) is NestedRecord:
                return nested_fn(self, *args, **kwargs)
            return dense_fn(self, *args, **kwargs)

        return method

    first = next(iter(inspect.signature(dense_fn).parameters))  # (also passed by name)

    @functools.wraps(dense_fn)
    def function(*args, **kwargs):
        lead = args[0] if args else kwargs.get(first)
        if type(getattr(lead, "_data", None)) is NestedRecord:
            if not args:
                args = (kwargs.pop(first),)
            return nested_fn(*args, **kwargs)
        return dense_fn(*args, **kwargs)

    return function


def _jagged_meta(t, op: str):
    meta = expect_nested(t, op)
    if meta.layout is not jagged:
        raise RuntimeError(f"{op}(): only the jagged layout has {op}, got a strided nested tensor")
    return meta


def values(self) -> Tensor:
    """The packed values of a nested tensor (in the graph): for the jagged layout, the
    components concatenated along the ragged dim; for the strided one, raveled in a row."""
    return buffer_of(self)


def offsets(self) -> Tensor:
    """Where each component of a jagged tensor starts in ``values()`` (batch + 1 entries)."""
    meta = _jagged_meta(self, "offsets")
    return _base.constant(backend.as_array(meta.offsets, dtypes.int64, self.device), self.device)


def lengths(self):
    """Each component's length along the ragged dim when given at construction, else None."""
    meta = _jagged_meta(self, "lengths")
    if meta.lengths is None:
        return None
    return _base.constant(backend.as_array(meta.lengths, dtypes.int64, self.device), self.device)


def _inplace(self, compute, *others) -> Tensor:
    """A nested tensor's in-place op: ``compute`` out of place, its values written into this
    tensor's storage (recorded in the graph as the dense ``_inplace`` records it)."""
    recording = grad_mode.is_grad_enabled() and (
        self.requires_grad or any(isinstance(o, Tensor) and o.requires_grad for o in others)
    )
    if recording:
        _check_inplace_allowed(self)
        old = Tensor._make(self._data.copy(), self.device, self._requires_grad, self.grad_fn)
        old._output_nr = self._output_nr
        result = compute(old)
    else:
        with grad_mode.no_grad():
            result = compute(self)
    if not isinstance(result, Tensor) or type(result._data) is not NestedRecord:
        raise RuntimeError("in-place op: the result of an op on a nested tensor must be nested")
    if result._data.dtype != self._data.dtype:
        result = result.to(self.dtype)
    self._data[...] = result._data
    if recording:
        self.grad_fn, self._requires_grad, self._output_nr = result.grad_fn, True, 0
    version_counter(self).value += 1
    return self


def _inplace_ufunc(self, ufunc: str, other) -> Tensor:
    from .. import ops

    return _inplace(self, lambda s: getattr(ops, ufunc)(s, other), other)


def copy_(self, src, non_blocking=False) -> Tensor:
    """Write nested ``src`` (of this structure) into this nested tensor."""
    if not isinstance(src, Tensor) or type(src._data) is not NestedRecord:
        raise RuntimeError("copy_: a nested tensor takes values from a nested tensor only")
    return _inplace(self, lambda s: src.to(s.device).clone(), src)


def fill_(self, value) -> Tensor:
    """Set every element of each component to ``value``."""
    from .. import creation

    if isinstance(value, Tensor):
        return _inplace(self, lambda s: s * 0 + value, value)
    return _inplace(self, lambda s: creation.full_like(s, value))


def nested_like(make, input, *args, requires_grad=False, **kwargs) -> Tensor:
    """``zeros_like``, ``rand_like``, ...: the factory on the packed values, of the same
    structure (``minigrad._memory_format.like_factory`` hands nested inputs here)."""
    values = input._data.buffer
    with grad_mode.no_grad():
        out = make(Tensor._make(values, input.device), *args, **kwargs)
    result = Tensor._make(NestedRecord(out._data, input._data.meta), out.device)
    return result.requires_grad_(requires_grad)


def install() -> None:
    """Put the nested forms on Tensor (dense tensors keep their own forms)."""
    top = sys.modules["minigrad"]  # (being imported: its functions are bound already)
    for name in _SHAPE_METHODS:
        setattr(Tensor, name, _dispatching(name, getattr(_functions, name)))
        if name != "view":  # minigrad.chunk(nt, 3, dim=-1), as PyTorch's tutorial calls it
            setattr(top, name, _dispatching(name, getattr(_functions, name), top))
    sparse_values = Tensor.values
    Tensor.values = _dispatching("values", values)
    Tensor.values.__wrapped__ = sparse_values
    Tensor.offsets, Tensor.lengths = offsets, lengths
    Tensor.to_padded_tensor = to_padded_tensor
    Tensor.is_contiguous = _dispatching("is_contiguous", is_contiguous)
    for name, fn in (
        ("_inplace", _inplace),
        ("_inplace_ufunc", _inplace_ufunc),
        ("fill_", fill_),
        ("copy_", copy_),
    ):
        setattr(Tensor, name, _dispatching(name, fn))
    _memory_format.nested_like = nested_like
    Tensor.contiguous = _dispatching("contiguous", contiguous)


# -- repr ---------------------------------------------------------------------------------------
def nested_repr(t) -> str:
    """PyTorch's repr: the components for the strided layout, the size and offsets for the
    jagged one."""
    meta = t._data.meta
    suffixes = []
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{class_name(t.grad_fn)}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    if meta.layout is jagged:
        size = "(" + ", ".join(str(s) for s in tuple(meta.shape)) + ")"
        offs = _format.tensor_repr(offsets(t)).replace(_public_name.shown() + ".", "")
        fields = [f"size={size}", f"offsets={offs}", *suffixes, f"contiguous={_tight(meta)}"]
        return "NestedTensor(" + ", ".join(fields) + ")"
    parts = []
    for i in range(len(meta.sizes)):  # (PyTorch shows each component's requires_grad too)
        part = Tensor._make(meta.component(t._data.buffer, i), t.device, t.requires_grad)
        parts.append("  " + _format.tensor_repr(part).replace("\n", "\n  "))
    body = "nested_tensor([\n" + ",\n".join(parts) + "\n]"
    if suffixes:
        body += ", " + ", ".join(suffixes)
    return body + ")"


def _tight(meta) -> bool:
    """Whether the packed values hold the components back to back, in PyTorch's order."""
    return meta.layout is not jagged or (meta.lengths is None and meta.ragged_idx == 1)


def is_contiguous(self, memory_format=None) -> bool:
    """Nested: whether the packed values hold the components back to back."""
    return _tight(self._data.meta)


def contiguous(self, memory_format=None) -> Tensor:
    """Nested: itself when contiguous, else the components packed back to back."""
    meta = self._data.meta
    if _tight(meta):
        return self
    return pack(components(self), meta.layout, meta.ragged_idx, like=meta)


# -- forward-mode AD: the two primitives are linear (packing and unpacking the values)
_jvp_rules.RULES.update({"NestedFromBuffer": _jvp_rules.linear, "NestedBuffer": _jvp_rules.linear})
