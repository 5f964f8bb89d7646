"""The small-MLP step alone and beside CPU-bound processes, for each BLAS thread count.

Usage: ``python -m benchmarks.contention [--threads 1 2] [--hogs 1] [--steps 60] [--rounds 2]``

What minigrad's default of one BLAS thread is for (see ``minigrad/_runtime.py``): with more
threads than free cores, OpenBLAS's workers wait for a core and every matrix product waits for
the slowest. Each round times the ``mlp_small`` step (64→256→256→10, batch 128, SGD) alone,
then with ``--hogs`` processes running ``while True: pass`` beside it (killed afterwards), and
prints the medians and their ratio. "Alone" means without the hogs: anything else running on
the machine still counts, so run it on a quiet machine for clean figures.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import minigrad

from . import workloads
from .run import conditions, header


def median_ms(step, steps: int, warmup: int = 5) -> float:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2] * 1e3


def beside_hogs(step, steps: int, hogs: int) -> float:
    """``median_ms`` of ``step`` while ``hogs`` busy-looping processes run; they are killed."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(hogs)]
    try:
        time.sleep(0.5)  # let the scheduler place them
        return median_ms(step, steps)
    finally:
        for p in procs:
            p.kill()
            p.wait()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.contention", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="BLAS threads")
    parser.add_argument("--hogs", type=int, default=1, help="CPU-bound processes beside it")
    parser.add_argument("--steps", type=int, default=60, help="timed steps per median")
    parser.add_argument("--rounds", type=int, default=2, help="alone/beside pairs per count")
    args = parser.parse_args(argv)
    report = conditions()
    del report["torch"]  # not run here
    print(header(report))
    step = workloads.mlp([64, 256, 256, 10], 128, "cpu")["minigrad"]
    print(f"| BLAS threads | alone (ms) | beside {args.hogs} busy process(es) (ms) | ratio |")
    print("|---|---|---|---|")
    for threads in args.threads:
        minigrad.set_num_threads(threads)
        for _ in range(args.rounds):
            alone = median_ms(step, args.steps)
            loaded = beside_hogs(step, args.steps, args.hogs)
            print(f"| {threads} | {alone:.2f} | {loaded:.2f} | {loaded / alone:.1f}× |", flush=True)


if __name__ == "__main__":
    main()
