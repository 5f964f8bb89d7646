"""The one owner of ``minigrad.ops.base.interposer``: chains autocast's casts and vmap's rules."""

from __future__ import annotations

from ..ops import base as _base

_autocast = None  # (op, args) -> (False, args'), installed while any thread has autocast on
_vmap = None  # (op, args) -> (handled, result | args), installed while any thread runs vmap


def _both(op, args):
    _, args = _autocast(op, args)
    return _vmap(op, args)


def _refresh() -> None:
    if _autocast is not None and _vmap is not None:
        _base.interposer = _both
    else:
        _base.interposer = _autocast if _autocast is not None else _vmap


def set_autocast(interpose, entry) -> None:
    """Install (or with None, remove) autocast's op hook and its entry-point hook."""
    global _autocast
    _autocast = interpose
    _base.autocast_entry = entry
    _refresh()


def set_vmap(interpose) -> None:
    """Install (or with None, remove) vmap's op hook."""
    global _vmap
    _vmap = interpose
    _refresh()
