"""Rows of the op table for the recurrent cells (``torch.lstm_cell``, ``gru_cell``,
``rnn_tanh_cell``, ``rnn_relu_cell``): the fused LSTM and GRU pointwise ops and the linear
maps around them, compared with PyTorch's cells."""

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


ROWS = [
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
