"""A class attribute standing for a function of ``nn.functional``, looked up when a layer calls
it: the namespace's public functions are replaced by their ``__torch_function__`` dispatching
forms after the layer classes are made, and a layer must call those (as PyTorch's layers call
``F.max_pool2d``) for modes, Tensor subclasses and fx tracing to see the call."""

from __future__ import annotations


class functional_ref:  # noqa: N801 (used like staticmethod)
    """``_pool = functional_ref(max_pool2d)``: ``self._pool`` is ``nn.functional.max_pool2d``
    as the namespace holds it when called."""

    def __init__(self, function):
        self.name = function.__name__

    def __get__(self, obj, owner=None):
        return getattr(_functional(), self.name)


def _functional():
    """``minigrad.nn.functional`` (imported once, after the layers: it imports them)."""
    global _FUNCTIONAL
    if _FUNCTIONAL is None:
        from .. import functional

        _FUNCTIONAL = functional
    return _FUNCTIONAL


_FUNCTIONAL = None
