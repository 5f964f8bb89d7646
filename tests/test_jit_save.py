"""``torch.jit.script(model).save(path)`` and ``torch.jit.load(path)``, as PyTorch's tutorial
on saving models uses them: the scripted view shares the model's state and saves the whole
model in minigrad's format."""

import io
import zipfile

import pytest

import minigrad
from minigrad import jit, nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.register_buffer("steps", minigrad.zeros((), dtype=minigrad.long))

    def forward(self, x):
        return self.fc(x).relu()

    def describe(self):
        return "net"


def test_a_scripted_module_shares_the_models_state():
    model = Net()
    scripted = jit.script(model)
    assert isinstance(scripted, jit.ScriptModule) and isinstance(scripted, Net)
    assert type(scripted).__name__ == "RecursiveScriptModule" and scripted.original_name == "Net"
    assert type(jit.trace(model, minigrad.ones(1, 4))).__name__ == "TopLevelTracedModule"
    assert scripted.fc.weight is model.fc.weight and scripted.describe() == "net"
    scripted.eval()  # PyTorch's script modules have training flags of their own
    assert model.training and model.fc.training and not scripted.fc.training
    x = minigrad.randn(3, 4)
    assert minigrad.equal(scripted(x), model(x))
    assert list(scripted.state_dict()) == list(model.state_dict())
    assert jit.script(scripted) is scripted


def test_save_and_load_round_trip(tmp_path):
    model = Net()
    path = tmp_path / "model_scripted.pt"
    jit.script(model).save(path)
    loaded = jit.load(path)
    loaded.eval()
    x = minigrad.randn(3, 4)
    assert isinstance(loaded, jit.RecursiveScriptModule) and isinstance(loaded, Net)
    assert minigrad.equal(loaded(x), model(x))
    assert type(minigrad.load(path, weights_only=False)["module"]) is Net  # (saved as Net)


def test_extra_files_and_map_location():
    buffer = io.BytesIO()
    jit.save(jit.trace(Net(), minigrad.ones(1, 4)), buffer, _extra_files={"config.txt": "lr=1"})
    buffer.seek(0)
    extra = {"config.txt": "", "missing.txt": ""}
    loaded = jit.load(buffer, map_location="cpu", _extra_files=extra)
    assert extra == {"config.txt": b"lr=1", "missing.txt": ""}
    assert loaded.fc.weight.device.type == "cpu"


def test_code_is_the_traced_python_code():
    assert "self.fc(x)" in jit.script(Net()).code


def test_code_of_a_forward_looping_over_an_argument_is_refused_clearly():
    class Repeat(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

        def forward(self, x, n: int = 2):
            for _ in range(n):  # TorchScript compiles a loop; fx cannot record one
                x = self.fc(x)
            return x

    scripted = jit.script(Repeat())
    assert scripted(minigrad.ones(1, 2), 3).shape == (1, 2)
    with pytest.raises(NotImplementedError, match="Repeat.code: minigrad has no TorchScript"):
        _ = scripted.code


def test_what_it_refuses(tmp_path):
    with pytest.raises(NotImplementedError, match="modules and traced or scripted functions"):
        jit.save(len, tmp_path / "f.pt")
    path = tmp_path / "plain.pt"
    minigrad.save({"weights": minigrad.ones(2)}, path)
    with pytest.raises(RuntimeError, match="no module saved by jit.save"):
        jit.load(path)
    with pytest.raises(RuntimeError, match="eval mode"):
        jit.freeze(jit.script(Net()))
    assert isinstance(jit.freeze(jit.script(Net()).eval()), jit.ScriptModule)


def test_a_torchscript_archive_from_pytorch_is_refused(tmp_path):
    path = tmp_path / "ts.pt"
    with zipfile.ZipFile(path, "w") as zf:  # the layout of PyTorch's TorchScript archives
        for name in ("ts/data.pkl", "ts/constants.pkl", "ts/code/__torch__/m.py", "ts/version"):
            zf.writestr(name, b"")
    with pytest.raises(NotImplementedError, match="TorchScript archive"):
        jit.load(path)


def test_the_same_as_pytorchs_tutorial(tmp_path):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Linear(4, 2)
    path = tmp_path / "theirs.pt"
    torch.jit.save(torch.jit.script(theirs), path)
    with pytest.raises(NotImplementedError, match="TorchScript archive"):
        jit.load(path)
