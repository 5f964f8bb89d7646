"""``Variable``: PyTorch's pre-0.4 wrapper, kept (as PyTorch keeps it) so older programs run.

Since PyTorch 0.4 every tensor is a Variable: ``Variable(t, requires_grad=True)`` returns a
tensor sharing ``t``'s storage, cut from the graph, that requires grad as asked, and
``isinstance(any_tensor, Variable)`` is true. ``volatile=True`` only warns, as in PyTorch (use
``no_grad()``).
"""

from __future__ import annotations

from .. import backend, dtypes
from .._warnings import warn_user
from . import engine, graph


class _VariableMeta(type):
    def __instancecheck__(cls, other) -> bool:
        return isinstance(other, graph.Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(data, requires_grad=False, volatile=False)``: a tensor sharing ``data``'s
    storage, detached, with ``requires_grad`` as given (``torch.autograd.Variable``).

    Example:
        >>> from minigrad.autograd import Variable
        >>> x = Variable(minigrad.ones(2), requires_grad=True)
        >>> x.is_leaf, isinstance(x, Variable)
        (True, True)
    """

    def __new__(cls, data=None, requires_grad: bool = False, volatile: bool = False):
        if volatile:
            warn_user(
                "volatile was removed and now has no effect. Use `with minigrad.no_grad():` "
                "instead.",
                UserWarning,
            )
        if data is None:  # an empty tensor of the default dtype, as PyTorch's Variable()
            numpy_dtype = dtypes.get_default_dtype().numpy
            data = graph.Tensor._make(backend.CPU.xp.empty(0, dtype=numpy_dtype), backend.CPU)
        if not isinstance(data, graph.Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return data.detach().requires_grad_(requires_grad)

    _execution_engine = engine.execution_engine  # (queue_callback, as PyTorch's)
