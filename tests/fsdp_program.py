"""An FSDP2 program written for PyTorch (tests/test_fsdp.py runs it with torchrun on gloo,
and on minigrad with ``python -m minigrad.distributed.run -n 2 -m minigrad.as_torch``): nested
``fully_shard``, AdamW with ``clip_grad_norm_``, gradient accumulation without sync, mixed
precision, full state dicts; FSDP1 with each sharding strategy. Rank 0 writes losses, norms and full weights as JSON to argv[1]."""

import json
import sys
from functools import partial

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    set_model_state_dict,
)
from torch.distributed.fsdp import (
    FSDPModule,
    FullStateDictConfig,
    MixedPrecisionPolicy,
    ShardingStrategy,
    StateDictType,
    fully_shard,
)
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
from torch.distributed.fsdp.wrap import ModuleWrapPolicy, size_based_auto_wrap_policy

dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, 2 * d + 1)  # 2d+1 rows: uneven shards
        self.fc2 = nn.Linear(2 * d + 1, d)

    def forward(self, x):
        return x + self.fc2(torch.tanh(self.fc1(self.norm(x))))


class Net(nn.Module):
    def __init__(self, d=6, n=2):
        super().__init__()
        self.inp = nn.Linear(3, d)
        self.blocks = nn.ModuleList([Block(d) for _ in range(n)])
        self.out = nn.Linear(d, 1)

    def forward(self, x):
        h = self.inp(x)
        for b in self.blocks:
            h = b(h)
        return self.out(h)


def init(model):
    g = np.random.default_rng(0)
    sd = {
        k: torch.tensor(g.uniform(-0.5, 0.5, tuple(v.shape)).astype(np.float32))
        for k, v in model.state_dict().items()
    }
    model.load_state_dict(sd)


def data(step, n=8):
    g = np.random.default_rng(100 + step)
    x, y = g.normal(size=(n, 3)).astype(np.float32), g.normal(size=(n, 1)).astype(np.float32)
    per = n // world
    return torch.tensor(x[rank * per : (rank + 1) * per]), torch.tensor(
        y[rank * per : (rank + 1) * per]
    )


def shard(model, **kw):
    for b in model.blocks:
        fully_shard(b, **kw)
    fully_shard(model, **kw)


def full(model):
    sd = get_model_state_dict(
        model, options=StateDictOptions(full_state_dict=True, cpu_offload=True)
    )
    return {k: v.double().numpy().tolist() for k, v in sd.items()}


out = {}
# A: AdamW + clip_grad_norm_, 3 steps
torch.manual_seed(0)
m = Net()
init(m)
shard(m)
opt = torch.optim.AdamW(m.parameters(), lr=0.05, weight_decay=0.1)
losses, norms = [], []
for step in range(3):
    x, y = data(step)
    loss = ((m(x) - y) ** 2).mean()
    loss.backward()
    norms.append(float(torch.nn.utils.clip_grad_norm_(m.parameters(), 0.5).full_tensor()))
    opt.step()
    opt.zero_grad()
    total = loss.detach().clone()
    dist.all_reduce(total)
    losses.append(float(total) / world)
out["adamw"] = {
    "losses": losses,
    "norms": norms,
    "weights": full(m),
    "types": [type(m).__name__, type(m.blocks[0]).__name__, isinstance(m, FSDPModule)],
    "local_rows": {k: list(v.to_local().shape) for k, v in m.state_dict().items()},
}
# B: gradient accumulation without sync, SGD momentum, reshard_after_forward=False
m = Net()
init(m)
shard(m, reshard_after_forward=False)
opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
for step in range(2):
    for micro in range(2):
        m.set_requires_gradient_sync(micro == 1)
        x, y = data(10 * step + micro)
        (((m(x) - y) ** 2).mean() / 2).backward()
    opt.step()
    opt.zero_grad()
out["accumulate"] = {"weights": full(m)}
# C: mixed precision (float64 compute, float32 parameters), Adam
m = Net()
init(m)
shard(m, mp_policy=MixedPrecisionPolicy(param_dtype=torch.float64, reduce_dtype=torch.float64))
opt = torch.optim.Adam(m.parameters(), lr=0.05)
for step in range(2):
    x, y = data(step)
    pred = m(x)
    ((pred - y.double()) ** 2).mean().backward()
    opt.step()
    opt.zero_grad()
out["mixed"] = {"weights": full(m), "out_dtype": str(pred.dtype)}
# D: load a full state dict into a sharded model
m2 = Net()
shard(m2)
full_sd = get_model_state_dict(m, options=StateDictOptions(full_state_dict=True))
set_model_state_dict(m2, full_sd, options=StateDictOptions(full_state_dict=True))
out["loaded"] = {"weights": full(m2)}
# E: FSDP1 (flat parameters) with each sharding strategy: no_sync, clipping, summoned writes
for strategy in ("FULL_SHARD", "SHARD_GRAD_OP", "NO_SHARD"):
    m = Net()
    init(m)
    m = FSDP(m, auto_wrap_policy=ModuleWrapPolicy({Block}), device_id=torch.device("cpu"),
             sharding_strategy=ShardingStrategy[strategy])  # fmt: skip
    names = [(k, list(p.shape)) for k, p in m.named_parameters()]
    opt = torch.optim.AdamW(m.parameters(), lr=0.05, weight_decay=0.1)
    norms = []
    for step in range(2):
        with m.no_sync():
            x, y = data(10 + step)
            (((m(x) - y) ** 2).mean() / 2).backward()
        x, y = data(step)
        (((m(x) - y) ** 2).mean() / 2).backward()
        norms.append(float(m.clip_grad_norm_(0.5)))
        opt.step()
        opt.zero_grad()
    with FSDP.summon_full_params(m), torch.no_grad():
        m.out.bias.add_(1.0)
    # (offload_to_cpu=True fails in PyTorch 2.13 on a CPU device: "setStorage ... out of bounds")
    rank0 = FullStateDictConfig(rank0_only=True)
    with FSDP.state_dict_type(m, StateDictType.FULL_STATE_DICT, rank0):
        sd = m.state_dict()
    out[f"fsdp1_{strategy}"] = {
        "names": names, "norms": norms, "rank0_only": len(sd) > 0,
        "weights": {k: v.double().numpy().tolist() for k, v in sd.items()} if rank == 0 else {},
    }  # fmt: skip
m = Net()
m = FSDP(m, auto_wrap_policy=partial(size_based_auto_wrap_policy, min_num_params=40),
         device_id=torch.device("cpu"))  # fmt: skip
out["fsdp1_size_based"] = [(k, list(p.shape)) for k, p in m.named_parameters()]
if rank == 0:
    json.dump(out, open(sys.argv[1], "w"))
dist.destroy_process_group()
