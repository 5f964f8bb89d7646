"""``torch._dynamo._trace_wrapped_higher_order_op``: :class:`TransformGetItemToIndex`, the
``__torch_function__`` mode under which indexing a tensor with scalar tensors and ints is
advanced indexing (``x[t]`` with ``t`` a 0-d tensor gathers instead of reading ``t.item()``),
so that mask functions indexing with their (vmapped) arguments run under ``vmap``.
transformers builds attention masks this way."""

from __future__ import annotations

from ..overrides import TorchFunctionMode

__all__ = ["TransformGetItemToIndex"]


class TransformGetItemToIndex(TorchFunctionMode):
    """Within the block, ``x[i, j]`` with ints and tensors as indices is ``x[tensor(i),
    tensor(j)]`` (PyTorch's ``aten.index`` with those index tensors: a gather, whose gradient
    scatters back)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", None) == "__getitem__" and len(args) == 2:
            from .. import int64, tensor
            from ..tensor import Tensor
            from ..utils._pytree import tree_leaves

            x, index = args
            leaves = tree_leaves(index)
            if isinstance(x, Tensor) and all(isinstance(i, (Tensor, int)) for i in leaves):
                index = tuple(
                    i if isinstance(i, Tensor) else tensor(i, dtype=int64, device=x.device)
                    for i in leaves
                )
                return func(x, index)
        return func(*args, **(kwargs or {}))
