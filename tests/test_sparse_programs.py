"""PyTorch programs that use sparse tensors (tests/programs/pygcn_sparse.py, a Kipf-style GCN
with torch.spmm; word2vec_sparse.py, skip-gram with sparse Embedding gradients and
SparseAdam), run unchanged with ``torch`` bound to minigrad, and compared with PyTorch."""

import importlib
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import minigrad

PROGRAMS = Path(__file__).parent / "programs"
pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks", "ignore::UserWarning")


def _with_real_torch(name):
    """The program imported against PyTorch itself (outside ``as_torch``)."""
    sys.path.insert(0, str(PROGRAMS))
    try:
        sys.modules.pop(name, None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(name)
    finally:
        sys.path.remove(str(PROGRAMS))
        sys.modules.pop(name, None)


@pytest.mark.parametrize("symmetric", [False, True])
def test_pygcn_with_sparse_adjacency_learns(as_torch, capsys, symmetric):
    program = as_torch("pygcn_sparse")
    model, history, test_accuracy = program.main(epochs=60, symmetric=symmetric)
    assert "Test set results" in capsys.readouterr().out
    assert history[-1] < 0.5 * history[0]
    assert test_accuracy >= 0.5  # three classes (chance 1/3); PyTorch reaches 0.5 with this seed
    adj = program.load_data(symmetric)[0]
    assert adj.is_sparse and adj.shape == (90, 90)


def test_pygcn_training_equals_pytorchs(monkeypatch):
    torch = pytest.importorskip("torch")
    theirs = _with_real_torch("pygcn_sparse")
    monkeypatch.syspath_prepend(str(PROGRAMS))
    with minigrad.as_torch.imports():
        sys.modules.pop("pygcn_sparse", None)
        ours = importlib.import_module("pygcn_sparse")
    sys.modules.pop("pygcn_sparse", None)
    assert ours.torch is minigrad and theirs.torch is torch
    histories = []
    weights = None
    for program, module in ((ours, minigrad), (theirs, torch)):
        module.manual_seed(0)
        data = program.load_data(symmetric=True)
        model = program.GCN(nfeat=data[1].shape[1], nhid=16, nclass=3, dropout=0.0)
        if weights is None:
            weights = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
        model.load_state_dict({k: module.tensor(v) for k, v in weights.items()})
        optimizer = program.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
        histories.append(program.train(model, optimizer, data, epochs=15))
    np.testing.assert_allclose(histories[0], histories[1], rtol=1e-5)


def test_word2vec_with_sparse_embeddings_and_sparse_adam(as_torch, capsys):
    program = as_torch("word2vec_sparse")
    losses, precision, grad = program.main(epochs=2)
    assert "neighbours in the same topic" in capsys.readouterr().out
    assert sum(losses[-10:]) < 0.8 * sum(losses[:10])
    assert precision > 0.5  # chance is about 5 / 21
    assert grad.is_sparse and not grad.is_coalesced() and grad._nnz() == 128
