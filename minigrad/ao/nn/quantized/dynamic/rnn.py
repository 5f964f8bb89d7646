"""Dynamically quantized recurrent layers, as ``torch.ao.nn.quantized.dynamic``'s LSTM, GRU and
cells: weights qint8 per tensor (or rounded to float16), inputs and hidden states float, each
matrix product's input quantized to quint8 from its own range when it runs (FBGEMM's dynamic
linear, :func:`..functional.linear_dynamic`); the gates in float32.

As PyTorch's CPU kernels: a layer's input projection runs once for the whole (padded or packed)
sequence (so one quantization range for all steps), the hidden state's per step (over the
sequences still running). Inference only (no gradients, no dropout between layers).
"""

from __future__ import annotations

import numpy as np

from ..... import _quantized, dtypes, nn
from .....autograd.grad_mode import no_grad
from .....creation import randn, tensor
from .....nn.functional.rnn import GRUCellOp, LSTMCellOp
from .....nn.modules.module import Module
from .....nn.utils.rnn import PackedSequence
from .....ops import cat, stack
from .....tensor import Tensor
from .. import functional as qF
from ..modules import _quantize_weight

_DTYPES = (dtypes.qint8, dtypes.float16)


def _check_dtype(dtype, name: str):
    if dtype not in _DTYPES:
        raise ValueError(
            f"Unsupported dtype for dynamic RNN quantization: {dtype} ({name} takes qint8 or "
            "float16)"
        )
    return dtype


def dynamic_linear(x, weight, bias, reduce_range: bool):
    """``x @ weight.T + bias`` of a float ``x``: a qint8 ``weight`` through FBGEMM's dynamic
    linear; a float16 one (kept as its float32 values) in float32."""
    if weight.is_quantized:
        return qF.linear_dynamic(x, weight, bias, reduce_range)
    out = x.detach().float()._data @ weight._data.T
    if bias is not None:
        out = out + bias.detach().float()._data
    return Tensor._make(out.astype(np.float32), x.device)


def _pack_weight(weight, dtype, qconfig, cls_name: str):
    """The weight as the dynamic layer stores it: qint8 with the qconfig's weight observer's
    qparams (per tensor by default, per channel with a per-channel qconfig), or
    float16-rounded float32."""
    weight = weight.detach().float()
    if dtype is dtypes.float16:
        return weight.half().float()
    observer = qconfig.weight() if qconfig is not None and qconfig.weight is not None else None
    if observer is None:
        from .....ao.quantization.qconfig import default_dynamic_qconfig

        observer = default_dynamic_qconfig.weight()
    if observer.dtype is not dtypes.qint8:
        raise AssertionError(f"{cls_name}: weight observer must have dtype qint8")
    observer(weight)
    return _quantize_weight(weight, observer)


_PARTS = (".int_repr", ".scale", ".zero_point", ".axis")


def _save_weight(destination: dict, key: str, weight) -> None:
    """A weight in plain tensors: qint8 as ``key.int_repr``/``.scale``/``.zero_point``/
    ``.axis`` (axis -1 per tensor), float16 as ``key`` (a float16 tensor)."""
    if not weight.is_quantized:
        destination[key] = weight.half()
        return
    record = weight._data
    per_channel = record.per_channel
    values = (
        weight.int_repr(),
        tensor(record.scale if per_channel else [record.scale], dtype=dtypes.float64),
        tensor(record.zero_point if per_channel else [record.zero_point]),
        tensor(record.axis if per_channel else -1),
    )
    for part, value in zip(_PARTS, values):
        destination[key + part] = value


def _load_weight(state_dict: dict, key: str, like, missing: list, used: set):
    """The weight :func:`_save_weight` saved under ``key`` (``like`` when absent)."""
    keys = [key + part for part in _PARTS] if like.is_quantized else [key]
    absent = [k for k in keys if k not in state_dict]
    if absent:
        missing.extend(absent)
        return like
    used.update(keys)
    if not like.is_quantized:
        return state_dict[key].float()
    ints, scale, zero_point, axis = (state_dict[k] for k in keys)
    if int(axis.item()) >= 0:
        return _quantized._make_per_channel_quantized_tensor(
            ints, scale, zero_point, int(axis.item())
        )
    return _quantized._make_per_tensor_quantized_tensor(
        ints, float(scale.item()), int(zero_point.item())
    )


class _WeightState:
    """``state_dict`` entries of the dynamic layers: ``_named_weights`` (name, getter,
    setter) in plain tensors (PyTorch saves its packed objects instead, so the keys are
    minigrad's)."""

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        for name, value, _ in self._named_weights():
            if value is not None:
                if name.startswith("bias"):
                    destination[prefix + name] = value
                else:
                    _save_weight(destination, prefix + name, value)

    def _load_from_state_dict(self, state_dict, prefix, missing, used, errors, assign):
        super()._load_from_state_dict(state_dict, prefix, missing, used, errors, assign)
        for name, value, setter in self._named_weights():
            if value is None:
                continue
            if name.startswith("bias"):
                if prefix + name in state_dict:
                    used.add(prefix + name)
                    setter(state_dict[prefix + name].detach().float().clone())
                else:
                    missing.append(prefix + name)
            else:
                setter(_load_weight(state_dict, prefix + name, value, missing, used))


def _qconfig_dtype(mod, dtype):
    qconfig = getattr(mod, "qconfig", None)
    if qconfig is not None and qconfig.weight is not None:
        dtype = qconfig.weight().dtype
    return dtype


class RNNBase(_WeightState, Module):
    """The shared machinery of the dynamic LSTM and GRU: ``_all_weight_values`` holds, per
    layer and direction, ``(w_ih, w_hh, b_ih, b_hh)`` with quantized (or float16) weights."""

    _FLOAT_MODULE = None
    _MODE = ""

    def __init__(
        self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
        dropout=0.0, bidirectional=False, dtype=dtypes.qint8,
    ):  # fmt: skip
        super().__init__()
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.dtype, self.proj_size, self.version = _check_dtype(dtype, mode), 0, 2
        self._all_weight_values = self._placeholder_weights()
        self.training = False  # made in eval mode, as PyTorch's (dropout only after .train())

    def _placeholder_weights(self) -> list:
        """PyTorch's stand-in weights of a layer made directly: standard normal draws (the
        same draws from the global generator, so later random numbers stay in step), qint8
        weights at scale 0.1, or float16-rounded ones. ``from_float`` replaces them."""
        gate = {"LSTM": 4, "GRU": 3}.get(self.mode, 1) * self.hidden_size
        directions, values = self._directions(), []
        for layer in range(self.num_layers):
            for _ in range(directions):
                width = self.input_size if layer == 0 else self.hidden_size * directions
                w_ih, w_hh = randn(gate, width), randn(gate, self.hidden_size)
                b_ih, b_hh = randn(gate), randn(gate)
                if self.dtype is dtypes.qint8:
                    w_ih, w_hh = (_quantized.quantize_per_tensor(w, 0.1, 0, dtypes.qint8)
                                  for w in (w_ih, w_hh))  # fmt: skip
                else:
                    w_ih, w_hh = w_ih.half().float(), w_hh.half().float()
                values.append((w_ih, w_hh, b_ih, b_hh))
        return values

    _steps = nn.RNNBase._steps
    _state_shapes = nn.RNNBase._state_shapes
    _initial_state = nn.RNNBase._initial_state
    _check_state_ranks = nn.RNNBase._check_state_ranks
    _map = nn.RNNBase._map
    _permute = nn.RNNBase._permute

    def _get_name(self) -> str:
        return "DynamicQuantized" + type(self).__name__

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text

    def get_weight(self) -> dict:
        """The quantized (or float16) weights by their float layer's names."""
        suffixes = ("", "_reverse")[: self._directions()]
        names = [f"l{layer}{s}" for layer in range(self.num_layers) for s in suffixes]
        weights = {}
        for name, values in zip(names, self._all_weight_values):
            weights[f"weight_ih_{name}"], weights[f"weight_hh_{name}"] = values[:2]
        return weights

    def _named_weights(self):
        suffixes = ("", "_reverse")[: self._directions()]
        names = [f"l{layer}{s}" for layer in range(self.num_layers) for s in suffixes]
        for k, (name, values) in enumerate(zip(names, self._all_weight_values)):
            for i, kind in enumerate(("weight_ih", "weight_hh", "bias_ih", "bias_hh")):
                yield f"{kind}_{name}", values[i], self._setter(k, i)

    def _setter(self, k: int, i: int):
        def set_value(value):
            values = list(self._all_weight_values[k])
            values[i] = value
            self._all_weight_values[k] = tuple(values)

        return set_value

    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    def forward(self, input, hx=None):
        if not isinstance(input, PackedSequence) and input.ndim != 3:
            # (PyTorch's dynamic layers take no unbatched input)
            raise RuntimeError(f"input must have 3 dimensions, got {input.ndim}")
        with no_grad():  # the float layer's forward, on the quantized kernels (_run_layers)
            return nn.RNNBase.forward(self, input, hx)

    def _run_layers(self, data, batch_sizes, hx, packed: bool):
        return self._run(data.float(), batch_sizes, hx, packed)

    def _run(self, layer_input, batch_sizes, hx, packed: bool):
        lstm = self.mode == "LSTM"
        finals_h, finals_c = [], []
        directions = self._directions()
        for layer in range(self.num_layers):
            outputs = []
            for d in range(directions):
                k = layer * directions + d
                w_ih, w_hh, b_ih, b_hh = self._all_weight_values[k]
                state = (hx[0][k], hx[1][k]) if lstm else hx[k]
                steps = dynamic_linear(layer_input, w_ih, b_ih, True).split(batch_sizes)
                out, final = _run_direction(self.mode, steps, batch_sizes, state, w_hh, b_hh, d)
                outputs.append(cat(out))
                finals_h.append(final[0] if lstm else final)
                if lstm:
                    finals_c.append(final[1])
            layer_input = outputs[0] if len(outputs) == 1 else cat(outputs, -1)
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                layer_input = nn.functional.dropout(layer_input, self.dropout, True)  # as float
        h_n = stack(finals_h)
        return layer_input, ((h_n, stack(finals_c)) if lstm else h_n)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The dynamically quantized layer of a float LSTM/GRU: weights quantized with the
        qconfig's weight observer (per tensor qint8), or float16 with a float16 qconfig."""
        if type(mod) is not cls._FLOAT_MODULE:
            raise AssertionError(
                f"nn.quantized.dynamic.{cls.__name__}.from_float only works for "
                f"nn.{cls._FLOAT_MODULE.__name__}, got {type(mod).__name__}"
            )
        if getattr(mod, "proj_size", 0):
            raise NotImplementedError(
                f"dynamic quantized {cls.__name__}: proj_size is not supported by minigrad"
            )
        dtype = _qconfig_dtype(mod, dtypes.qint8)
        new = cls(
            mod.input_size, mod.hidden_size, mod.num_layers, mod.bias, mod.batch_first,
            mod.dropout, mod.bidirectional, dtype=_check_dtype(dtype, cls.__name__),
        )  # fmt: skip
        qconfig = getattr(mod, "qconfig", None)
        new._all_weight_values = []
        for row in mod._layers():
            for w_ih, w_hh, b_ih, b_hh, _ in row:
                new._all_weight_values.append((
                    _pack_weight(w_ih, dtype, qconfig, cls.__name__),
                    _pack_weight(w_hh, dtype, qconfig, cls.__name__),
                    None if b_ih is None else b_ih.detach().float().clone(),
                    None if b_hh is None else b_hh.detach().float().clone(),
                ))  # fmt: skip
        return new


def _cell_step(mode, gi, h, c, w_hh, b_hh):
    """One step from the input projection ``gi``: the new ``(h, c)`` (c None but for LSTM)."""
    gh = dynamic_linear(h, w_hh, b_hh, True)
    if mode == "LSTM":
        out = LSTMCellOp()(gi + gh, c)
        return out[0], out[1]
    if mode == "GRU":
        return GRUCellOp()(gi, gh, h), None
    pre = gi + gh
    return (pre.tanh() if mode == "RNN_TANH" else pre.relu()), None


def _run_direction(mode, steps, batch_sizes, state, w_hh, b_hh, reverse):
    """One layer direction over per-step input projections, batch sizes as a PackedSequence's
    (sequences leave as t rises, join as it falls when ``reverse``)."""
    lstm = mode == "LSTM"
    h, c = state if lstm else (state, None)
    h_all, c_all = h, c
    if reverse:
        h, c = h[: batch_sizes[-1]], (c[: batch_sizes[-1]] if lstm else None)
    order = range(len(steps) - 1, -1, -1) if reverse else range(len(steps))
    outputs, done_h, done_c = [None] * len(steps), [], []
    for t in order:
        size = batch_sizes[t]
        if h.shape[0] > size:
            done_h.append(h[size:])
            done_c.append(c[size:] if lstm else None)
            h, c = h[:size], (c[:size] if lstm else None)
        elif h.shape[0] < size:
            start = h.shape[0]
            h = cat([h, h_all[start:size]])
            c = cat([c, c_all[start:size]]) if lstm else None
        h, c = _cell_step(mode, steps[t], h, c, w_hh, b_hh)
        outputs[t] = h
    h_n = cat([h] + done_h[::-1]) if done_h else h
    if not lstm:
        return outputs, h_n
    return outputs, (h_n, cat([c] + done_c[::-1]) if done_c else c)


class LSTM(RNNBase):
    """Dynamically quantized LSTM (``quantize_dynamic``'s form of ``nn.LSTM``).

    Example:
        >>> qlstm = quantize_dynamic(model, {nn.LSTM}, dtype=minigrad.qint8)
    """

    _FLOAT_MODULE = nn.LSTM

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Dynamically quantized GRU (``quantize_dynamic``'s form of ``nn.GRU``)."""

    _FLOAT_MODULE = nn.GRU

    def __init__(self, *args, **kwargs):
        super().__init__("GRU", *args, **kwargs)


class RNNCellBase(_WeightState, Module):
    """The dynamic cells: ``_packed_weight_ih``/``_packed_weight_hh`` quantized (or float16),
    ``bias_ih``/``bias_hh`` float."""

    _FLOAT_MODULE = None
    _MODE = ""

    def __init__(self, input_size, hidden_size, bias=True, num_chunks=1, dtype=dtypes.qint8):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_dtype = _check_dtype(dtype, type(self).__name__)
        self._packed_weight_ih = self._packed_weight_hh = None
        self.bias_ih = self.bias_hh = None

    _prepare = nn.RNNCellBase._prepare

    def _named_weights(self):
        for name in ("_packed_weight_ih", "_packed_weight_hh", "bias_ih", "bias_hh"):
            yield name.replace("_packed_", ""), getattr(self, name), self._setter(name)

    def _setter(self, name: str):
        return lambda value: setattr(self, name, value)

    def _get_name(self) -> str:
        return "DynamicQuantized" + type(self).__name__

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity}"
        return text

    def _mode(self) -> str:
        return self._MODE

    def forward(self, input, hx=None):
        count = 2 if self._mode() == "LSTM" else 1
        input, states, unbatched = self._prepare(input, hx, count)
        with no_grad():
            gi = dynamic_linear(input, self._packed_weight_ih, self.bias_ih, True)
            h, c = _cell_step(
                self._mode(), gi, states[0], states[1] if count == 2 else None,
                self._packed_weight_hh, self.bias_hh,
            )  # fmt: skip
        if unbatched:
            h, c = h.squeeze(0), (None if c is None else c.squeeze(0))
        return (h, c) if count == 2 else h

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The dynamically quantized cell of a float cell."""
        if type(mod) is not cls._FLOAT_MODULE:
            raise AssertionError(
                f"nn.quantized.dynamic.{cls.__name__}.from_float only works for "
                f"nn.{cls._FLOAT_MODULE.__name__}, got {type(mod).__name__}"
            )
        dtype = _check_dtype(_qconfig_dtype(mod, dtypes.qint8), cls.__name__)
        if cls is RNNCell:
            new = cls(mod.input_size, mod.hidden_size, mod.bias, mod.nonlinearity, dtype=dtype)
        else:
            new = cls(mod.input_size, mod.hidden_size, mod.bias, dtype=dtype)
        qconfig = getattr(mod, "qconfig", None)
        new._packed_weight_ih = _pack_weight(mod.weight_ih, dtype, qconfig, cls.__name__)
        new._packed_weight_hh = _pack_weight(mod.weight_hh, dtype, qconfig, cls.__name__)
        if mod.bias:
            new.bias_ih = mod.bias_ih.detach().float().clone()
            new.bias_hh = mod.bias_hh.detach().float().clone()
        return new


class RNNCell(RNNCellBase):
    """Dynamically quantized Elman RNN cell (tanh or relu)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh",
                 dtype=dtypes.qint8):  # fmt: skip
        super().__init__(input_size, hidden_size, bias, 1, dtype)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity

    def _mode(self) -> str:
        return "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"


class LSTMCell(RNNCellBase):
    """Dynamically quantized LSTM cell: returns ``(h', c')``."""

    _MODE = "LSTM"


class GRUCell(RNNCellBase):
    """Dynamically quantized GRU cell."""

    _MODE = "GRU"


RNNCell._FLOAT_MODULE, LSTMCell._FLOAT_MODULE, GRUCell._FLOAT_MODULE = (
    nn.RNNCell, nn.LSTMCell, nn.GRUCell,
)  # fmt: skip

__all__ = ["GRU", "LSTM", "GRUCell", "LSTMCell", "RNNBase", "RNNCell", "RNNCellBase"]
