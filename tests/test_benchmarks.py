"""The benchmark commands run and report every workload (smoke runs: no timing is judged)."""

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def in_process(capsys):
    """Run a benchmark command's ``main`` in this process (its imports of PyTorch and
    minigrad are already paid here) and return what it printed; the thread counts it sets
    are restored afterwards."""
    torch = pytest.importorskip("torch")
    import minigrad

    threads = minigrad.get_num_threads(), torch.get_num_threads()

    def run(main, *args) -> str:
        capsys.readouterr()
        main(list(args))
        return capsys.readouterr().out

    yield run
    minigrad.set_num_threads(threads[0])
    torch.set_num_threads(threads[1])


@pytest.mark.slow
def test_benchmarks_run_and_write_json(tmp_path, in_process, monkeypatch):
    from benchmarks import run

    # the memory drift over 200 steps is a figure for a real run; 5 steps give its field
    monkeypatch.setattr(run, "memory_report", functools.partial(run.memory_report, repeats=5))
    out = tmp_path / "bench.json"
    printed = in_process(run.main, "--repeats", "1", "--json", str(out))
    assert "minigrad BLAS threads 1;" in printed and ", 1 threads;" in printed
    assert "faults/step" in printed
    report = json.loads(out.read_text())
    assert report["threads"] == 1 and report["torch"].endswith(", 1 threads")
    names = {
        "mlp_small",
        "mlp_large",
        "op_overhead",
        "transformer_block",
        "attention_long",
        "conv_small",
        "lstm_sequence",
        "spectral_conv",
        "mlp_small_compiled",
        "op_overhead_compiled",
    }
    assert set(report["results"]) == names
    for name, result in report["results"].items():
        assert {"minigrad", "torch", "minigrad/torch"} <= set(result)
        assert result["minigrad"]["faults"] >= 0
        if name != "lstm_sequence":  # the one workload without a NumPy reference
            assert {"numpy", "minigrad/numpy"} <= set(result)
    assert report["memory"]["peak/must_hold"] > 0


def _run(module, *args) -> str:
    result = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result.stdout


@pytest.mark.slow
def test_scaling_quick_prints_every_table(tmp_path, in_process):
    from benchmarks import scaling

    out = tmp_path / "scaling.json"
    args = ("--quick", "--repeats", "3", "--no-memory", "--json", str(out))
    printed = in_process(scaling.main, *args)
    report = json.loads(out.read_text())
    assert list(report["sweeps"]) == ["width", "depth", "batch", "graph", "attention"]
    for sweep, rows in report["sweeps"].items():
        assert f"**{sweep}**" in printed
        assert len(rows) == 2
        for row in rows.values():
            assert row["minigrad/torch"] > 0 and row["minigrad/numpy"] > 0
    # The peak-memory probe (a fresh process each) of the two frameworks it traces; the
    # table's memory columns are the same calls (--no-memory above keeps the sweep quick).
    if sys.platform.startswith("linux"):
        for framework in ("minigrad", "numpy"):
            memory = scaling.peak_memory(framework, 64, 1)
            # RSS growth over a warm step may be 0 (malloc keeps freed pages resident and
            # reuses them); what the step allocates is traced
            assert memory["rss_mib"] >= 0 and memory["traced_mib"] > 0, memory


@pytest.mark.slow
def test_contention_prints_a_row_per_thread_count():
    printed = _run("benchmarks.contention", "--steps", "3", "--rounds", "1", "--threads", "1", "2")
    rows = [
        line
        for line in printed.splitlines()
        if line.startswith("| 1 |") or line.startswith("| 2 |")
    ]
    assert len(rows) == 2


def test_numpy_gradient_reference_equals_vmap_grad_and_backward():
    """The hand-written floor of benchmarks.transforms computes what minigrad computes."""
    import numpy as np

    import minigrad
    from benchmarks import numpy_ref, transforms
    from minigrad import func
    from minigrad.nn import functional as F

    minigrad.manual_seed(0)
    model = transforms._mlp().double()
    x, y = minigrad.randn(8, 64, dtype=minigrad.float64), minigrad.randint(0, 10, (8,))
    layers = transforms._layers(model)
    weights = [(w.detach().numpy().T.copy(), b.detach().numpy()) for w, b in layers]
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(p, xi, yi):
        out = func.functional_call(model, p, (xi.unsqueeze(0),))
        return F.cross_entropy(out, yi.unsqueeze(0))

    per_sample = func.vmap(func.grad(loss), in_dims=(None, 0, 0))(params, x, y)
    ref = numpy_ref.mlp_gradients(weights, x.numpy(), y.numpy(), per_sample=True)
    F.cross_entropy(model(x), y).backward()
    batch = numpy_ref.mlp_gradients(weights, x.numpy(), y.numpy(), per_sample=False)
    for i, (w, b) in enumerate(reversed(layers)):
        names = [k for k, v in model.named_parameters() if v is w or v is b]
        np.testing.assert_allclose(ref[i][0], per_sample[names[0]].numpy().transpose(0, 2, 1))
        np.testing.assert_allclose(ref[i][1], per_sample[names[1]].numpy())
        np.testing.assert_allclose(batch[i][0], w.grad.numpy().T)
        np.testing.assert_allclose(batch[i][1], b.grad.numpy())


def test_gemm_layout_ratio_is_a_time_ratio():
    from benchmarks import gemm_layouts

    assert 0.05 < gemm_layouts.ratio(16, 64, 128) < 20


def test_spectral_conv_reference_equals_minigrad():
    """The hand-written Fourier layer (forward and both adjoints) against minigrad's autograd."""
    import numpy as np

    import minigrad
    from benchmarks import numpy_ref

    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 16))
    w = rng.standard_normal((3, 3, 5)) + 1j * rng.standard_normal((3, 3, 5))
    loss, gx, gw = numpy_ref.spectral_conv(x, w, 5)
    xs, ws = minigrad.tensor(x, requires_grad=True), minigrad.tensor(w, requires_grad=True)
    mixed = minigrad.einsum("bix,iox->box", minigrad.fft.rfft(xs)[..., :5], ws)
    y = minigrad.fft.irfft(minigrad.nn.functional.pad(mixed, (0, 4)), n=16)
    (y * y).mean().backward()
    np.testing.assert_allclose((y * y).mean().item(), loss, rtol=1e-12)
    np.testing.assert_allclose(xs.grad.numpy(), gx, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(ws.grad.numpy(), gw, rtol=1e-10, atol=1e-13)
