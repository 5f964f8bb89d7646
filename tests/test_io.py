"""save/load: round trips, devices, atomic writes, and clear errors for bad files."""

import collections
import io
import json
import math
import os
import pickle
import sys
import threading
import zipfile

import numpy as np
import pytest

import minigrad
from minigrad import optim
from minigrad.io import load, save

DTYPES = ["float16", "float32", "float64", "uint8", "int8", "int16", "int32", "int64", "bool"]


def _same_tensor(a, b):
    assert isinstance(b, minigrad.Tensor)
    assert a.dtype == b.dtype and a.shape == b.shape and a.device == b.device
    assert a.requires_grad == b.requires_grad and b.grad_fn is None
    np.testing.assert_array_equal(a.detach().cpu().numpy(), b.detach().cpu().numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3, 4)])
def test_tensors_round_trip_with_dtype_and_shape(dtype, shape, tmp_path):
    data = (np.arange(int(np.prod(shape))) % 5).reshape(shape)
    t = minigrad.tensor(data, dtype=getattr(minigrad, dtype))
    save(t, tmp_path / "t.mg")
    _same_tensor(t, load(tmp_path / "t.mg"))


def test_requires_grad_and_non_contiguous_layouts_are_kept(tmp_path):
    w = minigrad.randn(3, 4, requires_grad=True)
    transposed = minigrad.as_tensor(np.arange(12.0).reshape(3, 4).T)
    save({"w": w, "t": transposed}, tmp_path / "x.mg")
    out = load(tmp_path / "x.mg")
    _same_tensor(w, out["w"])
    _same_tensor(transposed, out["t"])
    assert out["w"].is_leaf and out["w"].grad is None


# What PyTorch's weights_only loading asks a program to allow for NumPy arrays (as torch.load)
NUMPY_GLOBALS = [np._core.multiarray._reconstruct, np.ndarray, np.dtype, np.dtypes.Int16DType]


def test_nested_structures_round_trip(tmp_path):
    t = minigrad.ones(2)
    obj = {
        "model": collections.OrderedDict([("layer.weight", t), ("layer.bias", minigrad.zeros(3))]),
        "numbers": [1, -2.5, math.inf, -math.inf, True, False, None, 2**70],
        "tuple": (1, "two", (3.0, [4])),
        "int keys": {0: "a", 7: {"deep": [t]}},
        "odd keys": {(1, 2): "tuple", 3.5: "float", None: "none", True: "bool"},
        "text": 'unicode ✓ "quoted" $tensor',
        "$tensor": "a user key that looks like a tag",
        "$ndarray": {"array": 0, "looks": ["like", "a", "tag"]},
        "dtype": minigrad.float64,
        "device": minigrad.device("cpu"),
        "array": np.arange(6, dtype=np.int16).reshape(2, 3),
        "empty": [{}, [], ()],
    }
    save(obj, tmp_path / "n.mg")
    with minigrad.serialization.safe_globals(NUMPY_GLOBALS):
        out = load(tmp_path / "n.mg")
    assert type(out["model"]) is collections.OrderedDict
    assert list(out["model"]) == ["layer.weight", "layer.bias"]
    assert out["numbers"][:3] == [1, -2.5, math.inf] and out["numbers"][3] == -math.inf
    assert out["numbers"][4:] == [True, False, None, 2**70]
    assert type(out["numbers"][4]) is bool and type(out["numbers"][0]) is int
    assert out["tuple"] == (1, "two", (3.0, [4]))
    assert out["int keys"][0] == "a" and list(out["int keys"]) == [0, 7]
    assert out["odd keys"] == {(1, 2): "tuple", 3.5: "float", None: "none", True: "bool"}
    assert out["text"] == obj["text"] and out["$tensor"] == obj["$tensor"]
    assert out["$ndarray"] == obj["$ndarray"]
    assert out["dtype"] is minigrad.float64 and out["device"] == "cpu"
    assert out["array"].dtype == np.int16 and out["array"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert out["empty"] == [{}, [], ()]
    _same_tensor(t, out["int keys"][7]["deep"][0])


def test_nan_survives(tmp_path):
    save([math.nan, np.float32(1.5), np.int64(3)], tmp_path / "n.mg")
    nan, f, i = load(tmp_path / "n.mg")
    assert math.isnan(nan) and f == 1.5 and type(i) is int


def test_a_tensor_saved_twice_is_loaded_once(tmp_path):
    t = minigrad.ones(3)
    save({"a": t, "b": [t]}, tmp_path / "s.mg")
    out = load(tmp_path / "s.mg")
    assert out["a"] is out["b"][0]
    with zipfile.ZipFile(tmp_path / "s.mg") as zf:
        assert sum(n.endswith(".npy") for n in zf.namelist()) == 1


def test_file_objects_and_pathlike(tmp_path):
    buffer = io.BytesIO()
    save({"x": minigrad.arange(4)}, buffer)
    buffer.seek(0)
    assert load(buffer)["x"].tolist() == [0, 1, 2, 3]
    save(minigrad.ones(1), str(tmp_path / "p.mg"))
    assert load(tmp_path / "p.mg").tolist() == [1.0]


def test_file_is_an_npz_readable_by_numpy(tmp_path):
    save({"w": minigrad.arange(3)}, tmp_path / "w.mg")
    with np.load(tmp_path / "w.mg", allow_pickle=False) as npz:
        assert npz["arrays/0"].tolist() == [0, 1, 2]
    with zipfile.ZipFile(tmp_path / "w.mg") as zf:
        index = json.loads(zf.read("minigrad.json"))
    assert index["format"] == "minigrad" and index["version"] == 3


def test_map_location(device, tmp_path):
    t = minigrad.tensor([1.0, 2.0], device=device, requires_grad=True)
    save({"t": t}, tmp_path / "d.mg")
    assert load(tmp_path / "d.mg")["t"].device == device
    on_cpu = load(tmp_path / "d.mg", map_location="cpu")["t"]
    assert on_cpu.device == "cpu" and on_cpu.tolist() == [1.0, 2.0] and on_cpu.requires_grad
    moved = load(tmp_path / "d.mg", map_location={str(t.device): "fakegpu"})["t"]
    assert moved.device == "fakegpu:0"
    assert load(tmp_path / "d.mg", map_location=minigrad.device("cpu"))["t"].device == "cpu"


def test_unavailable_device_asks_for_map_location(tmp_path, monkeypatch):
    save(minigrad.ones(2, device="fakegpu"), tmp_path / "g.mg")
    backend = minigrad.device("fakegpu").backend
    monkeypatch.setattr(type(backend), "is_available", lambda self: False)
    with pytest.raises(RuntimeError, match=r"saved on 'fakegpu:0'.*map_location='cpu'"):
        load(tmp_path / "g.mg")
    assert load(tmp_path / "g.mg", map_location="cpu").device == "cpu"


def test_optimizer_state_dict_round_trips(tmp_path):
    p = minigrad.ones(3, requires_grad=True)
    opt = optim.Adam([p], lr=0.1, betas=(0.8, 0.9))
    p.grad = minigrad.ones(3)
    opt.step()
    save(opt.state_dict(), tmp_path / "o.mg")
    out = load(tmp_path / "o.mg")
    assert out["param_groups"][0]["betas"] == (0.8, 0.9)
    assert out["state"][0]["step"] == 1
    _same_tensor(opt.state[p]["exp_avg"], out["state"][0]["exp_avg"])


# -- atomic writes ------------------------------------------------------------------------------
def test_a_crash_while_writing_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.mg"
    save({"epoch": 1}, path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", crash)
    with pytest.raises(OSError, match="disk full"):
        save({"epoch": 2, "w": minigrad.ones(3)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.mg"]  # no temporary file left behind


def test_unsupported_values_are_rejected_before_writing(tmp_path):
    path = tmp_path / "bad.mg"
    with pytest.raises(TypeError, match=r"cannot save obj\['opt'\]\[1\]: .*no importable name"):
        save({"opt": [1, lambda: 0]}, path)
    with pytest.raises(TypeError, match=r"cannot save obj key .*, of type generator"):
        save({(x for x in ()): 1}, path)
    cycle = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="contains itself"):
        save(cycle, path)
    with pytest.raises(TypeError, match="arrays of Python objects"):
        save(np.array([object()]), path)
    assert not path.exists() and os.listdir(tmp_path) == []


# -- bad files ----------------------------------------------------------------------------------
@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "good.mg"
    save({"w": minigrad.arange(1000, dtype=minigrad.float64), "step": 3}, path)
    return path


@pytest.mark.parametrize("keep", [0.0, 0.3, 0.9, 0.999])
def test_truncated_file_is_reported(good_file, keep):
    data = good_file.read_bytes()
    good_file.write_bytes(data[: int(len(data) * keep)])
    expected = "the file is empty" if keep == 0 else "the zip archive is truncated or corrupted"
    with pytest.raises(RuntimeError, match=rf"good\.mg' is not a minigrad checkpoint: {expected}"):
        load(good_file)


def test_corrupted_array_bytes_are_reported(good_file):
    data = bytearray(good_file.read_bytes())
    with zipfile.ZipFile(good_file) as zf:
        info = zf.getinfo("arrays/0.npy")
    middle = info.header_offset + 30 + len(info.filename) + 200 + 4000
    data[middle] ^= 0xFF
    good_file.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match=r"good\.mg.*corrupted checkpoint.*arrays/0\.npy"):
        load(good_file)


def _zip(path, members: dict):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _npy(array, allow_pickle=False) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def test_foreign_files_are_reported(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(RuntimeError, match=r"notes\.txt' is not a minigrad .* not a zip archive"):
        load(text)
    npz = tmp_path / "arrays.npz"
    np.savez(npz, a=np.ones(2))
    with pytest.raises(RuntimeError, match=r"zip archive without minigrad\.json.*a\.npy"):
        load(npz)
    npy = tmp_path / "a.npy"
    np.save(npy, np.ones(2))
    with pytest.raises(RuntimeError, match=r"bare \.npy array"):
        load(npy)
    pickled = tmp_path / "p.pkl"
    pickled.write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(RuntimeError, match="it is a pickle.*never unpickles"):
        load(pickled)
    pt = tmp_path / "model.pt"  # a PyTorch zip holding the int 1
    _zip(pt, {"archive/data.pkl": b"\x80\x04K\x01.", "archive/version": b"3"})
    assert load(pt) == 1


def _index(root, version=1):
    return json.dumps({"format": "minigrad", "version": version, "root": root})


@pytest.mark.parametrize(
    "members,message",
    [
        ({"minigrad.json": b"{not json"}, r"index minigrad\.json is corrupted"),
        ({"minigrad.json": b'{"format": "other", "root": 1}'}, "not a minigrad checkpoint index"),
        ({"minigrad.json": _index(1, version=99)}, "format version 99; this minigrad reads"),
        ({"minigrad.json": _index({"$pickle": "os.system"})}, r"unknown tag '\$pickle'"),
        ({"minigrad.json": _index({"a": 1, "b": 2})}, "unexpected entry"),
        ({"minigrad.json": _index({"$tensor": {"array": 0}})}, r"malformed \$tensor entry"),
        ({"minigrad.json": _index({"$ndarray": 3})}, r"no arrays/3\.npy"),
        ({"minigrad.json": _index({"$float": "1e999x"})}, r"malformed \$float"),
        (
            {
                "minigrad.json": _index({"$tensor": {
                    "array": 0, "dtype": "float64", "shape": [3], "requires_grad": False,
                    "device": "cpu"}}),
                "arrays/0.npy": _npy(np.ones(2)),
            },
            r"array 0 is float64\[2\], but the index says float64\[3\]",
        ),
        (
            {
                "minigrad.json": _index({"$tensor": {
                    "array": 0, "dtype": "int64", "shape": [2], "requires_grad": True,
                    "device": "cpu"}}),
                "arrays/0.npy": _npy(np.ones(2, dtype=np.int64)),
            },
            "marked requires_grad",
        ),
    ],
)  # fmt: skip
def test_tampered_checkpoints_are_reported(tmp_path, members, message):
    path = tmp_path / "bad.mg"
    _zip(path, members)
    with (
        pytest.raises(RuntimeError, match=message),
        minigrad.serialization.safe_globals(NUMPY_GLOBALS),
    ):
        load(path)


class _Boom:
    """Unpickling this would set a flag: loading must never unpickle."""

    ran = False

    def __reduce__(self):
        return (_Boom._explode, ())

    @staticmethod
    def _explode():
        _Boom.ran = True
        return 0


def test_loading_never_executes_code(tmp_path):
    path = tmp_path / "evil.mg"
    _zip(
        path,
        {
            "minigrad.json": _index({"$ndarray": 0}),
            "arrays/0.npy": _npy(np.array([_Boom()], dtype=object), allow_pickle=True),
        },
    )
    with pytest.raises(RuntimeError, match=r"evil\.mg.*cannot read arrays/0\.npy"):
        load(path, weights_only=False)
    assert not _Boom.ran


def test_bad_map_location():
    buffer = io.BytesIO()
    save(minigrad.ones(1), buffer)
    buffer.seek(0)
    with pytest.raises(TypeError, match="map_location must be None, a device or a dict"):
        load(buffer, map_location=3)
    buffer.seek(0)
    with pytest.raises(RuntimeError, match="unknown device type 'tpu'"):
        load(buffer, map_location="tpu")


# -- whole objects and the allowlist ------------------------------------------------------------
class Net(minigrad.nn.Module):
    """A user's model with nested layers, as a PyTorch program defines one."""

    def __init__(self):
        super().__init__()
        self.body = minigrad.nn.Sequential(
            minigrad.nn.Linear(4, 8), minigrad.nn.ReLU(), minigrad.nn.Linear(8, 3)
        )
        self.norm = minigrad.nn.LayerNorm(3)
        self.scale = 2.0

    def forward(self, x):
        return self.norm(self.body(x)) * self.scale


def test_a_whole_module_and_its_optimizer_round_trip_under_safe_globals(tmp_path):
    minigrad.manual_seed(0)
    net, x = Net(), minigrad.randn(5, 4)
    opt = optim.Adam(net.parameters(), lr=0.1)
    net(x).square().sum().backward()
    opt.step()
    save({"model": net, "optimizer": opt}, tmp_path / "whole.mg")
    refused = r"GLOBAL test_io\.Net was not.*add_safe_globals\(\[test_io\.Net\]\)"
    with pytest.raises(pickle.UnpicklingError, match=refused):
        load(tmp_path / "whole.mg")
    # as in PyTorch, every class the file names must be allowed (the optimizer's state is a
    # defaultdict(dict))
    nn = minigrad.nn
    needed = [Net, nn.Sequential, nn.Linear, nn.ReLU, nn.LayerNorm, optim.Adam]
    needed += [collections.defaultdict, dict]
    with minigrad.serialization.safe_globals(needed):
        assert Net in minigrad.serialization.get_safe_globals()
        out = minigrad.load(tmp_path / "whole.mg")
    assert Net not in minigrad.serialization.get_safe_globals()  # the context restored it
    model, opt2 = out["model"], out["optimizer"]
    assert type(model) is Net and type(model.body[1]) is minigrad.nn.ReLU and model.scale == 2.0
    np.testing.assert_array_equal(model(x).detach().numpy(), net(x).detach().numpy())
    params = list(model.parameters())
    assert all(type(p) is minigrad.nn.Parameter and p.requires_grad for p in params)
    assert opt2.param_groups[0]["params"][0] is params[0]  # one object, as pickle would give
    _same_tensor(opt.state[next(net.parameters())]["exp_avg"], opt2.state[params[0]]["exp_avg"])
    # training goes on from the loaded state exactly as from the original
    for m, o in ((net, opt), (model, opt2)):
        o.zero_grad()
        m(x).square().sum().backward()
        o.step()
    for a, b in zip(net.parameters(), model.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


class Scale(minigrad.nn.Module):
    """A user's module of parameters only: its class is all it needs allowed."""

    def __init__(self):
        super().__init__()
        self.weight = minigrad.nn.Parameter(minigrad.ones(3))


def test_add_safe_globals_and_weights_only_false(tmp_path):
    save(Scale(), tmp_path / "n.mg")
    try:
        minigrad.serialization.add_safe_globals([(Scale, "tests.elsewhere.Scale")])
        assert minigrad.serialization.get_safe_globals() == [(Scale, "tests.elsewhere.Scale")]
        with pytest.raises(pickle.UnpicklingError, match="not an allowed global"):
            load(tmp_path / "n.mg")  # registered under another name only
        minigrad.serialization.add_safe_globals([Scale])
        assert type(load(tmp_path / "n.mg")) is Scale
    finally:
        minigrad.serialization.clear_safe_globals()
    assert minigrad.serialization.get_safe_globals() == []
    assert type(load(tmp_path / "n.mg", weights_only=False)) is Scale  # trusted file


def test_minigrad_classes_load_with_weights_only_false(tmp_path):
    model = minigrad.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    sched_opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    save([{1, 2}, min], tmp_path / "m.mg")
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL min was not an allowed global"):
        load(tmp_path / "m.mg")
    save([model, sched_opt, {1, 2}, frozenset({"a"})], tmp_path / "m.mg")
    with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL minigrad\.nn\.modules\.transformer"):
        load(tmp_path / "m.mg")  # as torch.load refuses a whole module by default
    loaded, opt2, s, fs = load(tmp_path / "m.mg", weights_only=False)
    x = minigrad.randn(2, 3, 8)
    np.testing.assert_allclose(loaded(x).detach().numpy(), model(x).detach().numpy())
    assert loaded.activation is minigrad.nn.functional.relu and opt2.defaults["momentum"] == 0.9
    assert s == {1, 2} and fs == frozenset({"a"})


def test_a_file_naming_a_dangerous_global_is_refused(tmp_path):
    for name in (["os", "system"], ["subprocess", "Popen"], ["builtins", "eval"]):
        path = tmp_path / "evil.mg"
        _zip(path, {"minigrad.json": _index({"$object": {"id": 0, "class": name, "state": {}}})})
        refused = "whose module os is blocked" if name[0] == "os" else "was not an allowed"
        shown = name[1] if name[0] == "builtins" else f"{name[0]}\\.{name[1]}"  # as PyTorch
        with pytest.raises(pickle.UnpicklingError, match=rf"{shown}.*{refused}"):
            load(path)
    # importing minigrad.__main__ would run the command-line program: refused, not imported
    _zip(path, {"minigrad.json": _index({"$global": ["minigrad.__main__", "main"]})})
    with pytest.raises(pickle.UnpicklingError, match=r"minigrad\.__main__\.main.*not an allowed"):
        load(path)
    assert "minigrad.__main__" not in sys.modules
    # a minigrad module attribute that is not a class is refused too, as is a function reached
    # through a minigrad module but defined elsewhere
    for name in (["minigrad.io.checkpoint", "json.loads"], ["minigrad.ops.elementwise", "np.load"]):
        _zip(path, {"minigrad.json": _index({"$global": name})})
        with pytest.raises(pickle.UnpicklingError, match="not an allowed global"):
            load(path)


def test_objects_that_cannot_be_saved_are_named():
    class Local:
        pass

    with pytest.raises(TypeError, match=r"obj\[0\].*no importable name"):
        save([Local()], io.BytesIO())
    with pytest.raises(TypeError, match=r"cannot save obj\['lock'\], of type lock"):
        save({"lock": threading.Lock()}, io.BytesIO())
