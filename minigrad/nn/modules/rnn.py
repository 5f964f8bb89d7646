"""Recurrent layers as ``torch.nn``'s: ``RNN``, ``LSTM``, ``GRU`` and their cells.

Parameter names, shapes, gate order and initialisation are PyTorch's, so state dicts move
between the two: ``weight_ih_l{k}[_reverse]`` (G·H, in), ``weight_hh_l{k}`` (G·H, H_out),
``bias_ih_l{k}``, ``bias_hh_l{k}`` (G·H), and ``weight_hr_l{k}`` (proj_size, H) for an LSTM with
``proj_size``; G = 4 (LSTM: input, forget, cell, output), 3 (GRU: reset, update, new), 1 (RNN).
"""

from __future__ import annotations

import math

from ..._torch_function import DisableTorchFunctionSubclass, has_override
from ..._warnings import warn_user
from ...creation import empty, zeros
from .. import init
from ..functional.rnn import (
    gru_cell,
    lstm_cell,
    padded_output,
    rnn_relu_cell,
    rnn_tanh_cell,
    run_stack_as_op,
)
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNBase", "RNNCell", "RNNCellBase"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _check_size(value, name: str) -> int:
    """``value`` if it is a positive int; PyTorch's TypeError or ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be greater than zero, got {value}")
    return value


class RNNBase(Module):
    """The shared machinery of RNN, LSTM and GRU (``torch.nn.RNNBase``).

    Input (L, N, H_in), or (N, L, H_in) with ``batch_first``, or unbatched (L, H_in), or a
    :class:`~minigrad.nn.utils.rnn.PackedSequence`. Returns ``(output, h_n)`` (LSTM:
    ``(output, (h_n, c_n))``) with output (L, N, D·H_out) and h_n (num_layers·D, N, H_out),
    D = 2 if bidirectional, H_out = proj_size or hidden_size.
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.mode = mode
        self.input_size = _check_size(input_size, "input_size")
        self.hidden_size = _check_size(hidden_size, "hidden_size")
        self.num_layers = _check_size(num_layers, "num_layers")
        self.bias, self.batch_first, self.bidirectional = bias, batch_first, bidirectional
        if isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(
                f"dropout should be a number in range [0, 1] representing the probability of an "
                f"element being zeroed, got {dropout!r}"
            )
        if dropout > 0 and num_layers == 1:
            warn_user(
                f"dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                UserWarning,
            )
        if proj_size < 0:
            raise ValueError(
                "proj_size should be a positive integer or zero to disable projections"
            )
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        self.dropout, self.proj_size = float(dropout), proj_size
        factory = {"device": device, "dtype": dtype}
        gates = _GATES[mode] * hidden_size
        out_size = proj_size or hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else out_size * directions
            for suffix in ("", "_reverse")[:directions]:
                shapes = [(f"weight_ih_l{layer}{suffix}", (gates, layer_input)),
                          (f"weight_hh_l{layer}{suffix}", (gates, out_size))]  # fmt: skip
                if bias:
                    shapes += [(f"bias_ih_l{layer}{suffix}", (gates,)),
                               (f"bias_hh_l{layer}{suffix}", (gates,))]  # fmt: skip
                if proj_size:
                    shapes.append((f"weight_hr_l{layer}{suffix}", (proj_size, hidden_size)))
                for name, shape in shapes:
                    setattr(self, name, Parameter(empty(shape, **factory)))
                    self._flat_weights_names.append(name)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: every weight and bias uniform in ±1/√hidden_size."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self) -> None:
        """No effect: PyTorch packs the weights into one cuDNN buffer here; minigrad keeps
        each weight a separate tensor, so there is nothing to compact."""

    @property
    def all_weights(self) -> list:
        """Per layer and direction, the list of its parameters (as PyTorch's ``all_weights``)."""
        return [[getattr(self, n) for n in names] for names in self._layer_names()]

    def _layer_names(self) -> list:
        per = 2 + 2 * self.bias + bool(self.proj_size)
        names = self._flat_weights_names
        return [names[i : i + per] for i in range(0, len(names), per)]

    def _layers(self) -> list:
        """Per layer, per direction: (w_ih, w_hh, b_ih, b_hh, w_hr) with None where absent."""
        directions = 2 if self.bidirectional else 1
        layers = []
        for layer in range(self.num_layers):
            row = []
            for suffix in ("", "_reverse")[:directions]:
                row.append(tuple(
                    getattr(self, f"{kind}_l{layer}{suffix}", None)
                    for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
                ))  # fmt: skip
            layers.append(row)
        return layers

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first:
            text += f", batch_first={self.batch_first}"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += f", bidirectional={self.bidirectional}"
        return text

    # -- forward -------------------------------------------------------------------------------
    def forward(self, input, hx=None):
        packed = isinstance(input, PackedSequence)
        if not packed and has_override((input, hx)):
            return self._forward_as_one_call(input, hx)
        if packed:
            data, batch_sizes = input.data, [int(v) for v in input.batch_sizes.tolist()]
            batch, unbatched = batch_sizes[0], False
        else:
            data, batch_sizes, batch, unbatched = self._steps(input)
        hx = self._initial_state(hx, batch, data, unbatched)
        if packed and input.sorted_indices is not None:
            hx = self._permute(hx, input.sorted_indices)
        output, state = self._run_layers(data, batch_sizes, hx, packed)
        if packed:
            if input.unsorted_indices is not None:
                state = self._permute(state, input.unsorted_indices)
            return PackedSequence(output, input.batch_sizes, *input.indices()), state
        output = output.reshape((len(batch_sizes), batch, output.shape[-1]))
        if unbatched:
            return output.squeeze(1), self._map(state, lambda t: t.squeeze(1))
        return padded_output(output, self.mode, self.bidirectional, self.batch_first), state

    def _forward_as_one_call(self, input, hx):
        """The layer as one call of ``torch.lstm``/``gru``/``rnn_tanh``/``rnn_relu``, which a
        tensor subclass's ``__torch_function__`` sees (and wraps the outputs of), as PyTorch's
        ``_VF`` call: torchview records a recurrent layer so."""
        import minigrad

        with DisableTorchFunctionSubclass():  # (its checks' reshapes are not the layer's calls)
            data, _, batch, unbatched = self._steps(input)
        hx = self._initial_state(hx, batch, data, unbatched)
        batch_dim = 0 if self.batch_first else 1
        if unbatched:
            input = input.unsqueeze(batch_dim)
        weights = [getattr(self, n) for n in self._flat_weights_names]
        result = getattr(minigrad, self.mode.lower())(
            input, hx, weights, self.bias, self.num_layers, float(self.dropout), self.training,
            self.bidirectional, self.batch_first,
        )  # fmt: skip
        output, state = result[0], (tuple(result[1:]) if self.mode == "LSTM" else result[1])
        if unbatched:
            return output.squeeze(batch_dim), self._map(state, lambda t: t.squeeze(1))
        return output, state

    def _run_layers(self, data, batch_sizes, hx, packed: bool):
        """``(output, final state)`` of the stacked layers on the time-major ``data`` (a
        quantized layer runs its own kernels here, the rest of forward being shared)."""
        layers = self._layers()
        return run_stack_as_op(
            self.mode, packed, data, batch_sizes, hx, layers, self.dropout, self.training, True
        )

    def _steps(self, input):
        """The input as packed-sequence data: (L·N, H_in) step after step, and batch sizes."""
        if input.ndim not in (2, 3):
            raise ValueError(
                f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.ndim}D "
                f"instead (shape {list(input.shape)})"
            )
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"{type(self).__name__}: input.size(-1) must be equal to input_size. Expected "
                f"{self.input_size}, got {input.shape[-1]}"
            )
        unbatched = input.ndim == 2
        if unbatched:
            input = input.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        steps, batch = input.shape[0], input.shape[1]
        return input.reshape(steps * batch, self.input_size), [batch] * steps, batch, unbatched

    def _state_shapes(self, batch: int) -> list:
        layers = self.num_layers * (2 if self.bidirectional else 1)
        shapes = [(layers, batch, self.proj_size or self.hidden_size)]
        if self.mode == "LSTM":
            shapes.append((layers, batch, self.hidden_size))
        return shapes

    def _initial_state(self, hx, batch: int, data, unbatched: bool):
        shapes = self._state_shapes(batch)
        if hx is None:
            made = [zeros(s, dtype=data.dtype, device=data.device) for s in shapes]
            return tuple(made) if self.mode == "LSTM" else made[0]
        given = list(hx) if self.mode == "LSTM" else [hx]
        if self.mode == "LSTM" and len(given) != 2:
            raise RuntimeError("LSTM: hx must be a tuple (h_0, c_0)")
        self._check_state_ranks(given, unbatched)
        if unbatched:
            given = [t.unsqueeze(1) for t in given]
        for i, (t, shape) in enumerate(zip(given, shapes)):
            if tuple(t.shape) != shape:
                which = f"hidden[{i}]" if self.mode == "LSTM" else "hidden"
                raise RuntimeError(
                    f"Expected {which} size {shape}, got {list(t.shape)} "
                    f"({type(self).__name__}: (num_layers * num_directions, batch, hidden))"
                )
        return tuple(given) if self.mode == "LSTM" else given[0]

    def _check_state_ranks(self, given, unbatched: bool) -> None:
        """PyTorch's error for an initial state whose rank does not match the input's."""
        want, kind = (2, "unbatched 2-D") if unbatched else (3, "batched 3-D")
        if all(t.ndim == want for t in given):
            return
        if self.mode == "LSTM":
            got = ", ".join(f"{t.ndim}-D" for t in given)
            raise RuntimeError(
                f"For {kind} input, hx and cx should also be {want}-D but got ({got}) tensors"
            )
        raise RuntimeError(
            f"For {kind} input, hx should also be {want}-D but got {given[0].ndim}-D tensor"
        )

    def _map(self, state, fn):
        return tuple(fn(t) for t in state) if self.mode == "LSTM" else fn(state)

    def _permute(self, state, order):
        return self._map(state, lambda t: t.index_select(1, order))


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t·W_ihᵀ + b_ih + h_{t-1}·W_hhᵀ + b_hh) (``nonlinearity="relu"``
    for ReLU), stacked ``num_layers`` deep (``torch.nn.RNN``).

    Example:
        >>> rnn = nn.RNN(10, 20, num_layers=2)
        >>> output, h_n = rnn(minigrad.randn(5, 3, 10))
    """

    def __init__(self, *args, nonlinearity: str = "tanh", **kwargs):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory (``torch.nn.LSTM``), with ``proj_size`` for a projected hidden
    state: i, f, g, o = σ, σ, tanh, σ of x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh; c' = f·c + i·g;
    h' = o·tanh(c') (times W_hrᵀ with ``proj_size``).

    Example:
        >>> lstm = nn.LSTM(10, 20, num_layers=2, batch_first=True)
        >>> output, (h_n, c_n) = lstm(minigrad.randn(3, 5, 10))
    """

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit (``torch.nn.GRU``): r, z = σ(...), n = tanh(x·W_inᵀ + b_in +
    r·(h·W_hnᵀ + b_hn)), h' = (1 - z)·n + z·h.

    Example:
        >>> gru = nn.GRU(10, 20, bidirectional=True)
        >>> output, h_n = gru(minigrad.randn(5, 3, 10))
    """

    def __init__(self, *args, **kwargs):
        super().__init__("GRU", *args, **kwargs)


# -- cells ------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """Shared parts of the cells: ``weight_ih`` (G·H, in), ``weight_hh`` (G·H, H), biases.

    As ``torch.nn.RNNCellBase(input_size, hidden_size, bias, num_chunks)``: ``num_chunks`` is
    the number of gates G (the cells pass their own).
    """

    _gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        num_chunks: int | None = None,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if num_chunks is not None:
            self._gates = _check_size(num_chunks, "num_chunks")
        # (as PyTorch's cells: sizes unchecked, a negative one refused by ``empty`` below)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        factory = {"device": device, "dtype": dtype}
        gates = self._gates * hidden_size
        self.weight_ih = Parameter(empty((gates, input_size), **factory))
        self.weight_hh = Parameter(empty((gates, hidden_size), **factory))
        if bias:
            self.bias_ih = Parameter(empty((gates,), **factory))
            self.bias_hh = Parameter(empty((gates,), **factory))
        else:
            self.bias_ih = self.bias_hh = None
        self.reset_parameters()

    reset_parameters = RNNBase.reset_parameters

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity}"
        return text

    def _prepare(self, input, hx, count: int):
        """Batch an unbatched (H_in,) input; zeros for a missing state; check shapes."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"{name}: input has inconsistent input_size: got {input.shape[-1]}, expected "
                f"{self.input_size}"
            )
        unbatched = input.ndim == 1
        if unbatched:
            input = input.unsqueeze(0)
        shape = (input.shape[0], self.hidden_size)
        if hx is None:
            states = [zeros(shape, dtype=input.dtype, device=input.device) for _ in range(count)]
        else:
            if count == 2 and not isinstance(hx, (tuple, list)):  # (PyTorch's parser)
                raise TypeError(
                    f"{name}: argument 'hx' must be tuple of Tensors, not {type(hx).__name__}"
                )
            states = list(hx) if count == 2 else [hx]
            states = [s.unsqueeze(0) if unbatched else s for s in states]
            for s in states:
                if tuple(s.shape) != shape:
                    raise RuntimeError(
                        f"{name}: expected hidden state of shape {list(shape)}, got {list(s.shape)}"
                    )
        return input, states, unbatched

    def _weights(self) -> tuple:
        return (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class RNNCell(RNNCellBase):
    """One Elman RNN step (``torch.nn.RNNCell``): h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)."""

    def __init__(
        self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, (h,), unbatched = self._prepare(input, hx, 1)
        cell = rnn_tanh_cell if self.nonlinearity == "tanh" else rnn_relu_cell
        h = cell(input, h, *self._weights())
        return h.squeeze(0) if unbatched else h


class LSTMCell(RNNCellBase):
    """One LSTM step (``torch.nn.LSTMCell``): returns ``(h', c')``.

    Example:
        >>> cell = nn.LSTMCell(10, 20)
        >>> h, c = cell(minigrad.randn(3, 10))
    """

    _gates = 4

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, states, unbatched = self._prepare(input, hx, 2)
        h, c = lstm_cell(input, states, *self._weights())
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(RNNCellBase):
    """One GRU step (``torch.nn.GRUCell``)."""

    _gates = 3

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, (h,), unbatched = self._prepare(input, hx, 1)
        h = gru_cell(input, h, *self._weights())
        return h.squeeze(0) if unbatched else h
