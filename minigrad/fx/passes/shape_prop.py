"""``ShapeProp``: runs a GraphModule on example inputs and records each node's tensor shape,
dtype, strides and ``requires_grad`` in ``node.meta['tensor_meta']``."""

from __future__ import annotations

from typing import Any, NamedTuple

from ...tensor import Tensor
from ..interpreter import Interpreter
from ..node import Node, map_aggregate


class TensorMetadata(NamedTuple):
    """What ShapeProp records about a tensor value (the fields of torch.fx's)."""

    shape: Any
    dtype: Any
    requires_grad: bool
    stride: tuple
    memory_format: Any
    is_quantized: bool
    qparams: dict


def _extract_tensor_metadata(result: Tensor) -> TensorMetadata:
    import minigrad

    memory_format = None
    formats = [minigrad.contiguous_format] + ([minigrad.channels_last] if result.ndim == 4 else [])
    for layout in formats:
        if result.is_contiguous(memory_format=layout):
            memory_format = layout
            break
    return TensorMetadata(
        result.shape, result.dtype, result.requires_grad, tuple(result.stride()), memory_format,
        False, {},
    )  # fmt: skip


class ShapeProp(Interpreter):
    """Fill ``node.meta['tensor_meta']`` (a :class:`TensorMetadata`, or a nest of them for
    tuple results) and ``node.meta['type']`` by running the module.

    Example:
        >>> gm = symbolic_trace(model)
        >>> ShapeProp(gm).propagate(minigrad.randn(8, 4))
        >>> [n.meta["tensor_meta"].shape for n in gm.graph.nodes if "tensor_meta" in n.meta]
    """

    def run_node(self, n: Node):
        """Run ``n`` and record the metadata of its (tensor) result in ``n.meta``."""
        result = super().run_node(n)
        found = []

        def extract(obj):
            if isinstance(obj, Tensor):
                found.append(True)
                return _extract_tensor_metadata(obj)
            return obj

        meta = map_aggregate(result, extract)
        if found:
            n.meta["tensor_meta"] = meta
        n.meta["type"] = type(result)
        return result

    def propagate(self, *args):
        """Run the module on ``args`` (the example inputs); returns its result."""
        return super().run(*args)
