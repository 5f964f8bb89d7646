"""Sorting and selection with ties: minigrad's PyTorch-exact tie order against PyTorch and NumPy.

Usage: ``python -m benchmarks.ties [--quick] [--ops OP ...] [--cases CASE ...]
[--sizes N ...] [--budget S] [--clock wall|cpu] [--json FILE] [--compare BEFORE AFTER]``

On the CPU, minigrad's ``sort`` (without ``stable=True``), ``topk``, ``kthvalue`` and ``mode``
return equal values in the order PyTorch's kernels leave them (libstdc++'s introsort, partial
sort and nth_element, PyTorch's quickselect: :mod:`minigrad._std_sort`,
:mod:`minigrad._std_select`). That order depends on every step of those algorithms, so inputs
with many ties cost minigrad most. Each row times one op on one float32 input three ways:
minigrad, PyTorch (one thread) and NumPy doing the equivalent its own way with no tie order to
keep (``argsort`` + ``take``; ``argpartition``; ``unique``) — the floor for a NumPy library.
The table gives the **minimum** over the repeats (as many as fit ``--budget`` seconds per
framework, at least 2, at most 20) in milliseconds. ``--compare BEFORE AFTER`` prints, from two
``--json`` files (say of two commits), minigrad's time in each and the speed-up.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

import minigrad

from .run import CLOCKS, _import_torch, conditions, header, set_threads, with_ratios

FRAMEWORKS = ("minigrad", "torch", "numpy")
SIZES = (1_000, 10_000, 100_000, 1_000_000)
ROW = 1_000  # the length of each row of the 2-D case


def _inputs(n: int) -> dict:
    """The float32 inputs of ``n`` elements, by case name (every case but ``random`` ties)."""
    rng = np.random.default_rng(0)
    up = np.arange(n) // 3
    half = np.arange(n // 2 + n % 2)
    return {
        "random": rng.random(n),
        "distinct_50": rng.integers(0, 50, n),
        "all_equal": np.zeros(n),
        "sorted_ties": up,
        "reversed_ties": up[::-1].copy(),
        "organ_pipe": np.concatenate([half, half[: n // 2][::-1]]),
        "rows_2d": rng.integers(0, 20, (max(n // ROW, 1), min(n, ROW))),
    }


def _ops(lib, x, n: int) -> dict:
    """The timed calls of minigrad or torch (which share these names) on ``x``."""
    k = max(n // 100, 1)  # k * 64 <= n: PyTorch's heap selection
    return {
        "sort": lambda: lib.sort(x, dim=-1),
        "topk_heap": lambda: lib.topk(x, min(k, x.shape[-1]), dim=-1),
        "topk_half": lambda: lib.topk(x, x.shape[-1] // 2, dim=-1),
        "kthvalue": lambda: lib.kthvalue(x, (x.shape[-1] + 1) // 2, dim=-1),
        "mode": lambda: lib.mode(x, dim=-1),
    }


def _numpy_ops(x: np.ndarray, n: int) -> dict:
    """The same with NumPy, each its natural way (no tie order kept)."""
    k, half = min(max(n // 100, 1), x.shape[-1]), x.shape[-1] // 2

    def top(m):
        part = np.argpartition(-x, m - 1, axis=-1)[..., :m]
        picked = np.take_along_axis(-x, part, axis=-1)
        return np.take_along_axis(part, np.argsort(picked, axis=-1), axis=-1)

    def mode():
        if x.ndim == 1:
            values, counts = np.unique(x, return_counts=True)
            return values[np.argmax(counts)]
        return [mode_row(r) for r in x]

    def mode_row(r):
        values, counts = np.unique(r, return_counts=True)
        return values[np.argmax(counts)]

    def sort():
        order = np.argsort(x, axis=-1)
        return np.take_along_axis(x, order, axis=-1), order

    return {
        "sort": sort,
        "topk_heap": lambda: top(k),
        "topk_half": lambda: top(half),
        "kthvalue": lambda: np.argpartition(x, (x.shape[-1] + 1) // 2 - 1, axis=-1),
        "mode": mode,
    }


def time_case(steps: dict, budget: float, clock: str) -> dict:
    """Milliseconds of each framework's call: the minimum over repeats that fit ``budget``
    seconds per framework (2 to 20), frameworks alternating."""
    now = CLOCKS[clock]
    best = {name: float("inf") for name in steps}
    spent = dict.fromkeys(steps, 0.0)
    for repeat in range(20):
        for name, step in steps.items():
            if repeat >= 2 and spent[name] > budget:
                continue
            start = now()
            step()
            took = now() - start
            best[name], spent[name] = min(best[name], took), spent[name] + took
        if all(spent[name] > budget for name in steps) and repeat >= 1:
            break
    return with_ratios({name: 1e3 * t for name, t in best.items()})


def table(results: dict, op: str) -> str:
    """A markdown table of one op: the three minima (ms) and the ratios per case and size."""
    lines = [
        f"**{op}** (float32, min ms)",
        "",
        "| case | n | minigrad | PyTorch | NumPy | minigrad/PyTorch | minigrad/NumPy |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, r in results.items():
        case, n = key.rsplit("@", 1)
        cells = [f"{r[f]:.3g}" if f in r else "–" for f in FRAMEWORKS]
        ratios = [f"{r[k]:.2f}×" if k in r else "–" for k in ("minigrad/torch", "minigrad/numpy")]
        lines.append(f"| {case} | {int(n):,} | " + " | ".join(cells + ratios) + " |")
    return "\n".join(lines)


def compare(before: dict, after: dict) -> str:
    """Markdown tables of minigrad's time in two reports (same ops, cases and sizes), with
    PyTorch's and NumPy's from ``after``."""
    lines = []
    for op, results in after["ops"].items():
        lines += [
            f"**{op}** (float32, min ms)",
            "",
            "| case | n | before | after | speed-up | PyTorch | NumPy | after/PyTorch |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for key, r in results.items():
            case, n = key.rsplit("@", 1)
            old = before["ops"].get(op, {}).get(key, {}).get("minigrad", float("nan"))
            cells = [old, r["minigrad"]]
            cells = [f"{c:.3g}" for c in cells] + [f"{old / r['minigrad']:.1f}×"]
            cells += [f"{r[f]:.3g}" if f in r else "–" for f in ("torch", "numpy")]
            cells.append(f"{r['minigrad/torch']:.1f}×" if "minigrad/torch" in r else "–")
            lines.append(f"| {case} | {int(n):,} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.ties", description=__doc__.split("\n")[0]
    )
    names = list(_ops(minigrad, None, 1))
    parser.add_argument("--ops", nargs="*", choices=names, default=names)
    parser.add_argument("--cases", nargs="*", choices=list(_inputs(8)), default=list(_inputs(8)))
    parser.add_argument("--sizes", nargs="*", type=int, default=list(SIZES))
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 elements only")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds of timing per call")
    parser.add_argument("--clock", choices=list(CLOCKS), default="wall")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"), help="two --json files")
    args = parser.parse_args(argv)
    if args.compare:
        with open(args.compare[0]) as before, open(args.compare[1]) as after:
            print(compare(json.load(before), json.load(after)))
        return
    sizes = [s for s in args.sizes if s <= 10_000] if args.quick else args.sizes
    torch = _import_torch()
    set_threads(1, torch)
    report = {**conditions(torch), "clock": args.clock, "ops": {}}
    print(header(report), end="\n\n", flush=True)
    for op in args.ops:
        results = report["ops"][op] = {}
        for n in sizes:
            for case, data in _inputs(n).items():
                if case not in args.cases:
                    continue
                x = data.astype(np.float32)
                steps = {"minigrad": _ops(minigrad, minigrad.tensor(x), n)[op]}
                if torch is not None:
                    steps["torch"] = _ops(torch, torch.from_numpy(x), n)[op]
                steps["numpy"] = _numpy_ops(x, n)[op]
                results[f"{case}@{n}"] = time_case(steps, args.budget, args.clock)
        print(table(results, op), end="\n\n", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
