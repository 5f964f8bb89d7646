"""Smaller parts of PyTorch's namespaces that programs reach for: ``testing.make_tensor``,
``compiler``, ``utils.checkpoint`` without an import, ``multiprocessing.spawn``."""

import os

import numpy as np
import pytest

import minigrad
import minigrad.multiprocessing as mp
from minigrad.testing import make_tensor


@pytest.mark.parametrize(
    "dtype, low, high",
    [("bool", 0, 1), ("uint8", 0, 9), ("int8", -9, 9), ("int64", -9, 9), ("float32", -9, 9)],
)
def test_make_tensor_default_ranges_as_torch(dtype, low, high):
    t = make_tensor(2000, dtype=getattr(minigrad, dtype), device="cpu").numpy()
    assert t.dtype == np.dtype(dtype) and low <= t.min() and t.max() <= high
    if dtype != "float32":  # every integer of the range is drawn
        assert (t.min(), t.max()) == (low, high)


def test_make_tensor_options(device):
    t = make_tensor(3, 4, dtype=minigrad.float64, device=device, low=-1, high=1, requires_grad=True)
    assert t.requires_grad and t.device == minigrad.device(device) and float(t.abs().max()) <= 1
    nc = make_tensor((3, 4), dtype=minigrad.float32, device="cpu", noncontiguous=True)
    assert not nc.is_contiguous() and nc.shape == (3, 4)
    ones = make_tensor(2, 3, dtype=minigrad.int32, device="cpu", low=0, high=1, exclude_zero=True)
    assert ones.tolist() == [[1, 1, 1]] * 2
    assert make_tensor(4, dtype=minigrad.int8, device="cpu", low=-300).min() >= -128
    z = make_tensor(500, dtype=minigrad.complex64, device="cpu")
    assert float(z.imag.abs().max()) > 1 and float(z.real.abs().max()) <= 9


def test_make_tensor_errors_as_torch():
    with pytest.raises(ValueError, match="`low` must be less than `high`"):
        make_tensor(3, dtype=minigrad.float32, device="cpu", low=5, high=1)
    with pytest.raises(ValueError, match="cannot be NaN"):
        make_tensor(3, dtype=minigrad.float32, device="cpu", low=float("nan"))
    with pytest.raises(TypeError):
        make_tensor(3, device="cpu")


def test_compiler_markers():
    seen = []

    @minigrad.compile
    def step(x):
        seen.append(minigrad.compiler.is_compiling())
        return (x * 2).sum()

    step(minigrad.ones(3))
    assert seen == [True] and not minigrad.compiler.is_compiling()
    assert minigrad.compiler.disable(len) is len and minigrad.compiler.disable()(len) is len


def test_submodules_reachable_without_their_own_import():
    assert minigrad.utils.checkpoint.checkpoint and minigrad.utils.dlpack.from_dlpack


def _write_rank(i, path):
    with open(os.path.join(path, f"rank{i}"), "w") as f:
        f.write(str(i))


def _fail_on_rank_one(i):
    if i == 1:
        raise ValueError("rank one failed")


def _exit_on_rank_zero(i):
    if i == 0:
        os._exit(3)


def test_spawn_runs_each_rank(tmp_path):
    mp.spawn(_write_rank, args=(str(tmp_path),), nprocs=2, start_method="fork")
    assert sorted(os.listdir(tmp_path)) == ["rank0", "rank1"]
    context = mp.start_processes(_write_rank, (str(tmp_path),), 1, join=False, start_method="fork")
    while not context.join():
        pass
    assert len(context.pids()) == 1


def test_spawn_reports_a_childs_exception_and_exit_code():
    with pytest.raises(mp.ProcessRaisedException, match="rank one failed") as raised:
        mp.spawn(_fail_on_rank_one, nprocs=2, start_method="fork")
    assert raised.value.error_index == 1
    with pytest.raises(mp.ProcessExitedException, match="exit code 3") as exited:
        mp.spawn(_exit_on_rank_zero, nprocs=2, start_method="fork")
    assert exited.value.exit_code == 3


def _checkpoint_url(tmp_path):
    torch = pytest.importorskip("torch")
    state = {"weight": torch.arange(6.0).reshape(2, 3), "bias": torch.ones(2)}
    source = tmp_path / "source" / "net.pth"
    source.parent.mkdir()
    torch.save(state, source)
    digest = __import__("hashlib").sha256(source.read_bytes()).hexdigest()
    named = source.with_name(f"net-{digest[:8]}.pth")
    source.rename(named)
    return named, named.as_uri(), digest


def test_load_state_dict_from_url_downloads_once_and_checks_the_hash(tmp_path):
    source, url, _ = _checkpoint_url(tmp_path)
    cache = tmp_path / "cache"
    state = minigrad.hub.load_state_dict_from_url(url, model_dir=str(cache), check_hash=True)
    assert state["weight"].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    source.unlink()  # the second call reads the cached copy
    again = minigrad.hub.load_state_dict_from_url(url, model_dir=str(cache))
    assert again["bias"].tolist() == [1.0, 1.0] and os.listdir(cache) == [source.name]


def test_a_download_with_the_wrong_hash_leaves_nothing_behind(tmp_path):
    source, _, digest = _checkpoint_url(tmp_path)
    wrong = source.with_name("net-00000000.pth")
    source.rename(wrong)
    cache = tmp_path / "cache"
    with pytest.raises(RuntimeError, match="invalid hash value"):
        minigrad.hub.load_state_dict_from_url(wrong.as_uri(), str(cache), check_hash=True)
    assert os.listdir(cache) == []


def test_hub_dir_and_local_hubconf(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    assert minigrad.hub.get_dir() == str(tmp_path / "th" / "hub")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "hubconf.py").write_text(
        "import minigrad\n\ndef tiny(width=3):\n    'A tiny linear model.'\n"
        "    return minigrad.nn.Linear(width, 1)\n"
    )
    assert minigrad.hub.list(str(repo), source="local") == ["tiny"]
    assert minigrad.hub.help(str(repo), "tiny", source="local") == "A tiny linear model."
    assert minigrad.hub.load(str(repo), "tiny", width=5, source="local").in_features == 5
    with pytest.raises(NotImplementedError, match="source='github'"):
        minigrad.hub.load("pytorch/vision", "resnet18")
