"""``CustomOpDef``: one operator made by ``minigrad.library.custom_op`` — its kernels per device
type, its autograd formula (run through ``minigrad.autograd.Function``) and its fake impl."""

from __future__ import annotations

import contextlib
import numbers
import re
import threading

from .. import dtypes
from .._warnings import warn_user
from ..autograd import grad_mode
from ..autograd.function import Function
from ..tensor import Tensor
from ._schema import _split_top

_UNSUPPORTED = (
    "minigrad.library: {what} is not supported: minigrad has no dispatcher modes, batching "
    "rules for custom ops or Triton; call the op directly"
)

# every operator by qualified name ("mylib::foo"); custom_op / define add to it
registry: dict[str, CustomOpDef] = {}

# Selective activation checkpointing (minigrad.utils._selective_checkpoint) installs a function
# here while its contexts are open: ``interceptor(op, values, call)`` returns ``call(values)``'s
# result, having asked its policy about ``op`` (or, replaying, handed it a saved output).
interceptor = None


class _Substitute(threading.local):
    def __init__(self):
        self.entry = None  # (op, its outputs saved in the forward) for the next _run of op


_substitute = _Substitute()


def substitute(op: CustomOpDef, outputs) -> None:
    """Have the next run of ``op``'s kernel in this thread return ``outputs`` instead."""
    _substitute.entry = (op, outputs)


_TYPE_CHECKS = {
    "Tensor": (Tensor,),
    "float": (numbers.Real,),
    "SymInt": (numbers.Integral,),
    "bool": (bool,),
    "str": (str,),
}


def _tensors(values):
    for v in values:
        if isinstance(v, Tensor):
            yield v
        elif isinstance(v, (list, tuple)):
            yield from (t for t in v if isinstance(t, Tensor))


def _root(array):
    while getattr(array, "base", None) is not None:
        array = array.base
    return array


class CustomOpDef:
    """An operator defined with :func:`minigrad.library.custom_op`: call it like the function it
    wraps; ``register_kernel``/``register_autograd``/``register_fake`` add to it."""

    def __init__(self, namespace, name, schema, signature, fn, mutates_args, device_types):
        self._namespace, self._name = namespace, name
        self._qualname = f"{namespace}::{name}"
        self._schema = schema
        self._signature = signature
        self._init_fn = fn
        self._mutates_args = mutates_args
        self._device_types = None if device_types is None else tuple(device_types)
        self._backend_fns: dict[str, object] = {}
        self._disabled: set = set()  # device types whose kernel set_kernel_enabled turned off
        self._abstract_fn = None
        self._backward_fn = None
        self._setup_context_fn = None
        self._autocast: dict[str, object] = {}  # device type -> the dtype inputs are cast to
        self._param_types = _param_types(schema, signature)
        self._function = _autograd_function(self)

    def __repr__(self) -> str:
        return f"<CustomOpDef({self._qualname})>"

    # -- registration -------------------------------------------------------------------------
    def register_kernel(self, device_types, fn=None, /):
        """Use ``fn`` for inputs on the given device type(s) (``"cpu"``, ``"cuda"``); replaces
        an earlier kernel for the same type. Without ``fn``, a decorator.

        Example:
            >>> @mysin.register_kernel("cuda")
            ... def _(x):
            ...     return x.sin()
        """
        if fn is None:
            return lambda f: self.register_kernel(device_types, f)
        kinds = [device_types] if isinstance(device_types, str) else list(device_types or [])
        for kind in kinds or [None]:
            self._backend_fns[kind] = fn
        return fn

    def register_fake(self, fn, /):
        """Store the fake (meta) implementation, as PyTorch does; a second call replaces it.

        minigrad has no fake-tensor tracing (no ``torch.compile`` graphs, no FakeTensorMode),
        so the fake impl never runs at call time; :func:`minigrad.library.opcheck` calls it on
        real inputs and checks the shapes and dtypes it claims against the real outputs.
        """
        self._abstract_fn = fn
        return fn

    def register_autograd(self, backward, /, *, setup_context=None):
        """Make the op differentiable: ``setup_context(ctx, inputs, output)`` saves what
        ``backward(ctx, *grads)`` needs; ``backward`` returns one gradient per input (None for
        non-Tensor inputs). Written with tensor ops, ``backward`` is itself differentiable.

        Example:
            >>> def setup_context(ctx, inputs, output):
            ...     ctx.save_for_backward(inputs[0])
            >>> def backward(ctx, grad):
            ...     (x,) = ctx.saved_tensors
            ...     return grad * x.cos()
            >>> mysin.register_autograd(backward, setup_context=setup_context)
        """
        if self._mutates_args:
            raise RuntimeError(
                f"Cannot register autograd formula for non-functional operator {self} with "
                f"schema {self._qualname}{self._schema}. Please create a functional operator "
                "and register an autograd formula for that."
            )
        self._backward_fn, self._setup_context_fn = backward, setup_context

    @contextlib.contextmanager
    def set_kernel_enabled(self, device_type: str, enabled: bool = True):
        """Within the block, calls on ``device_type`` skip (``enabled=False``) the kernel that
        ``register_kernel`` gave that device type and use the op's own function."""
        if device_type not in self._backend_fns:
            warn_user(
                f"Attempted to {'enable' if enabled else 'disable'} kernel for {device_type} "
                "but no kernel was registered for this device type.",
            )
        was_disabled = device_type in self._disabled
        (self._disabled.discard if enabled else self._disabled.add)(device_type)
        try:
            yield
        finally:
            (self._disabled.add if was_disabled else self._disabled.discard)(device_type)

    def register_vmap(self, func=None, /):
        raise NotImplementedError(_UNSUPPORTED.format(what="register_vmap"))

    def register_torch_dispatch(self, torch_dispatch_class, func=None, /):
        raise NotImplementedError(_UNSUPPORTED.format(what="register_torch_dispatch"))

    def register_autocast(self, device_type, cast_inputs, /):
        """Inside an autocast region of ``device_type`` (``"cpu"``, ``"cuda"``), cast the
        op's floating-point tensor inputs on that device (float64 apart) to ``cast_inputs``
        and run the op with autocast off, as PyTorch's rule; the first rule for a device type
        stays, as in PyTorch.

        Example:
            >>> mysin.register_autocast("cpu", minigrad.bfloat16)
            >>> with minigrad.autocast("cpu"):
            ...     mysin(minigrad.randn(3)).dtype
            minigrad.bfloat16
        """
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if device_type not in ("cpu", "cuda"):
            raise ValueError(f"Device type '{device_type}' does not support autocast.")
        self._autocast.setdefault(device_type, dtypes.to_dtype(cast_inputs))

    # -- calling ------------------------------------------------------------------------------
    def _bind(self, args, kwargs) -> tuple:
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as e:
            raise RuntimeError(
                f"{self._qualname}(): {e}. Declaration: {self._qualname}{self._schema}"
            ) from None
        bound.apply_defaults()
        values = tuple(bound.arguments[name] for name in self._signature.parameters)
        for name, value in zip(self._signature.parameters, values):
            allowed = _TYPE_CHECKS.get(self._param_types.get(name))
            is_bool = isinstance(value, bool)
            if allowed and (not isinstance(value, allowed) or (bool in allowed) != is_bool):
                raise RuntimeError(
                    f"{self._qualname}() Expected a value of type '{self._param_types[name]}' for "
                    f"argument '{name}' but instead found type '{type(value).__name__}'. "
                    f"Declaration: {self._qualname}{self._schema}"
                )
        return values

    def _kernel(self, values):
        first = next(_tensors(values), None)
        kind = first.device.type if first is not None else None
        if kind in self._backend_fns and kind not in self._disabled:
            return self._backend_fns[kind]
        if None in self._backend_fns:  # register_kernel(None, fn): every device type
            return self._backend_fns[None]
        serves = self._device_types is None or kind is None or kind in self._device_types
        if serves and self._init_fn is not None:
            return self._init_fn
        raise NotImplementedError(
            f"Could not run '{self._qualname}' with arguments on device type '{kind}': it has "
            f"kernels for {sorted(set(self._device_types or ()) | set(self._backend_fns))} "
            "(add one with register_kernel)"
        )

    def _run(self, values):
        """The kernel for ``values``' device, called as the user's function, checked for
        outputs that alias inputs (PyTorch forbids them: return a clone instead)."""
        entry = _substitute.entry
        if entry is not None and entry[0] is self:
            _substitute.entry = None
            return entry[1]
        args, kwargs = [], {}
        for (name, p), v in zip(self._signature.parameters.items(), values):
            if p.kind is p.KEYWORD_ONLY:
                kwargs[name] = v
            else:
                args.append(v)
        with grad_mode.no_grad():
            out = self._kernel(values)(*args, **kwargs)
        roots = [_root(t._data) for t in _tensors(values)]
        for o in _tensors(out if isinstance(out, (tuple, list)) else (out,)):
            if any(_root(o._data) is r for r in roots):
                raise RuntimeError(
                    f"{self._qualname}: the output of a custom operator must not also be an "
                    "input to it nor alias an input (a view or the tensor itself). Return a "
                    "clone, e.g. x.clone() instead of x."
                )
        return out

    def __call__(self, *args, **kwargs):
        values = self._bind(args, kwargs)
        if self._autocast:
            from ..amp import autocast, is_autocast_enabled

            for device_type, dtype in self._autocast.items():
                if is_autocast_enabled(device_type):
                    with autocast(device_type, enabled=False):
                        return self._call(_autocast_inputs(values, device_type, dtype))
        return self._call(values)

    def _call(self, values):
        if interceptor is not None:
            return interceptor(self, values, self._call_kernel)
        return self._call_kernel(values)

    def _call_kernel(self, values):
        needs_graph = grad_mode.is_grad_enabled() and any(t.requires_grad for t in _tensors(values))
        if not needs_graph:
            return self._run(values)
        return self._function.apply(*values)


def _autocast_inputs(value, device_type: str, dtype):
    """``value`` (an argument, or a list/tuple of them) with its floating-point tensors on
    ``device_type`` cast to ``dtype``; float64 and other tensors stay (PyTorch's ``_cast``)."""
    if isinstance(value, Tensor):
        eligible = (
            value.is_floating_point()
            and value.device.type == device_type
            and value.dtype is not dtypes.float64
        )
        return value.to(dtype) if eligible else value
    if isinstance(value, (list, tuple)):
        return type(value)(_autocast_inputs(v, device_type, dtype) for v in value)
    return value


def _param_types(schema, signature) -> dict:
    """``{argument name: schema type}`` from ``(Tensor x, float y=1.0, ...)``."""
    out = {}
    for part in _split_top(schema.split("->", 1)[0].strip()[1:-1]):
        decl = part.split("=", 1)[0].strip()
        if " " in decl:
            type_text, name = decl.rsplit(" ", 1)
            if name in signature.parameters:
                out[name] = re.sub(r"\(.*?\)", "", type_text)  # Tensor(a0!) -> Tensor
    return out


def _autograd_function(op: CustomOpDef):
    """The ``Function`` that records ``op`` in the graph; its backward is the registered one
    (or an error naming ``register_autograd`` when none was registered)."""
    backward_name = f"GeneratedBackwardFor_{op._namespace}_{op._name}_defaultBackward"

    def forward(ctx, *values):
        out = op._run(values)
        if op._setup_context_fn is not None:
            op._setup_context_fn(ctx, values, out)
        ctx.input_is_tensor = tuple(isinstance(v, Tensor) for v in values)
        return tuple(out) if isinstance(out, list) else out

    def backward(ctx, *grads):
        if op._backward_fn is None:
            raise RuntimeError(
                f"Trying to backward through {op._namespace}.{op._name}.default but no autograd "
                "formula was registered. Please use register_autograd to add one."
            )
        result = op._backward_fn(ctx, *grads)
        result = result if isinstance(result, (tuple, list)) else (result,)
        if len(result) != len(ctx.input_is_tensor):
            raise RuntimeError(
                f"function {backward_name} returned an incorrect number of gradients (expected "
                f"{len(ctx.input_is_tensor)}, got {len(result)})"
            )
        return tuple(g if t else None for g, t in zip(result, ctx.input_is_tensor))

    return type(
        f"{op._namespace}_{op._name}",
        (Function,),
        {
            "forward": staticmethod(forward),
            "backward": staticmethod(backward),
            "backward_name": backward_name,
        },
    )
