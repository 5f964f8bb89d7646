"""DTensor checks that run in a job of its own (started by tests/test_dtensor.py): alone (a
world of one, with PyTorch's DTensor on a one-process gloo group as the oracle where PyTorch is
installed) and on 2 ranks through the launcher (against NumPy: every rank knows the global
tensors). Each check's result ("ok" or its traceback) on every rank is written by rank 0 as
JSON to the path in argv[1]."""

import os
import socket
import sys

import numpy as np
from dist_checks import run_checks
from fsdp_checks import CHECKS as FSDP_CHECKS
from tp_checks import CHECKS as TP_CHECKS

import minigrad
import minigrad.distributed as dist
from minigrad.distributed.tensor import (
    DTensor,
    Partial,
    Replicate,
    Shard,
    distribute_tensor,
    init_device_mesh,
)

CHECKS = {}


def check(fn):
    CHECKS[fn.__name__] = fn
    return fn


def glob(shape, salt=0):
    """A global tensor every rank can make."""
    return np.random.default_rng(salt).uniform(-1, 1, shape).astype(np.float32)


def chunk(a, dim, n, i):
    """Rank i's torch.chunk piece (empty past the last chunk)."""
    step = -(-a.shape[dim] // n)
    return np.take(a, range(min(i * step, a.shape[dim]), min((i + 1) * step, a.shape[dim])), dim)


def equal(actual, expected, what):
    actual = actual.detach().numpy() if isinstance(actual, minigrad.Tensor) else actual
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-6, err_msg=what)


@check
def shards_and_replicas(mesh, rank, world):
    g = glob((5, 3))  # 5 rows over 2 ranks: chunks of 3 and 2
    for placement, dim in ((Shard(0), 0), (Shard(1), 1), (Shard(-1), 1), (Replicate(), None)):
        d = distribute_tensor(minigrad.tensor(g), mesh, [placement])
        assert d.shape == (5, 3) and d.dtype == minigrad.float32
        assert d.placements == ((Shard(dim),) if dim is not None else (Replicate(),))
        local = chunk(g, dim, world, rank) if dim is not None else g
        equal(d.to_local(), local, f"{placement} local")
        equal(d.full_tensor(), g, f"{placement} full_tensor")


@check
def partial_sums_all_reduce(mesh, rank, world):
    parts = [glob((2, 3), salt=r + 1) for r in range(world)]
    d = DTensor.from_local(minigrad.tensor(parts[rank]), mesh, [Partial()])
    r = d.redistribute(mesh, [Replicate()])
    assert r.placements == (Replicate(),)
    equal(r.to_local(), sum(parts), "Partial -> Replicate")
    s = d.redistribute(placements=[Shard(0)])
    equal(s.to_local(), chunk(sum(parts), 0, world, rank), "Partial -> Shard")
    g = glob((4, 2))
    p = distribute_tensor(minigrad.tensor(g), mesh, [Partial()])
    equal(p.to_local(), g / world, "distribute_tensor Partial: 1/n each")
    equal(p.full_tensor(), g, "Partial full_tensor")


@check
def shard_to_shard(mesh, rank, world):
    g = glob((4, 6))
    d = distribute_tensor(minigrad.tensor(g), mesh, [Shard(0)]).redistribute(mesh, [Shard(1)])
    equal(d.to_local(), chunk(g, 1, world, rank), "Shard(0) -> Shard(1)")


@check
def from_local_global_shape(mesh, rank, world):
    d = DTensor.from_local(minigrad.ones(2, 3), mesh, [Shard(1)])
    assert d.shape == (2, 3 * world)
    d = DTensor.from_local(minigrad.ones(2, 3), mesh, [Replicate()], run_check=True)
    assert d.shape == (2, 3)


@check
def gradients_follow_the_collectives(mesh, rank, world):
    g, c = glob((5, 2)), glob((5, 2), salt=9)
    w = minigrad.tensor(g, requires_grad=True)
    d = distribute_tensor(w, mesh, [Shard(0)])
    assert d.requires_grad and d.is_leaf
    (d.full_tensor() * minigrad.tensor(c)).sum().backward()  # all-gather: grad is my chunk
    assert isinstance(d.grad, DTensor) and d.grad.placements == (Shard(0),)
    equal(d.grad.to_local(), chunk(c, 0, world, rank), "all_gather backward")
    x = minigrad.tensor(g, requires_grad=True)  # Replicate -> Shard: backward all-gathers
    s = DTensor.from_local(x, mesh, [Replicate()]).redistribute(mesh, [Shard(0)])
    (s.to_local() * minigrad.tensor(chunk(c, 0, world, rank))).sum().backward()
    equal(x.grad, c, "chunk backward")
    part = minigrad.tensor(glob((3,), salt=rank), requires_grad=True)  # Partial -> Replicate
    (DTensor.from_local(part, mesh, [Partial()]).full_tensor() * 3).sum().backward()
    equal(part.grad, np.full(3, 3.0, np.float32), "all_reduce backward")


@check
def pointwise_ops_keep_placements(mesh, rank, world):
    g = glob((4, 3))
    d = distribute_tensor(minigrad.tensor(g), mesh, [Shard(0)])
    out = (d * 2 + 1).relu()
    assert isinstance(out, DTensor) and out.placements == (Shard(0),)
    equal(out.full_tensor(), np.maximum(g * 2 + 1, 0), "pointwise on shards")
    r = distribute_tensor(minigrad.tensor(g), mesh, [Replicate()])
    mm = r @ r.T
    assert mm.placements == (Replicate(),)
    equal(mm.to_local(), g @ g.T, "matmul on replicas")
    p = DTensor.from_local(minigrad.tensor(g), mesh, [Partial()])
    equal((p * 2 - p).full_tensor(), g * world, "linear ops on Partial")
    total = d.sum()  # a sum of shards: partial sums, reduced by full_tensor
    assert total.placements == (Partial(),) and total.shape == ()
    equal(total.full_tensor(), g.sum(), "sum of shards")
    a, b = glob((4, 6), salt=3), glob((6, 5), salt=4)
    for pa, pb, out in (
        (Shard(0), Replicate(), Shard(0)),
        (Replicate(), Shard(1), Shard(1)),
        (Shard(1), Shard(0), Partial()),
    ):
        da = distribute_tensor(minigrad.tensor(a), mesh, [pa])
        db = distribute_tensor(minigrad.tensor(b), mesh, [pb])
        da.requires_grad_(), db.requires_grad_()
        prod = da @ db
        assert prod.placements == (out,), (pa, pb, prod.placements)
        full = prod.full_tensor()
        equal(full, a @ b, f"matmul {pa} @ {pb}")
        (full * minigrad.tensor(c := glob((4, 5), salt=5))).sum().backward()
        for leaf, place, grad in ((da, pa, c @ b.T), (db, pb, a.T @ c)):  # replicated: whole
            local = chunk(grad, place.dim, world, rank) if place.is_shard() else grad
            equal(leaf.grad.to_local(), local, f"matmul {pa} @ {pb} gradient ({place})")
    for bad in (lambda: d.mean(), lambda: p + 1, lambda: d @ d):
        try:
            bad()
        except NotImplementedError:
            continue
        raise AssertionError("a sharding minigrad does not propagate ran")
    try:
        d + minigrad.ones(4, 3)
    except RuntimeError as e:
        assert "mixed torch.Tensor and DTensor" in str(e)
    else:
        raise AssertionError("DTensor + Tensor ran")


@check
def errors(mesh, rank, world):
    for bad, kind, words in (
        (lambda: distribute_tensor(minigrad.ones(2), mesh, [Shard(0), Shard(0)]), ValueError,
         "placements` must have the same length"),
        (lambda: DTensor.from_local(minigrad.ones(2), mesh, [Shard(3)]), RuntimeError,
         "Sharding dim 3 greater than tensor ndim 1"),
        (lambda: distribute_tensor(minigrad.ones(2), mesh, [Replicate()]).redistribute(
            mesh, [Partial()]), RuntimeError, "redistributing to Partial is for internal use"),
    ):  # fmt: skip
        try:
            bad()
        except kind as e:
            assert words in str(e), str(e)
        else:
            raise AssertionError(f"no {kind.__name__}: {words}")


@check
def mesh_layout(mesh, rank, world):
    assert mesh.shape == (world,) and mesh.ndim == 1 and mesh.size() == world
    assert mesh.get_rank() == rank and mesh.get_local_rank() == rank
    assert mesh.get_coordinate() == (rank,) and mesh.mesh.tolist() == list(range(world))
    named = init_device_mesh("cpu", (1, world), mesh_dim_names=("a", "b"))
    assert named["b"].shape == (world,) and named.get_local_rank("b") == rank
    d = distribute_tensor(minigrad.tensor(glob((4, 4))), named, [Replicate(), Shard(1)])
    equal(d.full_tensor(), glob((4, 4)), "2-d mesh full_tensor")


@check
def local_shape_and_offset(mesh, rank, world):
    from minigrad.distributed.tensor._utils import compute_local_shape_and_global_offset

    shape, offset = compute_local_shape_and_global_offset((5, 4), mesh, [Shard(0)])
    start = min(rank * -(-5 // world), 5)
    assert shape == chunk(glob((5, 4)), 0, world, rank).shape and offset == (start, 0)
    assert compute_local_shape_and_global_offset((5, 4), mesh, [Replicate()]) == ((5, 4), (0, 0))


@check
def all_to_all_and_functional_collectives(mesh, rank, world):
    import minigrad.distributed._functional_collectives as funcol

    # rank r sends r + 1 rows to every rank, row values 10 * r + destination
    splits = [rank + 1] * world
    rows = [np.full((rank + 1, 2), 10 * rank + d, np.float32) for d in range(world)]
    out = minigrad.empty(sum(r + 1 for r in range(world)), 2)
    dist.all_to_all_single(out, minigrad.tensor(np.concatenate(rows)), None, splits)
    expected = np.concatenate(
        [np.full((r + 1, 2), 10 * r + rank, np.float32) for r in range(world)]
    )
    equal(out, expected, "all_to_all_single with split sizes")
    x = minigrad.tensor(np.arange(2 * world, dtype=np.float32) + 100 * rank, requires_grad=True)
    y = funcol.all_to_all_single_autograd(x, None, None, mesh)
    mine = np.concatenate([np.arange(2 * rank, 2 * rank + 2) + 100 * r for r in range(world)])
    equal(y, mine.astype(np.float32), "functional all_to_all_single")
    (y * minigrad.arange(2.0 * world)).sum().backward()  # the gradient goes back the same way
    # y[2r + k] on rank m is x[2m + k] of rank r, with gradient 2r + k
    equal(x.grad, np.tile([2.0 * rank, 2.0 * rank + 1], world), "all_to_all backward")
    total = funcol.wait_tensor(funcol.all_reduce(minigrad.ones(2) * (rank + 1), "sum", mesh))
    equal(total, np.full(2, world * (world + 1) / 2), "functional all_reduce")
    gathered = funcol.all_gather_tensor(minigrad.ones(1, 2) * rank, 0, mesh)
    equal(gathered, np.repeat(np.arange(world, dtype=np.float32), 2).reshape(world, 2), "gather")
    assert dist.get_process_group_ranks(dist.group.WORLD) == list(range(world))


def torch_oracle(rank, world):
    """Alone: the same programs on PyTorch's DTensor (a one-process gloo group) give the same
    placements, shapes, values, gradients, reprs and errors."""
    import torch
    import torch.distributed as tdist
    from torch.distributed import tensor as tt

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    os.environ.update(RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    tdist.init_process_group("gloo")
    try:
        tmesh, mesh = tt.init_device_mesh("cpu", (1,)), init_device_mesh("cpu", (1,))
        assert repr(tmesh) == repr(mesh), (repr(tmesh), repr(mesh))
        g = glob((5, 3))
        for tp, p in ((tt.Shard(-1), Shard(-1)), (tt.Partial(), Partial()), (tt.Replicate(),
                      Replicate())):  # fmt: skip
            assert (repr(tp), str(tp)) == (repr(p), str(p))
            td = tt.distribute_tensor(torch.tensor(g), tmesh, [tp])
            d = distribute_tensor(minigrad.tensor(g), mesh, [p])
            assert repr(td.placements) == repr(d.placements)
            equal(d.to_local(), td.to_local().numpy(), f"{p} local")
            rt = td.redistribute(tmesh, [tt.Shard(0)])
            equal(d.redistribute(mesh, [Shard(0)]).to_local(), rt.to_local().numpy(), "redist")
        assert repr(tt.distribute_tensor(torch.tensor(g), tmesh, [tt.Shard(0)])).replace(
            "torch", "minigrad"
        ) == repr(distribute_tensor(minigrad.tensor(g), mesh, [Shard(0)]))
        a, b = glob((4, 6), salt=3), glob((6, 5), salt=4)
        pairs = ((Shard(0), Replicate()), (Replicate(), Shard(1)), (Shard(1), Shard(0)))
        theirs_of = {Shard(0): tt.Shard(0), Shard(1): tt.Shard(1), Replicate(): tt.Replicate()}
        for pa, pb in pairs:  # the placements PyTorch's sharding propagation gives
            tpa, tpb = theirs_of[pa], theirs_of[pb]
            theirs = tt.distribute_tensor(torch.tensor(a), tmesh, [tpa]) @ tt.distribute_tensor(
                torch.tensor(b), tmesh, [tpb]
            )
            ours = distribute_tensor(minigrad.tensor(a), mesh, [pa]) @ distribute_tensor(
                minigrad.tensor(b), mesh, [pb]
            )
            assert repr(ours.placements) == repr(theirs.placements), (pa, pb)
            equal(ours.to_local(), theirs.to_local().numpy(), f"matmul {pa} @ {pb}")
        ts = tt.distribute_tensor(torch.tensor(g), tmesh, [tt.Shard(0)]).sum()
        ms = distribute_tensor(minigrad.tensor(g), mesh, [Shard(0)]).sum()
        assert repr(ms.placements) == repr(ts.placements) == "(Partial(sum),)"
        tw = torch.tensor(g, requires_grad=True)
        tx = tt.DTensor.from_local(tw * 2, tmesh, [tt.Partial()])
        (tx.full_tensor() ** 2).sum().backward()
        w = minigrad.tensor(g, requires_grad=True)
        x = DTensor.from_local(w * 2, mesh, [Partial()])
        (x.full_tensor() ** 2).sum().backward()
        equal(w.grad, tw.grad.numpy(), "gradient through from_local/full_tensor")
        tp = torch.nn.Parameter(tt.distribute_tensor(torch.tensor(g), tmesh, [tt.Shard(0)]))
        p = minigrad.nn.Parameter(distribute_tensor(minigrad.tensor(g), mesh, [Shard(0)]))
        assert isinstance(tp, tt.DTensor) and isinstance(p, DTensor) and p.requires_grad
        (tp.to_local() * 3).sum().backward()
        (p.to_local() * 3).sum().backward()
        assert repr(p.grad.placements) == repr(tuple(tp.grad.placements)) == "(Shard(dim=0),)"
        equal(p.grad.to_local(), tp.grad.to_local().numpy(), "parameter gradient")
    finally:
        tdist.destroy_process_group()


def main():
    checks = dict(CHECKS)
    checks.update(FSDP_CHECKS)  # (FSDP2's ride in this job: see tests/fsdp_checks.py)
    checks.update(TP_CHECKS)  # (and tensor parallelism's: tests/tp_checks.py)
    if "--torch" in sys.argv:  # (a world of one: the oracle's DTensor runs in one process)
        checks["torch_oracle"] = lambda mesh, rank, world: torch_oracle(rank, world)
    mesh = []  # made once the group is up

    def call(fn, rank, world):
        if not mesh:
            mesh.append(init_device_mesh("cpu", (world,)))
        fn(mesh[0], rank, world)

    run_checks(checks, call)


if __name__ == "__main__":
    main()
