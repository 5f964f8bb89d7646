"""``ModuleTracker``, as ``torch.utils.module_tracker``: which modules are running now, in the
forward and in the backward pass, named by their path from the outermost module
(``"Transformer.layers.0.attn"``), for memory and FLOP accounting code that asks "where am
I?" from inside an op, a hook or a custom ``autograd.Function``.

A module enters ``parents`` when its forward starts and leaves when it ends; in backward it
enters when the gradients of its outputs arrive and leaves when those of its inputs are
computed (multi-grad hooks on both). ``parents`` always holds ``"Global"``; at the end of each
backward it is reset to ``{"Global"}`` (an engine callback), as PyTorch's is.
"""

from __future__ import annotations

import logging
import weakref

from .. import _C
from ..autograd import engine
from ..autograd.graph import register_multi_grad_hook
from ..nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook
from ..tensor import Tensor
from ._pytree import tree_flatten

__all__ = ["ModuleTracker"]

logger = logging.getLogger(__name__)


class ModuleTracker:
    """A context manager tracking the modules being run (``parents``, a set of names) and
    whether a backward pass runs (``is_bw``).

    Example:
        >>> with ModuleTracker() as tracker:
        ...     model(x)          # inside model.fc1's forward: tracker.parents ==
        ...                       # {"Global", "Net", "Net.fc1"}
    """

    def __init__(self) -> None:
        self.parents: set[str] = {"Global"}
        self._known_modules: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._seen_modules: weakref.WeakSet = weakref.WeakSet()
        self._has_callback = False
        self._hooks: list = []

    @property
    def is_bw(self) -> bool:
        """Whether a backward pass is running now."""
        return _C._current_graph_task_id() != -1

    def _reset_at_end_of_backward(self) -> None:
        if self._has_callback:
            return

        def reset() -> None:
            self.parents = {"Global"}
            self._has_callback = False

        engine.queue_callback(reset)
        self._has_callback = True

    def _get_mod_name(self, mod) -> str:
        if mod not in self._known_modules:  # an outermost module: its class name
            self._known_modules[mod] = type(mod).__name__
        name = self._known_modules[mod]
        if mod not in self._seen_modules:
            for child_name, child in mod.named_children():
                self._known_modules[child] = f"{name}.{child_name}"
                self._get_mod_name(child)
            self._seen_modules.add(mod)
        return name

    def _enter(self, name: str, is_bw: bool):
        def fn(*args) -> None:
            if is_bw:
                self._reset_at_end_of_backward()
            if name in self.parents:
                logger.info(
                    "The module hierarchy tracking seems to be broken as this Module was already "
                    "entered. %s during %s", name, "backward" if is_bw else "forward",
                )  # fmt: skip
            self.parents.add(name)

        return fn

    def _leave(self, name: str, is_bw: bool):
        def fn(*args) -> None:
            if name in self.parents:
                self.parents.remove(name)
            else:
                logger.info(
                    "The Module hierarchy tracking is confused as we're exiting a Module that was "
                    "never entered. %s during %s", name, "backward" if is_bw else "forward",
                )  # fmt: skip

        return fn

    def _hook_grads(self, values, fn) -> None:
        leaves, _ = tree_flatten(values)
        tensors = [a for a in leaves if isinstance(a, Tensor) and a.requires_grad]
        if tensors:
            self._hooks.append(register_multi_grad_hook(tensors, fn))

    def _fw_pre_hook(self, mod, args) -> None:
        name = self._get_mod_name(mod)
        self._enter(name, False)()
        self._hook_grads(args, self._leave(name, True))  # its inputs' grads: backward done

    def _fw_post_hook(self, mod, args, output) -> None:
        name = self._get_mod_name(mod)
        self._leave(name, False)()
        self._hook_grads(output, self._enter(name, True))  # its outputs' grads: backward starts

    def __enter__(self) -> ModuleTracker:
        self._fw_pre_handle = register_module_forward_pre_hook(self._fw_pre_hook)
        self._fw_post_handle = register_module_forward_hook(self._fw_post_hook)
        return self

    def __exit__(self, *exc) -> None:
        self._fw_pre_handle.remove()
        self._fw_post_handle.remove()
        for hook in self._hooks:
            hook.remove()
        self._hooks.clear()
