"""minigrad._runtime: set/get_num_threads, the import-time thread policy, the malloc tuning."""

import ctypes
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import minigrad
from minigrad import _runtime
from minigrad.cli import build_parser, main
from minigrad.cli._common import set_threads

ROOT = Path(__file__).resolve().parent.parent
needs_blas_pool = pytest.mark.skipif(
    not _runtime.blas_info(), reason="threadpoolctl sees no controllable BLAS here"
)
linux_glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not hasattr(ctypes.CDLL(None), "gnu_get_libc_version"),
    reason="malloc tuning is for Linux with glibc",
)

# Run in a fresh process: what the import did, and the minor page faults per iteration of a
# loop that allocates and frees 40 MiB and 13 MiB blocks (above glibc's own mmap threshold).
PROBE = """
import json, resource
import numpy as np
import minigrad
from minigrad import _runtime

def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

def churn():
    a = np.ones(10 << 20, np.float32); b = np.ones(10 << 20 // 3, np.float32); del a, b

for _ in range(3):
    churn()
start = faults()
for _ in range(10):
    churn()
print(json.dumps({"threads": minigrad.get_num_threads(), "policy": _runtime.thread_policy,
                  "malloc": _runtime.malloc_tuning, "faults": (faults() - start) / 10,
                  "gc": _runtime.gc_tuning, "gc_thresholds": __import__("gc").get_threshold()}))
"""

THREAD_VARS = (
    "MINIGRAD_NUM_THREADS", "MINIGRAD_MALLOC_TUNING", "MINIGRAD_GC_TUNING", "GLIBC_TUNABLES",
)  # fmt: skip


_PROBED = {}  # env -> facts: one process per environment for the whole file


def _probe(**env) -> dict:
    """Import minigrad in a new process with ``env`` over a cleaned environment (the facts of
    an environment already probed are reused: each probe starts Python and imports minigrad)."""
    key = tuple(sorted(env.items()))
    if key not in _PROBED:
        _PROBED[key] = _run_probe(env)
    return dict(_PROBED[key])


def _run_probe(env) -> dict:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith("_NUM_THREADS") and not k.startswith("MALLOC_") and k not in THREAD_VARS
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return {**json.loads(result.stdout), "stderr": result.stderr}


@pytest.fixture
def restore_threads():
    before = minigrad.get_num_threads()
    yield
    minigrad.set_num_threads(before)


@needs_blas_pool
def test_set_and_get_num_threads(restore_threads):
    minigrad.set_num_threads(2)
    assert minigrad.get_num_threads() == 2
    assert [pool["num_threads"] for pool in _runtime.blas_info()] == [2] * len(_runtime.blas_info())
    minigrad.set_num_threads(1)
    assert minigrad.get_num_threads() == 1
    assert _runtime.thread_policy == "set_num_threads(1)"


def test_get_num_threads_is_numpys_pool_when_another_blas_loads_later(monkeypatch):
    """SciPy's OpenBLAS, loaded after minigrad's policy, keeps its default count: reporting the
    largest pool made ``utils.benchmark.Timer`` restore 2 threads to NumPy's pool."""
    site = "/venv/lib/python3.11/site-packages"
    pools = [
        {"filepath": f"{site}/scipy.libs/libscipy_openblas-1.so", "num_threads": 2},
        {"filepath": f"{site}/numpy.libs/libscipy_openblas64_-2.so", "num_threads": 1},
    ]
    monkeypatch.setattr(_runtime, "blas_info", lambda *controller: pools)
    assert minigrad.get_num_threads() == 1
    monkeypatch.setattr(
        _runtime, "blas_info", lambda *controller: pools[:1]
    )  # (a conda MKL: no NumPy folder)
    assert minigrad.get_num_threads() == 2


@pytest.mark.parametrize(
    "bad, message",
    [(0, "positive integer"), (-2, "positive integer"), (1.5, "got float"), (True, "got bool")],
)
def test_set_num_threads_rejects_what_pytorch_rejects(bad, message):
    with pytest.raises(RuntimeError, match=message):
        minigrad.set_num_threads(bad)
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):
        torch.set_num_threads(bad)


@needs_blas_pool
def test_default_policy_is_one_blas_thread():
    facts = _probe()
    assert facts["threads"] == 1
    assert facts["policy"] == "minigrad default (1)"


@needs_blas_pool
def test_minigrad_num_threads_wins_over_the_blas_variables():
    facts = _probe(MINIGRAD_NUM_THREADS="2", OPENBLAS_NUM_THREADS="1")
    assert (facts["threads"], facts["policy"]) == (2, "MINIGRAD_NUM_THREADS=2")


@needs_blas_pool
def test_a_blas_variable_set_by_the_user_is_left_alone():
    facts = _probe(OMP_NUM_THREADS="2")
    assert facts["threads"] == 2
    assert facts["policy"] == "OMP_NUM_THREADS=2 (left to the BLAS library)"


@needs_blas_pool
def test_a_bad_minigrad_num_threads_warns_and_uses_the_default():
    facts = _probe(MINIGRAD_NUM_THREADS="many")
    assert "MINIGRAD_NUM_THREADS='many' is not a positive integer" in facts["stderr"]
    assert (facts["threads"], facts["policy"]) == (1, "minigrad default (1)")


@linux_glibc
def test_malloc_tuning_applied_keeps_big_blocks_mapped():
    tuned, untuned = _probe(), _probe(MINIGRAD_MALLOC_TUNING="0")
    assert tuned["malloc"] == "mmap threshold 256 MiB, trim threshold 512 MiB"
    assert untuned["malloc"] == "off (MINIGRAD_MALLOC_TUNING=0)"
    # Without the tuning each 40 MiB block is mapped afresh (and faulted in) on every
    # iteration; with it, the freed block is reused from the heap.
    assert tuned["faults"] < 10 < untuned["faults"]


@linux_glibc
def test_glibc_own_malloc_settings_win():
    facts = _probe(MALLOC_MMAP_THRESHOLD_="131072")
    assert facts["malloc"] == "off (MALLOC_MMAP_THRESHOLD_ is set: glibc's own setting is kept)"
    assert _probe(GLIBC_TUNABLES="glibc.cpu.x86_shstk=0")["malloc"].startswith("mmap threshold")


def test_info_reports_threads_and_malloc(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"Threads      {minigrad.get_num_threads()} BLAS thread(s): " in out
    assert f"malloc       {_runtime.malloc_tuning}" in out
    assert main(["info", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["threads"]["blas"] == minigrad.get_num_threads()
    assert facts["blas_pools"] == _runtime.blas_info()


@needs_blas_pool
@pytest.mark.parametrize("command", [["train"], ["eval", "checkpoint.mg"]])
def test_cli_threads_option(command, restore_threads):
    args = build_parser().parse_args([*command, "--threads", "2"])
    set_threads(args)
    assert minigrad.get_num_threads() == 2
    assert build_parser().parse_args(command).threads is None
    with pytest.raises(SystemExit):
        build_parser().parse_args([*command, "--threads", "0"])


def test_gc_threshold_raised_unless_switched_off_or_already_set():
    assert _probe()["gc_thresholds"] == [10_000, 10, 10]
    off = _probe(MINIGRAD_GC_TUNING="0")
    assert off["gc_thresholds"] == [700, 10, 10] and off["gc"] == "off (MINIGRAD_GC_TUNING=0)"
    code = "import gc; gc.set_threshold(500, 5, 5); import minigrad, json; " + (
        "print(json.dumps([gc.get_threshold(), minigrad._runtime.gc_tuning]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    thresholds, how = json.loads(out.stdout)
    assert thresholds == [500, 5, 5] and how.startswith("off (thresholds")


def test_numpy_floating_point_warnings_are_silent_inside_minigrad():
    """log(0), 0/0 and overflow give -inf, nan and inf without NumPy's RuntimeWarning (PyTorch
    warns nowhere there); the program's own NumPy calls still warn; the variable keeps all."""
    code = (
        "import warnings, numpy as np, minigrad as m\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        "    x = m.tensor([0.0, -1.0, 3e38], requires_grad=True)\n"
        "    (x.log().sum() + (x / 0).sum() + (x * x).sum() + m.tensor([]).mean()).backward()\n"
        "    mine = len(seen)\n"
        "    np.log(np.zeros(1))\n"
        "print(mine, len(seen) - mine)\n"
    )

    def run(**env):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True,
            env={**os.environ, **env},
        )  # fmt: skip
        return out.stdout.split()

    assert run() == ["0", "1"]
    assert int(run(MINIGRAD_NUMPY_WARNINGS="1")[0]) >= 3
