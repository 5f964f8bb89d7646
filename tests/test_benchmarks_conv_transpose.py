"""The transposed-convolution benchmark runs and reports a ratio (a smoke run: no timing judged)."""

import pytest


@pytest.mark.slow
def test_conv_transpose_quick_reports_a_ratio(capsys):
    pytest.importorskip("torch")
    from benchmarks import conv_transpose

    report = conv_transpose.main(["--quick", "--backward"])
    assert report["minigrad/torch"] > 0 and report["peak/output"] > 0
    assert "minigrad/torch" in capsys.readouterr().out
