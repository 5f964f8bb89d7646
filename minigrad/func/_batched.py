"""The batched tensor of ``vmap``: a tensor that looks like one sample and holds the batch.

A :class:`BatchedTensor` at vmap level ``L`` wraps a tensor ``value`` whose dim 0 is the
batch of that level; its shape, ndim and dtype are those of one sample (the *logical* view).
``value`` may itself be batched at a lower level (nested vmaps), so the chain of wrappers
ends in a plain tensor, the *physical* one, which holds every level's batch dims in front.

Ops on batched tensors reach :func:`minigrad.func._rules.batched_call` through the op
interposer; they never read ``_data``: for a batched tensor that is a :class:`LogicalArray`,
which answers metadata (``shape``, ``dtype``, ``ndim``) and raises for anything else, so a
function that reads arrays directly fails loudly rather than computing over the whole batch.
"""

from __future__ import annotations

import math

from .._torch_function import disabled_torch_function_impl
from ..tensor import Tensor


class LogicalArray:
    """The ``_data`` of a batched tensor: one sample's metadata, no element access."""

    __slots__ = ("tensor",)

    def __init__(self, tensor):
        self.tensor = tensor

    @property
    def shape(self) -> tuple:
        return self.tensor._value.shape[1:]

    @property
    def ndim(self) -> int:
        return self.tensor._value.ndim - 1

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def dtype(self):
        return self.tensor._value._data.dtype

    @property
    def flags(self):  # each sample of a contiguous batch is contiguous
        return physical(self.tensor)._data.flags

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    def all_elements(self):
        """Every sample's values (the physical array): for checks over all of them (index
        ranges), never for computing a result."""
        return physical(self.tensor)._data

    def __getattr__(self, name):
        raise NotImplementedError(
            f"vmap: this function reads the array of a batched tensor directly (.{name}), so it "
            f"has no batching rule; call it outside vmap, or express it with minigrad ops"
        )

    def _no_values(self, *args, **kwargs):
        raise NotImplementedError(
            "vmap: this function computes on the array of a batched tensor directly (an "
            "operator on its values), so it has no batching rule; call it outside vmap, or "
            "express it with minigrad ops"
        )

    # array operators would otherwise fall back to Python's identity comparison (a wrong
    # result, not an error)
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _no_values
    __getitem__ = __iter__ = __len__ = __bool__ = _no_values
    __hash__ = object.__hash__

    def __array__(self, *args, **kwargs):
        raise NotImplementedError(
            "vmap: converting a batched tensor to an array (data-dependent Python control flow "
            "or NumPy) is not supported inside vmap"
        )


class DataDependentError(RuntimeError):
    """A Python value (``.item()``, ``bool``) or a data-dependent shape (``nonzero``) asked of a
    batched tensor: what vmap cannot batch (jacfwd then runs one jvp per basis vector)."""


def _refuse(what: str):
    def method(self, *args, **kwargs):
        raise DataDependentError(
            f"vmap: It looks like you're calling {what} on a batched tensor; vmap does not "
            f"support data-dependent values per sample (each sample would need its own Python "
            f"value)"
        )

    return method


def _no_generator(generator, name: str) -> None:
    if generator is not None:
        raise NotImplementedError(
            f"vmap: {name} with an explicit generator is not supported on a batched tensor; "
            f"use the default generator (vmap's randomness decides the draws)"
        )


def _refuse_fill(name: str):
    def method(self, *args, **kwargs):
        raise NotImplementedError(
            f"vmap: {name} on a batched tensor is not supported; uniform_, normal_ and "
            f"bernoulli_ are, or draw with a random function (rand, randn, ...) inside vmap"
        )

    method.__name__ = name
    return method


def _wrap_like(result, level):
    if isinstance(result, tuple):
        return type(result)(*[make_batched(r, level) for r in result])
    return make_batched(result, level)


_REQUIRED = object()  # the default of a dim that must be given (cummax, cummin)


def _pointwise(name: str):
    """A function of each element computed on arrays (signbit, frexp): run on the batch."""

    def method(self, *args, **kwargs):
        return _wrap_like(getattr(self._value, name)(*args, **kwargs), self._level)

    method.__name__ = name
    return method


def _along(name: str, default_dim):
    """A data-dependent reduction (argmax, sort, ...): run on the batch with ``dim`` shifted;
    with no dim, over each sample flattened."""

    def method(self, dim=default_dim, *args, **kwargs):
        if dim is _REQUIRED:
            raise TypeError(f"{name}() missing 1 required positional argument: 'dim'")
        if name in ("max", "min") and (isinstance(dim, Tensor) or "other" in kwargs):
            other = kwargs.pop("other", dim)  # max(x, other): the elementwise form batches
            return getattr(self, name + "imum")(other)
        value, size = self._value, self._value.shape[0]
        if dim is not None and self.ndim == 0:  # a 0-d sample: along a dim of one, then back
            if not -1 <= dim <= 0:
                raise IndexError(
                    f"{name}: dimension out of range (expected to be in range of [-1, 0], but "
                    f"got {dim})"
                )
            out = getattr(value.unsqueeze(1), name)(1, *args, **kwargs)
            if isinstance(out, tuple):  # (values, indices): each one value per sample
                return _wrap_like(type(out)(*[o.reshape((size,)) for o in out]), self._level)
            return _wrap_like(out.reshape((size,)), self._level)
        if dim is None:
            if name in ("max", "min"):  # no dim: the plain extreme value (amax/amin rules)
                return getattr(self, "a" + name)()
            out = getattr(value.reshape(size, -1), name)(1, *args, **kwargs)
            if kwargs.get("keepdim") or (args and args[0] is True):
                out = out.reshape((size,) + (1,) * self.ndim)
        else:
            d = dim + self.ndim if dim < 0 else dim
            if not 0 <= d < max(self.ndim, 1):
                raise IndexError(
                    f"{name}: dimension out of range (expected to be in range of "
                    f"[{-max(self.ndim, 1)}, {max(self.ndim, 1) - 1}], but got {dim})"
                )
            out = getattr(value, name)(d + 1 if self.ndim else 1, *args, **kwargs)
        return _wrap_like(out, self._level)

    method.__name__ = name
    return method


class BatchedTensor(Tensor):
    """One sample's view of a batch at a vmap level (see the module docstring)."""

    __slots__ = ("_value", "_level", "_logical")
    _methods_batch = True  # functional forms call the methods below (ops.base.method_on_batched)
    __torch_function__ = disabled_torch_function_impl  # its methods batch; results stay batched

    @property
    def _data(self):
        return self._logical

    def _all_elements(self):
        return physical(self)._data

    def detach(self):
        return make_batched(self._value.detach(), self._level)

    @property
    def data(self):
        return make_batched(self._value.data, self._level)

    @property
    def requires_grad(self) -> bool:
        return self._value.requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self._value.requires_grad = value

    def __repr__(self) -> str:
        return f"BatchedTensor(lvl={self._level}, bdim=0, value={self._value!r})"

    argmax, argmin = _along("argmax", None), _along("argmin", None)
    max, min = _along("max", None), _along("min", None)
    all, any = _along("all", None), _along("any", None)
    sort, argsort = _along("sort", -1), _along("argsort", -1)
    cummax, cummin = _along("cummax", _REQUIRED), _along("cummin", _REQUIRED)
    mode = _along("mode", -1)
    signbit, frexp = _pointwise("signbit"), _pointwise("frexp")

    def topk(self, k, dim=-1, largest=True, sorted=True):
        d = dim + self.ndim if dim < 0 else dim
        out = self._value.topk(k, d + 1, largest, sorted)
        return _wrap_like(out, self._level)

    def kthvalue(self, k, dim=-1, keepdim=False):
        if self.ndim == 0:  # a 0-d sample: along a dim of one, one value per sample
            out = self._value.unsqueeze(1).kthvalue(k, 1)
            return _wrap_like(out, self._level)
        d = dim + self.ndim if dim < 0 else dim
        return _wrap_like(self._value.kthvalue(k, d + 1, keepdim), self._level)

    # -- in-place updates: the physical tensor changes in place (its own autograd recording,
    # view bookkeeping and version counter), by the computation run on its batched view
    def _inplace(self, compute, *others):
        level, size = self._level, self._value.shape[0]

        def physical_result(old):
            result = compute(make_batched(old, level))
            if type(result) is BatchedTensor and result._level > level:
                raise RuntimeError(
                    "vmap: an in-place operation is not possible because the tensor written to "
                    "is shared by the samples of an inner vmap while the value is per sample; "
                    "use the out-of-place operation"
                )
            if type(result) is BatchedTensor and result._level == level:
                return result._value
            return result.unsqueeze(0).expand((size,) + tuple(result.shape))

        self._value._inplace(physical_result, *others)
        return self

    def _inplace_ufunc(self, ufunc: str, other):
        from .. import ops

        return self._inplace(lambda s: getattr(ops, ufunc)(s, other), other)

    def __setitem__(self, key, value) -> None:
        from ..ops import indexing

        if any(indexing._is_array_index(k) for k in indexing.normalize_key(self, key)):
            self._put_at_index(key, value)
        else:
            self[key].copy_(value)  # a view of the batch: the write reaches this tensor

    def _restride(self, view, op, node_name: str):
        self._value._restride(view._value, op, node_name)  # the batch keeps dim 0 in the layout
        return self

    # in-place random fills: a draw of the sample's shape, which vmap's randomness batches
    def uniform_(self, a=0.0, b=1.0, generator=None):
        from .. import creation

        _no_generator(generator, "uniform_")
        return self.copy_(
            creation.rand(self.shape, dtype=self.dtype, device=self.device) * (b - a) + a
        )

    def normal_(self, mean=0.0, std=1.0, generator=None):
        from .. import creation

        _no_generator(generator, "normal_")
        return self.copy_(
            creation.randn(self.shape, dtype=self.dtype, device=self.device) * std + mean
        )

    def bernoulli_(self, p=0.5, *, generator=None):
        from .. import creation

        _no_generator(generator, "bernoulli_")
        if not isinstance(p, Tensor):
            p = creation.full(self.shape, p, dtype=self.dtype, device=self.device)
        return self.copy_(creation.bernoulli(p.to(self.dtype).expand(self.shape)))

    exponential_ = _refuse_fill("exponential_")
    geometric_ = _refuse_fill("geometric_")
    log_normal_ = _refuse_fill("log_normal_")
    cauchy_ = _refuse_fill("cauchy_")
    random_ = _refuse_fill("random_")

    def nonzero(self, *args, **kwargs):
        raise DataDependentError(
            "vmap: nonzero has a data-dependent output shape per sample, which vmap cannot batch"
        )

    item = _refuse(".item()")
    tolist = _refuse(".tolist()")
    numpy = _refuse(".numpy()")
    __bool__ = _refuse("bool()")
    __float__ = _refuse("float()")
    __int__ = _refuse("int()")
    __index__ = _refuse("an index conversion")

    def __deepcopy__(self, memo):
        raise RuntimeError("vmap: batched tensors cannot be deep-copied inside vmap")


def make_batched(value, level: int) -> BatchedTensor:
    """Wrap ``value`` (batch at dim 0) as a batched tensor of ``level``."""
    t = object.__new__(BatchedTensor)
    t.device = value.device
    t._grad = t.grad_fn = t._version_counter = t._base = t._view = t._hooks = t._accumulator = None
    t._output_nr, t._retains_grad, t._requires_grad = 0, False, False
    t._value, t._level = value, level
    t._logical = LogicalArray(t)
    return t


def levels_of(t) -> list:
    """The vmap levels ``t`` is batched at, outermost wrapper first."""
    out = []
    while type(t) is BatchedTensor:
        out.append(t._level)
        t = t._value
    return out


def physical(t):
    """The plain tensor at the bottom of ``t``'s chain of batched wrappers."""
    while type(t) is BatchedTensor:
        t = t._value
    return t


def rewrap(template, value):
    """``value`` (a physical tensor laid out as ``template``'s) wrapped in the same levels."""
    levels = levels_of(template)
    for level in reversed(levels):
        value = make_batched(value, level)
    return value
