"""``Parameter``: a tensor that a Module registers as learnable; ``Buffer``: one it registers as state."""

from __future__ import annotations

from .._torch_function import disabled_torch_function_impl
from ..autograd.graph import INFERENCE
from ..creation import empty
from ..tensor import Tensor, _initialized


class _ParameterMeta(type(Tensor)):
    """``isinstance(x, Parameter)`` is also true of a Tensor subclass instance made a parameter
    (``Parameter(subclass_tensor)`` keeps the subclass, marked ``_is_param``, as PyTorch)."""

    def __instancecheck__(cls, instance) -> bool:
        if cls is Parameter and isinstance(instance, Tensor):  # (not a tracer's Proxy)
            if getattr(instance, "_is_param", False):
                return True
        return super().__instancecheck__(instance)


class Parameter(Tensor, metaclass=_ParameterMeta):
    """A tensor that is a learnable parameter of a :class:`~minigrad.nn.Module`.

    Assigning a Parameter as a module attribute registers it, so that it appears in
    ``module.parameters()`` and the state dict. It shares storage with ``data`` and requires
    grad unless told otherwise. Operations on a Parameter give plain tensors. Given an instance
    of a Tensor subclass that keeps its class through ops (see :mod:`minigrad.overrides`), it
    returns that tensor detached, requiring grad and marked as a parameter (``isinstance(p,
    Parameter)`` is true, ops keep the subclass), as PyTorch does.

    Args:
        data: the initial values (a floating tensor when ``requires_grad``); empty if None.
        requires_grad: whether the parameter is trained (default True).

    Example:
        >>> w = nn.Parameter(minigrad.randn(3, 4))
        >>> w.requires_grad
        True
    """

    __torch_function__ = disabled_torch_function_impl
    _prints_as_tensor = True  # as PyTorch's: Parameter containing: tensor(...)
    _is_param = True  # (a subclass's instances print as Parameter(Sub(...)), see _format)

    def __new__(cls, data=None, requires_grad=True, *args, **kwargs):
        # (*args, **kwargs: the constructors of subclasses, as UninitializedParameter's)
        if cls is Parameter and getattr(type(data), "_dispatching_methods", False):
            param = data.detach().requires_grad_(requires_grad)
            try:
                param._is_param = True
            except AttributeError:
                raise TypeError(
                    f"Parameter: {type(data).__name__} has __slots__ without '_is_param', so "
                    "it cannot be marked as a parameter"
                ) from None
            return param
        return super().__new__(cls)

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True, *args, **kwargs):
        if _initialized(self):  # made by a subclass's __new__ (geoopt's ManifoldParameter,
            return  # whose constructor takes its own arguments), as PyTorch's Parameter lets it
        if kwargs:
            raise TypeError(
                f"Parameter.__new__() got an unexpected keyword argument {next(iter(kwargs))!r}"
            )
        if args:
            raise TypeError(
                f"Parameter.__new__() takes from 1 to 3 positional arguments but {len(args) + 3} "
                "were given"
            )
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(
                f"Parameter expects a Tensor as data, got {type(data).__name__}; "
                f"wrap it first: nn.Parameter(minigrad.tensor(...))"
            )
        self._init(data._data, data.device, False, None)
        if data._version_counter is INFERENCE:  # an alias of an inference tensor is one too
            self._version_counter = INFERENCE
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = Parameter(self.data.clone(), self.requires_grad)  # no grad, as PyTorch
        memo[id(self)] = result
        return result


class Buffer(Tensor):
    """A tensor that, assigned as a module attribute, is registered as a buffer (``nn.Buffer``).

    ``module.x = nn.Buffer(t)`` is the same as ``module.register_buffer("x", t)``; the module
    stores a plain tensor sharing ``t``'s storage.

    Args:
        data: the values.
        persistent: whether the buffer is part of the state dict (default True).
    """

    _prints_as_tensor = True  # tensor(...), as PyTorch's Buffer gives a plain tensor

    __torch_function__ = disabled_torch_function_impl

    def __init__(self, data: Tensor, *, persistent: bool = True):
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer expects a Tensor as data, got {type(data).__name__}")
        self._init(data._data, data.device, False, None)
        self.persistent = persistent


# -- branch optimutils: lazy parameters (torch.nn.parameter.Uninitialized*) ----------------------
class UninitializedTensorMixin:
    """A parameter or buffer whose shape is not known yet (used by the ``Lazy*`` modules).

    It holds no data: reading its shape or values raises until :meth:`materialize` gives it
    one, after which it becomes an ordinary :class:`Parameter` (or plain tensor, for a buffer)
    in place, keeping its identity.
    """

    __slots__ = ()
    cls_to_become: type = Tensor

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Allocate (uninitialized) storage of ``shape`` and become ``cls_to_become``."""
        device = self.device if device is None else device
        dtype = self.dtype if dtype is None else dtype
        if isinstance(shape, int):
            shape = (shape,)
        data = empty(*shape, device=device, dtype=dtype)
        self._data, self.device = data._data, data.device
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually "
            "happens in `load_state_dict` when trying to load an uninitialized parameter into "
            "an initialized one. Call `forward` to initialize the parameters before accessing "
            "their attributes."
        )

    def share_memory_(self):
        raise RuntimeError(
            "Can't share memory on an uninitialized parameter or buffer. Call `forward` to "
            "initialize the parameters before calling `module.share_memory()`."
        )

    def numel(self):
        raise RuntimeError(
            "Can't access the number of elements of an uninitialized parameter or buffer; call "
            "`forward` first"
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, self.device, self.dtype)
        return memo[id(self)]


def _uninitialized_init(self, requires_grad, device, dtype) -> None:
    data = empty(0, device=device, dtype=dtype)
    self._init(data._data, data.device, False, None)
    self.requires_grad = requires_grad


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter of not-yet-known shape; becomes a :class:`Parameter` on ``materialize``.

    Args:
        requires_grad: whether the parameter is trained (default True).
        device, dtype: where and of which dtype its data will be.
    """

    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device=None, dtype=None):
        _uninitialized_init(self, requires_grad, device, dtype)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer of not-yet-known shape; becomes a plain tensor on ``materialize``."""

    __slots__ = ()
    __torch_function__ = disabled_torch_function_impl
    cls_to_become = Tensor

    def __init__(self, requires_grad: bool = False, device=None, dtype=None):
        _uninitialized_init(self, requires_grad, device, dtype)


def is_lazy(param) -> bool:
    """Whether ``param`` is an uninitialized (lazy) parameter or buffer."""
    return isinstance(param, UninitializedTensorMixin)
