"""Data-parallel scaling: steps per second of the ``mlp_large`` training step (MLP 784-1024-
1024-10, global batch 256, SGD) on 1 process and on N processes with DistributedDataParallel
(each rank on 256/N samples), and the bytes all-reduced per step.

Usage: ``python -m benchmarks.distributed [--ranks 1 2] [--steps 30] [--json FILE]``

Every configuration runs under the launcher (``python -m minigrad.distributed.run``) with one
BLAS thread per process, so N processes use N cores; ``1 process, BLAS threads=N`` is the
single-process alternative on the same cores. Strong scaling: the global batch stays 256, so
the ideal speedup on N processes is N, and efficiency = speedup / N. A control row runs the
N processes without gradient sync (each on its share, no all-reduce): the gap between it and
the DDP row is the cost of communication, the gap between it and N x the 1-process row is
what the machine's cores (shared with other work, memory bandwidth) give.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SIZES = [784, 1024, 1024, 10]
BATCH = 256
ROOT = Path(__file__).resolve().parents[1]


def worker(steps: int, out: str, sync: bool = True) -> None:
    """One rank: time ``steps`` synchronised training steps on this rank's share of the batch."""
    import minigrad
    import minigrad.distributed as dist
    from minigrad.nn.parallel import DistributedDataParallel

    from . import workloads

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    rng = np.random.default_rng(workloads.RNG_SEED)
    weights = workloads._weights(SIZES, rng)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], BATCH)
    per = BATCH // world
    xt = minigrad.tensor(x[rank * per : (rank + 1) * per])
    yt = minigrad.tensor(y[rank * per : (rank + 1) * per])
    model = workloads._mlp_layers(minigrad.nn, SIZES)
    with minigrad.no_grad():
        workloads._load_linear_weights(model, weights, minigrad.tensor)
    ddp = DistributedDataParallel(model) if world > 1 and sync else None
    trained = ddp or model
    opt = minigrad.optim.SGD(trained.parameters(), lr=0.01)
    loss_fn = minigrad.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(trained(xt), yt).backward()
        opt.step()

    for _ in range(3):
        step()
    dist.barrier()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    dist.barrier()
    seconds = time.perf_counter() - start
    if rank == 0:
        grad_bytes = ddp.bytes_per_reduction() if ddp else 0
        result = {
            "processes": world,
            "steps_per_s": steps / seconds,
            "ms_per_step": 1000 * seconds / steps,
            "bytes_all_reduced_per_step": grad_bytes,
            "buckets": len(ddp.bucket_sizes()) if ddp else 0,
            "gradient_sync": ddp is not None,
        }
        Path(out).write_text(json.dumps(result))
    dist.destroy_process_group()


def run_config(processes: int, blas_threads: int, steps: int, sync: bool = True) -> dict:
    """Launch one configuration and return rank 0's measurements."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        env = {**os.environ}
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(blas_threads)
        cmd = [sys.executable, "-m", "minigrad.distributed.run", "-n", str(processes)]
        cmd += ["-m", "benchmarks.distributed", "--worker", "--steps", str(steps)]
        cmd += ["--out", str(out)] + ([] if sync else ["--no-sync"])
        subprocess.run(cmd, cwd=ROOT, env=env, check=True)
        result = json.loads(out.read_text())
    result["blas_threads"] = blas_threads
    return result


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m benchmarks.distributed", description=__doc__)
    p.add_argument("--ranks", type=int, nargs="+", default=[1, 2], help="default: 1 2")
    p.add_argument("--steps", type=int, default=30, help="timed steps per run (default 30)")
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--no-sync", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args.steps, args.out, sync=not args.no_sync)
        return {}
    rows = [run_config(n, 1, args.steps) for n in args.ranks]
    most = max(args.ranks)
    if most > 1:
        # Controls: the same processes without gradient sync (what the cores give without
        # communication), and one process using the same cores through BLAS threads.
        rows.append(run_config(most, 1, args.steps, sync=False))
        rows.append(run_config(1, most, args.steps))
    base = next((r for r in rows if r["processes"] == 1 and r["blas_threads"] == 1), None)
    print(f"mlp_large training step ({'-'.join(map(str, SIZES))}, global batch {BATCH}, SGD)")
    print(
        f"{'configuration':<34}{'steps/s':>9}{'ms/step':>9}{'speedup':>9}{'efficiency':>12}"
        f"{'all-reduced/step':>18}"
    )
    for r in rows:
        name = f"{r['processes']} process(es), BLAS threads={r['blas_threads']}"
        if r["processes"] > 1 and not r["gradient_sync"]:
            name = f"{r['processes']} processes, no gradient sync"
        speedup = r["steps_per_s"] / base["steps_per_s"] if base else float("nan")
        cores = r["processes"] * r["blas_threads"]
        r["speedup"], r["efficiency"] = speedup, speedup / cores
        print(
            f"{name:<34}{r['steps_per_s']:>9.2f}{r['ms_per_step']:>9.1f}{speedup:>8.2f}x"
            f"{100 * r['efficiency']:>11.0f}%{r['bytes_all_reduced_per_step'] / 2**20:>14.2f} MiB"
        )
    report = {"workload": "mlp_large", "sizes": SIZES, "global_batch": BATCH, "results": rows}
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
