"""In-place updates of tensors (``add_``, ``copy_``, ``t[key] = v``, ...), with the version
counter that makes backward refuse values that changed after they were saved."""

from __future__ import annotations

import functools

import numpy as np

from . import _torch_samplers, backend, dtypes
from . import ops as _ops
from ._warnings import number_first_overload, warn_user
from .autograd import anomaly, forward_ad, function, grad_mode, graph
from .autograd.graph import version_counter


def _on_own_device(method):
    """Run ``method`` with the tensor's GPU current: it calls ``xp`` on the tensor's arrays
    directly, and CuPy launches kernels on the current device (``cuda:1`` and up)."""

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        dev = self.device
        if dev.index == dev.backend.current:
            return method(self, *args, **kwargs)
        with backend.on(dev):
            return method(self, *args, **kwargs)

    return run


def _half(array) -> bool:
    """True for float16 and bfloat16 arrays (ml_dtypes' bfloat16 is of kind 'V')."""
    return array.dtype.itemsize == 2 and array.dtype.kind in "fV"


def _copied(src):
    """``copy_``'s new value, its node named as PyTorch's (``torch::autograd::CopyBackwards``)."""
    return graph.named_as(src, "torch::autograd::CopyBackwards")


def _move_retain_grad(tensor, old_fn) -> None:
    """``retain_grad()`` follows a tensor changed in place, as PyTorch's: its hook moves to the
    new ``grad_fn``, so ``.grad`` is the gradient of the latest value, not of the overwritten one."""
    hooks = getattr(old_fn, "pre_hooks", None) or {}
    for key, (_, hook) in list(hooks.items()):
        if isinstance(hook, graph.RetainGrad) and hook.ref() is tensor:
            del hooks[key]
            if tensor.grad_fn is not None:
                tensor.grad_fn.register_prehook(hook, tensor._output_nr)


def _meta_inplace(tensor, compute):
    """An in-place op on a meta tensor: nothing to write, but its arguments are checked as on
    any device (``x.atan2_()`` with no ``other`` raises PyTorch's TypeError, a mismatched
    ``other`` its RuntimeError) by computing the result's shape and dtype. An op the meta
    device cannot compute (it raises NotImplementedError, or its code asks the MetaArray for
    values) leaves the tensor as it is, as before."""
    try:
        with grad_mode.no_grad():
            compute(tensor)
    except (NotImplementedError, AttributeError):
        pass
    except TypeError as exc:
        if "MetaArray" not in str(exc):
            raise
    return tensor


class InPlaceMethods:
    """The in-place half of :class:`~minigrad.tensor.Tensor` (a mixin: no state of its own)."""

    __slots__ = ()

    @_on_own_device
    def _inplace(self, compute, *others):
        """Replace this tensor's values with ``compute(self)``, keeping its storage.

        Under grad mode, when the change must be recorded, the old values are snapshotted so
        that the new node's backward sees them, and this tensor takes the new ``grad_fn``.
        The version counter goes up, so nodes that saved the old values refuse to run.
        """
        if type(self._data).__name__ == "MetaArray":  # no values to write, as PyTorch's meta
            return _meta_inplace(self, compute)
        recording = grad_mode._state.enabled and (
            self.requires_grad  # the property: a view's grad_fn is brought up to date first
            or any(isinstance(o, graph.Tensor) and o.requires_grad for o in others)
            or (self._base is not None and self._base._requires_grad)
        )
        dual = forward_ad.active and forward_ad.has_tangents((self, self._base) + others)
        if recording:
            try:
                _check_inplace_allowed(self)
            except RuntimeError:
                refusal = _argument_error(compute, self)
                if refusal is not None:
                    raise refusal from None
                raise
            old = graph.Tensor._make(
                self._data.copy(), self.device, self._requires_grad, self.grad_fn
            )
            old._output_nr = self._output_nr
            if dual:
                forward_ad.copy_tangents(self, old)
            result = compute(old)
        else:
            with grad_mode.no_grad():
                result = compute(self)
        _write(self, result)
        if dual:
            _write_tangent(self, result)
        if recording and self._base is not None:
            _record_copy_slices(self, result)
        elif recording:
            self.grad_fn, self._requires_grad, self._output_nr = result.grad_fn, True, 0
        version_counter(self).value += 1
        if self._base is not None:
            refresh_view(self)  # a view's history is now "view of the changed base"
        if recording and self._retains_grad:
            _move_retain_grad(self, old.grad_fn)
        return self

    @_on_own_device
    def _inplace_ufunc(self, ufunc: str, other):
        """Fast path for ``self = ufunc(self, other)`` when nothing is recorded (optimizer steps)."""
        if (
            grad_mode._state.enabled
            and (
                self._requires_grad
                or (isinstance(other, graph.Tensor) and other.requires_grad)
                or (self._base is not None and (self.requires_grad or self._base._requires_grad))
            )
        ) or (forward_ad.active and forward_ad.has_tangents((self, self._base, other))):
            return self._inplace(lambda s: getattr(_ops, ufunc)(s, other), other)
        if getattr(type(other), "_methods_batch", False):  # a vmap batch into a plain tensor
            return self._inplace(lambda s: getattr(_ops, ufunc)(s, other), other)  # (refused)
        data = other._data if isinstance(other, graph.Tensor) else other
        if isinstance(other, graph.Tensor) and other.device is not self.device:
            raise RuntimeError(
                f"{ufunc}_: expected all tensors to be on the same device, but found {self.device} and {other.device}"
            )
        _check_writeable(self)
        if ufunc == "div" and dtypes.category(self.dtype) < 2:  # true division: a float result
            # (NumPy's true_divide would write it truncated into the integers)
            result = dtypes.scalar_type_name(_ops.div(self, other).dtype)
            raise RuntimeError(
                f"div_: result type {result} can't be cast to the desired output type "
                f"{dtypes.scalar_type_name(self.dtype)}"
            )
        xp = self.device.xp
        name = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "true_divide"}[ufunc]
        try:
            if ufunc in ("mul", "div") and type(data) in (float, int) and _half(self._data):
                # float16/bfloat16 times a number: computed in float32, rounded once (PyTorch)
                self._data[...] = getattr(xp, name)(self._data.astype(np.float32), data)
            else:
                getattr(xp, name)(self._data, data, out=self._data, casting="same_kind")
        except TypeError as e:
            if "cast" not in str(e):
                raise
            # PyTorch refuses only a change of category (float into int, int into bool);
            # NumPy's same_kind also refuses int32 into uint8, which PyTorch wraps
            result = dtypes.result_type(self, other)
            if dtypes.category(result) > dtypes.category(self.dtype):
                raise RuntimeError(
                    f"{ufunc}_: result type {dtypes.scalar_type_name(result)} can't be cast to the "
                    f"desired output type {dtypes.scalar_type_name(self.dtype)}"
                ) from None
            getattr(xp, name)(self._data, data, out=self._data, casting="unsafe")
        except AttributeError:  # a storage record (meta: minigrad._meta_device) is no array
            return self._inplace(lambda s: getattr(_ops, ufunc)(s, other), other)
        except ValueError:
            # PyTorch's words: the pair's own mismatch, else the shape the result would take
            wide = _ops.movement._broadcast_shape(self.shape, np.shape(data))
            raise RuntimeError(
                f"{ufunc}_: output with shape {list(self.shape)} doesn't match the broadcast "
                f"shape {list(wide)}"
            ) from None
        version_counter(self).value += 1
        return self

    @number_first_overload("add_", "alpha", "other", method=True)
    def add_(self, other, alpha=1):
        if alpha != 1 and isinstance(other, graph.Tensor):
            return self._add_scaled(other, alpha)
        return self._inplace_ufunc("add", other if alpha == 1 else other * alpha)

    @number_first_overload("sub_", "alpha", "other", method=True)
    def sub_(self, other, alpha=1):
        if alpha != 1 and isinstance(other, graph.Tensor):
            return self._add_scaled(other, -alpha)
        return self._inplace_ufunc("sub", other if alpha == 1 else other * alpha)

    def _add_scaled(self, other, alpha):
        """``self += alpha * other`` as PyTorch's kernel computes it: in the result's dtype
        (not ``other``'s: a bfloat16 ``other`` would round the product to 16 bits), with
        float32 as one fused multiply-add (emulated in float64: the product is exact there)."""
        a, b = self._data, other._data
        fused = (
            type(a) is np.ndarray
            and type(b) is np.ndarray
            and a.dtype == np.float32
            and b.dtype.itemsize <= 4
            and np.broadcast_shapes(a.shape, b.shape) == a.shape
        )
        if not fused or (grad_mode._state.enabled and (self.requires_grad or other.requires_grad)):
            return self._inplace(lambda s: _ops.add(s, other, alpha=alpha), other)
        _check_writeable(self)
        product = other._data.astype(np.float64) * float(np.float32(alpha))
        self._data[...] = (self._data.astype(np.float64) + product).astype(np.float32)
        version_counter(self).value += 1
        return self

    def mul_(self, other):
        return self._inplace_ufunc("mul", other)

    def div_(self, other, *, rounding_mode=None):
        if rounding_mode is None:
            return self._inplace_ufunc("div", other)
        return self._inplace(lambda s: _ops.div(s, other, rounding_mode=rounding_mode), other)

    # (``x += y`` takes one operand: no deprecated overload to check)
    __iadd__, __isub__ = add_.__wrapped__, sub_.__wrapped__
    __imul__, __itruediv__ = mul_, div_

    @number_first_overload("addcmul_", "value", "tensor1, tensor2", method=True)
    def addcmul_(self, tensor1, tensor2, *, value=1):
        return self._inplace(
            lambda s: _ops.addcmul(s, tensor1, tensor2, value=value), tensor1, tensor2
        )

    @number_first_overload("addcdiv_", "value", "tensor1, tensor2", method=True)
    def addcdiv_(self, tensor1, tensor2, *, value=1):
        return self._inplace(
            lambda s: _ops.addcdiv(s, tensor1, tensor2, value=value), tensor1, tensor2
        )

    def lerp_(self, end, weight):
        return self._inplace(lambda s: _ops.lerp(s, end, weight), end, weight)  # (as lerp)

    def pow_(self, exponent):
        return self._inplace(lambda s: s**exponent, exponent)

    def clamp_(self, min=None, max=None):
        return self._inplace(lambda s: _ops.clamp(s, min, max), min, max)

    clip_ = clamp_

    def masked_fill_(self, mask, value):
        once = _without_repeats(self)
        if once is not None and isinstance(mask, graph.Tensor):
            _fill_shared(self, once, mask, value)
            return self
        return self._inplace(lambda s: _ops.masked_fill(s, mask, value), value)

    def copy_(self, src, non_blocking=False):
        """Copy ``src``'s values into this tensor (broadcast, cast, moved across devices).
        ``non_blocking`` is accepted, as PyTorch's; the copy is always complete on return."""
        _ops.base.check_bool_arg(non_blocking, "copy_", "non_blocking", 1)
        src = src if isinstance(src, graph.Tensor) else self.new_tensor(src)
        return self._inplace(lambda s: _copied(src.to(s.device, s.dtype).expand(s.shape)), src)

    def zero_(self):
        once = _without_repeats(self)
        return self._fill_number(0, "ZeroBackward0") if once is None else (once.zero_(), self)[1]

    def fill_(self, value):
        """Set every element to ``value`` (a number, or a 0-d tensor, differentiable in it)."""
        once = None if isinstance(value, graph.Tensor) else _without_repeats(self)
        if once is not None:  # an expanded tensor: filling each shared element once is the same
            once.fill_(value)  # (PyTorch refuses a 0-d tensor value there, as other writes)
            return self
        if isinstance(value, graph.Tensor):
            if value.ndim != 0:
                raise RuntimeError(
                    f"fill_ only supports 0-dimension value tensor but got tensor with "
                    f"{value.ndim} dimensions."
                )
            return self._inplace(lambda s: _filled(s, value, "FillBackward3"), value)
        return self._fill_number(value, "FillBackward2")

    def _fill_number(self, value, name: str):
        """``fill_(value)``: in the graph, as PyTorch's, the old values get a zero gradient
        (the node ``name``) rather than the tensor leaving the graph."""
        return self._inplace(lambda s: _filled(s, value, name))

    # -- in-place twins of unary functions: t.<name>_() is t = minigrad.<name>(t) --------------

    def abs_(self):
        """In-place :func:`minigrad.abs` (refused for complex tensors, as PyTorch: |z| is real)."""
        if self._data.dtype.kind == "c":
            raise RuntimeError("In-place abs is not supported for complex tensors.")
        return self._inplace(_ops.abs)

    def conj_physical_(self):
        """In-place :func:`minigrad.conj_physical`."""
        return self._inplace(_ops.conj_physical)

    def ceil_(self):
        """In-place :func:`minigrad.ceil`."""
        return self._inplace(_ops.ceil)

    def cos_(self):
        """In-place :func:`minigrad.cos`."""
        return self._inplace(_ops.cos)

    def exp_(self):
        """In-place :func:`minigrad.exp`."""
        return self._inplace(_ops.exp)

    def expm1_(self):
        """In-place :func:`minigrad.expm1`."""
        return self._inplace(_ops.expm1)

    def floor_(self):
        """In-place :func:`minigrad.floor`."""
        return self._inplace(_ops.floor)

    def log_(self):
        """In-place :func:`minigrad.log`."""
        return self._inplace(_ops.log)

    def log1p_(self):
        """In-place :func:`minigrad.log1p`."""
        return self._inplace(_ops.log1p)

    def neg_(self):
        """In-place :func:`minigrad.neg`."""
        return self._inplace(_ops.neg)

    def reciprocal_(self):
        """In-place :func:`minigrad.reciprocal`."""
        return self._inplace(_ops.reciprocal)

    def relu_(self):
        """In-place :func:`minigrad.relu`."""
        return self._inplace(_ops.relu)

    def round_(self, *, decimals=0):
        """In-place :func:`minigrad.round` (``decimals`` keyword-only, as PyTorch's)."""
        return self._inplace(lambda s: _ops.round(s, decimals=decimals))

    def rsqrt_(self):
        """In-place :func:`minigrad.rsqrt`."""
        return self._inplace(_ops.rsqrt)

    def sigmoid_(self):
        """In-place :func:`minigrad.sigmoid`."""
        return self._inplace(_ops.sigmoid)

    def sign_(self):
        """In-place :func:`minigrad.sign`."""
        return self._inplace(_ops.sign)

    def sin_(self):
        """In-place :func:`minigrad.sin`."""
        return self._inplace(_ops.sin)

    def sqrt_(self):
        """In-place :func:`minigrad.sqrt`."""
        return self._inplace(_ops.sqrt)

    def square_(self):
        """In-place :func:`minigrad.square`."""
        return self._inplace(_ops.square)

    def tan_(self):
        """In-place :func:`minigrad.tan`."""
        return self._inplace(_ops.tan)

    def tanh_(self):
        """In-place :func:`minigrad.tanh`."""
        return self._inplace(_ops.tanh)

    def trunc_(self):
        """In-place :func:`minigrad.trunc`."""
        return self._inplace(_ops.trunc)

    @_on_own_device
    def uniform_(self, a=0.0, b=1.0, generator=None):
        """Fill with U(a, b) numbers, in the order of the tensor's memory (as PyTorch)."""
        _check_float(self, "uniform_")
        if a > b:
            raise RuntimeError(
                f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}"
            )
        gen = backend.generator_or_default(generator, self.device, "uniform_")
        values = _in_memory_order(
            self._data, lambda shape: gen.uniform(shape, self._data.dtype, a, b)
        )
        return self._fill_random(values)

    @_on_own_device
    def normal_(self, mean=0.0, std=1.0, generator=None):
        """Fill with N(mean, std²) numbers. As PyTorch, a contiguous tensor of 16 elements or
        more takes the 16-wide Box-Muller fill, any other one pair by pair in memory order."""
        _check_float(self, "normal_")
        _check_floats("normal_", mean=mean, std=std)
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {float(std):g}")
        gen = backend.generator_or_default(generator, self.device, "normal_")
        filled = self.is_contiguous()
        values = _in_memory_order(
            self._data,
            lambda shape: gen.normal(shape, self._data.dtype, mean, std, filled=filled),
        )
        return self._fill_random(values)

    @_on_own_device
    def bernoulli_(self, p=0.5, *, generator=None):
        """1 with probability ``p`` (a number or a tensor of probabilities), else 0; drawn as
        PyTorch's CPU kernel on non-Intel CPUs (see :mod:`minigrad._torch_samplers`)."""
        _refuse_complex_kernel(self, "bernoulli_scalar_cpu_")
        gen = backend.generator_or_default(generator, self.device, "bernoulli_")
        if isinstance(p, graph.Tensor):  # integer or bool probabilities: no kernel (PyTorch)
            _ops.base.refuse_dtype(p.dtype, "bernoulli_tensor_cpu_p_", "bernoulli")
            if p.device.type == "cpu":  # a GPU would wait for the check (PyTorch asserts there)
                bad = p.detach()
                _require(not bool(((bad < 0) | (bad > 1)).any()), "bernoulli_: p must be in [0, 1]")
        else:
            _require(0 <= p <= 1, f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        order = _torch_samplers.memory_order(self._data) or tuple(range(self.ndim))
        back = tuple(int(i) for i in np.argsort(order))  # a transposed tensor: memory order
        if isinstance(p, graph.Tensor):
            probs = self.device.xp.broadcast_to(p.to(self.device)._data, self.shape)
            keep = gen.bernoulli_probs(probs.transpose(order)).transpose(back)
        else:
            keep = gen.bernoulli(tuple(self.shape[i] for i in order), p).transpose(back)
        return self._fill_random(keep.astype(self._data.dtype))

    @_on_own_device
    def exponential_(self, lambd=1.0, *, generator=None):
        """Exponential draws with rate ``lambd``: -log(1 - u) / λ."""
        _check_continuous(self, "Exponential")
        _require(lambd > 0, f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
        gen = backend.generator_or_default(generator, self.device, "exponential_")
        return self._fill_random(gen.exponential(self.shape, self._data.dtype, lambd))

    @_on_own_device
    def geometric_(self, p, *, generator=None):
        """The number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
        _require(0 < p < 1, f"geometric_ expects p to be in (0, 1), but got p={p}")
        gen = backend.generator_or_default(generator, self.device, "geometric_")
        return self._fill_random(gen.geometric(self.shape, self._data.dtype, p))

    @_on_own_device
    def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
        """exp of N(mean, std²) draws."""
        _check_float(self, "log_normal_")
        _check_floats("log_normal_", mean=mean, std=std)
        _refuse_complex_kernel(self, "log_normal_cpu")
        _require(std > 0, f"log_normal_ expects std > 0.0, but found std={std}")
        gen = backend.generator_or_default(generator, self.device, "log_normal_")
        return self._fill_random(gen.log_normal(self.shape, self._data.dtype, mean, std))

    @_on_own_device
    def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
        """Cauchy draws: median + σ·tan(π(u - ½))."""
        _check_continuous(self, "Cauchy", dtypes.cpp_type_name)
        _check_floats("cauchy_", median=median, sigma=sigma)
        _require(sigma > 0, f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
        gen = backend.generator_or_default(generator, self.device, "cauchy_")
        return self._fill_random(gen.cauchy(self.shape, self._data.dtype, median, sigma))

    @_on_own_device
    def random_(self, from_=None, to=None, *, generator=None):
        """Integers drawn uniformly from [from, to) (``random_(to)`` is [0, to), so
        ``random_(0)`` raises as in PyTorch; without bounds, [0, 2^mantissa] for floats and the
        dtype's range for integers), in memory order."""
        _check_floats("random_", "int", **{"from": from_, "to": to})
        full_range = to is None and from_ is None
        if to is None and not full_range:
            from_, to = 0, from_
        from_ = 0 if from_ is None else from_
        if to is None:
            to = _random_upper(self._data.dtype)
        from_, to = int(from_), int(to)
        if not full_range:
            check_random_bounds(self._data.dtype, from_, to)
        gen = backend.generator_or_default(generator, self.device, "random_")
        dtype = self._data.dtype
        values = _in_memory_order(
            self._data,
            lambda shape: gen.integers(from_, to, shape, dtype, full_range=full_range),
        )
        return self._fill_random(values)

    def fill_diagonal_(self, fill_value, wrap=False):
        """Set the main diagonal (entries with all indices equal) to ``fill_value``; a tall
        matrix restarts the diagonal every ``cols + 1`` rows with ``wrap=True``, as NumPy."""
        _ops.base.check_bool_arg(wrap, "fill_diagonal_", "wrap", 1)
        if self.ndim < 2 or (self.ndim > 2 and len(set(self.shape)) != 1):
            raise RuntimeError(
                "fill_diagonal_: dimensions must larger than 1 and all dimensions of input must "
                "be of equal length"
            )
        xp = self.device.xp
        with backend.on(self.device):  # (allocated on the tensor's GPU: cuda:1 and up)
            mask = xp.zeros(self.shape, dtype=bool)
            xp.fill_diagonal(mask, True, wrap=wrap)
        keep = graph.Tensor._make(mask, self.device)
        # masked_fill casts the value to this tensor's dtype (1.5 fills an int64 diagonal with 1)
        return self._inplace(lambda s: _ops.masked_fill(s, keep, fill_value))

    def _fill_random(self, values):
        """Write freshly drawn ``values`` (this tensor's shape and dtype). Nothing to record
        (a plain tensor, out of the graph, no tangents): written directly, as the optimizers'
        in-place ufuncs, skipping :meth:`_inplace`'s snapshot and checks of a result."""
        if (
            (
                grad_mode._state.enabled
                and (
                    self._requires_grad
                    or (
                        self._base is not None and (self.requires_grad or self._base._requires_grad)
                    )
                )
            )
            or forward_ad.active
            or getattr(type(self), "_methods_batch", False)
            or type(self._data) is not type(values)  # (other backends' arrays)
            or type(values).__name__ == "MetaArray"  # (no values: _inplace leaves it)
            or values.dtype != self._data.dtype
            or values.shape != self._data.shape
        ):
            return self._inplace(lambda s: graph.Tensor._make(values, s.device))
        _check_writeable(self)
        self._data[...] = values
        version_counter(self).value += 1
        if self._base is not None:
            refresh_view(self)
        return self

    @_on_own_device
    def __setitem__(self, key, value) -> None:
        """``t[key] = value``. In the graph (grad mode on and ``t`` or ``value`` requiring grad,
        or forward AD with tangents) a basic key (ints, slices, None, ...) is recorded as
        ``t[key].copy_(value)``, as in PyTorch; a key with index tensors or masks as an
        ``index_put_`` at the flat positions it selects (differentiable in ``t`` and ``value``).
        """
        if self._records_write(value):
            indexing = _ops.indexing
            if any(indexing._is_array_index(k) for k in indexing.normalize_key(self, key)):
                self._put_at_index(key, value)
                return
            self[key].copy_(value)  # a view: the change is recorded on this tensor (CopySlices)
            return
        if type(self._data).__name__ == "MetaArray":  # no values to write (the key is checked)
            self[key]  # an out-of-range key raises, as with PyTorch's meta tensors
            return
        data = value.to(self.device, self.dtype)._data if isinstance(value, graph.Tensor) else value
        once = _without_repeats(self) if _is_one_mask(key, self) else None
        if once is not None and np.ndim(data) == 0:  # a number or a 0-d tensor
            _warn_expanded_write("index_put_", "tensor[indices] = tensor")
            self.masked_fill_(key, value)
            return
        key = _ops.indexing.normalize_key(self, key)
        split = _ops.indexing.split_int_key(key)
        basic = split is None and not any(_ops.indexing._is_array_index(k) for k in key)
        # a basic key writes through a view: only the region it selects must not repeat
        # elements (``expanded[0, 0] = v`` is allowed, as in PyTorch: it writes the shared one)
        try:  # (the Ellipsis keeps a 0-d view, not a NumPy scalar)
            region = self._data[key if Ellipsis in key else (*key, Ellipsis)] if basic else None
        except IndexError as e:
            raise _ops.indexing.in_dimensions(e) from None
        shared = not basic and _without_repeats(self) is not None
        if shared:  # PyTorch's deprecated write through the shared memory (the last one wins)
            _warn_expanded_write("index_put_", "tensor[indices] = tensor")
        _check_writeable(self, region, repeats_ok=shared)
        try:
            if split is None:
                self._data[key] = data
            else:  # ints first, then index arrays: PyTorch's dim order, not NumPy's
                selects, rest = split
                self._data[selects][rest] = data
        except IndexError as e:
            raise _ops.indexing.in_dimensions(e) from None
        except ValueError as e:  # NumPy's broadcast failure: PyTorch's RuntimeError
            if "broadcast" not in str(e):
                raise
            words = str(e).removeprefix("shape mismatch: ")
            raise RuntimeError(
                f"__setitem__: shape mismatch: {words} (tensor[key] = value)"
            ) from None
        version_counter(self).value += 1

    def _records_write(self, value) -> bool:
        """Whether writing ``value`` into this tensor is recorded (grad or forward AD)."""
        recording = grad_mode._state.enabled and (
            self.requires_grad
            or (isinstance(value, graph.Tensor) and value.requires_grad)
            or (self._base is not None and self._base._requires_grad)
        )
        return recording or (
            forward_ad.active and forward_ad.has_tangents((self, value, self._base))
        )

    def index_put_(self, indices, values, accumulate=False):
        """``self[indices] = values`` (``+=`` with ``accumulate``, repeated indices summed).
        Into an expanded tensor, unrecorded: PyTorch's deprecated write through the shared
        memory, with its warning (accumulated copies all add to the one element)."""
        shared = isinstance(indices, (tuple, list)) and _without_repeats(self) is not None
        if not shared or self._records_write(values):
            return self._index_put_twin(indices, values, accumulate)
        if not accumulate:
            self[tuple(indices)] = values
            return self
        _warn_expanded_write("index_put_", "tensor[indices] = tensor")
        _check_writeable(self, repeats_ok=True)
        key = []
        for k in indices:  # (a mask as the index arrays of its True positions)
            k = k._data if isinstance(k, graph.Tensor) else k
            key.extend(k.nonzero() if k.dtype == bool else (k,))
        data = (
            values.to(self.device, self.dtype)._data if isinstance(values, graph.Tensor) else values
        )
        self.device.xp.add.at(self._data, tuple(key), data)
        version_counter(self).value += 1
        return self

    def index_fill_(self, dim, index, value):
        """Fill the entries at ``index`` along ``dim`` with ``value``. Into an expanded tensor:
        PyTorch's deprecated write, with its warning (a shared element selected in any copy
        is filled)."""
        once = _without_repeats(self)
        if once is None or not isinstance(index, graph.Tensor):
            return self._inplace(lambda s: _ops.index_fill(s, dim, index, value), value)
        mask = self.new_zeros(self.shape, dtype=dtypes.bool).index_fill_(dim, index, True)
        _fill_shared(self, once, mask, value, "index_fill_")
        return self

    def _put_at_index(self, key, value) -> None:
        """``t[key] = value`` for an advanced key, recorded: the flat positions ``key``
        selects (an index of an int64 ``arange``, with the key's own checks) get ``value``
        broadcast to the shape of ``t[key]``, by a differentiable ``index_put``."""
        with grad_mode.no_grad():
            positions = graph.Tensor._make(
                self.device.xp.arange(self.numel(), dtype=np.int64).reshape(self.shape),
                self.device,
            )[key]

        def compute(s):
            v = value if isinstance(value, graph.Tensor) else s.new_tensor(value)
            if not _broadcastable(tuple(v.shape), tuple(positions.shape)):
                raise RuntimeError(
                    f"shape mismatch: value tensor of shape {list(v.shape)} cannot be broadcast "
                    f"to indexing result of shape {list(positions.shape)}"
                )
            v = v.to(s.dtype).expand(positions.shape).reshape(-1)
            flat = _ops.index_put(s.reshape(-1), (positions.reshape(-1),), v)
            return flat.reshape(s.shape)

        self._inplace(compute, *_tensors((value,)))

    # -- branch methods: in-place twins (``t.<name>_(...)`` is ``t = minigrad.<name>(t, ...)``) --
    def _twin(name):  # noqa: N805 - builds methods at class creation
        def method(self, *args, **kwargs):
            return self._inplace(lambda s: getattr(_ops, name)(s, *args, **kwargs), *_tensors(args))

        method.__name__ = method.__qualname__ = name + "_"
        method.__doc__ = f"In-place :func:`minigrad.{name}`."
        return method

    acos_, asin_, atan_, atan2_ = _twin("acos"), _twin("asin"), _twin("atan"), _twin("atan2")
    acosh_, asinh_, atanh_ = _twin("acosh"), _twin("asinh"), _twin("atanh")
    arccos_, arcsin_, arctan_, arctan2_ = acos_, asin_, atan_, atan2_
    arccosh_, arcsinh_, arctanh_ = acosh_, asinh_, atanh_
    cosh_, sinh_, log2_, log10_, exp2_ = (
        _twin("cosh"),
        _twin("sinh"),
        _twin("log2"),
        _twin("log10"),
        _twin("exp2"),
    )
    hypot_, fmod_, frac_, copysign_ = (
        _twin("hypot"),
        _twin("fmod"),
        _twin("frac"),
        _twin("copysign"),
    )
    xlogy_, logit_, erf_ = _twin("xlogy"), _twin("logit"), _twin("erf")
    deg2rad_, rad2deg_, heaviside_ = _twin("deg2rad"), _twin("rad2deg"), _twin("heaviside")
    remainder_, floor_divide_ = _twin("remainder"), _twin("floor_divide")
    subtract_, multiply_, divide_, true_divide_ = (
        _twin("subtract"),
        _twin("mul"),
        _twin("div"),
        _twin("div"),
    )
    negative_, absolute_ = _twin("neg"), abs_  # (absolute_ refuses complex as abs_ does)
    clamp_min_, clamp_max_ = _twin("clamp_min"), _twin("clamp_max")
    tril_, triu_, renorm_ = _twin("tril"), _twin("triu"), _twin("renorm")
    bitwise_and_, bitwise_or_, bitwise_xor_ = (
        _twin("bitwise_and"),
        _twin("bitwise_or"),
        _twin("bitwise_xor"),
    )
    bitwise_not_, bitwise_left_shift_ = _twin("bitwise_not"), _twin("bitwise_left_shift")
    bitwise_right_shift_, gcd_, lcm_ = _twin("bitwise_right_shift"), _twin("gcd"), _twin("lcm")
    # ``mask &= other`` writes in place (a view's base sees it), as in PyTorch
    __iand__, __ior__, __ixor__ = bitwise_and_, bitwise_or_, bitwise_xor_
    __ilshift__, __irshift__ = bitwise_left_shift_, bitwise_right_shift_
    ldexp_, nextafter_, sgn_, fix_ = _twin("ldexp"), _twin("nextafter"), _twin("sgn"), _twin("fix")

    def _untracked(twin):  # noqa: N805 - builds methods at class creation
        """An in-place op autograd does not differentiate (PyTorch's logical ops): written
        without recording, as PyTorch's, so a leaf that requires grad takes it and a result
        keeps its ``grad_fn`` (the version counter still moves)."""

        def method(self, *args, **kwargs):
            with grad_mode.no_grad():
                return twin(self, *args, **kwargs)

        method.__name__ = method.__qualname__ = twin.__name__
        method.__doc__ = twin.__doc__
        return method

    logical_and_ = _untracked(_twin("logical_and"))
    logical_or_ = _untracked(_twin("logical_or"))
    logical_xor_ = _untracked(_twin("logical_xor"))
    logical_not_ = _untracked(_twin("logical_not"))
    addmv_, addr_, _index_put_twin = _twin("addmv"), _twin("addr"), _twin("index_put")
    put_, index_reduce_ = _twin("put"), _twin("index_reduce")
    del _twin, _untracked

    def _compare_(self, ufunc, other):
        return self._inplace(lambda s: _ops.compare(ufunc, s, other))

    def eq_(self, other):
        return self._compare_("equal", other)

    def ne_(self, other):
        return self._compare_("not_equal", other)

    def lt_(self, other):
        return self._compare_("less", other)

    def le_(self, other):
        return self._compare_("less_equal", other)

    def gt_(self, other):
        return self._compare_("greater", other)

    def ge_(self, other):
        return self._compare_("greater_equal", other)

    not_equal_, less_, less_equal_, greater_, greater_equal_ = ne_, lt_, le_, gt_, ge_

    def float_power_(self, exponent):
        """In-place :func:`minigrad.float_power`: ``self`` must be float64, as PyTorch."""
        if self.dtype is not dtypes.float64:
            raise RuntimeError(
                f"the base given to float_power_ has dtype {self.dtype.name.capitalize()} but the "
                "operation's result requires dtype Double"
            )
        return self._inplace(lambda s: _ops.float_power(s, exponent), *_tensors((exponent,)))

    # in-place changes of shape and strides: the tensor takes a new view of its own storage
    def t_(self):
        return self._restride(self.t(), "t_", "TBackward1")

    def transpose_(self, dim0, dim1):
        return self._restride(self.transpose(dim0, dim1), "transpose_", "TransposeBackward1")

    swapaxes_ = swapdims_ = transpose_

    def squeeze_(self, dim=None):
        if dim is None:
            return self._restride(self.squeeze(), "squeeze_", "SqueezeBackward3")
        return self._restride(self.squeeze(dim), "squeeze_", "SqueezeBackward4")

    def unsqueeze_(self, dim):
        return self._restride(self.unsqueeze(dim), "unsqueeze_", "UnsqueezeBackward1")

    def _restride(self, view, op, node_name: str):
        """Make ``view`` (a view of this tensor) this tensor's own layout, as PyTorch's in-place
        metadata ops do; a view keeps its base and records the new view ops. A computed tensor
        that requires grad takes the view's history (the node PyTorch names ``node_name``), as
        PyTorch records it (BigBird's ``context.unsqueeze_(2)``). Refused (NotImplementedError:
        use the out-of-place op) for a view that requires grad, a forward-AD tangent, or outside
        grad mode; a leaf that requires grad raises PyTorch's in-place error."""
        tangents = forward_ad.active and forward_ad.has_tangents((self, self._base))
        if self.requires_grad or tangents:
            if self.grad_fn is None and not tangents:
                raise RuntimeError(
                    "a leaf Variable that requires grad is being used in an in-place operation."
                )
            if tangents or self._base is not None or not grad_mode._state.enabled:
                raise NotImplementedError(
                    f"{op}: changing the shape in place of a view that requires grad, outside "
                    "grad mode or with a forward-AD tangent is not supported; use the "
                    f"out-of-place {op[:-1]}() instead"
                )
            graph.named_as(view, node_name)
            self.grad_fn, self._output_nr = view.grad_fn, view._output_nr
        self._data = view._data
        if self._base is not None:
            self._view = view._view
        version_counter(self).value += 1  # values saved for backward had the old layout
        return self


def _write_tangent(target, result) -> None:
    """Forward AD: after ``result`` was written into ``target``, ``target`` takes ``result``'s
    tangent; for a view, the base's tangent gets it in the view's region (as PyTorch)."""
    base = target._base
    for level in forward_ad.visible_levels():
        rt = forward_ad.tangent_of(result, level)
        if base is None:
            forward_ad.set_tangent(target, level, rt)
            continue
        bt = forward_ad.tangent_of(base, level)
        if rt is None and bt is None:
            continue
        with forward_ad.hidden(level):
            new_bt = bt.clone() if bt is not None else _zeros(base)
            region = _ops.movement.replay_view(new_bt, target._view[0])
            region.copy_(rt if rt is not None else _zeros(result))
        forward_ad.set_tangent(base, level, new_bt)
        forward_ad.set_tangent(target, level, region)


def _broadcastable(shape: tuple, target: tuple) -> bool:
    """Whether ``shape`` broadcasts to ``target`` (``expand``'s rule)."""
    if len(shape) > len(target):
        return False
    return all(a in (1, b) for a, b in zip(shape[::-1], target[::-1]))


def _tensors(args) -> tuple:
    """The tensors among ``args`` (an in-place op's other inputs, for the recording check)."""
    return tuple(a for a in args if isinstance(a, graph.Tensor))


def _zeros(t):
    return graph.Tensor._make(t.device.xp.zeros(t.shape, dtype=t._data.dtype), t.device)


def _filled(old, value, name: str):
    """A tensor of ``old``'s shape full of ``value`` (a number, or a 0-d tensor in the graph);
    when ``old`` is in the graph, through a ``where`` that passes it a zero gradient. Its node
    is named ``name``."""
    if isinstance(value, graph.Tensor):
        full = value.to(old.device, old.dtype).expand(old.shape)
    else:
        full = _full_like(old, value)
    if not (old.requires_grad and grad_mode.is_grad_enabled()):
        return graph.named_as(full, name)
    everywhere = graph.Tensor._make(old.device.xp.ones(old.shape, dtype=bool), old.device)
    return graph.named_as(_ops.where(everywhere, full, old), name)


def _full_like(t, value):
    value = dtypes.checked_scalar(value, t.dtype, "fill_", half_saturates=True)
    return graph.Tensor._make(t.device.xp.full(t.shape, value, dtype=t._data.dtype), t.device)


def _without_repeats(t):
    """The view of ``t`` that holds each of its elements once, where ``t`` repeats elements
    (an expanded tensor: stride 0 along a dim longer than 1), else None. PyTorch fills such a
    tensor (``fill_``, ``zero_``: every copy gets the same value) but refuses other writes."""
    data = t._data
    try:
        strides = getattr(data, "strides", None)
    except NotImplementedError:  # a vmap batch's logical array: no memory layout of its own
        return None
    if not strides or not data.size or all(st or n == 1 for st, n in zip(strides, data.shape)):
        return None
    return t[
        tuple(slice(None) if st or n == 1 else slice(0, 1) for st, n in zip(strides, data.shape))
    ]


def _is_one_mask(key, t) -> bool:
    """Whether the index ``key`` is one boolean mask tensor of ``t``'s shape."""
    return isinstance(key, graph.Tensor) and key.dtype == dtypes.bool and key.shape == t.shape


def _warn_expanded_write(op: str, example: str) -> None:
    warn_user(
        f"Use of {op} on expanded tensors is deprecated. Please clone() the tensor before "
        f"performing this operation. This also applies to advanced indexing e.g. {example}"
    )


def _fill_shared(t, once, mask, value, op: str = "masked_fill_") -> None:
    """``t.masked_fill_(mask, value)`` where ``t`` repeats elements (an expanded tensor, whose
    view holding each element once is ``once``): PyTorch's deprecated behaviour, with its
    warning naming ``op``. A shared element is filled when the mask selects any of its copies,
    so every copy reads the value (whatever the order of the writes)."""
    _warn_expanded_write(op, "tensor[mask] = scalar")
    repeated = tuple(d for d in range(t.ndim) if once.shape[d] == 1 and t.shape[d] > 1)
    hit = mask.to(t.device).expand(t.shape).any(dim=repeated, keepdim=True)
    once.masked_fill_(hit, value)


def _check_writeable(t, region=None, repeats_ok: bool = False) -> None:
    """Refuse an in-place write into ``t`` (or into ``region``, the part of ``t._data`` that
    a basic-key assignment writes) where elements repeat (unless ``repeats_ok``: PyTorch's
    deprecated index writes), or whose memory is read-only."""
    data = t._data if region is None else region  # an expanded view has stride 0 along a
    # repeated dim (on any backend)
    # (NumPy gives an empty array stride 0 everywhere: nothing to write, nothing shared)
    if (
        not repeats_ok
        and data.size
        and any(st == 0 and n > 1 for st, n in zip(data.strides, data.shape))
    ):
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation."
        )
    if t._base is not None and any(getattr(op, "overlaps", False) for op in t._view[0]):
        raise RuntimeError(  # an as_strided window that reads some element twice
            "unsupported operation: some elements of the written-to tensor refer to a single "
            "memory location (overlapping as_strided or unfold windows, where the result would "
            "depend on the order of the writes); clone() it first"
        )
    if not getattr(data.flags, "writeable", True):  # e.g. wrapping a read-only NumPy array
        raise RuntimeError(
            "in-place write to a tensor whose memory is read-only (it wraps a read-only array); "
            "clone() it first"
        )


def _write(target, result) -> None:
    if getattr(type(result), "_methods_batch", False):  # vmap's batched tensor, in a plain one
        raise RuntimeError(
            "vmap: an in-place operation is not possible because the tensor written to is the "
            "same for every sample (not batched) while the value written is per sample; use "
            "the out-of-place operation, or batch the tensor written to"
        )
    if target.is_quantized:
        _write_quantized(target, result)
        return
    _check_writeable(target)
    if result.device is not target.device:
        raise RuntimeError(
            f"in-place op: result on {result.device} cannot be written to {target.device}"
        )
    if dtypes.category(result.dtype) > dtypes.category(target.dtype):  # int32 into uint8 wraps
        raise RuntimeError(
            f"result type {dtypes.scalar_type_name(result.dtype)} can't be cast to the desired "
            f"output type {dtypes.scalar_type_name(target.dtype)}"
        )
    if result.shape != target.shape:
        raise RuntimeError(
            f"output with shape {list(target.shape)} doesn't match the broadcast shape "
            f"{list(result.shape)}"
        )
    target._data[...] = result._data


def _write_quantized(target, result) -> None:
    """An in-place op's ``result`` into quantized ``target``: a result on the target's grid
    (``relu_``) replaces its record, as PyTorch's quantized kernels write in place; one on
    another grid (``sigmoid_``, ``tanh_``: their fixed grids) is refused, as PyTorch has no
    quantized ``out=`` kernel for those ops."""
    old, new = target._data, result._data
    same_grid = (
        result.is_quantized
        and new.shape == old.shape
        and new.qdtype is old.qdtype
        and new.scheme is old.scheme
        and np.array_equal(new.scale, old.scale)
        and np.array_equal(new.zero_point, old.zero_point)
    )
    if not same_grid:
        raise NotImplementedError(
            "in-place op on a quantized tensor whose result lies on another quantization grid "
            "(PyTorch's QuantizedCPU backend has no out= kernel for it); use the out-of-place op"
        )
    target._data = new


def _argument_error(compute, t):
    """The TypeError of a bad call (missing or extra arguments, a wrong type) that PyTorch's
    argument parser raises before autograd's in-place checks: found by a dry run of
    ``compute`` (its result is not written), on the error path only; None if it runs."""
    try:
        with grad_mode.no_grad():
            compute(t)
    except TypeError as error:
        return error
    except Exception:
        return None
    return None


def _check_inplace_allowed(t) -> None:
    made_in = function.made_in_function.get(t) if function.made_in_function else None
    if made_in is not None:
        raise RuntimeError(
            f"{made_in} is a view and is being modified inplace. This view was created inside a "
            "custom Function (or because an input was returned as-is) and the autograd logic to "
            "handle view+inplace would override the custom backward associated with the custom "
            "Function, leading to incorrect gradients. This behavior is forbidden. You can fix "
            "this by cloning the output of the custom Function."
        )
    if t.grad_fn is None and t._requires_grad:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation. "
            "Wrap the update in minigrad.no_grad(), or clone the tensor first."
        )
    base = t._base
    if base is not None:
        if any(getattr(op, "joins_complex", False) for op in t._view[0]):
            raise NotImplementedError(
                "an in-place operation through a view_as_complex view is not recorded by "
                "minigrad's autograd (the base requires grad); use the out-of-place operation "
                "and view_as_complex its result, or write under no_grad()"
            )
        if base.grad_fn is None and base._requires_grad:
            raise RuntimeError(
                "a view of a leaf Variable that requires grad is being used in an in-place "
                "operation. Wrap the update in minigrad.no_grad(), or clone the view first."
            )
        if not t._view[2]:
            raise RuntimeError(
                "A view was created in no_grad mode and is being modified inplace with grad mode "
                "enabled. Given that this use case is ambiguous and error-prone, it is forbidden. "
                "Move both the view and the in-place op inside the no_grad block (if the change "
                "is not to be tracked) or both outside it (if it is)."
            )


def _record_copy_slices(view, result) -> None:
    """Record an in-place change of ``view`` on its base, as PyTorch does: the base's history
    becomes ``CopySlices(old base, result)`` (``result`` in the view's region, the old values
    elsewhere), so gradients reach both the base's earlier history and the in-place op's
    inputs. The view's own history is then "the view of the new base" (:func:`refresh_view`).

    Differs from PyTorch on purpose: the outputs of ``unbind``/``split``/``chunk`` are ordinary
    views here, so an in-place op on one is recorded (PyTorch refuses it).
    """
    base = view._base
    ops = view._view[0]
    positions = _ops.movement.view_positions(base, ops)
    part, conjugated = _ops.movement.view_part(ops), _ops.conj_view.view_conjugates(ops)
    node = _ops.movement.CopySlices(positions, part, conjugated)
    node.device, node.xp = base.device, base.device.xp  # backward runs on the base's GPU
    node.edges = (graph.gradient_edge(base), graph.gradient_edge(result))
    node.input_meta = (
        (base._data.shape, base._data.dtype, base.device),
        (result._data.shape, result._data.dtype, result.device),
    )
    if anomaly._state.enabled:
        node.trace = anomaly.creation_stack()
    old_fn = base.grad_fn
    base.grad_fn, base._requires_grad, base._output_nr = node, True, 0
    if base._retains_grad:
        _move_retain_grad(base, old_fn)


def refresh_view(view) -> None:
    """Bring ``view``'s autograd state up to date after its memory changed in place (through
    the base, this view or another view of the same base): its ``grad_fn`` becomes its view
    ops replayed on the base's current history, as PyTorch regenerates a view's grad_fn when
    the version counter moved. Views made under ``no_grad`` keep their state, as in PyTorch.
    """
    ops, _, made_with_grad = view._view
    base = view._base
    if made_with_grad and base._requires_grad:
        with grad_mode.enable_grad():
            fresh = _ops.movement.replay_view(base, ops)
        view.grad_fn, view._requires_grad = fresh.grad_fn, fresh._requires_grad
        view._output_nr, ops = fresh._output_nr, fresh._view[0]
    view._view = (ops, view._version_counter.value, made_with_grad)


def _random_upper(dtype) -> int:
    """``random_()``'s exclusive upper bound without arguments: every integer the dtype holds
    exactly (2^(mantissa + 1) for floats), as PyTorch."""
    if dtypes.is_floating(dtype):
        mantissa = {"float16": 10, "bfloat16": 7, "float32": 23}.get(dtype.name, 52)
        return 2 ** (mantissa + 1) + 1
    if dtype.kind == "b":
        return 2
    return int(np.iinfo(dtype).max) + 1


def _in_memory_order(data, draw):
    """``draw(shape)``'s numbers laid out as PyTorch fills ``data``: in the order of its memory
    (a transposed view gets the numbers of its base, a strided slice those of its elements in
    order). ``draw`` returns an array of the given shape in C order."""
    strides = getattr(data, "strides", None)
    if strides is None or data.ndim < 2:
        return draw(tuple(data.shape))
    order = sorted(range(data.ndim), key=lambda d: (-abs(strides[d]), d))
    if order == list(range(data.ndim)):
        return draw(tuple(data.shape))
    values = draw(tuple(data.shape[d] for d in order))
    return values.transpose(np.argsort(order))


def _check_floats(op: str, kind: str = "float", **values) -> None:
    """A random fill's parameters (``normal_``'s ``mean``/``std``) are numbers: a tensor of
    1+ dims raises PyTorch's ``TypeError`` (see :func:`ops.base.check_number_arg`)."""
    for position, (name, value) in enumerate(values.items()):
        _ops.base.check_number_arg(value, op, name, kind, position)


def _check_float(tensor, op: str) -> None:
    """uniform_ and normal_ fill floating-point (and complex) tensors only, as PyTorch."""
    dtype = tensor._data.dtype
    if not (dtypes.is_floating(dtype) or dtype.kind == "c"):
        raise NotImplementedError(
            f"{op} is not implemented for {tensor.dtype} tensors: it fills floating-point and "
            "complex tensors"
        )


def _refuse_complex_kernel(tensor, kernel: str) -> None:
    """PyTorch's ``NotImplementedError`` for a complex tensor its CPU ``kernel`` cannot fill."""
    if tensor._data.dtype.kind == "c":
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{dtypes.scalar_type_name(tensor.dtype)}' (it "
            "fills real tensors, as in PyTorch)"
        )


def _check_continuous(tensor, distribution: str, name=dtypes.scalar_type_name) -> None:
    """exponential_ and cauchy_ draw real floats only: PyTorch's words for an integer or complex
    tensor (also what gumbel_softmax of integer logits raises), its dtype spelt by ``name``."""
    dtype = tensor._data.dtype
    if not dtypes.is_floating(dtype):
        raise RuntimeError(
            f"{distribution} distribution is a continuous probability distribution. dtype must "
            f"be a floating point but you specified {name(tensor.dtype)}"
        )


def check_random_bounds(dtype, low: int, high: int, op: str = "random_") -> None:
    """The checks of ``random_(from, to)`` and ``randint``: from < to, and both within what
    ``dtype`` (a NumPy dtype) holds, as PyTorch."""
    if low >= high:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    if dtype.kind == "c":
        raise RuntimeError(
            f"{op}: integers cannot be drawn into {dtype}: integral, floating-point and "
            "boolean dtypes only"
        )
    if dtype.kind == "b":
        lowest, highest = 0, 1
    elif dtype.kind in "iu":
        lowest, highest = int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)
    else:
        highest = float(np.finfo(dtype).max)
        lowest = -highest
    if low < lowest:
        raise RuntimeError(f"{op}: from={low} is out of bounds for {dtype}")
    if high - 1 > highest:
        raise RuntimeError(f"{op}: to - 1 = {high - 1} is out of bounds for {dtype}")


def _require(condition: bool, message: str) -> None:
    """RuntimeError ``message`` unless ``condition`` (a sampler's parameter check)."""
    if not condition:
        raise RuntimeError(message)
