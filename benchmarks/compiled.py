"""Captured steps (``minigrad.compile``) against eager minigrad and hand-written NumPy.

Usage: ``python -m benchmarks.compiled [--repeats N]``. Runs the small-MLP SGD step and the
op chain three ways, interleaved call by call, and reports the fastest call of each (the
least disturbed by other processes on a shared machine) and the ratios. Then
``mlp_small_compiled_module``: the same MLP step with the model compiled
(``minigrad.compile(model)``: forward and backward replayed, loss and optimizer step eager)
against the eager step and the whole compiled step; ``op_overhead_compiled_module`` likewise
(the op chain compiled, its backward outside). CPU only.
"""

from __future__ import annotations

import argparse
import time

from . import workloads

CASES = {
    "mlp_small": lambda: workloads.mlp([64, 256, 256, 10], 128, "cpu"),
    "op_overhead": lambda: workloads.op_overhead("cpu"),
}
# the model compiled, the loop eager: {name: (its build, the case it is compared with)}
MODULE_CASES = {
    "mlp_small_compiled_module": (
        lambda: workloads.mlp([64, 256, 256, 10], 128, "cpu", compile_model=True),
        "mlp_small",
    ),
    "op_overhead_compiled_module": (
        lambda: workloads.op_overhead("cpu", compile_chain=True),
        "op_overhead",
    ),
}


def fastest(steps: dict, repeats: int) -> dict:
    """The fastest of ``repeats`` calls of each step, interleaved (seconds)."""
    for step in steps.values():
        for _ in range(3):
            step()
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compiled", description=__doc__)
    parser.add_argument("--repeats", type=int, default=300, help="calls of each step")
    args = parser.parse_args(argv)
    print("| workload | compiled | eager | NumPy | compiled/NumPy | compiled/eager |")
    print("|---|---|---|---|---|---|")
    for name, build in CASES.items():
        eager = build()
        compiled = workloads.compiled(lambda dev, torch, b=build: b())("cpu")
        t = fastest(
            {"compiled": compiled["minigrad"], "eager": eager["minigrad"], "numpy": eager["numpy"]},
            args.repeats,
        )
        print(
            f"| `{name}` | {t['compiled'] * 1e3:.3f} ms | {t['eager'] * 1e3:.3f} ms | "
            f"{t['numpy'] * 1e3:.3f} ms | {t['compiled'] / t['numpy']:.2f}× | "
            f"{t['compiled'] / t['eager']:.2f}× |"
        )
    print()
    print("| workload | compiled module | eager | compiled step | module/eager | module/step |")
    print("|---|---|---|---|---|---|")
    for name, (build, base) in MODULE_CASES.items():
        step = workloads.compiled(lambda dev, torch, b=CASES[base]: b())("cpu")["minigrad"]
        steps = {"module": build()["minigrad"], "eager": CASES[base]()["minigrad"], "step": step}
        t = fastest(steps, args.repeats)
        print(
            f"| `{name}` | {t['module'] * 1e3:.3f} ms | {t['eager'] * 1e3:.3f} ms | "
            f"{t['step'] * 1e3:.3f} ms | {t['module'] / t['eager']:.2f}× | "
            f"{t['module'] / t['step']:.2f}× |"
        )


if __name__ == "__main__":
    main()
