"""``functional_call`` (defined in :mod:`minigrad.nn.utils.stateless`, the lower layer) and
``stack_module_state``, for ``vmap`` over ensembles."""

from __future__ import annotations

from ..nn.utils.stateless import functional_call
from ..ops.joining import stack

__all__ = ["functional_call", "stack_module_state"]


def stack_module_state(models) -> tuple:
    """``(params, buffers)``: each name's tensors stacked over ``models`` (a new leading dim),
    for ``vmap`` over an ensemble with :func:`functional_call`. Stacked parameters are new
    leaves that require grad when the originals do."""
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    first = models[0]
    params, buffers = {}, {}
    for name, p in first.named_parameters():
        tensors = [dict(m.named_parameters())[name] for m in models]
        params[name] = stack([t.detach() for t in tensors]).requires_grad_(p.requires_grad)
    for name, _ in first.named_buffers():
        buffers[name] = stack([dict(m.named_buffers())[name] for m in models])
    return params, buffers
