"""Saving and loading sparse tensors (COO and compressed) with minigrad.save/load, and loading
sparse tensors that torch.save wrote (zip and legacy formats)."""

import io

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:.*[Ss]parse:UserWarning")

A = [[0.0, 2.0, 0.0, 1.0], [3.0, 0.0, 4.0, 0.0]]


def _tensors(L):
    a = L.tensor(A)
    return {
        "coo": a.to_sparse(),
        "uncoalesced": L.sparse_coo_tensor([[0, 0], [1, 1]], [1.0, 2.0], (2, 2)),
        "hybrid": L.ones(2, 3, 2).to_sparse(2),
        "csr": a.to_sparse_csr(),
        "csc": a.to_sparse_csc(),
        "bsr": a.to_sparse_bsr((1, 2)),
        "bsc": a.to_sparse_bsc(2),
        "batched": L.tensor([[[1.0, 0], [0, 2]], [[0, 2], [3, 0]]]).to_sparse_csr(),
        "int32": L.sparse_csr_tensor(
            L.tensor([0, 1, 3], dtype=L.int32), L.tensor([1, 0, 2], dtype=L.int32), [1.0, 2, 3]
        ),
        "nested": [a.to_sparse_csr(), {"x": a.to_sparse()}],
    }


def _flat(obj):
    if isinstance(obj, dict):
        return [x for k in sorted(obj) for x in _flat(obj[k])]
    if isinstance(obj, list):
        return [x for v in obj for x in _flat(v)]
    return [obj]


def _check(loaded, expected):
    for a, b in zip(_flat(loaded), _flat(expected)):
        assert repr(a).replace("minigrad.", "torch.") == repr(b).replace("minigrad.", "torch.")
        assert a.is_coalesced() == b.is_coalesced() if a.layout is minigrad.sparse_coo else True
        np.testing.assert_array_equal(a.to_dense().detach().numpy(), b.to_dense().detach().numpy())


def test_minigrad_round_trip():
    saved = _tensors(minigrad)
    saved["grad"] = minigrad.tensor(A).to_sparse_csr().requires_grad_()
    buffer = io.BytesIO()
    minigrad.save(saved, buffer)
    buffer.seek(0)
    loaded = minigrad.load(buffer)
    _check(loaded, saved)
    assert loaded["grad"].requires_grad and loaded["grad"].is_leaf


@pytest.mark.parametrize("zip_format", [True, False])
def test_load_torch_saved(tmp_path, zip_format):
    path = tmp_path / "sparse.pt"
    saved = _tensors(torch)
    torch.save(saved, path, _use_new_zipfile_serialization=zip_format)
    _check(minigrad.load(path), saved)


def test_corrupted_indices_are_refused(tmp_path):
    """A file whose indices break the invariants fails to load, naming the problem."""
    path = tmp_path / "bad.pt"
    bad = torch.sparse_csr_tensor([0, 1, 3], [1, 0, 7], [1.0, 2, 3], (2, 3))
    torch.save({"bad": bad}, path)
    with pytest.raises(RuntimeError, match="invalid sparse tensor"):
        minigrad.load(path)
