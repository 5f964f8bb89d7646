"""PyTorch programs of the kind people write, run unchanged with ``torch`` bound to minigrad.

Each program in ``tests/programs/`` imports ``torch`` (and ``torch.nn``, ``torch.optim``, ...)
as written for PyTorch; the fixture makes those names resolve to minigrad's modules.
"""

import importlib
import sys
from pathlib import Path

import pytest

import minigrad

PROGRAMS = Path(__file__).parent / "programs"
ALIASES = {
    "torch": "minigrad",
    "torch.nn": "minigrad.nn",
    "torch.nn.functional": "minigrad.nn.functional",
    "torch.optim": "minigrad.optim",
    "torch.utils": "minigrad.utils",
    "torch.utils.data": "minigrad.utils.data",
}


@pytest.fixture
def as_torch(monkeypatch):
    """``import torch`` gives minigrad for the duration of the test."""
    for name, target in ALIASES.items():
        monkeypatch.setitem(sys.modules, name, importlib.import_module(target))
    monkeypatch.syspath_prepend(str(PROGRAMS))

    def load(name):
        sys.modules.pop(name, None)
        return importlib.import_module(name)

    yield load


def test_lstm_cell_sine_wave_with_lbfgs(as_torch):
    program = as_torch("sine_lbfgs")
    losses, prediction = program.main()
    assert prediction.shape == (3, 49)
    assert losses[-1] < 0.01 and losses[-1] < losses[0]
    assert minigrad.get_default_dtype() is minigrad.float32


def test_quickstart_tutorial(as_torch, capsys):
    program = as_torch("quickstart_tutorial")
    out = capsys.readouterr().out
    assert "Using cpu device" in out or "Using cuda device" in out
    assert "Done!" in out and "Predicted:" in out
    assert program.accuracy > 0.3  # four classes: better than chance after three epochs


@pytest.mark.parametrize("rnn_type", ["LSTM", "GRU", "RNN_TANH"])
def test_word_language_model(as_torch, tmp_path, rnn_type):
    program = as_torch("word_lm")  # uses Tensor.narrow (batchify) and randint(high, size)
    losses, words = program.main(rnn_type, str(tmp_path / "model.pt"))
    assert len(losses) == 3 and losses[-1] < losses[0]
    assert len(words) == 12 and set(words) <= set(program.CORPUS.split())
