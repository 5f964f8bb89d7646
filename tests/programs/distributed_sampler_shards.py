"""Data-parallel sharding without a process group, as single-machine simulations of DDP write
it: ``DistributedSampler(dataset, num_replicas=3, rank=r, shuffle=True, seed=...)`` per
replica, ``set_epoch`` reshuffling each epoch the same way on every replica, padding to equal
shard lengths (and ``drop_last=True`` trimming instead), shards fed through ``DataLoader``s,
and the replicas' gradients averaged by hand (an all-reduce) before one shared optimizer
step; the averaged step is checked against one step on the union of the shards."""

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

torch.manual_seed(0)
N, REPLICAS = 20, 3
X = torch.randn(N, 5)
Y = X @ torch.randn(5, 1) + 0.1 * torch.randn(N, 1)
dataset = TensorDataset(X, Y, torch.arange(N))

samplers = [
    DistributedSampler(dataset, num_replicas=REPLICAS, rank=r, shuffle=True, seed=7)
    for r in range(REPLICAS)
]
shards = {}
for epoch in range(2):
    for s in samplers:
        s.set_epoch(epoch)
    shards[epoch] = [list(s) for s in samplers]
lengths = [len(s) for s in samplers]
covered = sorted(set(sum(shards[0], [])))
padded = sum(len(x) for x in shards[0]) - N
trimmed = [
    list(DistributedSampler(dataset, num_replicas=REPLICAS, rank=r, shuffle=False, drop_last=True))
    for r in range(REPLICAS)
]

model = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 1))
replicas = [copy.deepcopy(model) for _ in range(REPLICAS)]
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.5)
loaders = [DataLoader(dataset, batch_size=3, sampler=s) for s in samplers]
losses, step_gaps = [], []
for epoch in range(3):
    for s in samplers:
        s.set_epoch(epoch)
    for batches in zip(*loaders):
        for replica in replicas:
            replica.load_state_dict(model.state_dict())
            replica.zero_grad()
        batch_losses = []
        for replica, (x, y, _) in zip(replicas, batches):
            loss = F.mse_loss(replica(x), y)
            loss.backward()
            batch_losses.append(loss.item())
        for p, *copies in zip(model.parameters(), *(r.parameters() for r in replicas)):
            p.grad = torch.stack([c.grad for c in copies]).mean(0)  # the all-reduce
        if epoch == 0 and not step_gaps:  # equal to one step on the union of the shards
            union_x = torch.cat([b[0] for b in batches])
            union_y = torch.cat([b[1] for b in batches])
            check = copy.deepcopy(model)
            check.zero_grad()
            F.mse_loss(check(union_x), union_y).backward()
            step_gaps.append(
                max(
                    (a.grad - b).abs().max().item()
                    for a, b in zip(check.parameters(), [p.grad for p in model.parameters()])
                )
            )
        opt.step()
        losses.append(sum(batch_losses) / REPLICAS)
first_ids = [b[2].tolist() for b in next(iter(zip(*loaders)))]
