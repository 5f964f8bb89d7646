"""Writes dist21_reference.json: PyTorch's results of tests/dist21_program.py (the pipeline
schedules of several stages per rank) on 2 ranks on gloo, and the order of each rank's
forwards and backwards under ScheduleInterleaved1F1B and ScheduleLoopedBFS (``ORDERS``: world
size, stages per rank, microbatches), which tests/test_dist21.py compares minigrad's with
(without running PyTorch's torchrun or importing its pipelining in CI: both cost seconds).
PyTorch 2.13.0 (CPU) was used:

    python tests/data/make_dist21_reference.py
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from torch.distributed.pipelining import schedules

HERE = Path(__file__).resolve().parent
ORDERS = [(2, 2, 2), (2, 2, 6), (2, 3, 4), (4, 2, 8), (3, 2, 5), (2, 2, 1)]


def rank_order(kind: str, world: int, local: int, n: int, rank: int) -> list:
    """PyTorch's ``[F|B, stage, microbatch]`` list for one rank (its private planner, run on
    a schedule object built without stages or a process group)."""
    schedule = object.__new__(getattr(schedules, kind))
    schedule.pp_group_size, schedule.n_local_stages, schedule.rank = world, local, rank
    schedule._stages, schedule._n_microbatches = [None] * local, n
    schedule.number_of_rounds = max(1, n // world)
    schedule.microbatches_per_round = n // schedule.number_of_rounds
    actions = [a for a in schedule._calculate_single_rank_operations(rank) if a is not None]
    return [["F" if a.computation_type.name == "FORWARD" else "B", a.stage_index,
             a.microbatch_index] for a in actions]  # fmt: skip


def orders() -> dict:
    return {kind: {",".join(map(str, (*case, rank))): rank_order(kind, *case, rank)
                   for case in ORDERS for rank in range(case[0])}
            for kind in ("ScheduleInterleaved1F1B", "ScheduleLoopedBFS")}  # fmt: skip


def main():
    with tempfile.TemporaryDirectory() as folder:
        job = Path(folder) / "job.json"
        subprocess.run(
            [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
             str(HERE.parent / "dist21_program.py"), str(job)],
            check=True,
        )  # fmt: skip
        ranks = json.loads(job.read_text())
    reference = {"torch": torch.__version__, "ranks": ranks, "orders": orders()}
    (HERE / "dist21_reference.json").write_text(json.dumps(reference, indent=0) + "\n")


if __name__ == "__main__":
    main()
