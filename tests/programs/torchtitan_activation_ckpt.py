"""Activation checkpointing as torchtitan and FSDP recipes apply it: transformer blocks wrapped
with ``checkpoint_wrapper(block, preserve_rng_state=False)`` (full AC), every second block only
(torchtitan's ``selective_ac_option="2"``), ``apply_activation_checkpointing`` with a
``check_fn``, a ``context_fn`` handing ``checkpoint`` a pair of context managers (the MoE-style
trick of not counting router statistics again while recomputing), and
``checkpoint(..., use_reentrant=False)`` on a block with dropout (the RNG state is restored, so
the recomputed masks match); every variant's loss and gradients equal the plain model's, and
state dicts load across wrapped and unwrapped models."""

import contextlib

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import (
    CheckpointWrapper,
    apply_activation_checkpointing,
    checkpoint_wrapper,
)
from torch.utils.checkpoint import checkpoint

torch.manual_seed(0)
DIM = 16
router_counts = []
recomputing = [False]


class Block(nn.Module):
    def __init__(self, dropout=0.0):
        super().__init__()
        self.norm = nn.LayerNorm(DIM)
        self.router = nn.Linear(DIM, 2, bias=False)
        self.experts = nn.ModuleList(nn.Linear(DIM, DIM) for _ in range(2))
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        h = self.norm(x)
        gates = self.router(h).softmax(-1)
        if not recomputing[0]:
            router_counts.append(gates.argmax(-1).flatten().bincount(minlength=2).tolist())
        mixed = sum(gates[..., i : i + 1] * F.gelu(e(h)) for i, e in enumerate(self.experts))
        return x + self.drop(mixed)


class Model(nn.Module):
    def __init__(self, n_layers=4, dropout=0.0):
        super().__init__()
        self.layers = nn.ModuleDict({str(i): Block(dropout) for i in range(n_layers)})
        self.head = nn.Linear(DIM, 1)

    def forward(self, x):
        for layer in self.layers.values():
            x = layer(x)
        return self.head(x).squeeze(-1)


def run(model, x, y):
    model.zero_grad()
    loss = F.mse_loss(model(x), y)
    loss.backward()
    grads = {
        n.replace("_checkpoint_wrapped_module.", ""): p.grad.clone()
        for n, p in model.named_parameters()
    }
    return loss.item(), grads


x, y = torch.randn(4, 5, DIM), torch.randn(4, 5)
base = Model()
state = base.state_dict()
base_loss, base_grads = run(base, x, y)

full = Model()
full.load_state_dict(state)
for layer_id, block in full.layers.named_children():
    full.layers.register_module(layer_id, checkpoint_wrapper(block, preserve_rng_state=False))
full_loss, full_grads = run(full, x, y)

every_other = Model()
every_other.load_state_dict(state)
for layer_id, block in every_other.layers.named_children():
    if int(layer_id) % 2 == 0:
        every_other.layers.register_module(layer_id, checkpoint_wrapper(block))
other_loss, other_grads = run(every_other, x, y)

applied = Model()
apply_activation_checkpointing(applied, check_fn=lambda m: isinstance(m, Block))
applied.load_state_dict(state)
applied_loss, applied_grads = run(applied, x, y)
wrapped_kinds = [type(m).__name__ for m in applied.layers.values()]
names_match = list(applied_grads) == list(base_grads)
state_keys_match = list(applied.state_dict()) == list(state)


def recompute_flag_context():
    @contextlib.contextmanager
    def recompute():
        recomputing[0] = True
        try:
            yield
        finally:
            recomputing[0] = False

    return contextlib.nullcontext(), recompute()


flagged = Model()
flagged.load_state_dict(state)
for layer_id, block in flagged.layers.named_children():
    flagged.layers.register_module(
        layer_id, CheckpointWrapper(block, context_fn=recompute_flag_context)
    )
router_counts.clear()
flagged_loss, flagged_grads = run(flagged, x, y)
counted_once = len(router_counts)

torch.manual_seed(5)
dropped = Model(n_layers=2, dropout=0.3)
drop_state = dropped.state_dict()
torch.manual_seed(6)
plain_drop_loss, plain_drop_grads = run(dropped, x, y)


class Checkpointed(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        for layer in self.model.layers.values():
            x = checkpoint(layer, x, use_reentrant=False)
        return self.model.head(x).squeeze(-1)


ckpt_drop = Checkpointed(Model(n_layers=2, dropout=0.3))
ckpt_drop.model.load_state_dict(drop_state)
torch.manual_seed(6)
ckpt_drop_loss, ckpt_drop_grads = run(ckpt_drop, x, y)


def max_gap(a, b):
    return max((a[k] - b[k]).abs().max().item() for k in b)


grad_gaps = {
    "full": max_gap(full_grads, base_grads),
    "every_other": max_gap(other_grads, base_grads),
    "applied": max_gap(applied_grads, base_grads),
    "context_fn": max_gap(flagged_grads, base_grads),
    "dropout": max_gap({k[6:]: v for k, v in ckpt_drop_grads.items()}, plain_drop_grads),
}
losses = [base_loss, full_loss, other_loss, applied_loss, flagged_loss]
drop_losses = [plain_drop_loss, ckpt_drop_loss]
head_grad = base_grads["head.weight"][0, :4].tolist()
print(f"losses {losses} gaps {grad_gaps}")
