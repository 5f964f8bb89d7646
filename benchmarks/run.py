"""Run the benchmark table: minigrad, PyTorch (default threads and one thread) and NumPy.

Usage: ``python -m benchmarks [--only NAME ...] [--repeats N] [--device cpu|cuda] [--json FILE]``

Every framework runs the same math on the same float32 weights, in one process, alternating
in short blocks after a warm-up, so that machine noise hits all of them alike. Reported:
the median and the interquartile spread of one iteration, and the ratios minigrad/PyTorch and
minigrad/NumPy. Nothing here is an assertion: targets are judged by a person reading the table.
"""

from __future__ import annotations

import argparse
import json
import platform
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
}
PER_OP = {"op_overhead": workloads.N_CHAIN_OPS}  # report µs per op instead of ms per iteration


def _import_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def time_steps(steps: dict, repeats: int, warmup: int = 3, block: int = 5) -> dict:
    """Seconds per iteration for each framework, interleaved in blocks of ``block`` iterations.

    The first iteration of each block is not counted: PyTorch's OpenMP threads keep spinning
    for a while after its last op, which would slow whichever framework runs next.
    """
    for step in steps.values():
        for _ in range(warmup):
            step()
    times = {name: [] for name in steps}
    for _ in range(max(1, repeats // block)):
        for name, step in steps.items():
            step()
            for _ in range(block):
                start = time.perf_counter()
                step()
                times[name].append(time.perf_counter() - start)
    return times


def _with_one_torch_thread(torch, steps: dict) -> dict:
    """Add ``torch-1t``: the torch step with torch.set_num_threads(1) around it."""
    if "torch" not in steps:
        return steps
    default_threads = torch.get_num_threads()
    torch_step = steps["torch"]

    def one_thread():
        torch.set_num_threads(1)
        try:
            torch_step()
        finally:
            torch.set_num_threads(default_threads)

    return {**steps, "torch-1t": one_thread}


def summarize(times: dict, scale: float) -> dict:
    out = {}
    for name, ts in times.items():
        q1, med, q3 = np.percentile(np.array(ts) * scale, [25, 50, 75])
        out[name] = {"median": float(med), "iqr": float(q3 - q1)}
    base = out["minigrad"]["median"]
    for other in ("torch", "torch-1t", "numpy"):
        if other in out:
            out[f"minigrad/{other}"] = base / out[other]["median"]
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
        "| workload | minigrad | PyTorch | PyTorch 1 thread | NumPy | minigrad/PyTorch | minigrad/NumPy |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        if "error" in r:
            rows.append(f"| `{name}` | unavailable: {r['error']} | | | | | |")
            continue
        unit = r["unit"]

        def cell(key, r=r, unit=unit):
            return f"{r[key]['median']:.3g} {unit} ±{r[key]['iqr']:.2g}" if key in r else "–"

        def ratio(key, r=r):
            return f"{r[key]:.2f}×" if key in r else "–"

        rows.append(
            f"| `{name}` | {cell('minigrad')} | {cell('torch')} | {cell('torch-1t')} | "
            f"{cell('numpy')} | {ratio('minigrad/torch')} | {ratio('minigrad/numpy')} |"
        )
    return "\n".join(rows)


def machine() -> str:
    import os

    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, NumPy {np.__version__}, minigrad "
        f"{minigrad.__version__}"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--only", nargs="*", choices=sorted(WORKLOADS), help="workloads to run")
    parser.add_argument("--repeats", type=int, default=30, help="timed iterations per framework")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    args = parser.parse_args(argv)
    torch = _import_torch()
    results = {}
    for name in args.only or list(WORKLOADS):
        try:
            steps = WORKLOADS[name](args.device, torch)
        except (NotImplementedError, AttributeError, RuntimeError) as e:
            results[name] = {"error": f"{type(e).__name__}: {e}"}
            continue
        if torch is not None and args.device == "cpu":
            steps = _with_one_torch_thread(torch, steps)
        per_op = PER_OP.get(name)
        scale, unit = (1e6 / per_op, "µs/op") if per_op else (1e3, "ms")
        results[name] = {"unit": unit, **summarize(time_steps(steps, args.repeats), scale)}
    report = {"machine": machine(), "device": args.device, "results": results}
    if torch is not None:
        report["torch"] = f"{torch.__version__}, {torch.get_num_threads()} threads"
    if not args.no_memory and args.device == "cpu":
        report["memory"] = memory_report()
    print(
        f"machine: {report['machine']}; device {args.device}; torch {report.get('torch', 'absent')}"
    )
    print(_table(results))
    if "memory" in report:
        print("memory:", json.dumps(report["memory"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
