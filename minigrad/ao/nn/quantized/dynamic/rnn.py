"""The dynamically quantized LSTM, as ``torch.ao.nn.quantized.dynamic.LSTM``: qint8 weights
(one per-tensor scale each), float biases, states and outputs. As PyTorch on the CPU, each
layer's input projection runs once over the whole sequence (its input quantized with the range
of all time steps) and the hidden projection once per step, both by
:func:`~minigrad.ao.nn.quantized.functional.linear_dynamic`; the gates are float."""

from __future__ import annotations

from ..... import _quantized, dtypes
from .....creation import tensor
from .....nn.modules.module import Module
from .. import functional as qF
from ..modules import _quantize_weight

_WEIGHT_KEYS = ("int_repr", "scale", "zero_point")


def _saved_weight(ints, scale, zero_point):
    """A per-tensor qint8 weight from its saved integers, scale and zero point."""
    return _quantized._make_per_tensor_quantized_tensor(ints, scale.item(), int(zero_point.item()))


class LSTM(Module):
    """An LSTM whose matrix products use qint8 weights and dynamically quantized inputs."""

    _FLOAT_MODULE = None  # set in quantization_mappings

    def __init__(
        self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
        dropout=0.0, bidirectional=False, dtype=dtypes.qint8,
    ):  # fmt: skip
        super().__init__()
        if dtype is not dtypes.qint8:
            raise NotImplementedError(
                f"dynamic quantized LSTM: minigrad supports dtype=qint8 only, got {dtype}"
            )
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.dtype = bidirectional, dtype
        self._cells = {}  # suffix ("l0", "l0_reverse") -> (w_ih, w_hh, b_ih, b_hh)

    def _get_name(self) -> str:
        return "DynamicQuantizedLSTM"

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.batch_first:
            s += ", batch_first=True"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    def get_weight(self) -> dict:
        """The qint8 weights by PyTorch's parameter names (``weight_ih_l0``, ...)."""
        out = {}
        for suffix, (w_ih, w_hh, _, _) in self._cells.items():
            out[f"weight_ih_{suffix}"], out[f"weight_hh_{suffix}"] = w_ih, w_hh
        return out

    def get_bias(self) -> dict:
        """The float biases by PyTorch's parameter names (``bias_ih_l0``, ...)."""
        out = {}
        for suffix, (_, _, b_ih, b_hh) in self._cells.items():
            out[f"bias_ih_{suffix}"], out[f"bias_hh_{suffix}"] = b_ih, b_hh
        return out

    def _save_to_state_dict(self, destination, prefix, keep_vars) -> None:
        """Plain tensors, as the other quantized layers save (PyTorch packs its own objects):
        each weight's integers, scale and zero point, and the float biases."""
        super()._save_to_state_dict(destination, prefix, keep_vars)
        for name, w in self.get_weight().items():
            destination[f"{prefix}{name}.int_repr"] = w.int_repr()
            destination[f"{prefix}{name}.scale"] = tensor(w.q_scale(), dtype=dtypes.float64)
            destination[f"{prefix}{name}.zero_point"] = tensor(w.q_zero_point())
        for name, b in self.get_bias().items():
            if b is not None:
                destination[prefix + name] = b

    def _load_from_state_dict(self, state_dict, prefix, missing, used, errors, assign):
        super()._load_from_state_dict(state_dict, prefix, missing, used, errors, assign)
        for suffix in list(self._cells):
            keys = [
                f"{prefix}weight_{kind}_{suffix}.{k}" for kind in ("ih", "hh") for k in _WEIGHT_KEYS
            ]
            absent = [k for k in keys if k not in state_dict]
            if absent:
                missing.extend(absent)
                continue
            used.update(keys)
            ih, hh = keys[:3], keys[3:]
            weights = [_saved_weight(*(state_dict[k] for k in part)) for part in (ih, hh)]
            biases = []
            for kind in ("ih", "hh"):
                key = f"{prefix}bias_{kind}_{suffix}"
                if key in state_dict:
                    used.add(key)
                biases.append(state_dict[key].float() if key in state_dict else None)
            self._cells[suffix] = (*weights, *biases)

    def forward(self, input, hx=None):
        from ..... import cat, stack
        from .....nn.utils.rnn import PackedSequence

        if isinstance(input, PackedSequence):
            raise NotImplementedError(
                "dynamic quantized LSTM: PackedSequence inputs are not supported; pad them"
            )
        batched = input.dim() == 3
        x = input if batched else input.unsqueeze(1)
        if self.batch_first and batched:
            x = x.transpose(0, 1)
        h0, c0 = self._initial_state(x, hx, batched)
        dirs = 2 if self.bidirectional else 1
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                suffix = f"l{layer}" + ("_reverse" if d else "")
                out, (h, c) = self._run(x.flip(0) if d else x, h0[k], c0[k], suffix)
                outs.append(out.flip(0) if d else out)
                h_n.append(h)
                c_n.append(c)
            x = outs[0] if dirs == 1 else cat(outs, dim=-1)
        output = x.transpose(0, 1) if self.batch_first and batched else x
        h_n, c_n = stack(h_n), stack(c_n)
        if not batched:
            return output.squeeze(1), (h_n.squeeze(1), c_n.squeeze(1))
        return output, (h_n, c_n)

    def _initial_state(self, x, hx, batched):
        dirs = 2 if self.bidirectional else 1
        shape = (self.num_layers * dirs, x.shape[1], self.hidden_size)
        if hx is None:
            zeros = x.new_zeros(shape)
            return zeros, zeros
        h0, c0 = hx
        if not batched:
            h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
        if tuple(h0.shape) != shape or tuple(c0.shape) != shape:
            raise RuntimeError(
                f"dynamic quantized LSTM: expected hidden states of shape {shape}, got "
                f"{tuple(h0.shape)} and {tuple(c0.shape)}"
            )
        return h0, c0

    def _run(self, x, h, c, suffix):
        from ..... import stack

        w_ih, w_hh, b_ih, b_hh = self._cells[suffix]
        seq = x.shape[0]
        projected = qF.linear_dynamic(x.reshape(-1, x.shape[-1]), w_ih, b_ih)
        projected = projected.reshape(seq, x.shape[1], -1)
        outputs = []
        for t in range(seq):
            gates = projected[t] + qF.linear_dynamic(h, w_hh, b_hh)
            i, f, g, o = gates.chunk(4, dim=-1)
            c = f.sigmoid() * c + i.sigmoid() * g.tanh()
            h = o.sigmoid() * c.tanh()
            outputs.append(h)
        return stack(outputs), (h, c)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The dynamically quantized LSTM of a float ``nn.LSTM`` (its ``qconfig.weight``
        observer, or the default dynamic one, picks each weight's qparams)."""
        if not isinstance(mod, cls._FLOAT_MODULE):
            raise AssertionError(
                f"nn.quantized.dynamic.LSTM.from_float only works for nn.LSTM, got {type(mod)}"
            )
        if getattr(mod, "proj_size", 0):
            raise NotImplementedError("dynamic quantized LSTM: proj_size is not supported")
        qconfig = getattr(mod, "qconfig", None)
        if qconfig is None or qconfig.weight is None:
            from .....ao.quantization.qconfig import default_dynamic_qconfig

            qconfig = default_dynamic_qconfig
        new = cls(
            mod.input_size, mod.hidden_size, mod.num_layers, mod.bias, mod.batch_first,
            mod.dropout, mod.bidirectional,
        )  # fmt: skip
        for layer in range(mod.num_layers):
            for suffix in [f"l{layer}"] + ([f"l{layer}_reverse"] if mod.bidirectional else []):
                weights = []
                for kind in ("ih", "hh"):
                    w = getattr(mod, f"weight_{kind}_{suffix}").detach().float()
                    observer = qconfig.weight()
                    if observer.dtype is not dtypes.qint8:
                        raise NotImplementedError(
                            f"dynamic quantized LSTM: qint8 weights only, got {observer.dtype}"
                        )
                    observer(w)
                    weights.append(_quantize_weight(w, observer))
                biases = [
                    getattr(mod, f"bias_{kind}_{suffix}").detach().float() if mod.bias else None
                    for kind in ("ih", "hh")
                ]
                new._cells[suffix] = (*weights, *biases)
        return new
