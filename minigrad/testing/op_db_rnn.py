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


def _sequence(gates=4, bidirectional=False, layers=1, bias=True, proj=0, batch_first=False,
              low=-1.0, high=1.0):  # fmt: skip
    """A Sample for ``lstm`` (4 gates), ``gru`` (3) or ``rnn_tanh``/``rnn_relu`` (1): input, the
    initial state (h0, and c0 for an LSTM), then the weights in ``torch.lstm``'s order."""
    steps, batch, width_in, hidden = 2, 1, 1, 2  # small: gradgradcheck perturbs every weight
    directions, out = 2 if bidirectional else 1, proj or hidden
    x = T((batch, steps, width_in) if batch_first else (steps, batch, width_in), low, high)
    weights = []
    for layer in range(layers):
        width = width_in if layer == 0 else out * directions
        for _ in range(directions):
            rows = gates * hidden
            weights += [T((rows, width), low, high), T((rows, out), low, high)]
            weights += [T((rows,), low, high), T((rows,), low, high)] if bias else []
            weights += [T((proj, hidden), low, high)] if proj else []
    state = [T((layers * directions, batch, out), low, high)]
    state += [T((layers * directions, batch, hidden), low, high)] if gates == 4 else []
    return Sample(x, *state, *weights, bidirectional=bidirectional, layers=layers, bias=bias,
                  batch_first=batch_first)  # fmt: skip


def _lstm_layers(m, x, h, c, *weights, bidirectional, layers, bias, batch_first):
    return m.lstm(x, (h, c), list(weights), bias, layers, 0.0, False, bidirectional, batch_first)


def _layers(name):
    """A row function for ``gru``, ``rnn_tanh`` or ``rnn_relu``: (output, h_n)."""

    def run(m, x, h, *weights, bidirectional, layers, bias, batch_first):
        return getattr(m, name)(
            x, h, list(weights), bias, layers, 0.0, False, bidirectional, batch_first
        )

    return run


ROWS = [
    OpInfo(
        "lstm",
        _lstm_layers,
        [
            _sequence(bidirectional=True, bias=False),
            _sequence(layers=2, bias=False, batch_first=True),
            _sequence(),
            _sequence(proj=1),  # the step-by-step path
        ],
    ),
    OpInfo(
        "gru",
        _layers("gru"),
        [_sequence(3, bidirectional=True, bias=False, batch_first=True), _sequence(3)],
    ),
    OpInfo("rnn_tanh", _layers("rnn_tanh"), [_sequence(1, bidirectional=True, bias=False)]),
    OpInfo(  # positive pre-activations: away from the kink
        "rnn_relu", _layers("rnn_relu"), [_sequence(1, layers=2, low=0.1, high=1.0)]
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
