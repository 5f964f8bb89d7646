"""``torch._check`` and its kin: PyTorch's Python form of its C++ ``TORCH_CHECK`` macros, which
libraries call to assert a condition on sizes or values (Hugging Face's LLaVA checks that every
image token found a feature with ``torch._check_tensor_all_with``). A false condition raises
the given exception type with the message a callable builds, or PyTorch's default words."""

from __future__ import annotations

from . import dtypes
from ._public_name import shown
from ._warnings import warn_user
from .tensor import Tensor

_DEFAULT = (
    "Expected cond to be True, but got False. (Could this error message be improved? If so, "
    "please report an enhancement request to PyTorch.)"
)


def _check_with(error_type, cond, message) -> None:
    """Raise ``error_type(message())`` unless ``cond`` (a bool) is True."""
    if not isinstance(cond, bool):
        if isinstance(cond, Tensor):
            raise TypeError(
                "cond must be a bool, but got a Tensor. For tensor conditions, use "
                "torch._check_tensor_all() to assert that all elements are true."
            )
        raise TypeError(f"cond must be a bool, but got {type(cond)}")
    if cond:
        return
    if not issubclass(error_type, Exception) or issubclass(error_type, Warning):
        raise AssertionError(
            f"error_type must be a subclass of Exception but not Warning, got {error_type}"
        )
    if message is not None and not callable(message):
        raise TypeError("message must be a callable")
    raise error_type(_DEFAULT if message is None else str(message()))


def _check(cond, message=None) -> None:
    """``RuntimeError`` unless ``cond``."""
    _check_with(RuntimeError, cond, message)


def _check_index(cond, message=None) -> None:
    """``IndexError`` unless ``cond``."""
    _check_with(IndexError, cond, message)


def _check_value(cond, message=None) -> None:
    """``ValueError`` unless ``cond``."""
    _check_with(ValueError, cond, message)


def _check_type(cond, message=None) -> None:
    """``TypeError`` unless ``cond``."""
    _check_with(TypeError, cond, message)


def _check_not_implemented(cond, message=None) -> None:
    """``NotImplementedError`` unless ``cond``."""
    _check_with(NotImplementedError, cond, message)


def _check_is_size(i, message=None, *, max=None) -> None:
    """``RuntimeError`` unless ``0 <= i`` (and ``i <= max`` where given): an honest size.
    Deprecated in PyTorch 2.13 (its FutureWarning, words and spacing as they are)."""
    warn_user(
        "_check_is_size will be removed in a future PyTorch release along with "
        "guard_size_oblivious.     Use _check(i >= 0) instead.",
        FutureWarning,
    )
    _check(i >= 0, message)
    if max is not None:
        _check(i <= max, message)


def _check_tensor_all_with(error_type, cond, message=None) -> None:
    """Raise ``error_type`` unless every element of the bool tensor ``cond`` is True."""
    if not isinstance(cond, Tensor):
        raise TypeError(f"cond must be a tensor, but got {type(cond)}")
    if cond.dtype is not dtypes.bool:
        raise TypeError(f"cond tensor must have dtype {shown()}.bool, but got {cond.dtype}")
    _check_with(error_type, bool(cond.all().item()), message)


def _check_tensor_all(cond, message=None) -> None:
    """``RuntimeError`` unless every element of the bool tensor ``cond`` is True."""
    _check_tensor_all_with(RuntimeError, cond, message)
