"""``Parameter``: a tensor that a Module registers as learnable; ``Buffer``: one it registers as state."""

from __future__ import annotations

from ..creation import empty
from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a learnable parameter of a :class:`~minigrad.nn.Module`.

    Assigning a Parameter as a module attribute registers it, so that it appears in
    ``module.parameters()`` and the state dict. It shares storage with ``data`` and requires
    grad unless told otherwise. Operations on a Parameter give plain tensors.

    Args:
        data: the initial values (a floating tensor when ``requires_grad``); empty if None.
        requires_grad: whether the parameter is trained (default True).

    Example:
        >>> w = nn.Parameter(minigrad.randn(3, 4))
        >>> w.requires_grad
        True
    """

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(
                f"Parameter expects a Tensor as data, got {type(data).__name__}; "
                f"wrap it first: nn.Parameter(minigrad.tensor(...))"
            )
        self._init(data._data, data.device, False, None)
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = Parameter(self.data.clone(), self.requires_grad)
        if self.grad is not None:
            result.grad = self.grad.detach().clone()
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

    def __init__(self, data: Tensor, *, persistent: bool = True):
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer expects a Tensor as data, got {type(data).__name__}")
        self._init(data._data, data.device, False, None)
        self.persistent = persistent
