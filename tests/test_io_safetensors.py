"""safetensors files: round trips with metadata, minigrad.save/load by extension, PyTorch's files."""

import importlib.util
import io

import numpy as np
import pytest

import minigrad
from minigrad import nn

HAS_ML_DTYPES = importlib.util.find_spec("ml_dtypes") is not None

safetensors = pytest.importorskip("safetensors")


def test_round_trip_with_metadata(tmp_path, device):
    state = {
        "w": minigrad.randn(3, 4, device=device),
        "b": minigrad.arange(4, device=device).t(),
        "mask": minigrad.tensor([True, False], device=device),
        "h": minigrad.ones(2, dtype=minigrad.float16, device=device),
    }
    path = tmp_path / "m.safetensors"
    minigrad.io.save_safetensors(state, path, metadata={"epoch": "3"})
    assert minigrad.io.load_metadata(path) == {"epoch": "3"}
    out = minigrad.io.load_safetensors(path, device=device)
    assert set(out) == set(state)
    for k, t in state.items():
        assert out[k].dtype == t.dtype and out[k].device == t.device
        np.testing.assert_array_equal(out[k].cpu().numpy(), t.cpu().numpy())
    out["w"].add_(1)  # loaded tensors are writable


def test_minigrad_save_and_load_recognise_safetensors(tmp_path):
    model = nn.Linear(3, 2)
    minigrad.save(model.state_dict(), tmp_path / "lin.safetensors")
    with open(tmp_path / "lin.safetensors", "rb") as fh:
        assert fh.read(8) != b"PK\x03\x04\x14\x00\x00\x00"  # not minigrad's zip
    other = nn.Linear(3, 2)
    other.load_state_dict(minigrad.load(tmp_path / "lin.safetensors"))
    x = minigrad.randn(4, 3)
    np.testing.assert_array_equal(other(x).detach().numpy(), model(x).detach().numpy())
    with pytest.raises(TypeError, match="saves a dict of str to Tensor"):
        minigrad.save(model, tmp_path / "bad.safetensors")
    buffer = io.BytesIO(minigrad.io.safetensors.save({"a": minigrad.ones(2)}, {"k": "v"}))
    assert minigrad.load(buffer)["a"].tolist() == [1.0, 1.0]
    buffer.seek(0)
    assert minigrad.io.load_metadata(buffer) == {"k": "v"}


def test_files_written_by_pytorch_including_bfloat16(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    tensors = {
        "w": torch.randn(2, 3),
        "bf": torch.tensor([1.5, -2.0, 3e38], dtype=torch.bfloat16),
        "i": torch.arange(3),
    }
    save_file(tensors, tmp_path / "t.safetensors", metadata={"format": "pt"})
    out = minigrad.load(tmp_path / "t.safetensors")
    np.testing.assert_array_equal(out["w"].numpy(), tensors["w"].numpy())
    # bfloat16 with ml_dtypes installed, else the same values as float32
    assert out["bf"].dtype == (minigrad.bfloat16 if HAS_ML_DTYPES else minigrad.float32)
    np.testing.assert_array_equal(out["bf"].float().numpy(), tensors["bf"].float().numpy())
    assert out["i"].dtype == minigrad.int64
    assert minigrad.io.load_safetensors(tmp_path / "t.safetensors")["bf"].tolist()[0] == 1.5


def test_truncated_or_lying_headers_are_refused(tmp_path):
    path = tmp_path / "x.safetensors"
    minigrad.io.save_safetensors({"a": minigrad.ones(4)}, path)
    data = path.read_bytes()
    path.write_bytes(data[:-3])
    with pytest.raises(Exception, match="(?i)safetensor|incomplete|metadata|invalid|buffer"):
        minigrad.io.load_safetensors(path)
    path.write_bytes((10**12).to_bytes(8, "little") + data[8:])
    with pytest.raises(RuntimeError, match="header declares"):
        minigrad.io.load_safetensors(path)
