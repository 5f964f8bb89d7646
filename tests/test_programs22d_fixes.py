"""Fixes found by the twenty-second round of programs (helper d): PyTorch's once-per-process
warnings of the sparse constructors, which GCNII's ``torch.sparse_coo_tensor`` adjacency showed
missing. Each test forgets the once-flags it relies on (and puts them back), so that it holds
whatever ran before it in the process."""

import re
import warnings

import pytest

import minigrad
from minigrad import _warnings
from minigrad.sparse import _core

INDICES, VALUES = [[0, 1], [1, 0]], [1.0, 2.0]
IMPLICIT = "Sparse invariant checks are implicitly disabled"


@pytest.fixture
def fresh():
    """A process that has given neither sparse warning and never set the invariants switch."""
    said, was_set = set(_warnings._said_once), _core.invariants_set[0]
    enabled = minigrad.sparse.check_sparse_tensor_invariants.is_enabled()
    _warnings._said_once.difference_update({"sparse invariants", "sparse compressed beta"})
    _core.invariants_set[0] = False
    yield
    _warnings._said_once.clear()
    _warnings._said_once.update(said)
    _core.invariants_set[0] = was_set
    minigrad.sparse.check_sparse_tensor_invariants._enabled = enabled


def _messages(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [str(w.message) for w in caught]


def test_implicit_invariants_warn_once(fresh):
    first = _messages(lambda: minigrad.sparse_coo_tensor(INDICES, VALUES, (2, 2)))
    assert len(first) == 1 and first[0].startswith(IMPLICIT)
    assert "torch.sparse.check_sparse_tensor_invariants.__doc__" in first[0]
    assert _messages(lambda: minigrad.sparse_coo_tensor(INDICES, VALUES)) == []  # once only


def test_explicit_invariants_do_not_warn(fresh):
    explicit = _messages(
        lambda: minigrad.sparse_coo_tensor(INDICES, VALUES, check_invariants=False)
    )
    assert explicit == []  # an explicit False does not set the switch: the next call warns
    assert len(_messages(lambda: minigrad.sparse_coo_tensor(INDICES, VALUES))) == 1


@pytest.mark.parametrize("how", ["disable", "context", "to_sparse"])
def test_switch_set_silences(fresh, how):
    switch = minigrad.sparse.check_sparse_tensor_invariants
    if how == "disable":
        switch.disable()
    elif how == "context":
        with switch():
            pass
    else:  # a conversion is no constructor: it neither warns nor sets the switch
        assert _messages(lambda: minigrad.tensor([[0.0, 1.0]]).to_sparse()) == []
        return
    assert _messages(lambda: minigrad.sparse_coo_tensor(INDICES, VALUES)) == []


def test_compressed_beta_warning_once_for_all_layouts(fresh):
    dense = minigrad.tensor([[0.0, 1.0], [2.0, 0.0]])
    first = _messages(dense.to_sparse_csc)
    assert first == [
        "Sparse CSC tensor support is in beta state. If you miss a functionality in the sparse "
        "tensor support, please submit a feature request to https://github.com/pytorch/pytorch/issues."
    ]
    assert _messages(dense.to_sparse_csr) == []  # one flag for every compressed layout


def test_compressed_constructor_gives_both(fresh):
    got = _messages(
        lambda: minigrad.sparse_csr_tensor([0, 1, 2], [1, 0], VALUES, (2, 2)),
    )
    assert [m[:30] for m in got] == [IMPLICIT[:30], "Sparse CSR tensor support is i"]


def test_loading_a_sparse_checkpoint_does_not_warn(fresh, tmp_path):
    s = minigrad.sparse_coo_tensor(INDICES, VALUES, (2, 2), check_invariants=False)
    minigrad.save(s, tmp_path / "s.pt")
    assert _messages(lambda: minigrad.load(tmp_path / "s.pt")) == []


def test_the_warnings_match_pytorchs(fresh):
    torch = pytest.importorskip("torch")
    if not hasattr(torch._C, "_check_sparse_tensor_invariants"):
        pytest.skip("this PyTorch has no sparse invariants switch")
    ours = _messages(lambda: minigrad.sparse_csr_tensor([0, 1, 2], [1, 0], VALUES, (2, 2)))
    theirs = _messages(
        lambda: torch.sparse_csr_tensor(
            torch.tensor([0, 1, 2]), torch.tensor([1, 0]), torch.tensor(VALUES), (2, 2)
        )
    )
    theirs = [re.sub(r"\s+\(Triggered internally.*", "", m, flags=re.S) for m in theirs]
    if not theirs:  # (PyTorch says each once a process, and cannot be made to forget)
        pytest.skip("PyTorch already gave both warnings in this process")
    assert set(theirs) <= set(ours) and len(ours) == 2


def test_legacy_sparse_constructor_is_deprecated():
    said = set(_warnings._said_once)
    _warnings._said_once.difference_update(
        {"legacy sparse constructor True", "legacy sparse constructor False"}
    )
    try:
        with_shape = _messages(
            lambda: minigrad.sparse.FloatTensor(minigrad.tensor(INDICES), minigrad.ones(2), (2, 2))
        )
        without = _messages(
            lambda: minigrad.sparse.FloatTensor(minigrad.tensor(INDICES), minigrad.ones(2))
        )
        again = _messages(
            lambda: minigrad.sparse.FloatTensor(minigrad.tensor(INDICES), minigrad.ones(2))
        )
    finally:
        _warnings._said_once.clear()
        _warnings._said_once.update(said)
    assert with_shape == [
        "torch.sparse.SparseTensor(indices, values, shape, *, device=) is deprecated.  Please "
        "use torch.sparse_coo_tensor(indices, values, shape, dtype=, device=)."
    ]
    assert without == [
        "torch.sparse.SparseTensor(indices, values, *, device=) is deprecated.  Please use "
        "torch.sparse_coo_tensor(indices, values, dtype=, device=)."
    ]
    assert again == []
