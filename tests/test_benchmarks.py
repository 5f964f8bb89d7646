"""The benchmark command runs and reports every workload (a smoke run: no timing is judged)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_benchmarks_run_and_write_json(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "bench.json"
    subprocess.run(
        [sys.executable, "-m", "benchmarks", "--repeats", "1", "--json", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    report = json.loads(out.read_text())
    names = {
        "mlp_small",
        "mlp_large",
        "op_overhead",
        "transformer_block",
        "attention_long",
        "conv_small",
        "lstm_sequence",
    }
    assert set(report["results"]) == names
    for name, result in report["results"].items():
        assert {"minigrad", "torch", "minigrad/torch"} <= set(result)
        if name != "lstm_sequence":  # the one workload without a NumPy reference
            assert {"numpy", "minigrad/numpy"} <= set(result)
    assert report["memory"]["peak/must_hold"] > 0
