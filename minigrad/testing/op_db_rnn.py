"""Rows of the op table for the recurrent cells (``torch.lstm_cell``, ``gru_cell``,
``rnn_tanh_cell``, ``rnn_relu_cell``): the fused LSTM and GRU pointwise ops and the linear
maps around them, compared with PyTorch's cells; and for whole LSTM layers (``torch.lstm``:
the fused sequence op, both directions, stacked layers, and the step-by-step path that
projections take)."""

from __future__ import annotations

from .samples import OpInfo, Sample, T

N, IN, H = 3, 4, 5


def _cell_samples(gates: int, low=-1.0, high=1.0, bias=True):
    x, h = T((N, IN), low, high), T((N, H), low, high)
    w_ih, w_hh = T((gates * H, IN), low, high), T((gates * H, H), low, high)
    b = [T((gates * H,), low, high), T((gates * H,), low, high)] if bias else []
    return x, h, w_ih, w_hh, *b


def _lstm(m, x, h, c, *weights):
    return m.lstm_cell(x, (h, c), *weights)


def _lstm_sequence(bidirectional=False, layers=1, bias=True, proj=0, batch_first=False):
    """A Sample for ``lstm``: input, h0, c0, then the weights in ``torch.lstm``'s order."""
    steps, directions, out = 4, 2 if bidirectional else 1, proj or H
    x = T((N, steps, IN) if batch_first else (steps, N, IN))
    weights = []
    for layer in range(layers):
        width = IN if layer == 0 else out * directions
        for _ in range(directions):
            weights += [T((4 * H, width)), T((4 * H, out))]
            weights += [T((4 * H,)), T((4 * H,))] if bias else []
            weights += [T((proj, H))] if proj else []
    state = (T((layers * directions, N, out)), T((layers * directions, N, H)))
    return Sample(x, *state, *weights, bidirectional=bidirectional, layers=layers, bias=bias,
                  batch_first=batch_first)  # fmt: skip


def _lstm_layers(m, x, h, c, *weights, bidirectional, layers, bias, batch_first):
    return m.lstm(x, (h, c), list(weights), bias, layers, 0.0, False, bidirectional, batch_first)


ROWS = [
    OpInfo(
        "lstm",
        _lstm_layers,
        [
            _lstm_sequence(),
            _lstm_sequence(bidirectional=True, layers=2),
            _lstm_sequence(bias=False, batch_first=True),
            _lstm_sequence(proj=3),  # the step-by-step path
        ],
    ),
    OpInfo(
        "lstm_cell",
        _lstm,
        [
            Sample(*_cell_samples(4)[:2], T((N, H)), *_cell_samples(4)[2:]),
            Sample(*_cell_samples(4, bias=False)[:2], T((N, H)), *_cell_samples(4, bias=False)[2:]),
            Sample(T((1, IN), -3, 3), T((1, H)), T((1, H)), T((4 * H, IN)), T((4 * H, H))),
        ],
    ),
    OpInfo(
        "gru_cell",
        lambda m, *a: m.gru_cell(*a),
        [Sample(*_cell_samples(3)), Sample(*_cell_samples(3, bias=False))],
    ),
    OpInfo("rnn_tanh_cell", lambda m, *a: m.rnn_tanh_cell(*a), [Sample(*_cell_samples(1))]),
    OpInfo(
        "rnn_relu_cell",
        lambda m, *a: m.rnn_relu_cell(*a),
        [Sample(*_cell_samples(1, 0.1, 1.0))],  # positive pre-activations: away from the kink
    ),
]
