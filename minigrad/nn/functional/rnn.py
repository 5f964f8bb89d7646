"""Recurrent cells as fused ops, and the loop that runs the layers over a (packed) sequence.

A cell splits into the two matrix products, done by the fused :func:`linear` (the input's for
every time step at once, the hidden state's per step), and a fused pointwise op that turns the
gate pre-activations into the new state with a closed-form backward (:mod:`._rnn_math`,
written once for arrays and tensors: plain backward runs it on arrays, ``create_graph`` on
tensors, so second derivatives flow through it). Over equal-length sequences (a padded batch)
each layer direction without a projection runs as one op instead
(:mod:`._rnn_sequence`); packed sequences of different lengths and LSTM projections run step
by step.
"""

from __future__ import annotations

from ... import dtypes
from ...autograd import forward_ad
from ...autograd.grad_mode import is_grad_enabled
from ...autograd.graph import named_as
from ...backend import DimensionError
from ...ops import Op, cat, stack
from ...ops.base import autocast_op, constant, refuse_dtype
from . import _rnn_math as math
from ._rnn_sequence import sequence_layer
from .basic import dropout, linear


class LSTMCellOp(Op):
    """(gates (N, 4H) = [i f g o] pre-activations, c (N, H)) → stacked (2, N, H): [h', c'],
    h' = σ(o)·tanh(c'), c' = σ(f)·c + σ(i)·tanh(g). Backward: :func:`.lstm_grads`, from the
    gate values forward kept (recomputed from the inputs under ``create_graph``)."""

    save_inputs = True

    def forward(self, gates, c):
        xp = self.xp
        i, f, g, o, c_new, tanh_c = math.lstm_activations(xp, gates, c)
        self.keep(gates=(i, f, g, o, tanh_c))
        return xp.stack([o * tanh_c, c_new])

    def backward(self, grad):
        gates, c = self.saved
        # a graph of the backward (the gates as functions of the inputs); also for tangents
        if is_grad_enabled() or forward_ad.active:
            ns = math.TENSOR_MATH
            i, f, g, o, _, tanh_c = math.lstm_activations(ns, gates, c)
            d_gates, d_c = math.lstm_grads(ns, i, f, g, o, tanh_c, c, grad[0], grad[1])
        else:
            gd, kept = grad._data, self.kept_arrays["gates"]
            ns = math.array_math(grad.device.xp)
            d_gates, d_c = math.lstm_grads(ns, *kept, c._data, gd[0], gd[1])
            d_gates, d_c = constant(d_gates, grad.device), constant(d_c, grad.device)
        return d_gates, (d_c if self.needs_input_grad[1] else None)


class GRUCellOp(Op):
    """(gi = x·W_ihᵀ + b_ih, gh = h·W_hhᵀ + b_hh, both (N, 3H) as [r z n], h (N, H)) → h',
    r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r·gh_n), h' = (1 - z)·n + z·h.
    Backward: :func:`.gru_grads`, from the gate values forward kept (recomputed from the inputs
    under ``create_graph``)."""

    save_inputs = True

    def forward(self, gi, gh, h):
        r, z, n, gh_n, h_new = math.gru_activations(self.xp, gi, gh, h)
        self.keep(gates=(r, z, n, gh_n))
        return h_new

    def backward(self, grad):
        gi, gh, h = self.saved
        if is_grad_enabled() or forward_ad.active:
            ns = math.TENSOR_MATH
            r, z, n, gh_n, _ = math.gru_activations(ns, gi, gh, h)
            grads = math.gru_grads(ns, r, z, n, gh_n, h, grad)
        else:
            ns = math.array_math(grad.device.xp)
            arrays = math.gru_grads(ns, *self.kept_arrays["gates"], h._data, grad._data)
            grads = tuple(constant(a, grad.device) for a in arrays)
        return tuple(g if need else None for g, need in zip(grads, self.needs_input_grad))


def _gates_dtype(gates, name: str) -> None:
    """PyTorch applies the LSTM and GRU gates' sigmoid in place, which integer gates cannot
    hold (its RuntimeError and words); bool ones fail before, in its addmm."""
    d = gates.dtype
    if d is dtypes.bool:
        refuse_dtype(d, "addmm_impl_cpu_", name)
    if not (d.is_floating_point or d.is_complex):
        raise RuntimeError(
            f"{name}: result type Float can't be cast to the desired output type "
            f"{dtypes.scalar_type_name(d)}"
        )


def _check_cell(gates: int, input, hiddens, w_ih, w_hh) -> None:
    """PyTorch's checks of a cell's operands, in its order and words: the weights' rows (gates
    times the hidden size, ``w_hh``'s columns), the input's features, each hidden state's
    batch and size (``hidden0``, ``hidden1``); a 0-d operand is its IndexError."""
    if w_ih.ndim == 2 and w_hh.ndim == 2:
        size = w_hh.shape[1]
        for label, w in (("ih", w_ih), ("hh", w_hh)):
            if w.shape[0] != gates * size:
                raise RuntimeError(
                    f"weight_{label} first dim must be {gates} * hidden_size = {gates * size}, "
                    f"but got {w.shape[0]}"
                )
    for t, dim in ((input, 1),) + tuple((h, 0) for h in hiddens):
        if t.ndim == 0:
            raise DimensionError(f"Dimension specified as {dim} but tensor has no dimensions")
    if input.ndim != 2 or w_ih.ndim != 2 or w_hh.ndim != 2:
        return
    if input.shape[1] != w_ih.shape[1]:
        raise RuntimeError(
            f"input has inconsistent input_size: got {input.shape[1]} expected {w_ih.shape[1]}"
        )
    for label, h in enumerate(hiddens):
        if h.ndim != 2:
            continue
        if h.shape[0] != input.shape[0]:
            raise RuntimeError(
                f"Input batch size {input.shape[0]} doesn't match hidden{label} batch size "
                f"{h.shape[0]}"
            )
        if h.shape[1] != w_hh.shape[1]:
            raise RuntimeError(
                f"hidden{label} has inconsistent hidden_size: got {h.shape[1]}, expected "
                f"{w_hh.shape[1]}"
            )


# -- cells: PyTorch's torch.lstm_cell / gru_cell / rnn_tanh_cell / rnn_relu_cell ---------------
def _mixed_under_autocast(input, weight) -> bool:
    """Whether a floating ``input`` of another dtype than ``weight`` meets a CPU cell (or GRU
    layer) under autocast, which no policy casts there: PyTorch runs it as a model of the
    input's dtype would."""
    return (
        input.dtype != weight.dtype
        and input.dtype.is_floating_point
        and weight.dtype.is_floating_point
        and _autocast_on()
    )


def _as_input_dtype(input, *tensors) -> tuple:
    """``tensors`` cast to ``input``'s dtype (differentiably; None stays None)."""
    return tuple(None if t is None else t.to(input.dtype) for t in tensors)


@autocast_op("lstm_cell")  # (in its inputs' dtype under CPU autocast, as PyTorch's)
def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step: ``input`` (N, I), ``hx = (h, c)`` (N, H) each → ``(h', c')``.

    Gates in PyTorch's order [input, forget, cell, output]; ``w_ih`` (4H, I), ``w_hh`` (4H, H).

    Example:
        >>> h, c = minigrad.lstm_cell(x, (h, c), w_ih, w_hh, b_ih, b_hh)
    """
    h, c = hx
    _check_cell(4, input, (h, c), w_ih, w_hh)
    if _mixed_under_autocast(input, w_ih):
        h, c, w_ih, w_hh, b_ih, b_hh = _as_input_dtype(input, h, c, w_ih, w_hh, b_ih, b_hh)
    gates = linear(input, w_ih, b_ih) + linear(h, w_hh, b_hh)
    _gates_dtype(gates, "lstm_cell")
    out = LSTMCellOp()(gates, c)
    # PyTorch composes the cell: h' = o·tanh(c') ends in a product, c' = f·c + i·g in a sum
    return named_as(out[0], "MulBackward0"), named_as(out[1], "AddBackward0")


@autocast_op("gru_cell")
def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step: ``input`` (N, I), ``hx`` (N, H) → h' (N, H); gates [reset, update, new]."""
    _check_cell(3, input, (hx,), w_ih, w_hh)
    if _mixed_under_autocast(input, w_ih):
        hx, w_ih, w_hh, b_ih, b_hh = _as_input_dtype(input, hx, w_ih, w_hh, b_ih, b_hh)
    gates = linear(input, w_ih, b_ih)
    _gates_dtype(gates, "gru_cell")
    out = GRUCellOp()(gates, linear(hx, w_hh, b_hh), hx)
    return named_as(out, "AddBackward0")  # (PyTorch composes it: h' = (1 - z)·n + z·h)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman RNN step: h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)."""
    _check_cell(1, input, (hx,), w_ih, w_hh)
    return (linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh)).tanh()


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman RNN step with ReLU: h' = relu(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)."""
    _check_cell(1, input, (hx,), w_ih, w_hh)
    return (linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh)).relu()


# -- whole layers over a padded batch: PyTorch's torch.lstm / gru / rnn_tanh / rnn_relu ----------
def lstm(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    """A whole (multi-layer) LSTM over a padded batch, as ``torch.lstm``: what ``nn.LSTM`` runs.

    Args:
        input: (T, N, I), or (N, T, I) with ``batch_first``.
        hx: ``(h0, c0)``, (num_layers·D, N, H_out) and (num_layers·D, N, H).
        params: the weights layer after layer, direction after direction, each as
            ``w_ih, w_hh[, b_ih, b_hh][, w_hr]`` (``w_hr`` with a projection).
        has_biases, num_layers, dropout, train, bidirectional, batch_first: as in ``nn.LSTM``
            (dropout on every layer's output but the last's, when ``train``).

    Returns:
        ``(output, h_n, c_n)``.
    """
    if not isinstance(hx, (tuple, list)):
        raise NotImplementedError(
            "lstm: the packed overload (data, batch_sizes, hx, ...) is not supported; run "
            "nn.LSTM on a PackedSequence instead"
        )
    out, (h_n, c_n) = _padded("LSTM", input, tuple(hx), params, has_biases, num_layers, dropout,
                              train, bidirectional, batch_first)  # fmt: skip
    return out, h_n, c_n


def gru(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    """A whole GRU over a padded batch, as ``torch.gru``; arguments as :func:`lstm`'s, with
    ``hx`` one tensor (num_layers·D, N, H) and 4 (or 2 without biases) weights per layer and
    direction. Returns ``(output, h_n)``."""
    return _padded("GRU", input, hx, params, has_biases, num_layers, dropout, train,
                   bidirectional, batch_first)  # fmt: skip


def rnn_tanh(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    """A whole Elman RNN with tanh over a padded batch, as ``torch.rnn_tanh`` (see :func:`gru`)."""
    return _padded("RNN_TANH", input, hx, params, has_biases, num_layers, dropout, train,
                   bidirectional, batch_first)  # fmt: skip


def rnn_relu(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    """A whole Elman RNN with ReLU over a padded batch, as ``torch.rnn_relu`` (see :func:`gru`)."""
    return _padded("RNN_RELU", input, hx, params, has_biases, num_layers, dropout, train,
                   bidirectional, batch_first)  # fmt: skip


_BATCH_FIRST_NODES = {"LSTM": "TransposeBackward0"}


def _padded(mode, input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
            batch_first):  # fmt: skip
    """:func:`run_stack` on a padded (T, N, I) batch with the weights as one flat list."""
    name = mode.lower()
    if not isinstance(params, (list, tuple)):  # (data, batch_sizes, hx, params, ...): hx here
        raise NotImplementedError(
            f"{name}: the packed overload (data, batch_sizes, hx, ...) is not supported; run "
            f"nn.{'GRU' if mode == 'GRU' else 'RNN'} on a PackedSequence instead"
        )
    if input.ndim != 3:
        raise DimensionError(f"{name}: input must be 3-D, got shape {list(input.shape)}")
    states = hx if isinstance(hx, (tuple, list)) else (hx,)
    if any(h.ndim == 0 for h in states):
        raise DimensionError(f"{name}: Dimension specified as 0 but tensor has no dimensions")
    if input.dtype is dtypes.bool:  # (PyTorch's input projection: a bmm)
        refuse_dtype(input.dtype, "bmm", name)
    if mode in ("LSTM", "GRU") and params and params[0].dtype is input.dtype:
        _gates_dtype(input, name)  # (the gates have the input's and weights' dtype)
    elif mode == "RNN_TANH" and not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(  # (its tanh in place; rnn_relu computes integers)
            f"{name}: expected m1 and m2 to have the same dtype, but got: float != "
            f"{dtypes.cpp_type_name(input.dtype)}"
        )
    directions = 2 if bidirectional else 1
    per = len(params) // (num_layers * directions)
    base = 4 if has_biases else 2
    extra = 1 if mode == "LSTM" else 0  # an LSTM may have projections
    if not base <= per <= base + extra or per * num_layers * directions != len(params):
        raise RuntimeError(
            f"{name}: expected {base} weights per layer and direction"
            + (f" (or {base + 1} with projections)" if extra else "")
            + f" for {num_layers} layer(s), {directions} direction(s), got {len(params)} in all"
        )
    if states[0].shape[0] < num_layers * directions:
        raise RuntimeError(f"{name}: Expected more hidden states in stacked_rnn")
    if input.shape[1 if batch_first else 0] == 0:
        raise RuntimeError(f"{name}: Expected sequence length to be larger than 0 in RNN")
    groups = [list(params[k : k + per]) for k in range(0, len(params), per)]
    weights = [
        (g[0], g[1], *(g[2:4] if has_biases else (None, None)), g[base] if per > base else None)
        for g in groups
    ]
    layers = [weights[k : k + directions] for k in range(0, len(weights), directions)]
    x = input.transpose(0, 1) if batch_first else input
    steps, batch = x.shape[0], x.shape[1]
    flat = x.reshape(steps * batch, x.shape[2])
    out, final = run_stack_as_op(mode, False, flat, [batch] * steps, hx, layers, dropout, train)
    out = out.reshape(steps, batch, out.shape[-1])
    return padded_output(out, mode, bidirectional, batch_first), final


def padded_output(out, mode: str, bidirectional: bool, batch_first: bool):
    """A padded batch's output (T, N, H·D), batch first if asked, its node named as PyTorch's:
    the last layer's steps stacked, or both directions' outputs joined; with ``batch_first``
    the transpose (of an LSTM; the others' is in place, another overload)."""
    if batch_first:
        return named_as(out.transpose(0, 1), _BATCH_FIRST_NODES.get(mode, "TransposeBackward1"))
    return named_as(out, "CatBackward0" if bidirectional else "StackBackward0")


# -- one layer over a sequence -------------------------------------------------------------------
def run_layer(mode, steps, batch_sizes, state, weights, reverse: bool):
    """Run one direction of one layer over a sequence given as per-step input projections.

    Args:
        mode: ``"LSTM"``, ``"GRU"``, ``"RNN_TANH"`` or ``"RNN_RELU"``.
        steps: the input projections x_t·W_ihᵀ + b_ih, one (batch_sizes[t], G) tensor per step.
        batch_sizes: how many sequences are still running at each step (non-increasing, as
            in a PackedSequence; all equal for a padded batch).
        state: the initial hidden state (N, H_out), or ``(h, c)`` for an LSTM.
        weights: ``(w_hh, b_hh, w_hr)`` (``b_hh``, ``w_hr`` may be None).
        reverse: run from the last step to the first.

    Returns:
        (outputs, one (batch_sizes[t], H_out) tensor per step in time order; final state,
        shaped as ``state``).
    """
    w_hh, b_hh, w_hr = weights
    lstm = mode == "LSTM"
    h, c = state if lstm else (state, None)
    order = range(len(steps) - 1, -1, -1) if reverse else range(len(steps))
    outputs = [None] * len(steps)
    if reverse:  # sequences join as t goes down: start with those that run to the end
        first = batch_sizes[-1]
        h_all, c_all = h, c
        h, c = h[:first], (c[:first] if lstm else None)
    finished_h, finished_c = [], []
    for t in order:
        size = batch_sizes[t]
        if h.shape[0] > size:  # forward: sequences that ended keep their final state
            finished_h.append(h[size:])
            h = h[:size]
            if lstm:
                finished_c.append(c[size:])
                c = c[:size]
        elif h.shape[0] < size:  # reverse: sequences that start here join with their h0
            h = cat([h, h_all[h.shape[0] : size]])
            if lstm:
                c = cat([c, c_all[c.shape[0] : size]])
        gh = linear(h, w_hh, b_hh)
        if lstm:
            out = LSTMCellOp()(steps[t] + gh, c)
            h, c = out[0], out[1]
            if w_hr is not None:
                h = linear(h, w_hr)
        elif mode == "GRU":
            h = GRUCellOp()(steps[t], gh, h)
        else:
            pre = steps[t] + gh
            h = pre.tanh() if mode == "RNN_TANH" else pre.relu()
        outputs[t] = h
    h_n = cat([h] + finished_h[::-1]) if finished_h else h
    if not lstm:
        return outputs, h_n
    return outputs, (h_n, cat([c] + finished_c[::-1]) if finished_c else c)


def run_stack(mode, flat_input, batch_sizes, hx, layers, dropout_p: float, training: bool):
    """Run every layer (and both directions) over a packed sequence.

    Args:
        flat_input: the steps one after another, (Σ batch_sizes, I) as PackedSequence data.
        batch_sizes: sequences running at each step.
        hx: the initial state (L·D, N, H_out) (``(h0, c0)`` for an LSTM).
        layers: per layer, per direction, ``(w_ih, w_hh, b_ih, b_hh, w_hr)``.
        dropout_p: dropout on each layer's output except the last's, in training.

    Returns:
        (output (Σ batch_sizes, D·H_out), final state (L·D, N, H_out) or ``(h_n, c_n)``).
    """
    lstm = mode == "LSTM"
    finals_h, finals_c = [], []
    layer_input = flat_input
    for index, directions in enumerate(layers):
        outputs = []
        for d, (w_ih, w_hh, b_ih, b_hh, w_hr) in enumerate(directions):
            k = index * len(directions) + d
            state = (hx[0][k], hx[1][k]) if lstm else hx[k]
            projected = linear(layer_input, w_ih, b_ih)  # every step's input at once
            if w_hr is None and min(batch_sizes) == max(batch_sizes):  # one op for the layer
                proj = projected.reshape(len(batch_sizes), batch_sizes[0], -1)
                out, final = sequence_layer(mode, proj, state, w_hh, b_hh, d == 1)
                outputs.append(out.reshape(-1, out.shape[-1]))
            else:
                steps = projected.split(batch_sizes)  # one node: see ops.joining.Split
                out, final = run_layer(mode, steps, batch_sizes, state, (w_hh, b_hh, w_hr), d == 1)
                outputs.append(cat(out))
            finals_h.append(final[0] if lstm else final)
            if lstm:
                finals_c.append(final[1])
        layer_input = outputs[0] if len(outputs) == 1 else cat(outputs, -1)
        if dropout_p > 0 and training and index < len(layers) - 1:
            layer_input = dropout(layer_input, dropout_p, True)
    h_n = stack(finals_h)
    return layer_input, ((h_n, stack(finals_c)) if lstm else h_n)


def _autocast_on() -> bool:
    from ... import _autocast_state  # (a layer above: imported when first asked)

    return _autocast_state.is_any_autocast_enabled()


def _checked_stack(mode, flat_input, batch_sizes, hx, layers, dropout_p, training, check):
    """:func:`run_stack`, after ``nn.RNNBase``'s check that the input has the weights' dtype
    (``check``; made here, after autocast's casts, as PyTorch checks only outside autocast)."""
    weight = layers[0][0][0]
    mixed = flat_input.dtype != weight.dtype
    if mixed and _autocast_on():  # (the LSTM's policy casts; an Elman RNN's linears are cast)
        if mode == "GRU" and _mixed_under_autocast(flat_input, weight):
            layers = [[_as_input_dtype(flat_input, *ws) for ws in d] for d in layers]
            (hx,) = _as_input_dtype(flat_input, hx)
    elif mixed and check:
        raise ValueError(
            f"RNN input dtype ({flat_input.dtype}) does not match weight dtype ({weight.dtype}). "
            f"Convert input: input.to({weight.dtype}), or convert model: "
            f"model.to({flat_input.dtype})"
        )
    return run_stack(mode, flat_input, batch_sizes, hx, layers, dropout_p, training)


# A whole recurrent layer is one op to autocast, as PyTorch's kernels are: on the CPU the LSTM
# over a padded batch runs in low precision (oneDNN's layer), a packed LSTM and a GRU in their
# inputs' dtype; an Elman RNN is made of linear layers there, so each of those is cast.
_STACK_OPS = {
    name: autocast_op(name)(_checked_stack) for name in ("lstm", "lstm_packed", "gru", "gru_packed")
}


def run_stack_as_op(mode, packed, flat_input, batch_sizes, hx, layers, dropout_p, training,
                    check=False):  # fmt: skip
    """:func:`run_stack` as autocast sees it (``packed``: the input is a PackedSequence's)."""
    name = mode.lower() + ("_packed" if packed else "")
    run = _STACK_OPS.get(name, _checked_stack)
    return run(mode, flat_input, batch_sizes, hx, layers, dropout_p, training, check)
