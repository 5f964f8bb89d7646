"""The example scripts: each runs in --smoke mode and writes its files; the accuracy claims of
the two digit classifiers are checked for real (marked slow)."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# script -> files it writes into --out (PNG files only where matplotlib is installed)
OUTPUTS = {
    "train_mlp_digits": ["metrics.json", "model.mg", "curves.png", "confusion.png"],
    "cnn_digits": ["metrics.json", "model.mg", "curves.png", "filters.png"],
    "compare_optimizers": ["results.json", "losses.png"],
    "batch_size_study": ["results.json", "batch_size.png"],
    "autoencoder_digits": ["metrics.json", "reconstructions.png", "latent.png", "vae_manifold.png"],
    "lora_finetune": ["results.json", "finetune.png", "lora_weights.mg", "adapter_weights.mg"],
    "train_gpt_chars": ["metrics.json", "samples.txt", "gpt.mg", "loss.png"],
    "per_sample_gradients": ["metrics.json", "curves.png"],
}


def _example(name):
    """The example module (its directory on sys.path, so that ``import _common`` works)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    saved = dict(os.environ)  # _common sets BLAS thread variables: keep them out of other tests
    try:
        return importlib.import_module(name)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _has_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_example_smoke_run_on_the_stand_in_gpu_writes_its_files(name, tmp_path):
    """``--device`` reaches every tensor (the CuPy stand-in refuses to mix with host arrays),
    and the run writes its files. One run serves both checks: on the CPU the scripts run the
    same lines (they branch on the device only under ``--amp``, which test_amp runs on the
    CPU), and the CPU runs of train_mlp_digits and cnn_digits are below."""
    _example(name).main(["--smoke", "--no-progress", "--device", "fakegpu", "--out", str(tmp_path)])
    for filename in OUTPUTS[name]:
        if filename.endswith(".png") and not _has_matplotlib():
            continue
        path = tmp_path / filename
        assert path.is_file() and path.stat().st_size > 0, filename
        if filename.endswith(".json"):
            json.loads(path.read_text())


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_example_help(name, capsys):
    with pytest.raises(SystemExit) as info:
        _example(name).main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "--device" in out and "--smoke" in out and "--out" in out


def test_examples_without_tqdm_and_matplotlib(tmp_path, monkeypatch, capsys):
    """Optional packages missing: no progress bar, no PNG, but the run and its JSON work."""
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    _example("train_mlp_digits").main(["--smoke", "--out", str(tmp_path)])
    assert (tmp_path / "metrics.json").is_file()
    assert not list(tmp_path.glob("*.png"))
    assert "matplotlib is not installed" in capsys.readouterr().out


def test_example_rejects_missing_cuda(tmp_path):
    import minigrad

    if minigrad.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(SystemExit, match="needs CuPy"):
        _example("cnn_digits").main(["--smoke", "--device", "cuda", "--out", str(tmp_path)])


# Both digit classifiers with their defaults, one after the other in one fresh process (as a
# user runs them, with one import of minigrad), without matplotlib and CuPy: drawing the PNG
# files takes most of a run's time and the smoke runs above check them; a CPU run never needs
# CuPy, whose import only answers that no GPU is there.
_DEFAULT_RUNS = """
import runpy, sys
sys.modules["matplotlib"] = sys.modules["cupy"] = None
examples = sys.argv[1]  # (a script may put its own folder first on sys.path)
sys.path.insert(0, examples)
for name, out in zip(sys.argv[2::2], sys.argv[3::2]):
    sys.argv = [name + ".py", "--no-progress", "--out", out]
    runpy.run_path(f"{examples}/{name}.py", run_name="__main__")
"""


@pytest.mark.slow
def test_digit_classifiers_reach_their_accuracy_with_defaults(tmp_path):
    """train_mlp_digits: at most 14 of the 359 test digits wrong with the default seed (it gets
    7; seeds 1-3 get 2-4): a margin of a few digits, so that a change in the random stream
    (which batches an epoch draws) does not fail it. cnn_digits: at least 98%."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    runs = {"train_mlp_digits": 0.96, "cnn_digits": 0.98}
    argv = [str(EXAMPLES)] + [a for name in runs for a in (name, str(tmp_path / name))]
    result = subprocess.run(
        [sys.executable, "-c", _DEFAULT_RUNS, *argv],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    for name, least in runs.items():
        metrics = json.loads((tmp_path / name / "metrics.json").read_text())
        assert metrics["test_accuracy"] >= least, (name, metrics["test_accuracy"])
        assert not list((tmp_path / name).glob("*.png"))  # matplotlib was left out


def test_same_seed_example_prints_pytorchs_run(capsys):
    pytest.importorskip("torch")
    _example("same_seed").main(["--steps", "8"])
    out = capsys.readouterr().out
    assert "samples drawn after training: the same" in out
    gap = float(out.split("largest relative difference of the losses: ")[1].split()[0])
    assert gap < 1e-5
