"""A PyTorch program on 2 ranks for ``torch.distributed.nn.functional``, the collectives with a
backward: each rank makes float64 inputs, puts them through one collective, weights the
result by (rank + 1), and records the outputs and the gradients of its inputs, which
tests/test_dist_nn_functional.py checks against PyTorch's (a torchrun job on gloo) and the
adjoint of each collective worked out by hand.

``python dist_nn_program.py OUT.json``: rank 0 writes every rank's results to OUT.json.
"""

import json
import os
import sys
import warnings

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dnn

os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
os.environ.setdefault("MASTER_PORT", "29533")
dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
weight = float(rank + 1)


def leaf(*shape, scale=1.0):
    n = 1
    for s in shape:
        n *= s
    values = torch.arange(n, dtype=torch.float64).reshape(shape) * scale + 10 * rank
    return values.requires_grad_()


def flat(tensors):
    return [float(v) for t in tensors for v in t.detach().reshape(-1).tolist()]


def run(name, make_inputs, collective):
    inputs = make_inputs()
    outputs = collective(*inputs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    loss = sum((o * weight * (i + 1)).sum() for i, o in enumerate(outputs))
    loss.backward()
    grads = [t.grad for t in inputs if isinstance(t, torch.Tensor) and t.requires_grad]
    return {"outputs": flat(outputs), "grads": flat(g for g in grads if g is not None)}


results = {}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    results["all_reduce"] = run("all_reduce", lambda: (leaf(3),), dnn.all_reduce)
    results["all_reduce_max"] = run(
        "all_reduce_max", lambda: (leaf(3),), lambda x: dnn.all_reduce(x, dist.ReduceOp.MAX)
    )
    results["broadcast"] = run("broadcast", lambda: (leaf(2, 2),), lambda x: dnn.broadcast(x, 1))
    results["reduce"] = run("reduce", lambda: (leaf(3),), lambda x: dnn.reduce(x, 0))
    results["all_gather"] = run("all_gather", lambda: (leaf(2, 3),), dnn.all_gather)
    results["gather"] = run("gather", lambda: (leaf(3),), lambda x: dnn.gather(x, dst=1))
    results["scatter"] = run(
        "scatter", lambda: (leaf(2), leaf(2, scale=2.0)), lambda a, b: dnn.scatter([a, b], src=0)
    )
    results["reduce_scatter"] = run(
        "reduce_scatter",
        lambda: (leaf(3), leaf(3, scale=3.0)),
        lambda a, b: dnn.reduce_scatter(torch.zeros(3, dtype=torch.float64), [a, b]),
    )
    results["all_to_all"] = run(
        "all_to_all",
        lambda: (leaf(2), leaf(2, scale=0.5)),
        lambda a, b: dnn.all_to_all(
            [torch.empty(2, dtype=torch.float64) for _ in range(2)], [a, b]
        ),
    )
    results["all_to_all_single"] = run(
        "all_to_all_single",
        lambda: (leaf(4, 2),),
        lambda x: dnn.all_to_all_single(torch.empty(4, 2, dtype=torch.float64), x),
    )
results["warnings"] = sorted({f"{w.category.__name__}: {w.message}" for w in caught})

everyone = [None] * world
dist.all_gather_object(everyone, results)
if rank == 0:
    with open(sys.argv[1], "w") as f:
        json.dump({"ranks": everyone}, f, indent=1)
dist.destroy_process_group()
