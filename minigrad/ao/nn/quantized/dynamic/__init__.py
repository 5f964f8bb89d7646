"""Dynamically quantized modules, as ``torch.ao.nn.quantized.dynamic``: qint8 weights, float
inputs and outputs; each input is quantized with qparams from its own range."""

from __future__ import annotations

from ..... import dtypes
from .. import functional as qF
from ..modules import Linear as _QLinear
from ..modules import _quantize_weight
from .rnn import GRU, LSTM, GRUCell, LSTMCell, RNNCell, dynamic_linear


class Linear(_QLinear):
    """Linear with qint8 weights and float activations (``quantize_dynamic``'s Linear)."""

    _FLOAT_MODULE = None  # set in quantization_mappings

    def __init__(self, in_features, out_features, bias_=True, dtype=dtypes.qint8):
        super().__init__(in_features, out_features, bias_, dtype)
        self.version = 4

    def _get_name(self) -> str:
        return "DynamicQuantizedLinear"

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        if self._weight.is_quantized:
            return super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "weight"] = self._weight.half()  # float16 weights
        if self._bias is not None:
            destination[prefix + "bias"] = self._bias
        return None

    def _load_from_state_dict(self, state_dict, prefix, missing, used, errors, assign):
        if self._weight.is_quantized:
            return super()._load_from_state_dict(state_dict, prefix, missing, used, errors, assign)
        keys = [prefix + "weight"] + ([prefix + "bias"] if self._bias is not None else [])
        absent = [k for k in keys if k not in state_dict]
        if absent:
            missing.extend(absent)
            return None
        used.update(keys)
        bias = state_dict.get(prefix + "bias")
        self.set_weight_bias(state_dict[prefix + "weight"].float(), bias)
        return None

    def forward(self, x):
        if not self._weight.is_quantized:  # float16 weights (kept as their float32 values)
            return dynamic_linear(x, self._weight, self._bias, True)
        return qF.linear_dynamic(x, self._weight, self._bias, reduce_range=True)

    def extra_repr(self) -> str:
        text = f"in_features={self.in_features}, out_features={self.out_features}, dtype="
        if not self._weight.is_quantized:
            return text + "minigrad.float16"
        return text + f"{self._weight.dtype}, qscheme={self._weight.qscheme()}"

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The dynamically quantized layer of a float Linear (its ``qconfig.weight`` observer,
        or the default dynamic one, picks the weight's qparams)."""
        float_types = cls._FLOAT_MODULE
        if not isinstance(mod, float_types):
            raise AssertionError(
                "nn.quantized.dynamic.Linear.from_float only works for one of "
                f"{[t.__name__ for t in float_types]}, got {type(mod)}"
            )
        if not hasattr(mod, "qconfig"):
            raise AssertionError("Input float module must have qconfig defined")
        if type(mod).__name__ == "LinearReLU":
            mod = mod[0]
        qconfig = mod.qconfig
        if qconfig is None or qconfig.weight is None:
            from .....ao.quantization.qconfig import default_dynamic_qconfig

            qconfig = default_dynamic_qconfig
        observer = qconfig.weight()
        qlinear = cls(mod.in_features, mod.out_features)
        if observer.dtype is dtypes.float16:
            qlinear.set_weight_bias(mod.weight.detach().float().half().float(), mod.bias)
            return qlinear
        if observer.dtype is not dtypes.qint8:
            raise NotImplementedError(
                f"dynamic quantized Linear: weights must be qint8 or float16, got {observer.dtype}"
            )
        observer(mod.weight.detach())
        qlinear.set_weight_bias(_quantize_weight(mod.weight.detach().float(), observer), mod.bias)
        return qlinear


__all__ = ["GRU", "LSTM", "GRUCell", "LSTMCell", "Linear", "RNNCell"]
