"""Reading PyTorch checkpoints without PyTorch's unpickler: round trips, models, refusals."""

import collections
import importlib.util
import io
import pickle
import zipfile

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.io import load, load_pytorch
from minigrad.io.unpickler import loads

HAS_ML_DTYPES = importlib.util.find_spec("ml_dtypes") is not None

torch = pytest.importorskip("torch")

FORMATS = {"zip": True, "legacy": False}


def _torch_save(obj, path, fmt):
    torch.save(obj, path, _use_new_zipfile_serialization=FORMATS[fmt])
    return path


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Sequential(torch.nn.Linear(4 * 6 * 6, 16), torch.nn.ReLU())
        self.head = torch.nn.Linear(16, 3)

    def forward(self, x):
        x = torch.relu(self.bn(self.conv(x)))
        return self.head(self.fc(x.flatten(1)))


class Net(nn.Module):
    """The same architecture in minigrad, with the same attribute names."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Sequential(nn.Linear(4 * 6 * 6, 16), nn.ReLU())
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        x = self.bn(self.conv(x)).relu()
        return self.head(self.fc(x.flatten(1)))


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_pytorch_state_dict_gives_the_same_outputs(fmt, tmp_path):
    torch.manual_seed(0)
    reference = TorchNet()
    with torch.no_grad():  # non-trivial running statistics
        reference.bn.running_mean.uniform_(-1, 1)
        reference.bn.running_var.uniform_(0.5, 2)
    reference.eval()
    path = _torch_save(reference.state_dict(), tmp_path / "net.pt", fmt)
    state = load(path)
    assert type(state) is collections.OrderedDict and list(state) == list(reference.state_dict())
    model = Net()
    model.load_state_dict(state)
    model.eval()
    x = np.random.default_rng(0).standard_normal((2, 1, 6, 6)).astype(np.float32)
    expected = reference(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(model(minigrad.tensor(x)).detach().numpy(), expected, atol=1e-5)


@pytest.mark.parametrize("fmt", FORMATS)
def test_nested_containers_dtypes_and_layouts(fmt, tmp_path):
    obj = {
        "f64": torch.arange(6, dtype=torch.float64).reshape(2, 3).t(),  # strided
        "slice": torch.arange(10.0)[3:7],  # an offset into a shared storage
        "i": [torch.tensor([1, -2], dtype=torch.int32), torch.tensor([3], dtype=torch.int8)],
        "u8": torch.tensor([255], dtype=torch.uint8),
        "b": torch.tensor([True, False]),
        "h": torch.tensor([0.5], dtype=torch.float16),
        "bf16": torch.tensor([1.5, -3.25, 1e30], dtype=torch.bfloat16),
        "p": torch.nn.Parameter(torch.ones(2)),
        "scalar": torch.tensor(7),
        "empty": torch.zeros(0, 3),
        "meta": ("text", 3, 2.5, None, True, torch.Size([2, 3]), torch.float16, {"k": {1, 2}}),
    }
    out = load(_torch_save(obj, tmp_path / "c.pt", fmt))
    for key in ("f64", "slice", "u8", "b", "h", "scalar", "empty"):
        assert out[key].dtype.name == str(obj[key].dtype).removeprefix("torch.")
        np.testing.assert_array_equal(out[key].numpy(), obj[key].numpy())
    assert out["i"][0].tolist() == [1, -2] and out["i"][1].dtype == minigrad.int8
    # bfloat16 with ml_dtypes installed, else the same values as float32
    assert out["bf16"].dtype == (minigrad.bfloat16 if HAS_ML_DTYPES else minigrad.float32)
    np.testing.assert_array_equal(out["bf16"].float().numpy(), obj["bf16"].float().numpy())
    assert type(out["p"]) is nn.Parameter and out["p"].requires_grad
    assert out["meta"] == ("text", 3, 2.5, None, True, (2, 3), minigrad.float16, {"k": {1, 2}})
    assert load_pytorch(tmp_path / "c.pt")["u8"].tolist() == [255]


def test_map_location_and_file_objects(tmp_path, device):
    buffer = io.BytesIO()
    torch.save({"w": torch.ones(2)}, buffer)
    buffer.seek(0)
    assert load(buffer, map_location=device)["w"].device == device


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


@pytest.mark.parametrize("fmt", FORMATS)
def test_code_in_a_pytorch_file_is_refused_not_run(fmt, tmp_path, capsys):
    path = _torch_save({"w": torch.ones(1), "x": _Evil()}, tmp_path / "evil.pt", fmt)
    with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL print was not an allowed global"):
        load(path)
    assert "pwned" not in capsys.readouterr().out


def test_a_whole_pickled_torch_module_is_refused_with_advice(tmp_path):
    torch.save(torch.nn.Linear(2, 2), tmp_path / "m.pt")
    with pytest.raises(pickle.UnpicklingError, match=r"whole PyTorch module.*state_dict\(\)"):
        load(tmp_path / "m.pt")


def test_storage_sizes_are_checked_before_allocation(tmp_path):
    path = tmp_path / "t.pt"
    torch.save({"w": torch.ones(4)}, path)
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    pkl = next(n for n in members if n.endswith("data.pkl"))
    # the pickle now claims 2**40 elements for storage 0
    members[pkl] = members[pkl].replace(b"K\x04t", b"\x8a\x06\x00\x00\x00\x00\x00\x01t")
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(RuntimeError, match=r"declares 4398046511104 bytes|declares 43980465111"):
        load(path)


def test_the_restricted_unpickler_on_hand_made_pickles():
    def refuse(module, name):
        if module == "builtins" and name in ("set", "frozenset"):
            return {"set": set, "frozenset": frozenset}[name]
        raise pickle.UnpicklingError(f"{module}.{name}")

    plain = {"a": [1, -(2**70), 2.5, None, True, "s"], ("t", 1): frozenset({3}), "s": {4}}
    for protocol in range(6):
        assert loads(pickle.dumps(plain, protocol=protocol), refuse) == plain
    assert loads(pickle.dumps([b"xy", bytearray(b"z")], protocol=5), refuse) == [b"xy", b"z"]
    with pytest.raises(pickle.UnpicklingError, match="os.system"):
        loads(b"cos\nsystem\n(S'echo hi'\ntR.", refuse)
    # a memo index of 2**32 - 1 allocates nothing (CPython's unpickler would grow a list)
    assert loads(b"\x80\x02K\x07r\xff\xff\xff\xff0j\xff\xff\xff\xff.", refuse) == 7
    for bad in (b"\x80\x02X\xff\xff\xff\x7f.", b"\x80\x02(t", b"\x80\x02a.", b"\x80\x02\xff."):
        with pytest.raises(pickle.UnpicklingError):
            loads(bad, refuse)


def test_a_plain_pickle_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "p.pkl"
    path.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(RuntimeError, match="not a PyTorch checkpoint.*never unpickles"):
        load(path)


def test_a_legacy_storage_claiming_more_than_the_file_is_refused(tmp_path):
    path = tmp_path / "l.pt"
    torch.save({"w": torch.ones(4)}, path, _use_new_zipfile_serialization=False)
    data = bytearray(path.read_bytes())
    assert int.from_bytes(data[-24:-16], "little") == 4  # the storage's element count
    data[-24:-16] = (2**40).to_bytes(8, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match=r"declares 1099511627776 elements, but the pickle"):
        load(path)
    path.write_bytes(bytes(data[:-30]))  # truncated inside the pickles
    with pytest.raises((RuntimeError, pickle.UnpicklingError)):
        load(path)


def test_lora_fine_tuning_starts_from_pytorch_weights(tmp_path):
    """The README's recipe: PyTorch weights in, LoRA on top, only the low-rank part trains."""
    torch.manual_seed(0)
    pretrained = torch.nn.Sequential(
        torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4)
    )
    torch.save(pretrained.state_dict(), tmp_path / "pretrained.pt")

    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    model.load_state_dict(minigrad.load(tmp_path / "pretrained.pt"))
    nn.lora.wrap(model, r=2, alpha=4)
    x = np.random.default_rng(1).standard_normal((32, 8)).astype(np.float32)
    expected = pretrained(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(model(minigrad.tensor(x)).detach().numpy(), expected, atol=1e-6)

    base = model[0].weight.detach().numpy().copy()
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = minigrad.optim.SGD(trainable, lr=0.1)
    target = minigrad.tensor(np.roll(expected, 1, axis=1))
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = ((model(minigrad.tensor(x)) - target) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.9 * losses[0]
    np.testing.assert_array_equal(model[0].weight.detach().numpy(), base)  # frozen
    assert sum(p.numel() for p in trainable) == 2 * (8 + 16) + 2 * (16 + 4)


def test_tensors_saved_on_a_gpu_need_a_map_location_here(tmp_path, monkeypatch):
    path = tmp_path / "gpu.pt"
    torch.save({"w": torch.ones(2)}, path)
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    pkl = next(n for n in members if n.endswith("data.pkl"))
    members[pkl] = members[pkl].replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    cuda = minigrad.device("cuda").backend
    monkeypatch.setattr(type(cuda), "is_available", lambda self: False)
    with pytest.raises(RuntimeError, match=r"saved on 'cuda:0'.*map_location='cpu'"):
        load(path)
    assert load(path, map_location="cpu")["w"].device == "cpu"
    assert load(path, map_location={"cuda:0": "fakegpu"})["w"].device == "fakegpu:0"
