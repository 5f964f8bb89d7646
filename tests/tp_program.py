"""A tensor-parallel program written for PyTorch (tests/test_tensor_parallel.py runs it with
torchrun on gloo, and on minigrad with ``python -m minigrad.distributed.run -n 2 -m
minigrad.as_torch``): a small transformer layer whose embedding is rowwise (vocabulary
sharded), attention q/k/v colwise and o rowwise, MLP colwise then rowwise (a DTensor between
them), head colwise gathered to Replicate; the same with sequence parallelism (the
residual stream and the norm on sequence shards); with ``loss_parallel`` (the logits
sharded into the loss); AdamW steps next to the same model
unsharded in each process. Rank 0 writes losses, first gradients and final weights as JSON to argv[1]."""

import contextlib
import json
import sys

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor import DTensor, Replicate, Shard
from torch.distributed.tensor.parallel import (
    ColwiseParallel,
    PrepareModuleInput,
    RowwiseParallel,
    SequenceParallel,
    loss_parallel,
    parallelize_module,
)

V, D, HEADS, B, T = 10, 8, 2, 2, 4  # (sequence shards must be even, as in PyTorch)


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.v, self.o = (nn.Linear(D, D) for _ in range(3))
        self.k = nn.Linear(D, D, bias=False)  # (a key bias gets no gradient: softmax drops it)

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = (
            f(x).view(b, t, -1, D // HEADS).transpose(1, 2) for f in (self.q, self.k, self.v)
        )
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.o(a.transpose(1, 2).reshape(b, t, -1))  # (-1: this rank's heads)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(D, 2 * D), nn.Linear(2 * D, D)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb, self.attn, self.norm = nn.Embedding(V, D), Attention(), nn.LayerNorm(D)
        self.mlp, self.head = MLP(), nn.Linear(D, V)

    def forward(self, ids):
        h = self.emb(ids)
        h = h + self.attn(h)
        return self.head(h + self.mlp(self.norm(h)))


PLAN = {
    "emb": RowwiseParallel(input_layouts=Replicate()),
    "attn.[qkv]": ColwiseParallel(),
    "attn.o": RowwiseParallel(),
    "mlp": PrepareModuleInput(input_layouts=Replicate(), desired_input_layouts=Replicate()),
    "mlp.fc1": ColwiseParallel(use_local_output=False),  # a DTensor through gelu
    "mlp.fc2": RowwiseParallel(),
    "head": ColwiseParallel(output_layouts=Replicate()),
}

# Sequence parallelism: the residual stream sharded on the sequence, the norm on its shards.
SP_PLAN = {
    "emb": RowwiseParallel(input_layouts=Replicate(), output_layouts=Shard(1)),
    "attn": PrepareModuleInput(input_layouts=Shard(1), desired_input_layouts=Replicate()),
    "attn.[qkv]": ColwiseParallel(),
    "attn.o": RowwiseParallel(output_layouts=Shard(1)),
    "norm": SequenceParallel(),
    "mlp.fc1": ColwiseParallel(input_layouts=Shard(1)),
    "mlp.fc2": RowwiseParallel(output_layouts=Shard(1)),
    "head": ColwiseParallel(input_layouts=Shard(1), output_layouts=Replicate()),
}

# loss_parallel: the logits stay sharded on the vocabulary into the loss.
LP_PLAN = dict(PLAN, head=ColwiseParallel(use_local_output=False))


def full(t):
    return (t.full_tensor() if isinstance(t, DTensor) else t).detach().numpy().tolist()


def main():
    dist.init_process_group("gloo")
    mesh = init_device_mesh("cpu", (dist.get_world_size(),))
    rng = np.random.default_rng(0)
    ref = Net().double()
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.4))
    model, sp, lp = Net().double(), Net().double(), Net().double()
    for net, plan in ((model, PLAN), (sp, SP_PLAN), (lp, LP_PLAN)):
        net.load_state_dict(ref.state_dict())
        parallelize_module(net, mesh, plan)
    out = {"placements": {n: str(p.placements) for n, p in model.named_parameters()
                          if isinstance(p, DTensor)}}  # fmt: skip
    out["sp_placements"] = {n: str(p.placements) for n, p in sp.named_parameters()}
    batches = [torch.tensor(rng.integers(0, V, (B, T))) for _ in range(3)]
    for name, net in (("tp", model), ("sp", sp), ("lp", lp), ("ref", ref)):
        opt = torch.optim.AdamW(net.parameters(), lr=0.05, foreach=False)
        losses = []
        for step, ids in enumerate(batches):
            opt.zero_grad()
            with loss_parallel() if name == "lp" else contextlib.nullcontext():
                labels = ids.roll(-1, 1).masked_fill(ids == 3, -100)  # (some ignored)
                loss = F.cross_entropy(net(ids).flatten(0, 1), labels.flatten(0, 1))
                loss.backward()
            if name == "lp":
                out["lp_loss_placements"] = str(loss.placements)
                loss = loss.full_tensor()
            if step == 0:
                out[f"{name}_grads"] = {n: full(p.grad) for n, p in net.named_parameters()}
            opt.step()
            losses.append(loss.item())
        out[f"{name}_losses"] = losses
        out[f"{name}_weights"] = {n: full(p) for n, p in net.named_parameters()}
    if dist.get_rank() == 0:
        json.dump(out, open(sys.argv[1], "w"))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
