"""DistributedDataParallel's gradient bucketing, simulated in one process: parameters are
grouped into size-capped buckets in reverse order, each bucket gets one
``torch.autograd.graph.register_multi_grad_hook`` that fires when all its gradients are ready,
flattens them (``torch.cat`` of ``flatten()``), "all-reduces" them by averaging with a second
replica's bucket, and writes the averaged slices back into ``.grad`` with ``copy_``; the
result equals training on the concatenated batch. Per-parameter clipping hooks
(``register_hook``) also shape the gradients that ``torch.autograd.grad`` returns."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(23)
x = randn(rng, 32, 6)
y = (x[:, 0] * x[:, 1] > 0).long()


def make():
    return init_from_numpy(
        nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2)),
        seed=16,
    )


replicas = [make(), make()]
reference = make()
bucket_cap = 300
buckets, current, size = [], [], 0
for p in reversed(list(replicas[0].parameters())):
    current.append(p)
    size += p.numel()
    if size >= bucket_cap:
        buckets.append(current)
        current, size = [], 0
if current:
    buckets.append(current)
bucket_sizes = [sum(p.numel() for p in b) for b in buckets]
index_of = {id(p): i for i, p in enumerate(replicas[0].parameters())}
ready_order, flat = [], {}


def make_hook(replica, bucket_id):
    def hook(grads):
        ready_order.append((replica, bucket_id))
        flat[(replica, bucket_id)] = torch.cat([g.flatten() for g in grads])

    return hook


for r, model in enumerate(replicas):
    params = list(model.parameters())
    for b, bucket in enumerate(buckets):
        own = [params[index_of[id(p)]] for p in bucket]
        torch.autograd.graph.register_multi_grad_hook(own, make_hook(r, b))


def all_reduce_and_write_back():
    for b, bucket in enumerate(buckets):
        averaged = (flat[(0, b)] + flat[(1, b)]) / 2
        offset = 0
        for p in bucket:
            n = p.numel()
            for model in replicas:
                target = list(model.parameters())[index_of[id(p)]]
                target.grad.copy_(averaged[offset : offset + n].view_as(p))
            offset += n


optimizers = [torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9) for m in replicas]
ref_opt = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
losses, ref_losses = [], []
for step in range(15):
    ready_order.clear()
    for r, (model, opt) in enumerate(zip(replicas, optimizers)):
        opt.zero_grad()
        shard = slice(16 * r, 16 * r + 16)
        loss = F.cross_entropy(model(x[shard]), y[shard])
        loss.backward()
        losses.append(loss.item())
    all_reduce_and_write_back()
    for opt in optimizers:
        opt.step()
    ref_opt.zero_grad()
    ref_loss = F.cross_entropy(reference(x), y)
    ref_loss.backward()
    ref_opt.step()
    ref_losses.append(ref_loss.item())
order_last_step = list(ready_order)
replica_gap = max((a - b).abs().max().item() for a, b in zip(*[m.parameters() for m in replicas]))
reference_gap = max(
    (a - b).abs().max().item() for a, b in zip(replicas[0].parameters(), reference.parameters())
)

w = reference[0].weight
clip_handle = w.register_hook(lambda g: g.clamp(-0.01, 0.01))
(grad_w,) = torch.autograd.grad(F.cross_entropy(reference(x), y), [w])
clipped_max = grad_w.abs().max().item()
clip_handle.remove()
(raw_w,) = torch.autograd.grad(F.cross_entropy(reference(x), y), [w])
raw_max = raw_w.abs().max().item()
