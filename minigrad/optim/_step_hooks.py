"""Optimizer step hooks (``register_step_pre_hook`` / ``register_step_post_hook``): every
``step`` of an optimizer class, the base class's and any subclass's own, runs through
:func:`with_step_hooks`, so hooks run around user-written optimizers too."""

from __future__ import annotations

import functools

from ..autograd.graph import RemovableHandle


def register(optimizer, kind: str, hook) -> RemovableHandle:
    """Keep ``hook`` in the optimizer's ``kind`` dict (made on first use); a handle removes it."""
    hooks = optimizer.__dict__.setdefault(kind, {})
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


def with_step_hooks(step):
    """``step`` wrapped: pre hooks ``hook(opt, args, kwargs)`` may return new ``(args,
    kwargs)``; post hooks ``hook(opt, args, kwargs)`` run after. As in PyTorch, ``args`` are
    the step's positional arguments with the optimizer first, and a ``step`` that calls
    ``super().step()`` runs the hooks at both levels."""

    @functools.wraps(step)
    def hooked(*args, **kwargs):
        state = args[0].__dict__
        for hook in list(state.get("_step_pre_hooks", {}).values()):
            result = hook(args[0], args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        f"optimizer step pre hook must return None or a tuple of "
                        f"(new_args, new_kwargs), but got {result!r}"
                    )
                args, kwargs = result
        out = step(*args, **kwargs)
        for hook in list(state.get("_step_post_hooks", {}).values()):
            hook(args[0], args, kwargs)
        return out

    hooked._with_step_hooks = True
    return hooked
