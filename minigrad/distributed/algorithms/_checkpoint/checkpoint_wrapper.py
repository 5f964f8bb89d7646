"""Activation checkpointing and offloading as module wrappers, as
``torch.distributed.algorithms._checkpoint.checkpoint_wrapper`` (torchtitan, FSDP recipes
and accelerate wrap transformer blocks this way): :func:`checkpoint_wrapper` runs a module
through :func:`minigrad.utils.checkpoint.checkpoint`, :func:`offload_wrapper` under
``save_on_cpu``, and :func:`apply_activation_checkpointing` wraps the submodules a
``check_fn`` (or an FSDP auto-wrap policy) picks. The wrapped module lives at
``_checkpoint_wrapped_module``; parameter names and state dicts leave that prefix out, so a
checkpoint loads into the model with or without wrappers."""

from __future__ import annotations

import enum
import functools

from ....autograd.graph import save_on_cpu
from ....nn.modules.module import Module
from ....utils.checkpoint import checkpoint as _checkpoint
from ...fsdp.wrap import _recursive_wrap, lambda_auto_wrap_policy

__all__ = [
    "CheckpointImpl",
    "CheckpointWrapper",
    "OffloadWrapper",
    "apply_activation_checkpointing",
    "checkpoint_wrapper",
    "offload_wrapper",
]

_CHECKPOINT_WRAPPED_MODULE = "_checkpoint_wrapped_module"
_CHECKPOINT_PREFIX = _CHECKPOINT_WRAPPED_MODULE + "."


class CheckpointImpl(enum.Enum):
    """Which ``checkpoint`` variant a :class:`CheckpointWrapper` uses."""

    REENTRANT = enum.auto()
    NO_REENTRANT = enum.auto()


def _replace_by_prefix(state_dict: dict, old: str, new: str) -> None:
    for key in [k for k in state_dict if k.startswith(old)]:
        state_dict[new + key[len(old) :]] = state_dict.pop(key)


class ActivationWrapper(Module):
    """Base of the wrappers: holds the module, forwards attributes and indexing to it, and
    drops its prefix from parameter names and state dicts."""

    def __init__(self, mod: Module):
        super().__init__()
        self._checkpoint_wrapped_module = mod
        self._register_state_dict_hook(self._post_state_dict_hook)
        self.register_load_state_dict_pre_hook(self._pre_load_state_dict_hook)

    def forward(self, *args, **kwargs):
        raise ValueError("Subclasses should implement forward().")

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._checkpoint_wrapped_module, name)

    def __getitem__(self, key):
        return self._checkpoint_wrapped_module.__getitem__(key)

    def named_parameters(self, *args, **kwargs):
        for name, param in super().named_parameters(*args, **kwargs):
            yield name.replace(_CHECKPOINT_PREFIX, ""), param

    @staticmethod
    def _post_state_dict_hook(module, state_dict, prefix, *args):
        _replace_by_prefix(state_dict, f"{prefix}{_CHECKPOINT_PREFIX}", prefix)
        return state_dict

    @staticmethod
    def _pre_load_state_dict_hook(module, state_dict, prefix, *args):
        _replace_by_prefix(state_dict, prefix, prefix + _CHECKPOINT_PREFIX)


class OffloadWrapper(ActivationWrapper):
    """Runs the module with its saved activations kept on the CPU (``save_on_cpu``)."""

    def forward(self, *args, **kwargs):
        with save_on_cpu(pin_memory=True):
            return self._checkpoint_wrapped_module(*args, **kwargs)


class CheckpointWrapper(ActivationWrapper):
    """Runs the module through ``checkpoint`` (or ``checkpoint_fn``) with
    ``checkpoint_fn_kwargs``; made by :func:`checkpoint_wrapper`."""

    def __init__(
        self,
        mod: Module,
        checkpoint_impl: CheckpointImpl = CheckpointImpl.NO_REENTRANT,
        checkpoint_fn=None,
        **checkpoint_fn_kwargs,
    ):
        super().__init__(mod)
        self.checkpoint_impl = checkpoint_impl
        if checkpoint_fn is None:
            reentrant = checkpoint_impl == CheckpointImpl.REENTRANT
            checkpoint_fn = functools.partial(_checkpoint, use_reentrant=reentrant)
        self.checkpoint_fn = functools.partial(checkpoint_fn, **checkpoint_fn_kwargs)

    def forward(self, *args, **kwargs):
        module = self._checkpoint_wrapped_module
        if self.checkpoint_impl == CheckpointImpl.REENTRANT and kwargs:
            keys, n = tuple(kwargs), len(args)  # (reentrant checkpoint takes no keywords)

            def run(*inputs):
                return module(*inputs[:n], **dict(zip(keys, inputs[n:])))

            return self.checkpoint_fn(run, *args, *kwargs.values())
        return self.checkpoint_fn(module, *args, **kwargs)


def offload_wrapper(module: Module) -> Module:
    """``module`` wrapped to keep its saved activations on the CPU."""
    return OffloadWrapper(module)


def checkpoint_wrapper(
    module: Module,
    checkpoint_impl: CheckpointImpl = CheckpointImpl.NO_REENTRANT,
    checkpoint_fn=None,
    **checkpoint_fn_kwargs,
) -> Module:
    """``module`` wrapped so that every call recomputes its activations in backward.

    Example:
        >>> block = checkpoint_wrapper(block, preserve_rng_state=False)
        >>> y = block(x)   # block's activations are not kept
    """
    return CheckpointWrapper(module, checkpoint_impl, checkpoint_fn, **checkpoint_fn_kwargs)


def apply_activation_checkpointing(
    model: Module,
    checkpoint_wrapper_fn=checkpoint_wrapper,
    check_fn=lambda _: True,
    auto_wrap_policy=None,
) -> None:
    """Wrap, in place, the submodules of ``model`` (never ``model`` itself) for which
    ``check_fn(submodule)`` is true, or that ``auto_wrap_policy`` (an FSDP policy callable)
    picks, with ``checkpoint_wrapper_fn``; innermost first.

    Example:
        >>> apply_activation_checkpointing(model, check_fn=lambda m: isinstance(m, Block))
    """
    policy = auto_wrap_policy
    if policy is None:
        policy = functools.partial(lambda_auto_wrap_policy, lambda_fn=check_fn)
    if not callable(policy):
        raise ValueError(f"Expected {policy} to be callable or be a pre-defined wrap policy")
    _recursive_wrap(model, policy, checkpoint_wrapper_fn, set(), only_wrap_children=True)
