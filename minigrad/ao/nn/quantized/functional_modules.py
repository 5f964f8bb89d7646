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

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """``scale`` and ``zero_point`` as tensors, as PyTorch's QFunctional saves them."""
        from ....creation import tensor

        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "scale"] = tensor(float(self.scale))  # float32, as PyTorch's
        destination[prefix + "zero_point"] = tensor(int(self.zero_point))

    def _load_from_state_dict(self, state_dict, prefix, missing, used, errors, assign):
        keys = [prefix + "scale", prefix + "zero_point"]
        absent = [k for k in keys if k not in state_dict]
        if absent:
            missing.extend(absent)
        else:
            self.scale = float(state_dict[keys[0]].item())
            self.zero_point = int(state_dict[keys[1]].item())
            used.update(keys)
        super()._load_from_state_dict(state_dict, prefix, missing, used, errors, assign)

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
    """The float32 values of a per-tensor quantized tensor as PyTorch's vectorized quantized
    add/mul/cat dequantize them: ``fma(s, q, -z·s)``, rounded once (the float64 product of two
    float32s is exact); ``(q - z)·s`` can differ in the last bit and flip a requantized tie."""
    import numpy as np

    record = qF._record(t, "QFunctional")
    if record.per_channel:
        raise NotImplementedError("QFunctional takes per-tensor quantized tensors only")
    scale = np.float32(record.scale)
    premul = np.float64(scale * -np.float32(record.zero_point))
    return (record.int_repr.astype(np.float64) * np.float64(scale) + premul).astype(np.float32)
