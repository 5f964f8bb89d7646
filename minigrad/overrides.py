"""``minigrad.overrides``, as ``torch.overrides``: the public side of the ``__torch_function__``
protocol (the mechanism is in :mod:`minigrad._torch_function`).

A class defining ``__torch_function__(cls, func, types, args=(), kwargs=None)`` — a Tensor
subclass, or any tensor-like class — receives the calls of minigrad's public functions (and,
for a Tensor subclass, of Tensor methods and operators, a plain tensor's included) that have
one of its instances among their arguments; a :class:`TorchFunctionMode` receives every such call made while it is
entered. ``func`` is the public function itself (``func is minigrad.add``) or, for methods,
the Tensor method (``minigrad.Tensor.add``).

Example:
    >>> class Logged(minigrad.Tensor):
    ...     @classmethod
    ...     def __torch_function__(cls, func, types, args=(), kwargs=None):
    ...         print(func.__name__)
    ...         return super().__torch_function__(func, types, args, kwargs)
    >>> y = minigrad.relu(minigrad.ones(2).as_subclass(Logged))  # prints relu; y is Logged
"""

from __future__ import annotations

import contextlib
import functools

from . import _torch_function as _tf
from ._torch_function import DisableTorchFunction, DisableTorchFunctionSubclass

__all__ = [
    "DisableTorchFunction",
    "DisableTorchFunctionSubclass",
    "TorchFunctionMode",
    "enable_reentrant_dispatch",
    "get_ignored_functions",
    "get_overridable_functions",
    "get_testing_overrides",
    "handle_torch_function",
    "has_torch_function",
    "has_torch_function_unary",
    "has_torch_function_variadic",
    "is_tensor_like",
    "is_tensor_method_or_property",
    "redispatch_function",
    "resolve_name",
    "wrap_torch_function",
]

# Public functions that do not dispatch, as in PyTorch: factories, which take no tensor, and
# functions of global state.
IGNORED = frozenset(
    "arange are_deterministic_algorithms_enabled as_strided as_tensor asarray "
    "autocast_decrement_nesting autocast_increment_nesting bartlett_window blackman_window "
    "broadcast_shapes can_cast clear_autocast_cache compile cond empty empty_strided eye fill "
    "from_file from_numpy frombuffer full get_autocast_cpu_dtype get_autocast_dtype "
    "get_autocast_gpu_dtype get_default_device get_default_dtype get_deterministic_debug_mode "
    "get_device_module get_float32_matmul_precision get_num_interop_threads get_num_threads "
    "get_rng_state hamming_window hann_window init_num_threads initial_seed "
    "is_anomaly_check_nan_enabled is_anomaly_enabled is_autocast_cache_enabled "
    "is_autocast_cpu_enabled is_autocast_enabled is_deterministic_algorithms_warn_only_enabled "
    "is_grad_enabled is_inference_mode_enabled is_storage is_tensor is_warn_always_enabled "
    "kaiser_window linspace load logspace manual_seed normal ones promote_types rand rand_like "
    "randint randint_like randn randn_like randperm range result_type save scalar_tensor seed "
    "set_anomaly_enabled set_autocast_cache_enabled set_autocast_cpu_dtype "
    "set_autocast_cpu_enabled set_autocast_dtype set_autocast_enabled set_autocast_gpu_dtype "
    "set_default_device set_default_dtype set_default_tensor_type set_deterministic_debug_mode "
    "set_float32_matmul_precision set_flush_denormal set_num_interop_threads set_num_threads "
    "set_printoptions set_rng_state set_warn_always sparse_coo_tensor tensor tril_indices "
    "triu_indices typename use_deterministic_algorithms vander vmap zeros".split()
)
# Of those, the factories: they dispatch all the same (an entered mode sees their calls, and a
# tensor-like size or ``*_like`` input takes them), as PyTorch's do.
FACTORIES = frozenset(
    "arange as_tensor asarray bartlett_window blackman_window empty empty_strided eye full "
    "hamming_window hann_window kaiser_window linspace logspace normal ones rand rand_like "
    "randint randint_like randn randn_like randperm scalar_tensor sparse_coo_tensor tensor "
    "tril_indices triu_indices vander zeros".split()
)
# the namespaces whose public functions dispatch (module names, relative to minigrad)
NAMESPACES = ("", "nn.functional", "linalg", "special", "fft")


class TorchFunctionMode:
    """While entered (``with Mode():``), every call of a public minigrad function or Tensor
    method goes to ``self.__torch_function__(func, types, args, kwargs)`` first; within that
    call the mode is set aside, so ``func(*args, **kwargs)`` runs the function itself (or the
    next mode out). Subclass it and override ``__torch_function__``."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        raise NotImplementedError(
            f"{type(self).__name__} must override __torch_function__(func, types, args, kwargs)"
        )

    def __enter__(self):
        _tf.enter_mode(self)
        return self

    def __exit__(self, *exc):
        _tf.exit_mode(self)
        return False


def has_torch_function(relevant_args) -> bool:
    """Whether one of ``relevant_args`` (one level into lists and tuples) overrides
    ``__torch_function__``, or a mode is entered: whether to call :func:`handle_torch_function`."""
    state = _tf.state
    if state.all_disabled:
        return False
    if state.skip_one_hop:  # the hop that redispatch_function skips
        state.skip_one_hop = False
        return False
    if state.modes:
        return True
    return not state.subclasses_disabled and _tf.has_override(relevant_args)


def has_torch_function_unary(arg) -> bool:
    """:func:`has_torch_function` of one argument."""
    return has_torch_function((arg,))


def has_torch_function_variadic(*args) -> bool:
    """:func:`has_torch_function` of the arguments."""
    return has_torch_function(args)


def handle_torch_function(public_api, relevant_args, *args, **kwargs):
    """Hand the call ``public_api(*args, **kwargs)`` to the mode and the overriding arguments
    among ``relevant_args``; raises TypeError when all of them return NotImplemented."""

    def unhandled(*_args, **_kwargs):
        raise TypeError(
            f"no implementation found for '{getattr(public_api, '__qualname__', public_api)}' "
            f"on types that implement __torch_function__"
        )

    return _tf.dispatch(public_api, unhandled, args, kwargs, tuple(relevant_args))


def redispatch_function(func, types, args=(), kwargs=None):
    """Call ``func(*args, **kwargs)`` skipping one level of ``__torch_function__`` dispatch:
    what a ``__torch_function__`` (of a subclass or a mode) calls to run the function itself
    while the ops inside it still dispatch. The function's own check of its arguments is
    skipped, so on subclass arguments it returns what the plain function returns."""
    state = _tf.state
    state.skip_one_hop = True
    try:
        return func(*args, **(kwargs or {}))
    finally:
        state.skip_one_hop = False


def wrap_torch_function(dispatcher):
    """Decorator making a function of your own take part in the protocol: ``dispatcher`` takes
    the function's arguments and returns those to look at."""

    def decorate(func):
        @functools.wraps(func)
        def wrapped(*args, **kwargs):
            relevant = dispatcher(*args, **kwargs)
            if has_torch_function(relevant):
                return handle_torch_function(wrapped, relevant, *args, **kwargs)
            return func(*args, **kwargs)

        return wrapped

    return decorate


def is_tensor_like(inp) -> bool:
    """Whether ``inp`` is a Tensor or an object whose class defines ``__torch_function__``."""
    from .tensor import Tensor

    return type(inp) is Tensor or hasattr(type(inp), "__torch_function__")


def is_tensor_method_or_property(func) -> bool:
    """Whether ``func`` is a method of Tensor or the getter of one of its properties (what a
    ``__torch_function__`` receives for ``x.add(y)`` or ``x.T``)."""
    from .tensor import Tensor

    for name, value in _tf.tensor_methods().items():
        current = getattr(Tensor, name)  # the dispatching form while a mode is entered
        for candidate in (value, current):
            if func is candidate or (isinstance(candidate, property) and func == candidate.__get__):
                return True
    return False


def resolve_name(f) -> str | None:
    """The dotted public name of a function a ``__torch_function__`` receives
    (``"minigrad.add"``, ``"minigrad.Tensor.add"``, ``"minigrad.Tensor.shape.__get__"``), or
    None when ``f`` is not one of minigrad's dispatching functions."""
    from .tensor import Tensor

    for name, module in _namespaces().items():
        prefix = "minigrad" + ("." + name if name else "")
        for key, value in vars(module).items():
            if value is f and not key.startswith("_"):
                return f"{prefix}.{key}"
    methods = _tf.tensor_methods()
    names = sorted(set(methods) | set(dir(Tensor)), key=lambda n: (n.startswith("_"), n))
    for name in names:  # plain names first: Tensor.add is also Tensor.__add__
        for candidate in (methods.get(name), getattr(Tensor, name, None)):
            if isinstance(candidate, property):
                if f == candidate.__get__:
                    return f"minigrad.Tensor.{name}.__get__"
            elif f is candidate:
                return f"minigrad.Tensor.{name}"
    return None


def _namespaces() -> dict:
    import importlib

    return {
        name: importlib.import_module("minigrad" + ("." + name if name else ""))
        for name in NAMESPACES
    }


# Tensor methods that PyTorch lists as ignored and that do not dispatch here either
_IGNORED_METHODS = (
    "as_subclass", "__dir__", "__hash__", "__init_subclass__", "__iter__", "__subclasshook__",
    "__torch_function__",
)  # fmt: skip


def get_ignored_functions() -> set:
    """The public functions that never dispatch (factories and global-state functions) and
    the Tensor methods that do not (``Tensor.as_subclass``, ``Tensor.__torch_function__``)."""
    import minigrad

    from .tensor import Tensor

    methods = _tf.tensor_methods()
    out = {getattr(minigrad, name) for name in IGNORED if hasattr(minigrad, name)}
    return out | {getattr(Tensor, n) for n in _IGNORED_METHODS if n not in methods}


def get_overridable_functions() -> dict:
    """The functions that dispatch, by namespace (the module, or ``Tensor`` for its methods)."""
    from .tensor import Tensor

    out = {}
    for module in _namespaces().values():
        out[module] = [
            v
            for k, v in vars(module).items()
            if hasattr(v, "__torch_function_wrapped__") and k not in IGNORED
        ]
    out[Tensor] = [
        v.__get__ if isinstance(v, property) else v for v in _tf.tensor_methods().values()
    ]
    return out


def get_testing_overrides() -> dict:
    """A dummy override (returning -1) for every overridable function, as PyTorch's table for
    testing ``__torch_function__`` coverage: ``set(get_testing_overrides()) - set(HANDLED)``
    lists what a tensor-like leaves unhandled. (PyTorch's dummies copy each signature;
    minigrad's take any arguments.)"""
    return {
        fn: (lambda *args, **kwargs: -1)
        for functions in get_overridable_functions().values()
        for fn in functions
    }


@contextlib.contextmanager
def enable_reentrant_dispatch():
    """PyTorch's re-entrant ``__torch_dispatch__`` switch: minigrad has no aten-level
    dispatch, so there is nothing to re-enter; the block runs as it is."""
    yield


def _get_current_function_mode_stack() -> list:
    """The entered :class:`TorchFunctionMode` objects of this thread, outermost first."""
    return list(_tf.state.modes)


def install() -> None:
    """Make the public functions of :data:`NAMESPACES` dispatch (called once, at import), and
    give ``nn.functional`` and ``autograd`` the helpers PyTorch re-exports there
    (``F.has_torch_function``, ...), which themselves do not dispatch."""
    from . import _tensor_params

    namespaces = _namespaces()
    for name, module in namespaces.items():
        refusals = _tensor_params.refusals(name, vars(module))
        if name:
            _tf.install(vars(module), module.__name__, refusals=refusals)
        else:
            _tf.install(vars(module), module.__name__, IGNORED, FACTORIES, refusals)
            for fn_name in set(refusals) & (IGNORED - FACTORIES):  # (not dispatching)
                setattr(
                    module,
                    fn_name,
                    _tensor_params.checked(getattr(module, fn_name), refusals[fn_name]),
                )
    from . import autograd

    helpers = (has_torch_function, has_torch_function_unary, has_torch_function_variadic)
    for module in (namespaces["nn.functional"], autograd):
        module.handle_torch_function = handle_torch_function
        for helper in helpers:
            setattr(module, helper.__name__, helper)
    autograd.is_tensor_like = is_tensor_like
