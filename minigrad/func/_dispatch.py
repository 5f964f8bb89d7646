"""The one owner of ``minigrad.ops.base.interposer``: chains the transforms that are active.

Clients, in the order they see an op: the profiler (which times the op with the others run
inside), the checkpoint observer (which tensors requiring grad a
checkpointed function reads), selective checkpointing (which replays saved outputs), autocast (casts), vmap (batching rules, which may handle the op),
forward AD (tangents; last, so that it sees the physical tensors vmap's rules compute on, which
are where the tangents of batched tensors live).
With none active the interposer is None and ops pay one global lookup.
"""

from __future__ import annotations

from ..autograd import forward_ad as _forward_ad
from ..ops import base as _base

_ORDER = ("profiler", "checkpoint", "selective", "autocast", "vmap", "forward_ad")
_hooks = {name: None for name in _ORDER}


_names: dict = {}


def op_name(cls) -> str:
    """The name an op class is known by in the tables of rules and policies: its class name
    without a trailing ``Op`` (``SoftmaxOp`` and ``Softmax`` are both ``Softmax``)."""
    name = _names.get(cls)
    if name is None:
        name = cls.__name__
        if name.endswith("Op") and len(name) > 2:
            name = name[:-2]
        _names[cls] = name
    return name


def _chain(op, args):
    for name in _ORDER:
        hook = _hooks[name]
        if hook is not None:
            handled, args = hook(op, args)
            if handled:
                return True, args
    return False, args


def _refresh() -> None:
    active = [h for h in _hooks.values() if h is not None]
    _base.interposer = None if not active else active[0] if len(active) == 1 else _chain


def set_hook(name: str, hook) -> None:
    """Install (or with None, remove) the op hook of one client (see ``_ORDER``)."""
    _hooks[name] = hook
    _refresh()


def set_autocast(interpose, entry, call) -> None:
    """Install (or with None, remove) autocast's op hook, its entry-point hook and its runner of
    functions treated as one op (``ops.base.autocast_op``)."""
    _base.autocast_entry = entry
    _base.autocast_call = call
    set_hook("autocast", interpose)


def set_vmap(interpose) -> None:
    set_hook("vmap", interpose)


_forward_ad.register_installer(lambda hook: set_hook("forward_ad", hook))
