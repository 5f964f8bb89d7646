"""A whole recurrent layer over equal-length sequences as one op (PyTorch's fused RNN kernels).

Step by step, a layer is five or so nodes per time step, and the recurrent weight's gradient
one product per step, each writing the whole (G, H) matrix from N rows. As one op the layer is
one node: forward runs the recurrence on arrays and keeps the gate values; backward runs back
through time on arrays and takes W_hh's gradient as one matrix product over all T·N rows.
Under ``create_graph`` (or forward AD) backward recomputes the recurrence with tensor ops
instead, so higher derivatives flow through it. The per-step arithmetic of each kind of cell
is in :mod:`._rnn_math`.
"""

from __future__ import annotations

from ...autograd import forward_ad
from ...autograd.grad_mode import is_grad_enabled
from ...ops import Op
from ...ops.base import constant
from ...ops.linalg import times_transposed
from . import _rnn_math as math


class _LSTMStep:
    """gates = x_t·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh; h' = σ(o)·tanh(c'), c' = σ(f)·c + σ(i)·tanh(g)."""

    has_cell = True

    @staticmethod
    def forward(ns, proj_t, gh, h, c):
        i, f, g, o, c_new, tanh_c = math.lstm_activations(ns, proj_t + gh, c)
        return o * tanh_c, c_new, (i, f, g, o, tanh_c, c)

    @staticmethod
    def backward(ns, kept, grad_h, grad_c):
        """(d proj_t, d gh, the direct part of d h, d c)."""
        d_gates, dc = math.lstm_grads(ns, *kept, grad_h, grad_c)
        return d_gates, d_gates, None, dc


class _GRUStep:
    """gi = x_t·W_ihᵀ + b_ih, gh = h·W_hhᵀ + b_hh, as in :class:`.GRUCellOp`."""

    has_cell = False

    @staticmethod
    def forward(ns, proj_t, gh, h, c):
        r, z, n, gh_n, h_new = math.gru_activations(ns, proj_t, gh, h)
        return h_new, None, (r, z, n, gh_n, h)

    @staticmethod
    def backward(ns, kept, grad_h, grad_c):
        d_gi, d_gh, dh = math.gru_grads(ns, *kept, grad_h)
        return d_gi, d_gh, dh, None


class _ElmanStep:
    """h' = act(x_t·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh), act tanh or ReLU."""

    has_cell = False

    def __init__(self, activation: str):
        self.activation = activation

    def forward(self, ns, proj_t, gh, h, c):
        h_new = getattr(ns, self.activation)(proj_t + gh)
        return h_new, None, (h_new,)

    def backward(self, ns, kept, grad_h, grad_c):
        (h_new,) = kept
        slope = 1 - h_new * h_new if self.activation == "tanh" else (h_new > 0)
        d_pre = grad_h * slope
        return d_pre, d_pre, None, None


STEPS = {
    "LSTM": _LSTMStep(),
    "GRU": _GRUStep(),
    "RNN_TANH": _ElmanStep("tanh"),
    "RNN_RELU": _ElmanStep("relu"),
}


def recurrence(ns, step, times_wt, proj, h0, c0, b_hh, order):
    """Run ``step`` over the time steps of ``proj`` (T, ..., G) in ``order``, ``times_wt(h)``
    being h·W_hhᵀ. Returns (h per step in time order, the last cell state (None without one),
    per step what backward needs: the cell's kept values and the h the step started from)."""
    h, c = h0, c0
    hs, kept = [None] * len(order), [None] * len(order)
    for t in order:
        gh = times_wt(h)
        if b_hh is not None:
            gh = gh + b_hh
        h_new, c, cell = step.forward(ns, proj[t], gh, h, c)
        kept[t] = (cell, h)
        h = hs[t] = h_new
    return hs, c, kept


def recurrence_backward(ns, step, kept, order, grad, w_hh, needs):
    """Gradients of :func:`recurrence`'s outputs (``grad``: (T, N, H), then the last cell
    state's for an LSTM) with respect to (proj, h0, c0, W_hh, b_hh)."""
    steps = len(order)
    dh, dc = None, (grad[steps] if step.has_cell else None)
    d_proj, d_gh = [None] * steps, [None] * steps
    for t in reversed(order):
        grad_h = grad[t] if dh is None else grad[t] + dh
        d_proj[t], d_gh[t], dh_direct, dc = step.backward(ns, kept[t][0], grad_h, dc)
        dh = d_gh[t] @ w_hh
        if dh_direct is not None:
            dh = dh + dh_direct
    d_proj_all = ns.stack(d_proj)
    d_gh_all = d_proj_all if d_gh[0] is d_proj[0] else ns.stack(d_gh)
    rows = d_gh_all.reshape(-1, d_gh_all.shape[-1])
    d_w = d_b = None
    if needs[3]:
        h_prev = ns.stack([h for _, h in kept])
        d_w = rows.T @ h_prev.reshape(-1, h_prev.shape[-1])
    if needs[4]:
        d_b = rows.sum(0)
    return d_proj_all, dh, dc, d_w, d_b


class RecurrentSequenceOp(Op):
    """One direction of one recurrent layer over T steps of N sequences:
    (proj (T, N, G) = the input projections x_t·W_ihᵀ + b_ih, h0 (N, H), c0 (N, H) for an LSTM
    or None, W_hh (G, H), b_hh (G) or None) → the hidden state of every step in time order,
    (T, N, H), with an LSTM's last cell state appended as row T. ``mode`` is "LSTM", "GRU",
    "RNN_TANH" or "RNN_RELU"; ``reverse`` runs from the last step to the first."""

    save_inputs = True

    def __init__(self, mode: str, reverse: bool = False):
        super().__init__()
        self.mode, self.reverse = mode, reverse

    def order(self, steps: int):
        return range(steps - 1, -1, -1) if self.reverse else range(steps)

    def forward(self, proj, h0, c0, w_hh, b_hh):
        xp, step = self.xp, STEPS[self.mode]
        hs, c, kept = recurrence(
            math.array_math(xp), step, lambda h: times_transposed(xp, h, w_hh), proj, h0, c0, b_hh,
            self.order(len(proj)),
        )  # fmt: skip
        self.keep(steps=kept)
        out = xp.stack(hs + [c] if step.has_cell else hs)
        return out.astype(proj.dtype, copy=False)  # bfloat16: matmul gives float32

    def backward(self, grad):
        inputs = self.saved
        proj, h0, c0, w_hh, b_hh = inputs
        step, order, needs = STEPS[self.mode], self.order(proj.shape[0]), self.needs_input_grad
        if is_grad_enabled() or forward_ad.active:  # a graph of the backward: recompute
            ns = math.TENSOR_MATH
            _, _, kept = recurrence(ns, step, lambda h: h @ w_hh.T, proj, h0, c0, b_hh, order)
            grads = recurrence_backward(ns, step, kept, order, grad, w_hh, needs)
        else:
            ns, kept = math.array_math(grad.device.xp), self.kept_arrays["steps"]
            arrays = recurrence_backward(ns, step, kept, order, grad._data, w_hh._data, needs)
            grads = tuple(
                None if a is None else constant(a.astype(t._data.dtype, copy=False), grad.device)
                for a, t in zip(arrays, inputs)
            )
        return tuple(g if need else None for g, need in zip(grads, needs))


def sequence_layer(mode, proj, state, w_hh, b_hh, reverse: bool):
    """One direction of one layer by :class:`RecurrentSequenceOp`: ``proj`` (T, N, G) →
    (outputs (T, N, H), final state: ``(h_n, c_n)`` for an LSTM, else h_n)."""
    h0, c0 = state if mode == "LSTM" else (state, None)
    out = RecurrentSequenceOp(mode, reverse)(proj, h0, c0, w_hh, b_hh)
    steps = proj.shape[0]
    h_n = out[0 if reverse else steps - 1]
    return out[:steps], ((h_n, out[steps]) if mode == "LSTM" else h_n)
