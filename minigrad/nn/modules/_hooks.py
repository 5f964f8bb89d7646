"""Forward hooks of modules: the call that runs them around ``forward``."""

from __future__ import annotations


def call_with_hooks(module, args: tuple, kwargs: dict):
    """Run ``module.forward`` between its forward pre-hooks and forward hooks."""
    with_kwargs = module._hooks_with_kwargs
    for hook_id, hook in list(module._forward_pre_hooks.items()):
        if hook_id in with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        "forward pre-hook registered with with_kwargs=True must return None "
                        f"or a tuple of (new_args, new_kwargs), but got {result!r}"
                    )
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    output = module.forward(*args, **kwargs)
    for hook_id, hook in list(module._forward_hooks.items()):
        if hook_id in with_kwargs:
            result = hook(module, args, kwargs, output)
        else:
            result = hook(module, args, output)
        if result is not None:
            output = result
    return output
