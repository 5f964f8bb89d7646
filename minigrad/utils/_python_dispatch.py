"""``minigrad.utils._python_dispatch``, where PyTorch keeps ``TorchDispatchMode``: minigrad has
no aten-level dispatcher under its ops, so ``__torch_dispatch__`` modes and subclasses cannot
run; the names exist to refuse clearly (``TorchFunctionMode`` and ``__torch_function__`` work)."""

from __future__ import annotations

_REFUSAL = (
    "minigrad has no __torch_dispatch__ (no aten operator layer under its ops); use "
    "minigrad.overrides.TorchFunctionMode or a __torch_function__ subclass instead"
)


class TorchDispatchMode:
    """Refused on entry: minigrad runs no ``__torch_dispatch__`` (see the module docstring)."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        raise NotImplementedError(_REFUSAL)

    def __enter__(self):
        raise NotImplementedError(_REFUSAL)

    def __exit__(self, *exc):
        return False


def _get_current_dispatch_mode():
    """Always None: no dispatch mode can be entered in minigrad."""
    return None


def is_traceable_wrapper_subclass(t) -> bool:
    """Always False: minigrad has no wrapper subclasses (``_make_wrapper_subclass``)."""
    return False
