"""How minigrad's cost grows against PyTorch and hand-written NumPy: markdown tables.

Usage: ``python -m benchmarks.scaling [--quick] [--only SWEEP ...] [--threads N]
[--clock wall|cpu] [--json FILE]``

Sweeps (``--quick``: the first two sizes of each, for the smoke test):

- ``width``: MLP 64→w→w→10, batch 128, one SGD step, w = 64 … 2048.
- ``depth``: MLP of d Linear layers 256 wide (64 in, 10 out), batch 128, d = 2 … 64.
- ``batch``: MLP 64→256→256→10, batch 16 … 4096.
- ``graph``: a chain of n small elementwise ops on a 16×16 tensor, forward and backward,
  n = 1k … 100k: µs per op (the engine's cost per node as the graph grows).
- ``attention``: ``scaled_dot_product_attention`` over (2, 4, T, 32), mean, backward to q, k,
  v; T = 64 … 1024: time, peak memory, minor page faults per step.

Times: every framework's step alternates in one process (``run.time_steps``); the tables give
the **minimum** over the repeats, the figure least disturbed by other processes, and the
ratios of the minima. Each framework runs ``--threads`` CPU threads (default 1). On a loaded
machine with one thread, ``--clock cpu`` times the main thread's CPU time, not wall time.

Peak memory, the same method for all three frameworks: a fresh process per framework and T
builds the inputs, runs one step to warm up, then resets the kernel's peak-RSS mark
(``/proc/self/clear_refs``) and runs one more step; the peak is VmHWM minus the RSS before
that step. glibc is told to return every block above 64 KiB to the OS on free
(``MALLOC_MMAP_THRESHOLD_``, which also turns minigrad's malloc tuning off there), so RSS
follows live memory rather than the allocator's cache. For minigrad and NumPy the table also
gives tracemalloc's peak of the same step (NumPy reports its array buffers to tracemalloc;
PyTorch does not, so it has no such figure). Linux only; elsewhere the memory columns say so.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc
from functools import partial
from pathlib import Path

import numpy as np

from . import workloads
from .run import CLOCKS, _import_torch, conditions, header, set_threads, time_steps, with_ratios

ROOT = Path(__file__).resolve().parent.parent
FRAMEWORKS = ("minigrad", "torch", "numpy")


def _mlp(sizes, batch):
    return partial(workloads.mlp, sizes, batch, "cpu")


def _chain(torch, n):
    return workloads.op_overhead("cpu", torch, n)


def _attention(torch, length):
    return workloads.attention("cpu", torch, length=length)


SWEEPS = {
    "width": (
        "MLP 64→w→w→10, batch 128, SGD step (ms)",
        "w",
        {w: _mlp([64, w, w, 10], 128) for w in (64, 256, 1024, 2048)},
    ),
    "depth": (
        "MLP of d Linear layers, 256 wide, batch 128, SGD step (ms)",
        "d",
        {d: _mlp([64] + [256] * (d - 1) + [10], 128) for d in (2, 8, 16, 32, 64)},
    ),
    "batch": (
        "MLP 64→256→256→10, SGD step, by batch size (ms)",
        "batch",
        {b: _mlp([64, 256, 256, 10], b) for b in (16, 128, 1024, 4096)},
    ),
    "graph": (
        "chain of n elementwise ops on 16×16, forward + backward (µs per op)",
        "n",
        {n: partial(_chain, n=n) for n in (1_000, 10_000, 100_000)},
    ),
    "attention": (
        "scaled_dot_product_attention (2, 4, T, 32), fwd + bwd (ms; peak MiB)",
        "T",
        {t: partial(_attention, length=t) for t in (64, 128, 256, 512, 1024)},
    ),
}  # fmt: skip
PER_OP = {"graph"}  # report µs per op, not ms per step


def measure(sweep: str, size, torch, repeats: int, budget_s: float, clock: str = "wall") -> dict:
    """Minimum time (and faults) per framework at one size of one sweep."""
    steps = SWEEPS[sweep][2][size](torch)
    start = time.perf_counter()
    for step in steps.values():
        step()
    once = (time.perf_counter() - start) / len(steps)
    # A few repeats for slow sizes, so that a 100k-op graph does not take minutes.
    n = int(min(repeats, max(3, budget_s / max(once, 1e-9) / len(steps))))
    runs = time_steps(steps, n, warmup=1, block=min(5, n), clock=clock)
    scale = (1e6 / size) if sweep in PER_OP else 1e3
    out = {
        name: {"min": min(run["times"]) * scale, "faults": float(np.mean(run["faults"]))}
        for name, run in runs.items()
    }
    return with_ratios(out, "min")


# -- peak memory of one attention step, in a fresh process --------------------------------------
PROBE_ENV = {
    "MALLOC_MMAP_THRESHOLD_": "65536",
    "MALLOC_TRIM_THRESHOLD_": "0",
    "PYTHONPATH": str(ROOT),
}


def peak_memory(framework: str, length: int, threads: int) -> dict:
    """Peak MiB of one attention step of ``framework`` at length ``length`` (module doc)."""
    if not sys.platform.startswith("linux"):
        return {"error": "peak RSS needs Linux's /proc/self/clear_refs"}
    code = (
        "from benchmarks.scaling import _probe_memory; "
        f"_probe_memory({framework!r}, {length}, {threads})"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **PROBE_ENV},
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1]}
    return json.loads(result.stdout)


def _probe_memory(framework: str, length: int, threads: int) -> None:
    """In the fresh process: print the peak RSS (and tracemalloc peak) of one step as JSON."""
    torch = _import_torch() if framework == "torch" else None
    set_threads(threads, torch)
    step = workloads.attention("cpu", torch, length=length)[framework]
    step()
    gc.collect()
    before = _status_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM (peak RSS) to the current RSS
    step()
    out = {"rss_mib": (_status_kib("VmHWM") - before) / 1024}
    if framework != "torch":
        tracemalloc.start()
        step()
        out["traced_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    print(json.dumps(out))


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


# -- tables ---------------------------------------------------------------------------------------
def _fmt(x: float) -> str:
    return f"{x:.3g}"


def table(sweep: str, rows: dict) -> str:
    """A markdown table of one sweep: size, the three minima, the two ratios (and memory)."""
    title, label, _ = SWEEPS[sweep]
    head = f"| {label} | minigrad | PyTorch | NumPy | minigrad/PyTorch | minigrad/NumPy |"
    rule = "|---|---|---|---|---|---|"
    if sweep == "attention":
        head += " peak MiB minigrad (RSS / traced) | PyTorch (RSS) | NumPy (RSS / traced) |"
        head += " faults/step minigrad |"
        rule += "---|---|---|---|"
    lines = [f"**{sweep}**: {title}", "", head, rule]
    for size, r in rows.items():
        cells = [_fmt(r[f]["min"]) if f in r else "–" for f in FRAMEWORKS]
        ratios = [f"{r[k]:.2f}×" if k in r else "–" for k in ("minigrad/torch", "minigrad/numpy")]
        line = f"| {size:,} | " + " | ".join(cells + ratios) + " |"
        if sweep == "attention":
            line += " " + " | ".join(_memory_cell(r["memory"].get(f, {})) for f in FRAMEWORKS)
            line += f" | {r['minigrad']['faults']:.0f} |"
        lines.append(line)
    return "\n".join(lines)


def _memory_cell(m: dict) -> str:
    if "error" in m or not m:
        return m.get("error", "–")
    traced = f" / {m['traced_mib']:.1f}" if "traced_mib" in m else ""
    return f"{m['rss_mib']:.1f}{traced}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.scaling", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--only", nargs="*", choices=list(SWEEPS), help="sweeps to run")
    parser.add_argument("--quick", action="store_true", help="the first two sizes of each sweep")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    parser.add_argument("--repeats", type=int, default=20, help="most timed steps per size")
    parser.add_argument(
        "--clock",
        choices=list(CLOCKS),
        default="wall",
        help="wall (default) or main-thread CPU time (one thread only)",
    )
    parser.add_argument(
        "--budget", type=float, default=2.0, help="seconds of timing per size (about)"
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory probes")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    torch = _import_torch()
    set_threads(args.threads, torch)
    report = {**conditions(torch), "clock": args.clock, "sweeps": {}}
    print(header(report), end="\n\n", flush=True)
    for sweep in args.only or list(SWEEPS):
        sizes = list(SWEEPS[sweep][2])[: 2 if args.quick else None]
        rows = {}
        for size in sizes:
            rows[size] = measure(sweep, size, torch, args.repeats, args.budget, args.clock)
            if sweep == "attention":
                rows[size]["memory"] = {
                    f: peak_memory(f, size, args.threads) if not args.no_memory else {}
                    for f in FRAMEWORKS
                    if f != "torch" or torch is not None
                }
        report["sweeps"][sweep] = {str(k): v for k, v in rows.items()}
        print(table(sweep, rows), end="\n\n", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
