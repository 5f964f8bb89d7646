"""torchtitan's parallelism APIs run in one process (a world of one on gloo), as people try them
on a laptop before a cluster: ``init_process_group("gloo")`` with a file rendezvous,
``init_device_mesh("cpu", (1,), mesh_dim_names=("tp",))``, ``distribute_tensor`` with
``Shard(0)`` and ``Replicate()``, ``redistribute``/``to_local``/``full_tensor``, a feed-forward
block split by ``parallelize_module`` with ``ColwiseParallel``/``RowwiseParallel`` and trained
next to an unsplit copy, and ``destroy_process_group`` at the end."""

import os
import tempfile

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor import DTensor, Replicate, Shard, distribute_tensor
from torch.distributed.tensor.parallel import (
    ColwiseParallel,
    RowwiseParallel,
    parallelize_module,
)

torch.manual_seed(0)
tmp = tempfile.mkdtemp()
os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
dist.init_process_group("gloo", init_method=f"file://{tmp}/rendezvous", rank=0, world_size=1)
world = (dist.get_rank(), dist.get_world_size(), dist.is_initialized())

mesh = init_device_mesh("cpu", (1,), mesh_dim_names=("tp",))
mesh_info = (mesh.ndim, mesh.size(), mesh.mesh_dim_names, mesh.device_type)

big = torch.randn(8, 4)
sharded = distribute_tensor(big, mesh, [Shard(0)])
replicated = sharded.redistribute(mesh, [Replicate()])
dtensor_info = (
    isinstance(sharded, DTensor),
    tuple(sharded.shape),
    tuple(sharded.to_local().shape),
    str(sharded.placements[0]),
    str(replicated.placements[0]),
)
roundtrip_equal = torch.equal(replicated.full_tensor(), big)
summed = (sharded * 2).sum().full_tensor().item()


class FeedForward(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.w1 = nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


plain = FeedForward(8, 16)
split = FeedForward(8, 16)
split.load_state_dict(plain.state_dict())
split = parallelize_module(
    split,
    mesh,
    {"w1": ColwiseParallel(), "w2": RowwiseParallel(), "w3": ColwiseParallel()},
)
weight_types = sorted({type(p).__name__ for p in split.parameters()})
w1_placement = str(split.w1.weight.placements[0])
w2_placement = str(split.w2.weight.placements[0])

x = torch.randn(6, 8)
y = torch.randn(6, 8)
opt_plain = torch.optim.AdamW(plain.parameters(), lr=1e-2)
opt_split = torch.optim.AdamW(split.parameters(), lr=1e-2)
plain_losses, split_losses = [], []
for step in range(4):
    for model, opt, losses in ((plain, opt_plain, plain_losses), (split, opt_split, split_losses)):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    print(f"step {step}: plain {plain_losses[-1]:.5f} split {split_losses[-1]:.5f}")

w1_after = split.w1.weight.full_tensor()
max_weight_gap = (w1_after - plain.w1.weight).abs().max().item()
grad_is_dtensor = isinstance(split.w2.weight.grad, DTensor)
dist.destroy_process_group()
finished = dist.is_initialized()
