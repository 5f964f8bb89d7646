"""Optimizer hooks: around ``step`` (per optimizer, and global ones that run for every
optimizer, as ``torch.optim.optimizer.register_optimizer_step_pre_hook``), and around
``state_dict`` / ``load_state_dict``. Every ``step`` of an optimizer class, the base class's
and any subclass's own, runs through :func:`with_step_hooks`, so hooks run around
user-written optimizers too."""

from __future__ import annotations

import functools
from collections import OrderedDict

from ..autograd.graph import RemovableHandle

# Hooks of every optimizer: the global pre hooks run before an optimizer's own, the global
# post hooks after its own, as in PyTorch.
_global_pre_hooks: OrderedDict = OrderedDict()
_global_post_hooks: OrderedDict = OrderedDict()


def register(optimizer, kind: str, hook, prepend: bool = False) -> RemovableHandle:
    """Keep ``hook`` in the optimizer's ``kind`` dict (made on first use), last or first;
    the returned handle's ``remove()`` unregisters it."""
    hooks = optimizer.__dict__.setdefault(kind, OrderedDict())
    return _add(hooks, hook, prepend)


def _add(hooks: OrderedDict, hook, prepend: bool = False) -> RemovableHandle:
    if not callable(hook):
        raise TypeError(f"an optimizer hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def register_optimizer_step_pre_hook(hook) -> RemovableHandle:
    """Run ``hook(optimizer, args, kwargs)`` before the ``step`` of every optimizer (before
    its own pre hooks); it may return new ``(args, kwargs)``.

    Returns:
        A handle whose ``remove()`` unregisters the hook.
    """
    return _add(_global_pre_hooks, hook)


def register_optimizer_step_post_hook(hook) -> RemovableHandle:
    """Run ``hook(optimizer, args, kwargs)`` after the ``step`` of every optimizer (after its
    own post hooks).

    Returns:
        A handle whose ``remove()`` unregisters the hook.
    """
    return _add(_global_post_hooks, hook)


def run(optimizer, kind: str, *args):
    """Call each of the optimizer's ``kind`` hooks with ``(optimizer, *args)``; returns the
    last value a hook returned other than None (or None)."""
    out = None
    for hook in list(optimizer.__dict__.get(kind, {}).values()):
        result = hook(optimizer, *args)
        if result is not None:
            out = result
            args = (result,) + args[1:]  # the next hook sees the replacement
    return out


def with_step_hooks(step):
    """``step`` wrapped: pre hooks ``hook(opt, args, kwargs)`` may return new ``(args,
    kwargs)``; post hooks ``hook(opt, args, kwargs)`` run after. As in PyTorch, ``args`` are
    the step's positional arguments with the optimizer first, and a ``step`` that calls
    ``super().step()`` runs the hooks at both levels."""

    @functools.wraps(step)
    def hooked(*args, **kwargs):
        state = args[0].__dict__
        state["_opt_called"] = True  # (PyTorch's flag: a scheduler warns when it is unset)
        pre = state.get("_step_pre_hooks")
        if pre or _global_pre_hooks:
            args, kwargs = _run_pre(args, kwargs, pre)
        out = step(*args, **kwargs)
        post = state.get("_step_post_hooks")
        if post or _global_post_hooks:
            for hook in list((post or {}).values()) + list(_global_post_hooks.values()):
                hook(args[0], args, kwargs)
        return out

    hooked._with_step_hooks = True
    return hooked


def _run_pre(args, kwargs, pre):
    for hook in list(_global_pre_hooks.values()) + list((pre or {}).values()):
        result = hook(args[0], args, kwargs)
        if result is not None:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise RuntimeError(
                    f"optimizer step pre hook must return None or a tuple of "
                    f"(new_args, new_kwargs), but got {result!r}"
                )
            args, kwargs = result
    return args, kwargs
