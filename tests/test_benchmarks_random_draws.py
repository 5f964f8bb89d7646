"""The random-draw benchmark runs every draw and reports ratios (a smoke run: no timing judged)."""

import json

import pytest


def test_random_draws_quick_reports_every_draw(tmp_path, capsys):
    pytest.importorskip("torch")
    from benchmarks import random_draws

    out = tmp_path / "draws.json"
    random_draws.main(["--quick", "--json", str(out)])
    report = json.loads(out.read_text())
    printed = capsys.readouterr().out
    assert report["size"] == 10_000 and report["threads"] == 1
    assert {"rand", "randn_float64", "randperm", "dropout", "gamma", "poisson"} <= set(
        report["draws"]
    )
    for name, row in report["draws"].items():
        assert f"| {name} |" in printed
        assert row["minigrad/torch"] > 0 and row["minigrad/numpy"] > 0
