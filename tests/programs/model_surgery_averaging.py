"""Model surgery and checkpoint tricks as fine-tuning code does them: layers found with
``named_modules`` and replaced by ``setattr`` on their parent (every ReLU by a GELU, a Linear
wrapped by a LoRA adapter that freezes the base), a ``register_buffer``
(persistent and not) added after the fact, ``load_state_dict(strict=False)`` and its
``missing_keys`` / ``unexpected_keys`` report, layer-wise learning-rate decay built from
parameter names into param groups (BEiT/ELECTRA style), and checkpoint averaging: the
``state_dict``s of the last epochs saved to an in-memory buffer and averaged key by key
(integer buffers taken from the last), then loaded into a fresh copy. The Linear layers that
a BatchNorm follows have no bias (its gradient is zero: Adam would amplify rounding noise)."""

import copy
import io

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.fc, self.act = nn.Linear(dim, dim, bias=False), nn.ReLU()
        self.norm = nn.BatchNorm1d(dim)

    def forward(self, x):
        return x + self.act(self.norm(self.fc(x)))


class Net(nn.Module):
    def __init__(self, dim=16, depth=3, classes=3):
        super().__init__()
        self.stem = nn.Linear(5, dim)
        self.blocks = nn.Sequential(*[Block(dim) for _ in range(depth)])
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        return self.head(self.blocks(F.relu(self.stem(x))))


class LoRALinear(nn.Module):
    def __init__(self, base, rank=2, alpha=4.0):
        super().__init__()
        self.base, self.scale = base, alpha / rank
        self.base.requires_grad_(False)
        self.lora_a = nn.Parameter(torch.full((rank, base.in_features), 0.05))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, x):
        return self.base(x) + (x @ self.lora_a.t() @ self.lora_b.t()) * self.scale


def replace_modules(model, predicate, make):
    replaced = []
    for name, module in list(model.named_modules()):
        if name and predicate(module):
            parent_name, _, child = name.rpartition(".")
            parent = model.get_submodule(parent_name)
            setattr(parent, child, make(module))
            replaced.append(name)
    return replaced


def layer_id(name, depth):
    if name.startswith("stem"):
        return 0
    if name.startswith("blocks."):
        return int(name.split(".")[1]) + 1
    return depth + 1


rng = np.random.default_rng(0)
X, y = randn(rng, 128, 5), torch.from_numpy(rng.integers(0, 3, 128))
model = init_from_numpy(Net(), seed=1)
gelus = replace_modules(model, lambda m: isinstance(m, nn.ReLU), lambda m: nn.GELU())
model.register_buffer("class_prior", torch.bincount(y, minlength=3).float() / len(y))
model.register_buffer("scratch", torch.zeros(2), persistent=False)
lora = replace_modules(model, lambda m: m is model.blocks[2].fc, LoRALinear)
state_keys = list(model.state_dict().keys())

decay, groups = 0.5, {}
for name, p in model.named_parameters():
    if p.requires_grad:
        lid = layer_id(name, 3)
        groups.setdefault(lid, {"params": [], "lr": 0.05 * decay ** (4 - lid), "names": []})
        groups[lid]["params"].append(p)
        groups[lid]["names"].append(name)
optimizer = torch.optim.AdamW(list(groups.values()), lr=0.05, weight_decay=0.01)
group_lrs = [g["lr"] for g in optimizer.param_groups]
group_sizes = [len(g["params"]) for g in optimizer.param_groups]

frozen_before = model.blocks[2].fc.base.weight.clone()
snapshots, losses = [], []
for epoch in range(10):
    model.train()
    for i in range(0, 128, 32):
        loss = F.cross_entropy(model(X[i : i + 32]), y[i : i + 32])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    if epoch >= 7:
        buffer = io.BytesIO()
        torch.save(model.state_dict(), buffer)
        snapshots.append(buffer.getvalue())
frozen_unchanged = torch.equal(frozen_before, model.blocks[2].fc.base.weight)

states = [torch.load(io.BytesIO(raw), weights_only=True) for raw in snapshots]
averaged = {}
for key, value in states[-1].items():
    if value.is_floating_point():
        averaged[key] = sum(s[key] for s in states) / len(states)
    else:
        averaged[key] = value.clone()
averaged_model = copy.deepcopy(model)
result = averaged_model.load_state_dict(averaged)
model.eval()
averaged_model.eval()
with torch.no_grad():
    logits_last, logits_avg = model(X), averaged_model(X)
accuracy_last = (logits_last.argmax(1) == y).float().mean().item()
accuracy_avg = (logits_avg.argmax(1) == y).float().mean().item()
num_batches = averaged["blocks.0.norm.num_batches_tracked"].item()

plain = init_from_numpy(Net(), seed=2)
report = plain.load_state_dict(model.state_dict(), strict=False)
missing, unexpected = sorted(report.missing_keys), sorted(report.unexpected_keys)
try:
    plain.load_state_dict(model.state_dict())
    strict_error = None
except RuntimeError as error:
    strict_error = str(error).splitlines()[0]
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
logit_sample = logits_avg[:3].tolist()
report_text = str(report)
