"""A PyTorch program on 2 ranks for ``ZeroRedundancyOptimizer``, the FQN-keyed optimizer state
dicts of ``torch.distributed.checkpoint.state_dict``, ``dcp.save``/``dcp.load`` of an FSDP2
model with its optimizer and FSDP2 on 2-d meshes (HSDP). tests/test_dist20.py runs it with
minigrad's launcher under ``minigrad.as_torch``; tests/data/make_dist20_reference.py ran it
with PyTorch's torchrun on gloo and keeps PyTorch's results in
tests/data/dist20_reference.json.

``python dist20_program.py OUT.json FOLDER``: rank 0 writes the results to OUT.json; the
checkpoints go under FOLDER. ``one_process_before``/``one_process_after`` are the single-process
halves run beside the job (no process group): a checkpoint saved in one process that the job
loads into its 2-rank FSDP2 model (1 → 2 ranks), and the job's 2-rank checkpoint loaded into a
plain model in one process (2 → 1).
"""

import copy
import json
import sys
import warnings

import numpy as np
import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from torch import nn
from torch.distributed.algorithms.join import Join
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_optimizer_state_dict,
    get_state_dict,
    set_model_state_dict,
    set_optimizer_state_dict,
    set_state_dict,
)
from torch.distributed.fsdp import fully_shard
from torch.distributed.optim import ZeroRedundancyOptimizer
from torch.nn.parallel import DistributedDataParallel as DDP

FULL = StateDictOptions(full_state_dict=True)
LR = 0.05


def net(seed):
    """A small MLP whose weights come from NumPy (the same under PyTorch and minigrad); the
    linear layers have 20, 24 and 5 parameters, so ZeRO's partition is not the order."""
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 1))
    g = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.tensor(g.uniform(-0.5, 0.5, tuple(p.shape)), dtype=torch.float32))
    return model


def sharded(seed, mesh=None):
    """``net(seed)`` with each linear layer, then the root, ``fully_shard``-ed (over ``mesh``:
    the world's 1-d mesh by default)."""
    model = net(seed)
    for i in (0, 2, 4):
        fully_shard(model[i], mesh=mesh)
    fully_shard(model, mesh=mesh)
    return model


def batch(step, rank):
    g = np.random.default_rng(100 + 10 * step + rank)
    x, y = g.normal(size=(4, 3)), g.normal(size=(4, 1))
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)


def train(model, opt, steps, ranks, start=0, norms=None):
    """``steps`` steps on the batches of ``ranks`` (a rank's own, or all of them at once in one
    process); the losses. With a list ``norms``, gradients are clipped to norm 0.5 and their
    norms appended."""
    losses = []
    for step in range(start, start + steps):
        parts = [batch(step, r) for r in ranks]
        x, y = torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        if norms is not None:
            norms.append(float(nn.utils.clip_grad_norm_(model.parameters(), 0.5).full_tensor()))
        opt.step()
        losses.append(loss.item())
    return losses


def flat(tensors):
    return [float(v) for t in tensors for v in t.detach().reshape(-1).tolist()]


def full_weights(model):
    return {k: flat([v]) for k, v in get_model_state_dict(model, options=FULL).items()}


def zero(rank, out):
    """ZeRO with DDP against DDP with Adam; its partition, consolidated state dict, loading,
    add_param_group, and uneven inputs under Join (a joined rank still steps its part)."""
    plain = DDP(net(0))
    plain_opt = torch.optim.Adam(plain.parameters(), lr=LR)
    model = DDP(net(0))
    opt = ZeroRedundancyOptimizer(model.parameters(), torch.optim.Adam, lr=LR)
    index = {id(p): i for i, p in enumerate(model.parameters())}

    def partition():
        return [[[index[id(p)] for p in g["params"]] for g in groups]
                for groups in opt._partition_parameters()]  # fmt: skip

    out["zero_partition"] = partition()
    out["zero_losses"] = train(model, opt, 3, [rank])
    out["ddp_adam_losses"] = train(plain, plain_opt, 3, [rank])
    out["zero_weights"] = flat(model.parameters())
    out["ddp_adam_weights"] = flat(plain.parameters())
    counts = [None] * dist.get_world_size()
    dist.all_gather_object(counts, len(opt.optim.state))
    out["zero_local_states"] = counts
    out["zero_group_keys"] = sorted(opt.param_groups[0])
    opt.consolidate_state_dict(to=0)
    if rank == 0:
        sd = opt.state_dict()
        out["zero_state_keys"] = sorted(sd["state"])
        out["zero_state_names"] = sorted(sd["state"][0])
        out["zero_steps"] = [float(s["step"]) for s in sd["state"].values()]
        out["zero_exp_avg_0"] = flat([sd["state"][0]["exp_avg"]])
        out["zero_group_params"] = [g["params"] for g in sd["param_groups"]]
    else:
        sd = None
        try:
            opt.state_dict()
        except RuntimeError as e:
            out["zero_unconsolidated"] = str(e)
    box = [sd]
    dist.broadcast_object_list(box, src=0)
    twin = DDP(net(1))
    twin.load_state_dict(model.state_dict())
    twin_opt = ZeroRedundancyOptimizer(twin.parameters(), torch.optim.Adam, lr=0.2)
    twin_opt.load_state_dict(copy.deepcopy(box[0]))  # (PyTorch's would share its tensors)
    out["zero_loaded_lr"] = twin_opt.param_groups[0]["lr"]
    out["zero_after_load"] = [train(model, opt, 1, [rank], 3), train(twin, twin_opt, 1, [rank], 3)]
    out["zero_after_load_weights"] = [flat(model.parameters()), flat(twin.parameters())]
    extra = nn.Parameter(torch.ones(30))
    index[id(extra)] = len(index)
    opt.add_param_group({"params": [extra], "lr": 0.01})
    out["zero_partition_added"] = partition()
    out["zero_local_groups"] = len(opt.optim.param_groups)
    joined = DDP(net(0))
    joined_opt = ZeroRedundancyOptimizer(joined.parameters(), torch.optim.Adam, lr=LR)
    with Join([joined, joined_opt]):  # rank 0 runs out of batches first
        out["zero_join_losses"] = train(joined, joined_opt, 1 + 2 * rank, [rank])
    out["zero_join_weights"] = flat(joined.parameters())


def state_dicts(rank, out):
    """FQN-keyed optimizer state dicts of a DDP model and of an FSDP2 model (full ones too),
    and full state dicts loaded into other FSDP2 models (also broadcast from rank 0)."""
    ddp = DDP(net(1))
    groups = [{"params": ddp.module[0].parameters()}, {"params": ddp.module[2].parameters(),
              "lr": 0.1}, {"params": ddp.module[4].parameters()}]  # fmt: skip
    opt = torch.optim.Adam(groups, lr=LR)
    osd = get_optimizer_state_dict(ddp, opt)
    out["ddp_model_keys"] = list(get_model_state_dict(ddp))
    out["ddp_state"] = {k: sorted(v) for k, v in osd["state"].items()}
    out["ddp_steps"] = [float(s["step"]) for s in osd["state"].values()]
    out["ddp_groups"] = [[g["params"], g["lr"], sorted(g)] for g in osd["param_groups"]]
    model = sharded(2)
    opt = torch.optim.AdamW(model.parameters(), lr=LR)
    train(model, opt, 2, [rank])
    offloaded = get_optimizer_state_dict(
        model, opt, options=StateDictOptions(full_state_dict=True, cpu_offload=True)
    )
    if rank == 0:
        state = offloaded["state"]
        out["fsdp_full_types"] = sorted(
            {type(v).__name__ for s in state.values() for v in s.values()}
        )
        out["fsdp_full_exp_avg"] = flat(
            [state["0.weight"]["exp_avg"], state["4.bias"]["exp_avg_sq"]]
        )
    else:
        out["fsdp_full_rank1"] = offloaded
    sharded_osd = get_optimizer_state_dict(model, opt)
    out["fsdp_sharded_types"] = sorted(
        {type(v).__name__ for s in sharded_osd["state"].values() for v in s.values()}
    )
    full_osd = get_optimizer_state_dict(model, opt, options=FULL)
    full_msd = get_model_state_dict(model, options=FULL)
    other = sharded(3)
    other_opt = torch.optim.AdamW(other.parameters(), lr=LR)
    # (copies: PyTorch's set_state_dict puts shards into the dicts it is given, and its loaded
    # optimizer keeps the given step tensors, here opt's own)
    mine = [copy.deepcopy(full_msd), copy.deepcopy(full_osd)] if rank == 0 else [{}, {}]
    set_state_dict(other, other_opt, model_state_dict=full_msd,
                   optim_state_dict=copy.deepcopy(full_osd), options=FULL)  # fmt: skip
    bcast = sharded(8)  # rank 0's full state dicts broadcast (the others pass empty ones)
    bcast_opt = torch.optim.AdamW(bcast.parameters(), lr=LR)
    from_rank0 = StateDictOptions(full_state_dict=True, broadcast_from_rank0=True)
    set_model_state_dict(bcast, mine[0], options=from_rank0)  # (set_state_dict: PyTorch's hangs)
    set_optimizer_state_dict(bcast, bcast_opt, mine[1], options=from_rank0)
    out["fsdp_set_full"] = [train(model, opt, 1, [rank], 2), train(other, other_opt, 1, [rank], 2),
                            train(bcast, bcast_opt, 1, [rank], 2)]  # fmt: skip
    out["fsdp_set_full_weights"] = [full_weights(model), full_weights(other), full_weights(bcast)]


def checkpoints(rank, out, folder):
    """dcp.save of an FSDP2 model and its AdamW from 2 ranks (also with a flattened optimizer
    state dict); loaded into other FSDP2 models (2 → 2), and the one-process checkpoint of
    ``one_process_before`` loaded here (1 → 2)."""
    model = sharded(2)
    opt = torch.optim.AdamW(model.parameters(), lr=LR)
    train(model, opt, 2, [rank])
    msd, osd = get_state_dict(model, opt)
    dcp.save({"model": msd, "optim": osd}, checkpoint_id=f"{folder}/two")
    flat_options = StateDictOptions(flatten_optimizer_state_dict=True)
    flat_osd = get_optimizer_state_dict(model, opt, options=flat_options)
    dcp.save({"model": msd, "optim": flat_osd}, checkpoint_id=f"{folder}/flat")
    out["dcp_keys"] = sorted(
        dcp.FileSystemReader(f"{folder}/two").read_metadata().state_dict_metadata
    )
    out["dcp_saved_weights"] = full_weights(model)
    saved_osd = get_optimizer_state_dict(model, opt, options=FULL)["state"]
    out["dcp_saved_exp_avg"] = flat([saved_osd["2.weight"]["exp_avg"]])
    other = sharded(3)
    other_opt = torch.optim.AdamW(other.parameters(), lr=LR)
    msd, osd = get_state_dict(other, other_opt)
    sd = {"model": msd, "optim": osd}
    dcp.load(sd, checkpoint_id=f"{folder}/two")
    set_state_dict(other, other_opt, model_state_dict=sd["model"], optim_state_dict=sd["optim"])
    out["dcp_loaded_weights"] = full_weights(other)
    flat_model = sharded(9)  # the flattened optimizer state dict's checkpoint
    flat_opt = torch.optim.AdamW(flat_model.parameters(), lr=LR)
    sd = {"model": get_model_state_dict(flat_model),
          "optim": get_optimizer_state_dict(flat_model, flat_opt, options=flat_options)}  # fmt: skip
    out["flat_keys"] = sorted(sd["optim"])
    dcp.load(sd, checkpoint_id=f"{folder}/flat")
    set_state_dict(flat_model, flat_opt, model_state_dict=sd["model"], optim_state_dict=sd["optim"],
                   options=flat_options)  # fmt: skip
    out["dcp_after_load"] = [train(model, opt, 1, [rank], 2), train(other, other_opt, 1, [rank], 2),
                             train(flat_model, flat_opt, 1, [rank], 2)]  # fmt: skip
    out["dcp_after_load_weights"] = [full_weights(m) for m in (model, other, flat_model)]
    one = sharded(4)
    one_opt = torch.optim.AdamW(one.parameters(), lr=LR)
    msd, osd = get_state_dict(one, one_opt)
    sd = {"model": msd, "optim": osd}
    dcp.load(sd, checkpoint_id=f"{folder}/one")
    set_state_dict(one, one_opt, model_state_dict=sd["model"], optim_state_dict=sd["optim"])
    out["from_one_weights"] = full_weights(one)
    out["from_one_step"] = train(one, one_opt, 1, [rank], 2)
    out["from_one_step_weights"] = full_weights(one)


def hsdp(rank, out):
    """FSDP2 on 2-d meshes (HSDP: (replicate, shard)) of (1, 2) and (2, 1), against FSDP2 on
    the 1-d mesh: placements, local shapes, losses, clipped gradient norms and weights."""
    from torch.distributed.device_mesh import init_device_mesh

    model = sharded(7)
    opt = torch.optim.AdamW(model.parameters(), lr=LR)
    out["fsdp_norms"] = []
    out["fsdp_losses"] = train(model, opt, 2, [rank], norms=out["fsdp_norms"])
    out["fsdp_weights"] = full_weights(model)
    for shape in ((1, 2), (2, 1)):
        mesh = init_device_mesh("cpu", shape, mesh_dim_names=("replicate", "shard"))
        model = sharded(7, mesh)
        opt = torch.optim.AdamW(model.parameters(), lr=LR)
        w = model[2].weight
        case = f"hsdp_{shape[0]}x{shape[1]}"
        norms = []
        out[case] = {
            "placements": [str(p) for p in w.placements],
            "local_rows": w.to_local().shape[0],
            "losses": train(model, opt, 2, [rank], norms=norms),
            "norms": norms,
            "weights": full_weights(model),
            "grad_placements": [str(p) for p in w.grad.placements],
        }


def one_process_before(folder):
    """A plain model trained 2 steps on both ranks' batches in one process, saved with its
    AdamW by dcp.save (no process group); its next step, for the job's 1 → 2 load."""
    model = net(5)
    opt = torch.optim.AdamW(model.parameters(), lr=LR)
    train(model, opt, 2, [0, 1])
    msd, osd = get_state_dict(model, opt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (PyTorch's: no process group, saved from this one)
        dcp.save({"model": msd, "optim": osd}, checkpoint_id=f"{folder}/one")
    return {
        "weights": full_weights(model),
        "next_loss": train(model, opt, 1, [0, 1], 2),
        "next_weights": full_weights(model),
    }


def one_process_after(folder):
    """The job's 2-rank checkpoint loaded into a plain model and its AdamW in one process."""
    model = net(6)
    opt = torch.optim.AdamW(model.parameters(), lr=LR)
    msd, osd = get_state_dict(model, opt)
    sd = {"model": msd, "optim": osd}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dcp.load(sd, checkpoint_id=f"{folder}/two")
    set_state_dict(model, opt, model_state_dict=sd["model"], optim_state_dict=sd["optim"])
    state = get_optimizer_state_dict(model, opt)["state"]
    return {"weights": full_weights(model), "exp_avg": flat([state["2.weight"]["exp_avg"]])}


def main():
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    out = {}
    zero(rank, out)
    state_dicts(rank, out)
    checkpoints(rank, out, sys.argv[2])
    hsdp(rank, out)
    everyone = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, out)
    if rank == 0:
        with open(sys.argv[1], "w") as f:
            json.dump(everyone, f)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
