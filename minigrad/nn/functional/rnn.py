"""Recurrent cells as fused ops, and the loop that runs one layer over a (packed) sequence.

A cell splits into the two matrix products, done by the fused :func:`linear` (the input's for
every time step at once, the hidden state's per step), and a fused pointwise op that turns the
gate pre-activations into the new state with a closed-form backward. Each backward formula is
written once, against operators that arrays and tensors share: plain backward runs it on
arrays, ``create_graph`` on tensors (so second derivatives flow through it).
"""

from __future__ import annotations

from ...autograd import forward_ad
from ...autograd.grad_mode import is_grad_enabled
from ...ops import Op, cat, stack
from ...ops.base import constant
from ...ops.linalg import times_transposed
from .basic import dropout, linear


def _sigmoid(xp, x):
    """σ(x) = (1 + tanh(x/2)) / 2: never overflows, for any x."""
    return 0.5 * xp.tanh(0.5 * x) + 0.5


def _lstm_activations(xp, gates, c):
    """[i f g o] gate values and tanh(c') from the pre-activations (..., N, 4H) and the cell
    (..., N, H)."""
    size = c.shape[-1]
    i, f, g, o = (gates[..., k * size : (k + 1) * size] for k in range(4))
    i, f, g, o = _sigmoid(xp, i), _sigmoid(xp, f), xp.tanh(g), _sigmoid(xp, o)
    c_new = f * c + i * g
    return i, f, g, o, c_new, xp.tanh(c_new)


def _lstm_grads(join, i, f, g, o, tanh_c, c, grad_h, grad_c):
    """d(gates), d(c) of h' = o·tanh(c'), c' = f·c + i·g (works on arrays and on tensors)."""
    dc = grad_c + grad_h * o * (1 - tanh_c * tanh_c)
    d_gates = join(
        [
            dc * g * i * (1 - i),
            dc * c * f * (1 - f),
            dc * i * (1 - g * g),
            grad_h * tanh_c * o * (1 - o),
        ]
    )
    return d_gates, dc * f


class LSTMCellOp(Op):
    """(gates (N, 4H) = [i f g o] pre-activations, c (N, H)) → stacked (2, N, H): [h', c'],
    h' = σ(o)·tanh(c'), c' = σ(f)·c + σ(i)·tanh(g). Backward: :func:`_lstm_grads`, from the
    gate values forward kept (recomputed from the inputs under ``create_graph``)."""

    save_inputs = True

    def forward(self, gates, c):
        xp = self.xp
        i, f, g, o, c_new, tanh_c = _lstm_activations(xp, gates, c)
        self.keep(gates=(i, f, g, o, tanh_c))
        return xp.stack([o * tanh_c, c_new])

    def backward(self, grad):
        gates, c = self.saved_tensors
        # a graph of the backward (the gates as functions of the inputs); also for tangents
        if is_grad_enabled() or forward_ad.active:
            i, f, g, o, _, tanh_c = _lstm_activations(_TensorMath, gates, c)
            d_gates, d_c = _lstm_grads(_cat1, i, f, g, o, tanh_c, c, grad[0], grad[1])
        else:
            xp, gd = grad.device.xp, grad._data
            d_gates, d_c = _lstm_grads(
                lambda parts: xp.concatenate(parts, 1),
                *self.kept_arrays["gates"],
                c._data,
                gd[0],
                gd[1],
            )
            d_gates, d_c = constant(d_gates, grad.device), constant(d_c, grad.device)
        return d_gates, (d_c if self.needs_input_grad[1] else None)


def _lstm_run(ns, times_wt, proj, h0, c0, b_hh, order):
    """Run the LSTM recurrence over the steps of ``proj`` (T, N, 4H) in ``order``.

    ``times_wt(h)`` is h·W_hhᵀ. Written once for arrays (``ns`` the array module) and tensors
    (``ns`` = :class:`_TensorMath`). Returns (h per step in time order, the last cell state,
    per step the gate values [i f g o tanh(c')] and the (h, c) the step started from).
    """
    h, c = h0, c0
    hs, steps = [None] * len(order), [None] * len(order)
    for t in order:
        gates = proj[t] + times_wt(h)
        if b_hh is not None:
            gates = gates + b_hh
        i, f, g, o, c_new, tanh_c = _lstm_activations(ns, gates, c)
        steps[t] = (i, f, g, o, tanh_c, h, c)
        h, c = o * tanh_c, c_new
        hs[t] = h
    return hs, c, steps


def _lstm_run_backward(ns, steps, order, grad, w_hh, needs):
    """Gradients of :func:`_lstm_run`'s (h per step, last c), given as ``grad`` (T + 1, N, H),
    with respect to (proj, h0, c0, W_hh, b_hh): backpropagation through time, step by step for
    the states, and W_hh's gradient as one matrix product over all the steps at the end (the
    per-step products of a step-by-step graph each write the whole (4H, H) matrix)."""
    dh, dc = None, grad[len(order)]
    d_gates = [None] * len(order)
    for t in reversed(order):
        i, f, g, o, tanh_c, _, c_prev = steps[t]
        grad_h = grad[t] if dh is None else grad[t] + dh
        d_gates[t], dc = _lstm_grads(ns.cat1, i, f, g, o, tanh_c, c_prev, grad_h, dc)
        dh = d_gates[t] @ w_hh
    d_proj = ns.stack(d_gates)
    rows = d_proj.reshape(-1, d_proj.shape[-1])
    d_w = None
    if needs[3]:
        h_prev = ns.stack([step[5] for step in steps])
        d_w = rows.T @ h_prev.reshape(-1, h_prev.shape[-1])
    d_b = rows.sum(0) if needs[4] else None
    return d_proj, dh, dc, d_w, d_b


class LSTMSequenceOp(Op):
    """A whole LSTM layer over T steps of equal batch as one op (PyTorch's fused LSTM kernel):
    (proj (T, N, 4H) = the input projections x_t·W_ihᵀ + b_ih, h0, c0 (N, H), W_hh (4H, H),
    b_hh (4H) or None) → (T + 1, N, H): the hidden state of every step in time order, then the
    last cell state. ``reverse`` runs from the last step to the first.

    One node instead of five per step, and W_hh's gradient as one large matrix product instead
    of one rank-N update per step. Backward: :func:`_lstm_run_backward`, from the gate values
    forward kept; under ``create_graph`` (or forward AD) it recomputes the recurrence with
    tensor ops, so higher derivatives flow through it.
    """

    save_inputs = True

    def __init__(self, reverse: bool = False):
        super().__init__()
        self.reverse = reverse

    def _order(self, steps: int):
        return range(steps - 1, -1, -1) if self.reverse else range(steps)

    def forward(self, proj, h0, c0, w_hh, b_hh):
        xp = self.xp
        hs, c, steps = _lstm_run(
            xp, lambda h: times_transposed(xp, h, w_hh), proj, h0, c0, b_hh, self._order(len(proj))
        )
        self.keep(steps=steps)
        return xp.stack(hs + [c]).astype(proj.dtype, copy=False)  # bfloat16: matmul gives float32

    def backward(self, grad):
        proj, h0, c0, w_hh, b_hh = self.saved_tensors
        order, needs = self._order(proj.shape[0]), self.needs_input_grad
        if is_grad_enabled() or forward_ad.active:  # a graph of the backward: recompute
            _, _, steps = _lstm_run(_TensorMath, lambda h: h @ w_hh.mT, proj, h0, c0, b_hh, order)
            grads = _lstm_run_backward(_TensorMath, steps, order, grad, w_hh, needs)
        else:
            xp, device = grad.device.xp, grad.device
            arrays = _lstm_run_backward(
                _ArrayMath(xp), self.kept_arrays["steps"], order, grad._data, w_hh._data, needs
            )
            grads = tuple(
                None if a is None else constant(a.astype(t._data.dtype, copy=False), device)
                for a, t in zip(arrays, (proj, h0, c0, w_hh, b_hh))
            )
        return tuple(g if need else None for g, need in zip(grads, needs))


def lstm_layer(proj, state, w_hh, b_hh, reverse: bool):
    """One LSTM layer direction over equal-length steps by :class:`LSTMSequenceOp`: ``proj``
    (T, N, 4H) → (outputs (T, N, H), (h_n, c_n))."""
    out = LSTMSequenceOp(reverse)(proj, state[0], state[1], w_hh, b_hh)
    steps = proj.shape[0]
    return out[:steps], (out[0 if reverse else steps - 1], out[steps])


def _gru_activations(xp, gi, gh, h):
    """r, z, n and h' of the GRU from the input and hidden pre-activations (N, 3H) each."""
    size = h.shape[1]
    part = [slice(k * size, (k + 1) * size) for k in range(3)]
    r = _sigmoid(xp, gi[:, part[0]] + gh[:, part[0]])
    z = _sigmoid(xp, gi[:, part[1]] + gh[:, part[1]])
    n = xp.tanh(gi[:, part[2]] + r * gh[:, part[2]])
    return r, z, n, gh[:, part[2]], (1 - z) * n + z * h


def _gru_grads(join, r, z, n, gh_n, h, grad):
    """d(gi), d(gh), d(h) of h' = (1 - z)·n + z·h, n = tanh(gi_n + r·gh_n) (arrays or tensors)."""
    dn = grad * (1 - z) * (1 - n * n)
    dr = dn * gh_n * r * (1 - r)
    dz = grad * (h - n) * z * (1 - z)
    return join([dr, dz, dn]), join([dr, dz, dn * r]), grad * z


class GRUCellOp(Op):
    """(gi = x·W_ihᵀ + b_ih, gh = h·W_hhᵀ + b_hh, both (N, 3H) as [r z n], h (N, H)) → h',
    r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r·gh_n), h' = (1 - z)·n + z·h.
    Backward: :func:`_gru_grads`, from the gate values forward kept (recomputed from the inputs
    under ``create_graph``)."""

    save_inputs = True

    def forward(self, gi, gh, h):
        r, z, n, gh_n, h_new = _gru_activations(self.xp, gi, gh, h)
        self.keep(gates=(r, z, n, gh_n))
        return h_new

    def backward(self, grad):
        gi, gh, h = self.saved_tensors
        if is_grad_enabled() or forward_ad.active:
            r, z, n, gh_n, _ = _gru_activations(_TensorMath, gi, gh, h)
            grads = _gru_grads(_cat1, r, z, n, gh_n, h, grad)
        else:
            xp = grad.device.xp
            arrays = _gru_grads(
                lambda parts: xp.concatenate(parts, 1),
                *self.kept_arrays["gates"],
                h._data,
                grad._data,
            )
            grads = tuple(constant(a, grad.device) for a in arrays)
        return tuple(g if need else None for g, need in zip(grads, self.needs_input_grad))


class _TensorMath:
    """The functions the recurrence helpers need, on tensors."""

    @staticmethod
    def tanh(t):
        return t.tanh()

    @staticmethod
    def cat1(parts):
        return cat(parts, 1)

    stack = staticmethod(stack)


class _ArrayMath:
    """The same functions on the arrays of one array module."""

    def __init__(self, xp):
        self.tanh, self.stack = xp.tanh, xp.stack
        self.cat1 = lambda parts: xp.concatenate(parts, 1)


def _cat1(parts):
    return cat(parts, 1)


# -- cells: PyTorch's torch.lstm_cell / gru_cell / rnn_tanh_cell / rnn_relu_cell ---------------
def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step: ``input`` (N, I), ``hx = (h, c)`` (N, H) each → ``(h', c')``.

    Gates in PyTorch's order [input, forget, cell, output]; ``w_ih`` (4H, I), ``w_hh`` (4H, H).

    Example:
        >>> h, c = minigrad.lstm_cell(x, (h, c), w_ih, w_hh, b_ih, b_hh)
    """
    h, c = hx
    gates = linear(input, w_ih, b_ih) + linear(h, w_hh, b_hh)
    out = LSTMCellOp()(gates, c)
    return out[0], out[1]


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step: ``input`` (N, I), ``hx`` (N, H) → h' (N, H); gates [reset, update, new]."""
    return GRUCellOp()(linear(input, w_ih, b_ih), linear(hx, w_hh, b_hh), hx)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman RNN step: h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)."""
    return (linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh)).tanh()


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman RNN step with ReLU: h' = relu(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)."""
    return (linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh)).relu()


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
    if input.ndim != 3:
        raise RuntimeError(f"lstm: input must be 3-D, got shape {list(input.shape)}")
    directions = 2 if bidirectional else 1
    per = len(params) // (num_layers * directions)
    base = 4 if has_biases else 2
    if per not in (base, base + 1) or per * num_layers * directions != len(params):
        raise RuntimeError(
            f"lstm: expected {base} (or {base + 1} with projections) weights per layer and "
            f"direction for {num_layers} layer(s), {directions} direction(s), got {len(params)}"
        )
    groups = [list(params[k : k + per]) for k in range(0, len(params), per)]
    weights = [
        (g[0], g[1], *(g[2:4] if has_biases else (None, None)), g[base] if per > base else None)
        for g in groups
    ]
    layers = [weights[k : k + directions] for k in range(0, len(weights), directions)]
    x = input.transpose(0, 1) if batch_first else input
    steps, batch = x.shape[0], x.shape[1]
    flat = x.reshape(steps * batch, x.shape[2])
    out, (h_n, c_n) = run_stack("LSTM", flat, [batch] * steps, tuple(hx), layers, dropout, train)
    out = out.reshape(steps, batch, out.shape[-1])
    return (out.transpose(0, 1) if batch_first else out), h_n, c_n


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
            if lstm and w_hr is None and min(batch_sizes) == max(batch_sizes):
                proj = projected.reshape(len(batch_sizes), batch_sizes[0], -1)
                out, final = lstm_layer(proj, state, w_hh, b_hh, d == 1)
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
