"""``FloatFunctional`` and ``QFunctional``, as ``torch.ao.nn.quantized``'s: tensor ops
(add, mul, cat, ...) as module methods, so that eager-mode quantization can observe their
outputs and swap them for quantized ones."""

from __future__ import annotations

from .... import _quantized
from ....nn.modules.module import Module
from . import functional as qF


class FloatFunctional(Module):
    """Float ops a model calls as methods (``self.skip.add(a, b)``) so that ``prepare`` can
    observe their outputs and ``convert`` can make them quantized (:class:`QFunctional`)."""

    def __init__(self):
        super().__init__()
        from ....nn.modules.linear import Identity

        self.activation_post_process = Identity()

    def forward(self, x):
        raise RuntimeError(
            "FloatFunctional is not intended to use the 'forward'. Please use the underlying "
            "operation"
        )

    def add(self, x, y):
        return self.activation_post_process(x + y)

    def add_scalar(self, x, y: float):
        return x + y  # (not observed: PyTorch's quantized op keeps the input's scale)

    def mul(self, x, y):
        return self.activation_post_process(x * y)

    def mul_scalar(self, x, y: float):
        return x * y

    def cat(self, x, dim: int = 0):
        from ....ops import cat

        return self.activation_post_process(cat(x, dim))

    def add_relu(self, x, y):
        from ....nn.functional import relu

        return self.activation_post_process(relu(x + y))

    def matmul(self, x, y):
        return self.activation_post_process(x @ y)


class QFunctional(Module):
    """The quantized :class:`FloatFunctional`: each op dequantizes its quantized inputs,
    computes in float32 and quantizes to ``scale``/``zero_point`` (as PyTorch's kernels)."""

    def __init__(self):
        super().__init__()
        from ....nn.modules.linear import Identity

        self.scale, self.zero_point = 1.0, 0
        self.activation_post_process = Identity()

    def _get_name(self) -> str:
        return "QFunctional"

    def extra_repr(self) -> str:
        return f"scale={self.scale}, zero_point={self.zero_point}"

    def forward(self, x):
        raise RuntimeError(
            "Functional is not intended to use the 'forward'. Please use the underlying operation"
        )

    def _requantized(self, values, like):
        qdtype = like._data.qdtype
        q = _quantized.quantize_array(values, self.scale, self.zero_point, qdtype)
        record = _quantized.QuantizedArray(
            q, qdtype, _quantized.per_tensor_affine, float(self.scale), int(self.zero_point)
        )
        from ....tensor import Tensor

        return Tensor._make(record, like.device)

    def add(self, x, y):
        return self._requantized(_values(x) + _values(y), x)

    def add_relu(self, x, y):
        import numpy as np

        return self._requantized(np.maximum(_values(x) + _values(y), 0), x)

    def mul(self, x, y):
        return self._requantized(_values(x) * _values(y), x)

    def cat(self, x, dim: int = 0):
        import numpy as np

        return self._requantized(np.concatenate([_values(t) for t in x], axis=dim), x[0])

    def add_scalar(self, x, y):
        raise NotImplementedError("QFunctional.add_scalar is not supported by minigrad yet")

    def mul_scalar(self, x, y):
        raise NotImplementedError("QFunctional.mul_scalar is not supported by minigrad yet")

    def matmul(self, x, y):
        return self._requantized(_values(x) @ _values(y), x)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The quantized form of a prepared and calibrated :class:`FloatFunctional`."""
        if type(mod) is not FloatFunctional:
            raise AssertionError("QFunctional.from_float expects an instance of FloatFunctional")
        scale, zero_point = mod.activation_post_process.calculate_qparams()
        new = cls()
        new.scale, new.zero_point = float(scale.item()), int(zero_point.item())
        return new


def _values(t):
    """The float32 values of a per-tensor quantized tensor, ``(q - z)·s``."""
    record = qF._record(t, "QFunctional")
    if record.per_channel:
        raise NotImplementedError("QFunctional takes per-tensor quantized tensors only")
    return record.dequantized()
