"""``minigrad.utils.hooks``, as ``torch.utils.hooks``: the handle every ``register_*hook``
returns (tensors, graph nodes and modules share this one class), and the warning a pickling
``__reduce_ex__`` gives for a tensor's hooks (fastai's ``TensorBase`` calls it)."""

from .._warnings import warn_user
from ..autograd.graph import PostAccumulateGradHook, RemovableHandle

__all__ = ["RemovableHandle", "unserializable_hook", "warn_if_has_hooks"]


def unserializable_hook(f):
    """Mark ``f`` as a hook that is not pickled with its tensor, silencing
    :func:`warn_if_has_hooks`."""
    f.__torch_unserializable__ = True
    return f


def warn_if_has_hooks(tensor) -> None:
    """Warn, as PyTorch does, for each of ``tensor``'s gradient hooks: pickling drops them."""
    hooks = list((tensor._hooks or {}).values())  # a leaf's; a non-leaf's sit on its grad_fn:
    pre_hooks = getattr(tensor.grad_fn, "pre_hooks", None) or {}
    hooks += [hook for nr, hook in pre_hooks.values() if nr == tensor._output_nr]
    for hook in hooks:
        if not isinstance(hook, PostAccumulateGradHook) and not hasattr(
            hook, "__torch_unserializable__"
        ):
            warn_user(
                f"backward hook {hook!r} on tensor will not be serialized.  If this is expected, "
                "you can decorate the function with @torch.utils.hooks.unserializable_hook to "
                "suppress this warning"
            )
