"""The ONNX graph under construction: names for values, nodes, initializers, shapes.

Each traced op is converted with the op of the first trace (``op``) and, when the export has
dynamic axes, the same op from a second trace run with other sizes on those axes (``op2``):
settings that differ between the two (a reshape's batch size) are the dynamic ones.
"""

from __future__ import annotations

import numpy as np

INT64_MAX = np.iinfo(np.int64).max


class GraphBuilder:
    """Collects ONNX nodes and initializers; hands out unique value names."""

    def __init__(self, onnx, opset: int):
        self.onnx, self.helper, self.opset = onnx, onnx.helper, opset
        self.nodes, self.initializers = [], []
        self._count = 0
        self._consts = {}
        self.sum_counts = {}  # ReduceSum output -> (input, axes, keepdims, elements summed)

    def fresh(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def node(self, op_type: str, inputs: list, outputs: int | list = 1, **attrs):
        """Add a node; returns its output name (or the list of them when ``outputs`` > 1)."""
        names = (
            outputs
            if isinstance(outputs, list)
            else [self.fresh(op_type.lower()) for _ in range(outputs)]
        )
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(
            self.helper.make_node(
                op_type, list(inputs), names, name=self.fresh("/" + op_type), **attrs
            )
        )
        return names[0] if len(names) == 1 and not isinstance(outputs, list) else names

    def initializer(self, name: str, array) -> str:
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(array), name))
        return name

    def const(self, value, dtype=None) -> str:
        """A constant (an initializer), shared between uses of equal small values."""
        array = np.asarray(value, dtype=dtype)
        key = None
        if array.size <= 16:
            key = (array.dtype.str, array.shape, array.tobytes())
            if key in self._consts:
                return self._consts[key]
        name = self.initializer(self.fresh("const"), array)
        if key is not None:
            self._consts[key] = name
        return name

    def ints(self, values) -> str:
        return self.const(np.asarray(list(values), dtype=np.int64))

    def reduce(self, op_type: str, x: str, axes, keepdims: int, outputs: int | list = 1):
        """A ``Reduce*`` node over ``axes``: an attribute before opset 18, an input from 18."""
        axes = [int(a) for a in axes]
        if self.opset >= 18:
            return self.node(op_type, [x, self.ints(axes)], outputs, keepdims=int(keepdims))
        return self.node(op_type, [x], outputs, axes=axes, keepdims=int(keepdims))


def dynamic_shape(shape, shape2, input_shape, op: str) -> list:
    """A target shape for Reshape/Expand-like ops: static dims as they are, each dim that
    differs between the two traces as 0 (copy the input's dim at that position) where it
    matches the input there, else as -1 (inferred; one at most)."""
    out, inferred = [], False
    shape = list(shape)
    if shape2 is None:
        return shape
    for i, (a, b) in enumerate(zip(shape, shape2)):
        if a == b:
            out.append(a)
        elif i < len(input_shape) and input_shape[i] == a:
            out.append(0)
        elif not inferred:
            out.append(-1)
            inferred = True
        else:
            raise NotImplementedError(
                f"onnx export: {op} to shape {shape} depends on the dynamic axes in more than "
                f"one dimension that cannot be copied from its input of shape {list(input_shape)}"
            )
    return out
