"""``torch.SymInt``, ``torch.SymFloat``, ``torch.SymBool``: the symbolic numbers of
``torch.compile``'s dynamic shapes, which library code names in ``isinstance(n, (int,
torch.SymInt))``. minigrad runs eagerly and its sizes are plain numbers, so no value is one of
these; making one raises."""

from __future__ import annotations

__all__ = ["SymBool", "SymFloat", "SymInt"]


class _Symbolic:
    def __init__(self, *args, **kwargs) -> None:
        raise NotImplementedError(
            f"torch.{type(self).__name__}: symbolic shapes (torch.compile's dynamic shapes) "
            "are not supported by minigrad, whose sizes are plain Python numbers"
        )


class SymInt(_Symbolic):
    """A symbolic ``int`` (never made in minigrad: see the module docstring)."""


class SymFloat(_Symbolic):
    """A symbolic ``float`` (never made in minigrad)."""


class SymBool(_Symbolic):
    """A symbolic ``bool`` (never made in minigrad)."""
