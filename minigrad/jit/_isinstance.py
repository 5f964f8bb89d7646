"""``torch.jit.isinstance``: ``isinstance`` that also checks typing containers
(``List[int]``, ``Dict[str, Tensor]``, ``Tuple[int, str]``, ``Optional[Tensor]``) element by
element, as TorchScript's refinement does in eager mode (monai's networks call it).

Its own module because the function's name would shadow the builtin in ``minigrad.jit``'s
namespace; the package hands it out through its module ``__getattr__``.
"""

from __future__ import annotations

import builtins
import types
import typing

from .._warnings import warn_user


def jit_isinstance(obj, target_type) -> bool:
    """Whether ``obj`` is of ``target_type``: a class, a typing container with its argument
    types, or a tuple of those (any matches), as ``torch.jit.isinstance``."""
    if builtins.isinstance(target_type, tuple):
        return any(jit_isinstance(obj, t) for t in target_type)
    if builtins.isinstance(target_type, (list, set, dict)):
        raise RuntimeError(
            "The second argument to `torch.jit.isinstance` must be a type or a tuple of types"
        )
    if typing.get_origin(target_type) is None:
        if target_type in (list, dict, tuple, typing.List, typing.Dict, typing.Tuple):  # noqa: UP006
            raise RuntimeError(
                f"Attempted to use {getattr(target_type, '__name__', target_type)} without a "
                "contained type. Please add a contained type, e.g. List[int]"
            )
        return builtins.isinstance(obj, target_type)
    return _container(obj, target_type)


def _container(obj, target_type) -> bool:
    origin, args = typing.get_origin(target_type), typing.get_args(target_type)
    if origin is typing.Union or origin is types.UnionType:  # Optional[T] too
        return obj is None or any(jit_isinstance(obj, t) for t in args)
    if origin not in (list, dict, tuple):
        return False
    if not builtins.isinstance(obj, origin):
        return False
    if not obj:
        warn_user(
            "The inner type of a container is lost when calling torch.jit.isinstance in eager "
            "mode. For example, List[int] would become list and therefore falsely return True "
            "for List[float] or List[str]."
        )
    if origin is list:
        return all(jit_isinstance(x, args[0]) for x in obj)
    if origin is dict:
        return all(
            jit_isinstance(k, args[0]) and jit_isinstance(v, args[1]) for k, v in obj.items()
        )
    return len(obj) == len(args) and all(jit_isinstance(x, t) for x, t in zip(obj, args))
