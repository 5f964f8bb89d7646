"""torchtitan's tensor-parallel plan for a Llama model, run on a one-rank mesh as its unit
tests do: ``RowwiseParallel`` embeddings with ``output_layouts=Shard(1)``, ``SequenceParallel``
RMSNorms, ``PrepareModuleInput`` redistributing the sequence-sharded activations to
``Replicate()`` before attention and the feed-forward, ``ColwiseParallel`` q/k/v and w1/w3,
``RowwiseParallel(output_layouts=Shard(1))`` for wo and w2, a ``ColwiseParallel`` output layer
with ``output_layouts=Shard(-1), use_local_output=False`` and the loss computed under
``loss_parallel()``; losses and gradients are compared with the same model unsplit."""

import tempfile

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor import Replicate, Shard
from torch.distributed.tensor.parallel import (
    ColwiseParallel,
    PrepareModuleInput,
    RowwiseParallel,
    SequenceParallel,
    loss_parallel,
    parallelize_module,
)

DIM, HEADS, VOCAB, SEQ = 16, 2, 24, 6


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.wq, self.wk, self.wv, self.wo = (nn.Linear(DIM, DIM, bias=False) for _ in range(4))

    def forward(self, x, freqs):
        bs, seqlen, _ = x.shape
        q, k, v = (w(x).view(bs, seqlen, -1, DIM // HEADS) for w in (self.wq, self.wk, self.wv))
        q = q * freqs
        k = k * freqs
        out = F.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True
        )
        return self.wo(out.transpose(1, 2).contiguous().view(bs, seqlen, -1))


class FeedForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.w1 = nn.Linear(DIM, 32, bias=False)
        self.w2 = nn.Linear(32, DIM, bias=False)
        self.w3 = nn.Linear(DIM, 32, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class TransformerBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention_norm = nn.RMSNorm(DIM, eps=1e-5)
        self.attention = Attention()
        self.ffn_norm = nn.RMSNorm(DIM, eps=1e-5)
        self.feed_forward = FeedForward()

    def forward(self, x, freqs):
        h = x + self.attention(self.attention_norm(x), freqs)
        return h + self.feed_forward(self.ffn_norm(h))


class Transformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok_embeddings = nn.Embedding(VOCAB, DIM)
        self.layers = nn.ModuleDict({str(i): TransformerBlock() for i in range(2)})
        self.norm = nn.RMSNorm(DIM, eps=1e-5)
        self.output = nn.Linear(DIM, VOCAB, bias=False)
        self.register_buffer("freqs", torch.linspace(0.5, 1.5, DIM // HEADS), persistent=False)

    def forward(self, tokens):
        h = self.tok_embeddings(tokens)
        for layer in self.layers.values():
            h = layer(h, self.freqs)
        return self.output(self.norm(h))


def apply_tp(model, tp_mesh):
    parallelize_module(
        model,
        tp_mesh,
        {
            "tok_embeddings": RowwiseParallel(input_layouts=Replicate(), output_layouts=Shard(1)),
            "norm": SequenceParallel(),
            "output": ColwiseParallel(
                input_layouts=Shard(1), output_layouts=Shard(-1), use_local_output=False
            ),
        },
    )
    for block in model.layers.values():
        plan = {
            "attention_norm": SequenceParallel(),
            "attention": PrepareModuleInput(
                input_layouts=(Shard(1), None), desired_input_layouts=(Replicate(), None)
            ),
            "attention.wq": ColwiseParallel(),
            "attention.wk": ColwiseParallel(),
            "attention.wv": ColwiseParallel(),
            "attention.wo": RowwiseParallel(output_layouts=Shard(1)),
            "ffn_norm": SequenceParallel(),
            "feed_forward": PrepareModuleInput(
                input_layouts=(Shard(1),), desired_input_layouts=(Replicate(),)
            ),
            "feed_forward.w1": ColwiseParallel(),
            "feed_forward.w2": RowwiseParallel(output_layouts=Shard(1)),
            "feed_forward.w3": ColwiseParallel(),
        }
        parallelize_module(block, tp_mesh, plan)
    return model


dist.init_process_group(
    "gloo", init_method=f"file://{tempfile.mkdtemp()}/rendezvous", rank=0, world_size=1
)
tp_mesh = init_device_mesh("cpu", (1,), mesh_dim_names=("tp",))

torch.manual_seed(0)
reference = Transformer()
model = Transformer()
model.load_state_dict(reference.state_dict())
apply_tp(model, tp_mesh)
placements = {
    name: str(p.placements[0])
    for name, p in model.named_parameters()
    if name.startswith(("tok_embeddings", "layers.0.attention.w", "norm", "output"))
}

tokens = torch.randint(0, VOCAB, (3, SEQ))
labels = torch.roll(tokens, -1, dims=1)
opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
ref_opt = torch.optim.AdamW(reference.parameters(), lr=1e-2)
losses, ref_losses = [], []
for step in range(3):
    pred = model(tokens)
    pred_info = (type(pred).__name__, str(pred.placements[0]), tuple(pred.shape))
    with loss_parallel():
        loss = F.cross_entropy(pred.flatten(0, 1), labels.flatten(0, 1))
        loss.backward()
    opt.step()
    opt.zero_grad()
    ref_loss = F.cross_entropy(reference(tokens).flatten(0, 1), labels.flatten(0, 1))
    ref_loss.backward()
    ref_opt.step()
    ref_opt.zero_grad()
    losses.append(loss.full_tensor().item() if hasattr(loss, "full_tensor") else loss.item())
    ref_losses.append(ref_loss.item())
    print(f"step {step}: tp loss {losses[-1]:.6f} reference {ref_losses[-1]:.6f}")

weight_gap = max(
    (p.full_tensor() - q).abs().max().item()
    for p, q in zip(model.parameters(), reference.parameters())
)
dist.destroy_process_group()
