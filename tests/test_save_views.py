"""Saving tensors that share memory saves that memory once, as ``torch.save`` saves a storage
once: views load sharing memory again (a write to one shows in the others), with their places
in it (``storage_offset()``, one ``untyped_storage()``) and strides; tied weights stay tied; a
saved slice carries its whole memory. Both in minigrad's
own format and when minigrad reads ``torch.save`` files."""

import io
import json
import zipfile

import pytest

import minigrad as mg

torch = pytest.importorskip("torch")


def _views(lib):
    x = lib.arange(12.0).reshape(3, 4)
    return [x, x[1:], x.view(2, 6), x.t(), x[:, 1::2], x[2, 3], x]


def _geometry(ts):
    """Values, shapes, strides, each first element's place in the first tensor's memory and
    in its storage, and whether that storage is the first tensor's (its size, in bytes)."""
    first, memory = ts[0].data_ptr(), ts[0].untyped_storage()
    return [
        (t.tolist(), tuple(t.shape), t.stride(), t.data_ptr() - first, t.storage_offset())
        + (t.untyped_storage().data_ptr() == memory.data_ptr(), t.untyped_storage().nbytes())
        for t in ts
    ]


def _round_trip(lib, obj):
    buffer = io.BytesIO()
    lib.save(obj, buffer)
    buffer.seek(0)
    return lib.load(buffer), buffer.getbuffer().nbytes


@pytest.mark.parametrize("writer", ["minigrad", "torch"])
def test_views_load_sharing_memory_with_their_geometry(writer):
    if writer == "minigrad":
        loaded, _ = _round_trip(mg, _views(mg))
    else:
        buffer = io.BytesIO()
        torch.save(_views(torch), buffer)
        buffer.seek(0)
        loaded = mg.load(buffer)
    theirs, _ = _round_trip(torch, _views(torch))
    assert _geometry(loaded) == _geometry(theirs)
    assert loaded[0] is loaded[-1] and theirs[0] is theirs[-1]  # one tensor saved twice
    for ts in (loaded, theirs):
        ts[3].mul_(-1)  # through the transpose: every view sees it
        ts[5].fill_(100)
    assert [t.tolist() for t in loaded] == [t.tolist() for t in theirs]


def test_a_view_saved_alone_and_set_windows_report_their_storage_offset():
    """As PyTorch: a loaded slice, and a tensor ``set_`` to a window of a storage, start at
    their offset in the whole storage (a view of them adds its own); ``from_numpy`` of a
    NumPy slice starts its own storage."""
    got = []
    for lib in (mg, torch):
        loaded, _ = _round_trip(lib, lib.arange(10.0)[3:7])
        base = lib.arange(10.0)
        window = lib.empty(0).set_(base.untyped_storage(), 3, (2, 2), (1, 2))
        same = window.untyped_storage().data_ptr() == base.untyped_storage().data_ptr()
        numpy_slice = lib.from_numpy(__import__("numpy").arange(5.0)[2:])
        got.append(
            (
                loaded.storage_offset(),
                loaded[1:].storage_offset(),
                loaded.untyped_storage().nbytes(),
            )
            + (window.storage_offset(), window[1].storage_offset(), same)
            + (numpy_slice.storage_offset(),)
        )
    assert got[0] == got[1] == (3, 4, 40, 3, 4, True, 0)


def test_tied_weights_stay_tied():
    results = []
    for lib in (torch, mg):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Embedding(5, 3), lib.nn.Linear(3, 5, bias=False))
        model[1].weight = model[0].weight  # tied, as language models tie them
        state, _ = _round_trip(lib, model.state_dict())
        state["0.weight"].add_(1)
        results.append(bool((state["1.weight"] == state["0.weight"]).all()))
        fresh = lib.nn.Sequential(lib.nn.Embedding(5, 3), lib.nn.Linear(3, 5, bias=False))
        fresh.load_state_dict(state)
        results.append(bool((fresh[1].weight == model[0].weight + 1).all()))
    assert results == [True, True, True, True]


def test_a_slice_saves_its_whole_memory_unless_cloned():
    sizes = {}
    for lib in (torch, mg):
        big = lib.zeros(20000)
        _, whole = _round_trip(lib, big[:2])
        _, alone = _round_trip(lib, big[:2].clone())
        sizes[lib.__name__] = (whole > 80000, alone < 4000)
    assert sizes == {"torch": (True, True), "minigrad": (True, True)}


def test_devices_dtypes_and_copies_round_trip():
    z = mg.complex(mg.arange(3.0), mg.ones(3))
    half = mg.arange(6.0, dtype=mg.bfloat16)
    own = mg.arange(4.0).flip(0)  # (a copy in minigrad: its own memory)
    obj = [z, mg.view_as_real(z), z.conj(), half, half[::2], own]
    loaded, _ = _round_trip(mg, obj)
    assert [t.tolist() for t in loaded] == [t.tolist() for t in obj]
    assert [t.dtype for t in loaded] == [t.dtype for t in obj]
    loaded[3].add_(1)
    assert loaded[4].tolist() == [1.0, 3.0, 5.0]


def test_a_window_outside_its_memory_is_refused():
    buffer = io.BytesIO()
    mg.save(mg.arange(6.0)[2:], buffer)
    with zipfile.ZipFile(buffer) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    index = json.loads(members["minigrad.json"])
    index["root"]["$tensor"]["offset"] = 5  # 4 elements from offset 5 of 6
    members["minigrad.json"] = json.dumps(index).encode()
    bad = io.BytesIO()
    with zipfile.ZipFile(bad, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    bad.seek(0)
    with pytest.raises(
        RuntimeError,
        match="corrupted checkpoint.*storage offset 5 need a storage of 9 elements, but it has 6",
    ):
        mg.load(bad)
