"""The ``minigrad`` command: info, gradcheck, train, eval, graph, and its error handling."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import minigrad
from minigrad.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _run(*argv, cwd=None):
    """``python -m minigrad ARGV`` in a subprocess (the real entry point).

    One BLAS thread: the models are small, and a second OpenBLAS thread makes training steps
    10-30x slower whenever another process is busy on the same cores.
    """
    return subprocess.run(
        [sys.executable, "-m", "minigrad", *argv],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=120,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One short training run (1 epoch) shared by the train/eval/graph tests."""
    out = tmp_path_factory.mktemp("run")
    code = main(["train", "--epochs", "1", "--out", str(out), "--no-progress"])
    assert code == 0
    return out


def test_python_m_minigrad_info():
    result = _run("info")
    assert result.returncode == 0, result.stderr
    for key in ("minigrad", "Python", "NumPy", "BLAS", "Backends", "cuda"):
        assert key in result.stdout
    assert minigrad.__version__ in result.stdout


def test_info_json(capsys):
    assert main(["info", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["minigrad"] == minigrad.__version__
    assert isinstance(facts["cuda"]["devices"], list)


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    assert "gradcheck" in capsys.readouterr().out


def test_gradcheck_a_few_ops(capsys):
    assert main(["gradcheck", "--op", "add", "--op", "tanh", "--op", "log_soft*"]) == 0
    out = capsys.readouterr().out
    assert "add" in out and "tanh" in out and "log_softmax" in out
    assert "checks passed; 3/3 ops ok" in out


def test_gradcheck_reports_failures(monkeypatch, capsys):
    from minigrad.cli import gradcheck

    def failing(func, inputs, **kw):
        raise RuntimeError("Jacobian mismatch\nfor output 0")

    monkeypatch.setattr(gradcheck, "gradcheck", failing)
    assert main(["gradcheck", "--op", "neg", "--no-gradgrad"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "neg-0 grad: Jacobian mismatch for output 0" in out
    from minigrad.testing.op_db import OP_DB

    samples = len(next(op for op in OP_DB if op.name == "neg").samples)
    assert f"0/{samples} checks passed" in out


def test_gradcheck_unknown_op_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["gradcheck", "--op", "no_such_op"])
    assert info.value.code == 2
    assert "no differentiable op matches 'no_such_op'" in capsys.readouterr().err


@pytest.mark.slow
def test_train_writes_metrics_checkpoint_and_plot(trained):
    metrics = json.loads((trained / "metrics.json").read_text())
    assert metrics["model"] == "mlp" and metrics["dataset"] == "digits"
    assert len(metrics["history"]) == 1 and metrics["final"]["test_accuracy"] > 0.5
    assert (trained / "checkpoint.mg").stat().st_size > 0
    pytest.importorskip("matplotlib")
    assert (trained / "loss_curve.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_train_other_optimizer_and_step_limit(tmp_path, capsys):
    args = ["train", "linear", "--optimizer", "momentum", "--epochs", "2", "--max-steps", "3"]
    assert main([*args, "--out", str(tmp_path), "--no-progress", "--seed", "1"]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert len(metrics["train_step_losses"]) == 6 and metrics["lr"] == 0.05
    assert "momentum lr=0.05" in capsys.readouterr().out


@pytest.mark.slow
def test_eval_checkpoint(trained, capsys):
    assert main(["eval", str(trained / "checkpoint.mg"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    expected = json.loads((trained / "metrics.json").read_text())["final"]["test_accuracy"]
    assert result["test_accuracy"] == pytest.approx(expected)
    assert result["samples"] == 359


def _assert_one_line_error(result, *fragments):
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("minigrad eval: error:"), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_eval_missing_checkpoint(tmp_path):
    _assert_one_line_error(_run("eval", str(tmp_path / "nope.mg")), "no checkpoint", "nope.mg")


def _eval_here(capsys, path) -> subprocess.CompletedProcess:
    """``minigrad eval PATH`` run in this process, as a subprocess result (the entry point
    itself, ``python -m minigrad``, has its one-line error checked above)."""
    capsys.readouterr()
    code = main(["eval", str(path)])
    out = capsys.readouterr()
    return subprocess.CompletedProcess(["minigrad", "eval", str(path)], code, out.out, out.err)


@pytest.mark.slow
def test_eval_corrupted_checkpoint(trained, tmp_path, capsys):
    bad = tmp_path / "truncated.mg"
    bad.write_bytes((trained / "checkpoint.mg").read_bytes()[:2000])
    _assert_one_line_error(_eval_here(capsys, bad), "cannot read checkpoint", "truncated")
    junk = tmp_path / "junk.mg"
    junk.write_text("not a checkpoint\n")
    _assert_one_line_error(_eval_here(capsys, junk), "not a zip archive")


@pytest.mark.slow
def test_eval_foreign_or_damaged_checkpoint(trained, tmp_path, capsys):
    other = tmp_path / "other.mg"
    minigrad.save({"weights": minigrad.zeros(3)}, other)
    assert main(["eval", str(other)]) == 2
    assert "not a checkpoint written by `minigrad train`" in capsys.readouterr().err
    ckpt = minigrad.load(trained / "checkpoint.mg")
    del ckpt["state_dict"]["1.weight"]
    minigrad.save(ckpt, tmp_path / "damaged.mg")
    assert main(["eval", str(tmp_path / "damaged.mg")]) == 2
    err = capsys.readouterr().err
    assert "incomplete or damaged" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--epochs", "0"],
        ["train", "--optimizer", "lbfgs"],
        ["train", "resnet"],
        ["train", "--lr", "-1"],
        ["train", "--batch-size", "many"],
        ["graph", "mlp", "--format", "jpeg"],
        ["eval"],
        ["frobnicate"],
    ],
)
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_unavailable_device_is_a_one_line_error(capsys):
    if minigrad.cuda.is_available():
        pytest.skip("a CUDA device is present")
    assert main(["train", "--device", "cuda", "--epochs", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("minigrad train: error: device 'cuda' is not available")
    assert main(["gradcheck", "--device", "tpu"]) == 2
    assert "invalid device 'tpu'" in capsys.readouterr().err


@pytest.mark.slow
def test_graph_dot_from_name_and_checkpoint(trained, tmp_path):
    assert main(["graph", "mlp", "--format", "dot", "--out", str(tmp_path / "g.dot")]) == 0
    text = (tmp_path / "g.dot").read_text()
    assert text.startswith("digraph minigrad") and "Linear" in text and "NllLossBackward0" in text
    out = tmp_path / "c.dot"
    assert main(["graph", str(trained / "checkpoint.mg"), "--out", str(out), "--depth", "0"]) == 0
    assert out.read_text().startswith("digraph")


def test_graph_svg_with_grad_heat(tmp_path):
    pytest.importorskip("graphviz")
    out = tmp_path / "mlp.svg"
    code = main(["graph", "mlp", "--grad-heat", "--out", str(out)])
    if code == 2:
        pytest.skip("the Graphviz dot program is not installed")
    assert code == 0 and "<svg" in out.read_text()


def test_graph_unknown_model(capsys):
    assert main(["graph", "no-such-model"]) == 2
    assert "neither a model" in capsys.readouterr().err


@pytest.mark.slow
def test_default_train_reaches_95_percent(tmp_path, monkeypatch):
    """``minigrad train`` with its defaults: the MLP on Digits, >= 95% test accuracy. In this
    process and without matplotlib: the entry point and the plot have their own tests above,
    and starting Python and drawing the plot cost more than the training."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["train", "--no-progress", "--out", str(tmp_path)]) == 0
    assert not (tmp_path / "loss_curve.png").exists()
    final = json.loads((tmp_path / "metrics.json").read_text())["final"]
    assert final["test_accuracy"] >= 0.95


def test_train_on_uncached_mnist_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MINIGRAD_HOME", str(tmp_path))
    assert main(["train", "--dataset", "mnist", "--epochs", "1", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--download" in err and "MNIST" in err
