"""Forward-mode automatic differentiation, as ``torch.autograd.forward_ad``: dual tensors.

Inside ``with dual_level():``, ``make_dual(x, t)`` gives a tensor whose *tangent* is ``t``; every
op applied to tensors with tangents gives an output whose tangent is the op's Jacobian-vector
product, computed in the same forward pass (no graph, no backward). ``unpack_dual(y)`` reads
``(primal, tangent)``. Leaving the level drops every tangent made in it.

How it works: tangents live in one side table per level, keyed by the tensor (a weak
reference, so a dead tensor's entry goes with it). While a level is active, an op hook
(``minigrad.ops.base.interposer``, installed through ``minigrad.func._dispatch``) sees every
op: when an input has a tangent it runs the op on the primals with that level hidden, then the
op's forward rule (:mod:`._jvp_rules`), or for ops without one the double-vjp identity
``J·t = d/du ⟨Jᵀu, t⟩`` through the op's own differentiable backward (exact: backward is
linear in ``u``). Tangents are Tensors: they may require grad (reverse-over-forward), and a
backward pass run on dual tensors gives dual gradients (forward-over-reverse, Hessian-vector
products). With no level active nothing is installed: ops pay nothing. The hook, the fallback
and custom Functions live in :mod:`._forward_ops`; this module holds levels and tangent tables.

Levels are per thread. As in PyTorch, :func:`enter_dual_level` refuses to nest; the functional
transforms (:func:`minigrad.func.jvp`) nest internal levels, so ``jvp`` of ``jvp`` works.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections import namedtuple

from . import graph

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])
UnpackedDualTensor.__doc__ = "``unpack_dual``'s result: the primal and its tangent (or None)."


class _State(threading.local):
    def __init__(self):
        self.stack = []  # one {id(tensor): (weakref, tangent)} per level, outermost first
        self.visible = (
            0  # levels [0, visible) are seen by ops (inner ones hidden while a rule runs)
        )


_state = _State()
_lock = threading.Lock()
# Number of levels open in all threads; read by backward helpers (ops/base.py ``formula``) that
# would otherwise compute on bare arrays and so drop tangents. Zero: no cost anywhere.
active = 0
_installer = None  # set by minigrad.func._dispatch: installs (or removes, with None) the op hook


def _identity(t):
    return t


def _as_given(template, value):
    return value


# vmap (minigrad.func) registers how to reach a batched tensor's physical tensor, where its
# tangent lives (the op hook runs after vmap's, on the tensors its batching rules compute on),
# how to wrap a physical tangent as the batched tensor is wrapped, and how to lay a tangent out
# as a batched primal's physical tensor.
_physical, _rewrap, _tangent_layout = _identity, _as_given, _as_given


def register_batching(physical, rewrap, tangent_layout) -> None:
    """Called once by ``minigrad.func``: see the comment above."""
    global _physical, _rewrap, _tangent_layout
    _physical, _rewrap, _tangent_layout = physical, rewrap, tangent_layout


def register_installer(install) -> None:
    """Called once by the op-dispatch layer: ``install(hook_or_None)`` sets the op hook."""
    global _installer
    _installer = install


# -- levels ----------------------------------------------------------------------------------------
def _push() -> int:
    global active
    with _lock:
        active += 1
        if active == 1:
            if _installer is None:  # the dispatch layer registers itself when minigrad is imported
                from ..func import _dispatch  # noqa: F401
            from ._forward_ops import interpose

            _installer(interpose)
    st = _state
    st.stack.append({})
    st.visible = len(st.stack)
    return len(st.stack) - 1


def _pop(level: int) -> None:
    global active
    st = _state
    st.stack[level].clear()  # the level's tangents go now, not when the tensors die
    del st.stack[level:]
    st.visible = len(st.stack)
    with _lock:
        active -= 1
        if active == 0:
            _installer(None)


def enter_dual_level() -> int:
    """Open a forward-AD level and return it (``0``); close it with :func:`exit_dual_level`.

    As in PyTorch, only one level may be open at a time (a nested call raises)."""
    if _state.stack:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    return _push()


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the innermost level (``level`` must be it); every tangent made in it is dropped."""
    st = _state
    if level is None:
        level = len(st.stack) - 1
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    if level != len(st.stack) - 1:
        raise RuntimeError(
            "Trying to exit a forward AD level that was not the last one that was created. This "
            "is not supported."
        )
    _pop(level)


@contextlib.contextmanager
def dual_level():
    """Context manager for forward AD: tangents exist only inside it.

    Example:
        >>> with forward_ad.dual_level():
        ...     x = forward_ad.make_dual(minigrad.tensor([1.0, 2.0]), minigrad.ones(2))
        ...     forward_ad.unpack_dual(x.sin()).tangent          # cos(x)·1
        tensor([0.5403, -0.4161])
    """
    level = enter_dual_level()
    try:
        yield level
    finally:
        exit_dual_level(level=level)


@contextlib.contextmanager
def _nested_level():
    """A level that may nest inside others (for ``minigrad.func.jvp``); yields its index."""
    level = _push()
    try:
        yield level
    finally:
        _pop(level)


def _resolve(level, fn: str) -> int:
    n = len(_state.stack)
    if level is None:
        if not n:
            raise RuntimeError(
                "Trying to create a dual Tensor for forward AD but no level exists, make sure to "
                "enter_dual_level() first."
                if fn == "make_dual"
                else f"{fn}: no forward AD level is active"
            )
        return n - 1
    if not isinstance(level, int) or not 0 <= level < n:
        raise RuntimeError(f"Invalid level given to _{fn}")
    return level


# -- the tangent table -----------------------------------------------------------------------------
def _set(store: dict, tensor, tangent) -> None:
    key = id(tensor)

    def drop(ref, store=store, key=key):  # the tensor died: its entry goes (if still its own)
        entry = store.get(key)
        if entry is not None and entry[0] is ref:
            del store[key]

    store[key] = (weakref.ref(tensor, drop), tangent)


def _get(store: dict, tensor):
    entry = store.get(id(tensor))
    return None if entry is None or entry[0]() is not tensor else entry[1]


def _hidden(level: int):
    """Context: levels ``level`` and above are hidden from ops (a rule is running)."""
    return _Hide(level)


class _Hide:
    __slots__ = ("level", "saved")

    def __init__(self, level):
        self.level = level

    def __enter__(self):
        st = _state
        self.saved, st.visible = st.visible, min(st.visible, self.level)

    def __exit__(self, *exc):
        _state.visible = self.saved


def make_dual(tensor, tangent, *, level: int | None = None):
    """A new tensor (a view of ``tensor``) whose tangent at ``level`` is ``tangent``.

    ``tangent`` must have ``tensor``'s shape; both must be floating point or complex (a
    complex tangent is the direction ``dz = dx + i·dy``; the tangent of a complex output is
    ``dw``, so a holomorphic op's is ``f'(z)·dz``). The view stays in
    ``tensor``'s autograd graph, and the tangent is kept as given (it may require grad).
    """
    level = _resolve(level, "make_dual")
    tensor_cls = graph.Tensor
    for name, t in (("primal", tensor), ("tangent", tangent)):
        if not isinstance(t, tensor_cls):
            raise TypeError(
                f"make_dual: expected the {name} to be a Tensor, got {type(t).__name__}"
            )
        if not (t.is_floating_point() or t.is_complex()):
            raise ValueError(f"Expected {name} to be floating point or complex, but got: {t.dtype}")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(
            f"Trying to set a forward gradient that has a different size than that of the "
            f"original Tensor, this is not supported. Tensor is of size {list(tensor.shape)} while "
            f"the given forward gradient is of size {list(tangent.shape)}."
        )
    if tangent.device != tensor.device:
        raise RuntimeError(
            f"make_dual: the tangent is on {tangent.device} but the primal is on {tensor.device}; "
            f"they must be on the same device"
        )
    store = _state.stack[level]
    if _get(store, _physical(tensor)) is not None:
        raise RuntimeError(
            f"Making a dual Tensor based on a Tensor that already has a forward gradient at the "
            f"same level {level} is not supported."
        )
    with _hidden(level):
        dual = tensor.view_as(tensor)
    _set(store, _physical(dual), _tangent_layout(dual, tangent))
    return dual


def unpack_dual(tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of ``tensor`` at ``level``: the primal is a view of ``tensor``
    without that tangent, the tangent is None when ``tensor`` has none."""
    if not isinstance(tensor, graph.Tensor):
        raise TypeError(f"unpack_dual: expected a Tensor, got {type(tensor).__name__}")
    st = _state
    if level is None:
        if not st.stack:
            return UnpackedDualTensor(tensor, None)
        level = len(st.stack) - 1
    level = _resolve(level, "unpack_dual")
    tangent = tangent_of(tensor, level)
    with _hidden(level):
        primal = tensor.view_as(tensor)
    return UnpackedDualTensor(primal, tangent)


def tangent_of(tensor, level: int):
    """``tensor``'s tangent at ``level`` (None when it has none); a batched tensor's is batched
    as it is."""
    tangent = _get(_state.stack[level], _physical(tensor))
    return tangent if tangent is None or tensor is _physical(tensor) else _rewrap(tensor, tangent)


def _find(args):
    """``(level, tangents)`` for the innermost visible level where an input has a tangent
    (one tangent or None per argument), or None."""
    st = _state
    tensor_cls = graph.Tensor
    for level in range(st.visible - 1, -1, -1):
        store = st.stack[level]
        if not store:
            continue
        tangents = None
        for i, a in enumerate(args):
            if isinstance(a, tensor_cls):
                t = _get(store, a)
                if t is not None:
                    if tangents is None:
                        tangents = [None] * len(args)
                    tangents[i] = t
        if tangents is not None:
            return level, tangents
    return None


# -- in-place ops (minigrad/_inplace.py) ---------------------------------------------------------
def has_tangents(tensors) -> bool:
    """Whether one of ``tensors`` (others ignored) has a tangent at a visible level."""
    return _find(tensors) is not None


def visible_levels() -> range:
    return range(_state.visible)


def set_tangent(tensor, level: int, tangent) -> None:
    """Give ``tensor`` ``tangent`` at ``level`` (None removes it): for in-place ops."""
    store = _state.stack[level]
    if tangent is not None:
        _set(store, tensor, tangent)
    elif store.get(id(tensor)) is not None:
        del store[id(tensor)]


def copy_tangents(source, target) -> None:
    """``target`` (a snapshot of ``source``) gets ``source``'s tangents at the visible levels."""
    for level in visible_levels():
        t = tangent_of(source, level)
        if t is not None:
            set_tangent(target, level, t)


hidden = _hidden
