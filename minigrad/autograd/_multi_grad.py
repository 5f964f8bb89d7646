"""``register_multi_grad_hook``: one hook over the gradients of several tensors, called once
per backward pass (``torch.autograd.graph.register_multi_grad_hook``).

Each tensor gets an ordinary tensor hook that records its gradient for the running backward
pass (:func:`engine.current_task`); in ``"all"`` mode the user's hook runs when every tensor
that this pass reaches (its gradient node is one the pass runs) has reported.
"""

from __future__ import annotations

from . import engine
from .graph import gradient_edge

_MODES = ("all", "any")


class _MultiHandle:
    """Removes the tensor hooks of one multi-grad hook (PyTorch's class name and module path,
    which its repr shows)."""

    __module__ = "minigrad.autograd.graph"

    def __init__(self, handles):
        self._handles = handles

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


class _MultiGrad:
    """The state of one multi-grad hook across backward passes."""

    def __init__(self, tensors, fn, mode):
        self.tensors, self.fn, self.mode = tensors, fn, mode
        self.task = self.grads = self.expected = None
        self.fired = False

    def _start(self, task) -> None:
        self.task, self.fired = task, False
        self.grads = [None] * len(self.tensors)
        edges = [gradient_edge(t) for t in self.tensors]
        self.expected = sum(1 for e in edges if e is not None and task.will_run(e[0]))

    def hook(self, index: int, grad) -> None:
        task = engine.current_task()
        if task is not self.task:
            self._start(task)
        if self.mode == "any":
            if not self.fired:
                self.fired = True
                self.fn(grad)
            return
        self.grads[index] = grad
        self.expected -= 1
        if self.expected == 0:
            grads, self.grads = tuple(self.grads), [None] * len(self.tensors)
            self.fn(grads)


def register(tensors, fn, mode: str) -> _MultiHandle:
    """See :func:`minigrad.autograd.graph.register_multi_grad_hook`."""
    if mode not in _MODES:
        raise ValueError(f"Expects mode to be one of {_MODES} but got {mode}")
    tensors = tuple(tensors)
    state = _MultiGrad(tensors, fn, mode)
    handles = []
    for i, tensor in enumerate(tensors):
        if tensor.requires_grad:
            handles.append(tensor.register_hook(lambda grad, i=i: state.hook(i, grad)))
    return _MultiHandle(handles)
