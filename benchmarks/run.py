"""Run the benchmark table: minigrad, PyTorch and NumPy with the same number of CPU threads.

Usage: ``python -m benchmarks [--only NAME ...] [--repeats N] [--threads N] [--clock wall|cpu]
[--device cpu|cuda] [--json FILE]``

Every framework runs the same math on the same float32 weights, in one process, alternating
in short blocks after a warm-up, so that machine noise hits all of them alike. Reported:
the median and the interquartile spread of one iteration, the ratios minigrad/PyTorch and
minigrad/NumPy, and the minor page faults per iteration (``getrusage``: memory the step takes
from the OS afresh; minigrad's malloc tuning, which PyTorch in this process shares, keeps it
near zero). ``--threads`` (default 1) sets minigrad's BLAS threads (which NumPy's reference
shares) and ``torch.set_num_threads``. Nothing here is an assertion: targets are judged by a
person reading the table.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
import tracemalloc

import numpy as np

import minigrad

from . import workloads

WORKLOADS = {
    "mlp_small": lambda dev, torch: workloads.mlp([64, 256, 256, 10], 128, dev, torch),
    "mlp_large": lambda dev, torch: workloads.mlp([784, 1024, 1024, 10], 256, dev, torch),
    "op_overhead": workloads.op_overhead,
    "transformer_block": workloads.transformer_block,
    "attention_long": workloads.attention_long,
    "conv_small": workloads.conv_small,
    "lstm_sequence": workloads.lstm_sequence,
    "spectral_conv": workloads.spectral_conv,
    "mlp_small_compiled": workloads.compiled(
        lambda dev, torch: workloads.mlp([64, 256, 256, 10], 128, dev, torch)
    ),
    "op_overhead_compiled": workloads.compiled(workloads.op_overhead),
}
PER_OP = {"op_overhead": workloads.N_CHAIN_OPS}  # report µs per op instead of ms per iteration
PER_OP["op_overhead_compiled"] = workloads.N_CHAIN_OPS


def _import_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def set_threads(n: int, torch=None) -> None:
    """``n`` CPU threads for minigrad's BLAS (NumPy's too: the same pool) and for PyTorch."""
    minigrad.set_num_threads(n)
    if torch is not None:
        torch.set_num_threads(n)


def minor_faults() -> int:
    """Minor page faults of this process so far (pages the OS had to map in)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}


def best_ms(fn, repeats: int, clock) -> float:
    """Milliseconds of the fastest of ``repeats`` calls of ``fn``, timed with ``clock`` (one of
    :data:`CLOCKS`' functions): the single-operation benchmarks' measure."""
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        fn()
        best = min(best, clock() - start)
    return best * 1e3


def timing_row(rows: list, label: str, record: dict, ours: float, theirs, other: str,
               digits: int = 3, ratio_digits: int = 1) -> None:  # fmt: skip
    """Print one row of a single-operation table (``label``: its case columns, then minigrad's
    ms, the other library's, or ``-`` when absent, and the ratio) and add ``record`` with both
    times (the other's under ``other``) to ``rows``."""
    ratio = f"{ours / theirs:6.{ratio_digits}f}" if theirs else "     -"
    shown = f"{theirs:9.{digits}f}" if theirs else "        -"
    print(f"{label} {ours:12.{digits}f} {shown} {ratio}")
    rows.append({**record, "minigrad_ms": ours, other: theirs})


def write_rows(rows: list, path: str | None) -> int:
    """Write ``rows`` as JSON to ``path`` (when given); the benchmark's exit status, 0."""
    if path:
        with open(path, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


def time_steps(
    steps: dict, repeats: int, warmup: int = 3, block: int = 5, clock: str = "wall"
) -> dict:
    """Seconds and minor page faults per iteration for each framework, interleaved in blocks
    of ``block`` iterations: ``{name: {"times": [...], "faults": [...]}}``.

    ``clock="cpu"`` counts the CPU time of this (the main) thread instead of wall time: on a
    loaded machine it leaves out the time spent waiting for a core. Only meaningful with one
    thread per framework, where all the math runs on the main thread (PyTorch's idle pool
    threads may still spin, which process time would wrongly charge to it).

    The first iteration of each block is not counted: PyTorch's OpenMP threads keep spinning
    for a while after its last op, which would slow whichever framework runs next.
    """
    for step in steps.values():
        for _ in range(warmup):
            step()
    runs = {name: {"times": [], "faults": []} for name in steps}
    now = CLOCKS[clock]
    for _ in range(max(1, repeats // block)):
        for name, step in steps.items():
            step()
            for _ in range(block):
                faults, start = minor_faults(), now()
                step()
                runs[name]["times"].append(now() - start)
                runs[name]["faults"].append(minor_faults() - faults)
    return runs


def summarize(runs: dict, scale: float) -> dict:
    """Median, interquartile range (in ``scale`` units) and mean faults per framework, and the
    ratios of minigrad's median to the others'."""
    out = {}
    for name, run in runs.items():
        q1, med, q3 = np.percentile(np.array(run["times"]) * scale, [25, 50, 75])
        out[name] = {"median": float(med), "iqr": float(q3 - q1)}
        out[name]["faults"] = float(np.mean(run["faults"]))
    return with_ratios(out, "median")


def with_ratios(out: dict, key: str | None = None) -> dict:
    """``out`` (one time per framework, or one dict per framework holding it under ``key``)
    with ``minigrad/torch`` and ``minigrad/numpy``: minigrad's time over the other's."""

    def time(name):
        return out[name] if key is None else out[name][key]

    for other in ("torch", "numpy"):
        if other in out:
            out[f"minigrad/{other}"] = time("minigrad") / time(other)
    return out


def memory_report(repeats: int = 200) -> dict:
    """Peak bytes of one mlp_large step against what the step must hold, and the drift of
    memory over many mlp_small steps (tracemalloc sees NumPy's allocations)."""
    sizes, batch = [784, 1024, 1024, 10], 256
    step = workloads.mlp(sizes, batch, "cpu")["minigrad"]
    step()
    params = sum(a * b + b for a, b in zip(sizes, sizes[1:])) * 4
    activations = batch * (sizes[0] + 2 * sum(sizes[1:-1]) + 2 * sizes[-1]) * 4
    must_hold = 2 * params + activations  # parameters, their gradients, activations
    tracemalloc.start()
    step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    small = workloads.mlp([64, 256, 256, 10], 128, "cpu")["minigrad"]
    for _ in range(20):
        small()
    tracemalloc.start()
    small()
    first = tracemalloc.get_traced_memory()[0]
    for _ in range(repeats):
        small()
    drift = tracemalloc.get_traced_memory()[0] - first
    tracemalloc.stop()
    return {
        "mlp_large_peak_bytes": params + peak,
        "mlp_large_must_hold_bytes": must_hold,
        "peak/must_hold": (params + peak) / must_hold,
        f"drift_bytes_over_{repeats}_mlp_small_steps": drift,
    }


def _table(results: dict) -> str:
    rows = [
        "| workload | minigrad | PyTorch | NumPy | minigrad/PyTorch | minigrad/NumPy "
        "| faults/step minigrad, PyTorch, NumPy |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        if "error" in r:
            rows.append(f"| `{name}` | unavailable: {r['error']} | | | | | |")
            continue
        faults = ", ".join(
            f"{r[key]['faults']:.0f}" if key in r else "–" for key in ("minigrad", "torch", "numpy")
        )
        unit = r["unit"]

        def cell(key, r=r, unit=unit):
            return f"{r[key]['median']:.3g} {unit} ±{r[key]['iqr']:.2g}" if key in r else "–"

        def ratio(key, r=r):
            return f"{r[key]:.2f}×" if key in r else "–"

        rows.append(
            f"| `{name}` | {cell('minigrad')} | {cell('torch')} | {cell('numpy')} | "
            f"{ratio('minigrad/torch')} | {ratio('minigrad/numpy')} | {faults} |"
        )
    return "\n".join(rows)


def machine() -> str:
    import os

    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, NumPy {np.__version__}, minigrad "
        f"{minigrad.__version__}"
    )


def conditions(torch=None) -> dict:
    """The machine, thread counts, malloc tuning and load: what the figures depend on."""
    import os

    out = {
        "machine": machine(),
        "threads": minigrad.get_num_threads(),
        "malloc": minigrad._runtime.malloc_tuning,
        "load_average": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "torch": "absent",
    }
    if torch is not None:
        out["torch"] = f"{torch.__version__}, {torch.get_num_threads()} threads"
    return out


def header(report: dict) -> str:
    """One line with :func:`conditions` (the device and torch when the report has them)."""
    device = f"; device {report['device']}" if "device" in report else ""
    device += f"; {report['clock']} clock" if "clock" in report else ""
    return (
        f"machine: {report['machine']}{device}; minigrad BLAS threads {report['threads']}; "
        + (f"torch {report['torch']}; " if "torch" in report else "")
        + f"malloc: {report['malloc']}; load average {report['load_average']}"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--only", nargs="*", choices=sorted(WORKLOADS), help="workloads to run")
    parser.add_argument("--repeats", type=int, default=30, help="timed iterations per framework")
    parser.add_argument(
        "--threads", type=int, default=1, help="CPU threads for every framework (default 1)"
    )
    parser.add_argument(
        "--clock",
        choices=list(CLOCKS),
        default="wall",
        help="wall (default) or main-thread CPU time (one thread only)",
    )
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    args = parser.parse_args(argv)
    torch = _import_torch()
    set_threads(args.threads, torch)
    results = {}
    for name in args.only or list(WORKLOADS):
        try:
            steps = WORKLOADS[name](args.device, torch)
        except (NotImplementedError, AttributeError, RuntimeError) as e:
            results[name] = {"error": f"{type(e).__name__}: {e}"}
            continue
        per_op = PER_OP.get(name)
        scale, unit = (1e6 / per_op, "µs/op") if per_op else (1e3, "ms")
        # --repeats below the warm-up and block sizes (a smoke run) caps them: at most that
        # many warm-up steps, and exactly that many timed ones
        few = min(3, args.repeats), min(5, args.repeats)
        runs = time_steps(steps, args.repeats, warmup=few[0], block=few[1], clock=args.clock)
        results[name] = {"unit": unit, **summarize(runs, scale)}
    report = {**conditions(torch), "device": args.device, "clock": args.clock, "results": results}
    if not args.no_memory and args.device == "cpu":
        report["memory"] = memory_report()
    print(header(report))
    print(_table(results))
    if "memory" in report:
        print("memory:", json.dumps(report["memory"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
