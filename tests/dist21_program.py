"""A PyTorch program on 2 ranks for the pipeline schedules of several stages per rank
(``ScheduleLoopedBFS``, ``ScheduleInterleaved1F1B``): a float64 MLP cut in 4 stages, rank ``r``
holding stages ``r`` and ``r + 2``, trained 2 SGD steps; beside it the whole model on the whole
batch in this process. Then 3-d device meshes: slices by names and ``_flatten``. tests/test_dist21.py runs it with minigrad's launcher under
``minigrad.as_torch``.

``python dist21_program.py OUT.json``: rank 0 writes every rank's results to OUT.json.
"""

import json
import sys
import warnings

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

STAGES = [(0, 2), (2, 4), (4, 6), (6, 7)]  # the layers of each stage


def net():
    """A float64 MLP of 4 linear layers whose weights come from NumPy."""
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 4), nn.Tanh(),
                          nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 1)).double()  # fmt: skip
    g = np.random.default_rng(21)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.tensor(g.uniform(-0.7, 0.7, tuple(p.shape))))
    return model


def loss_fn(output, target):
    return ((output - target) ** 2).mean()


def flat(tensors):
    return [float(v) for t in tensors for v in t.detach().reshape(-1).tolist()]


def data(n):
    g = np.random.default_rng(5)
    return [(torch.tensor(g.normal(size=(n, 3))), torch.tensor(g.normal(size=(n, 1))))
            for _ in range(2)]  # fmt: skip


def whole_model(n_microbatches):
    """The whole model on each whole batch: its losses per microbatch (as the schedules report
    them) and its weights after each SGD step, by stage."""
    model, out = net(), {"losses": [], "weights": []}
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in data(2 * n_microbatches):
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        with torch.no_grad():
            out["losses"].append([loss_fn(model(a), b).item() for a, b in
                                  zip(x.tensor_split(n_microbatches), y.tensor_split(n_microbatches))])  # fmt: skip
        opt.step()
        out["weights"].append([flat(model[a:b].parameters()) for a, b in STAGES])
    return out


def pipelined(rank, kind, n_microbatches):
    """The 4-stage pipeline under ``kind``: the last rank's losses and output shapes, and each
    local stage's weights after each step."""
    from torch.distributed.pipelining import PipelineStage

    model, world = net(), dist.get_world_size()
    parts = [model[a:b] for a, b in STAGES[rank::world]]
    stages = [PipelineStage(p, rank + world * k, len(STAGES), torch.device("cpu"))
              for k, p in enumerate(parts)]  # fmt: skip
    schedule = kind(stages, n_microbatches, loss_fn=loss_fn)
    opt = torch.optim.SGD([p for part in parts for p in part.parameters()], lr=0.1)
    out = {"losses": [], "shapes": [], "weights": []}
    for x, y in data(2 * n_microbatches):
        opt.zero_grad()
        if rank == 0:
            out["shapes"].append(schedule.step(x))
        else:
            losses = []
            out["shapes"].append(list(schedule.step(target=y, losses=losses).shape))
            out["losses"].append([v.item() for v in losses])
        opt.step()
        out["weights"].append([flat(p.parameters()) for p in parts])
    return out


def meshes():
    """Each 3-d mesh of the 2 ranks (``pp``, ``dp``, ``tp``): its slices by one, two and three
    names (in and out of order), flattened slices and the root sliced by their names."""
    from torch.distributed.device_mesh import init_device_mesh

    out = {}
    for shape in ((2, 1, 1), (1, 2, 1), (1, 1, 2)):
        mesh = init_device_mesh("cpu", shape, mesh_dim_names=("pp", "dp", "tp"))
        r = {"mesh": mesh.mesh.tolist(), "coord": list(mesh.get_coordinate())}
        for names in (("dp", "tp"), ("pp", "tp"), ("tp", "pp"), ("pp",), ("pp", "dp", "tp")):
            sub = mesh[names]
            r["/".join(names)] = [sub.mesh.tolist(), list(sub.mesh_dim_names)]
        flat = mesh["dp", "tp"]._flatten()
        r["flat"] = [flat.mesh.tolist(), list(flat.mesh_dim_names), flat.get_coordinate()]
        r["root_flat"] = [mesh["dp_tp"].mesh.tolist(), list(mesh["dp_tp"].mesh_dim_names)]
        pd = mesh["pp", "dp"]._flatten("pd")
        r["root_pd"] = [mesh["pd"].mesh.tolist(), pd.size(), pd.get_local_rank()]
        r["both"] = mesh["pd", "tp"].mesh.tolist()
        r["whole"] = mesh._flatten().mesh.tolist()
        try:
            mesh["tp"]._flatten("pp")
        except ValueError as e:
            r["taken"] = str(e).split(" for ")[0].strip("('\"")
        out[str(shape)] = r
    return out


def main():
    from torch.distributed.pipelining import ScheduleInterleaved1F1B, ScheduleLoopedBFS

    dist.init_process_group("gloo")
    rank, out = dist.get_rank(), {}
    for n in (2, 4, 6):
        out[f"whole_{n}"] = whole_model(n)
    out["bfs_4"] = pipelined(rank, ScheduleLoopedBFS, 4)
    for n in (2, 4, 6):
        out[f"interleaved_{n}"] = pipelined(rank, ScheduleInterleaved1F1B, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (PyTorch's: slicing a flattened name from the root)
        out["meshes"] = meshes()
    everyone = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, out)
    if rank == 0:
        with open(sys.argv[1], "w") as f:
            json.dump(everyone, f)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
