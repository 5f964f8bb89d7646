"""Tensor.share_memory_, Module.share_memory and minigrad.multiprocessing: storage that forked
processes update in place (the Hogwild pattern)."""

import numpy as np
import pytest

import minigrad
import minigrad.multiprocessing as mp
from minigrad import nn

fork_only = pytest.mark.skipif(
    "fork" not in mp.get_all_start_methods(), reason="needs the fork start method"
)


def _add_one(tensors):
    with minigrad.no_grad():
        for t in tensors:
            t.add_(1)


def test_share_memory_keeps_values_and_reports_shared():
    for dtype in (minigrad.float32, minigrad.float64, minigrad.int64, minigrad.bool):
        t = minigrad.arange(6).reshape(2, 3).to(dtype).clone()
        expected = t.tolist()
        assert not t.is_shared()
        assert t.share_memory_() is t and t.is_shared() and t.tolist() == expected
        assert t.dtype is dtype and t.shape == (2, 3)
        assert t.share_memory_() is t  # already shared: nothing to do
    empty = minigrad.zeros(0).share_memory_()
    assert empty.is_shared() and empty.numel() == 0
    with pytest.raises(NotImplementedError, match="view"):
        minigrad.zeros(4)[1:].share_memory_()


def test_share_memory_reports_as_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = minigrad.ones(3), torch.ones(3)
    assert ours.is_shared() == theirs.is_shared() is False
    assert ours.share_memory_().is_shared() == theirs.share_memory_().is_shared() is True
    ours_model, theirs_model = nn.BatchNorm1d(2), torch.nn.BatchNorm1d(2)
    assert ours_model.share_memory() is ours_model and theirs_model.share_memory() is theirs_model
    ours_shared = [t.is_shared() for t in ours_model.state_dict().values()]
    assert ours_shared == [t.is_shared() for t in theirs_model.state_dict().values()]


@fork_only
def test_forked_processes_update_a_shared_model():
    model = nn.BatchNorm1d(3)
    weight = model.weight
    model.share_memory()
    assert model.weight is weight  # parameters keep their identity (optimizers still hold them)
    tensors = [model.weight, model.bias, model.running_mean]
    before = [t.detach().clone() for t in tensors]
    ctx = mp.get_context("fork")
    workers = [ctx.Process(target=_add_one, args=(tensors,)) for _ in range(2)]
    for p in workers:
        p.start()
    for p in workers:
        p.join()
    assert [p.exitcode for p in workers] == [0, 0]
    for t, b in zip(tensors, before):
        np.testing.assert_array_equal(t.detach().numpy(), b.numpy() + 2)
    private = minigrad.zeros(2)  # not shared: a forked child's writes stay in the child
    p = ctx.Process(target=_add_one, args=([private],))
    p.start()
    p.join()
    assert private.tolist() == [0.0, 0.0]
