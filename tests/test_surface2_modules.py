"""minigrad.return_types, futures, storage, types, utils.weak and utils.model_zoo compared
with their torch counterparts."""

from __future__ import annotations

import gc
import pickle
import threading
import warnings

import pytest

import minigrad
from minigrad.futures import Future, collect_all, wait_all
from minigrad.utils import _pytree

torch = pytest.importorskip("torch")


def test_return_types_are_torchs_names_and_reprs():
    names = [n for n in dir(torch.return_types) if not n.startswith("_") and n[0].islower()]
    names = [n for n in names if isinstance(getattr(torch.return_types, n), type)]
    for name in names:
        cls = getattr(minigrad.return_types, name)
        assert cls.__name__ == name, name
        assert cls._fields == getattr(torch.return_types, name).__match_args__, name
    x = [[1.0, 3.0], [2.0, 0.0]]
    mine, theirs = minigrad.tensor(x).max(0), torch.tensor(x).max(0)
    assert repr(mine).replace("minigrad", "torch") == repr(theirs)
    a = minigrad.tensor(x, dtype=minigrad.float64)
    for fn in ("sort", "median", "nanmedian", "slogdet", "qr", "topk", "cummax", "kthvalue"):
        args = {"topk": (1,), "cummax": (0,), "kthvalue": (1,)}.get(fn, ())
        mine = getattr(a, fn)(*args)
        theirs = getattr(torch.tensor(x, dtype=torch.float64), fn)(*args)
        assert type(mine).__name__ == type(theirs).__name__, fn
    assert type(minigrad.linalg.slogdet(a)).__name__ == "linalg_slogdet"
    assert type(minigrad.linalg.qr(a)) is minigrad.return_types.linalg_qr
    r = a.max(0)
    assert pickle.loads(pickle.dumps(r)).values.tolist() == r.values.tolist()
    assert _pytree.tree_leaves(r) == list(r)


def test_future_matches_torch_semantics():
    for lib in (minigrad.futures, torch.futures):
        f = lib.Future()
        assert not f.done()
        doubled = f.then(lambda fut: fut.wait() * 2)
        seen = []
        f.add_done_callback(lambda fut, seen=seen: seen.append(fut.value()))
        f.set_result(5)
        assert f.done() and f.wait() == 5 and doubled.wait() == 10 and seen == [5]
        with pytest.raises(RuntimeError, match="marked completed once"):
            f.set_result(6)
        e = lib.Future()
        e.set_exception(ValueError("boom"))
        with pytest.raises(ValueError, match="boom"):
            e.wait()
        with pytest.raises(RuntimeError, match="ValueError: boom"):
            e.then(lambda fut: fut.wait()).wait()
        a, b = lib.Future(), lib.Future()
        both = lib.collect_all([a, b])
        a.set_result(1)
        assert not both.done()
        b.set_result(2)
        assert [x.wait() for x in both.wait()] == [1, 2] and lib.wait_all([a, b]) == [1, 2]
        with pytest.raises(ValueError, match="boom"):
            lib.wait_all([a, e])


def test_future_wait_blocks_until_another_thread_sets_it():
    f = Future()
    threading.Timer(0.05, f.set_result, args=("late",)).start()
    assert f.wait() == "late" and wait_all([f]) == ["late"] and collect_all([]).wait() == []
    with pytest.raises(RuntimeError, match="not completed"):
        Future().value()


def test_jit_fork_returns_a_future():
    fut = minigrad.jit.fork(lambda x: x + 1, 1)
    assert isinstance(fut, Future) and fut.done() and minigrad.jit.wait(fut) == 2


def test_storages_match_torch():
    for name in ("FloatStorage", "DoubleStorage", "LongStorage", "BoolStorage", "ByteStorage"):
        mine, theirs = getattr(minigrad, name)([1, 0, 1]), getattr(torch, name)([1, 0, 1])
        assert mine.tolist() == theirs.tolist() and mine.dtype.name == str(theirs.dtype)[6:]
        assert (mine.nbytes(), mine.element_size(), len(mine)) == (
            theirs.nbytes(),
            theirs.element_size(),
            len(theirs),
        )
        assert isinstance(mine, minigrad.TypedStorage) and isinstance(mine, getattr(minigrad, name))
        assert repr(mine).replace("minigrad", "torch") == repr(theirs)
        assert mine.type() == theirs.type().replace("torch", "minigrad")
    assert not isinstance(minigrad.FloatStorage(1), minigrad.DoubleStorage)
    assert not isinstance(minigrad.FloatStorage(1), minigrad.UntypedStorage)  # as in PyTorch
    assert minigrad.tensor(minigrad.DoubleStorage([1.0, 2.0])).dtype is minigrad.float64
    t = minigrad.zeros(0).set_(minigrad.FloatStorage([1.0, 2.0, 3.0]), 1, (2,), (1,))
    assert t.tolist() == [2.0, 3.0]
    us = minigrad.UntypedStorage(4)
    assert us.tolist() == [0, 0, 0, 0] and minigrad.is_storage(us)
    x = minigrad.tensor([1.0, 2.0])
    assert x.untyped_storage().nbytes() == 8
    assert x.untyped_storage()[0:4].tolist() == [0, 0, 128, 63]  # a slice is a storage
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert x.storage().tolist() == [1.0, 2.0]
    buf = minigrad.FloatStorage.from_buffer(b"\x00\x00\x80\x3f", "little")
    assert buf.tolist() == torch.FloatStorage.from_buffer(b"\x00\x00\x80\x3f", "little").tolist()


def test_types_aliases():
    import minigrad.types as mt

    assert set(mt.Number.__args__) == {int, float, bool}
    assert minigrad.Tensor in mt._TensorOrTensors.__args__ and mt._dtype is minigrad.dtype
    assert isinstance(minigrad.device("cpu"), mt._device)


def test_weak_tensor_key_dictionary():
    from minigrad.utils.weak import TensorWeakRef, WeakIdRef, WeakTensorKeyDictionary

    d = WeakTensorKeyDictionary()
    a, b = minigrad.ones(2), minigrad.ones(2)
    d[a], d[b] = 1, 2
    assert len(d) == 2 and d[a] == 1 and a in d and minigrad.ones(2) not in d
    del a
    gc.collect()
    assert len(d) == 1 and list(d.values()) == [2]
    assert WeakIdRef(b) == WeakIdRef(b) and hash(WeakIdRef(b)) == id(b) and TensorWeakRef(b)() is b


def test_model_zoo_load_url_is_hub_loader():
    from minigrad.utils import model_zoo

    assert model_zoo.load_url is minigrad.hub.load_state_dict_from_url
