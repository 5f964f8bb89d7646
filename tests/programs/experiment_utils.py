"""Training-loop utilities as research code writes them around a model: nested batches
(dicts of tuples of tensors) moved and cast with ``torch.utils._pytree.tree_map``, activation
statistics gathered by forward hooks registered with ``always_call=True`` (they still run when
a bad batch makes forward raise), a module that keeps non-tensor state (a temperature and a
label vocabulary) through ``get_extra_state``/``set_extra_state``, a checkpoint written with
``torch.save`` and read back with ``map_location=lambda storage, loc: storage``, and an
exponential moving average of the weights kept with ``torch._foreach_lerp_``."""

import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn
from torch.utils._pytree import tree_leaves, tree_map

rng = np.random.default_rng(281)


class Calibrated(nn.Module):
    def __init__(self, labels):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, len(labels)))
        self.labels, self.temperature = list(labels), 1.0

    def forward(self, batch):
        features = torch.cat([batch["x"][0], batch["x"][1]], dim=1)
        return self.body(features) / self.temperature

    def get_extra_state(self):
        return {"labels": self.labels, "temperature": self.temperature}

    def set_extra_state(self, state):
        self.labels, self.temperature = state["labels"], state["temperature"]


def make_batch(n):
    return {
        "x": (randn(rng, n, 4).double(), randn(rng, n, 2).double()),
        "y": torch.from_numpy(rng.integers(0, 3, n)),
    }


model = init_from_numpy(Calibrated(["cat", "dog", "eel"]), seed=281)
ema = [p.detach().clone() for p in model.parameters()]
stats = {}


def record(name):
    def hook(module, args, output):
        if output is None:
            stats.setdefault(name + "/failed", 0)
            stats[name + "/failed"] += 1
        else:
            stats.setdefault(name, []).append(round(output.float().abs().mean().item(), 5))

    return hook


for name, module in model.body.named_children():
    module.register_forward_hook(record(name), always_call=True)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
losses = []
for step in range(12):
    batch = tree_map(lambda t: t.float() if t.is_floating_point() else t, make_batch(16))
    loss = F.cross_entropy(model(batch), batch["y"])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    torch._foreach_lerp_(ema, [p.detach() for p in model.parameters()], 0.1)
    losses.append(loss.item())
    if step == 5:
        bad = tree_map(lambda t: t.float() if t.is_floating_point() else t, make_batch(4))
        bad["x"] = (bad["x"][0][:, :3], bad["x"][1])  # a malformed batch: forward raises
        try:
            model(bad)
        except RuntimeError:
            losses.append(-1.0)

model.temperature = 2.0
path = os.path.join(tempfile.mkdtemp(), "checkpoint.pt")
torch.save({"model": model.state_dict(), "ema": ema, "step": 12}, path)
checkpoint = torch.load(path, map_location=lambda storage, loc: storage)
restored = Calibrated(["?", "?", "?"])
restored.load_state_dict(checkpoint["model"])
probe = tree_map(lambda t: t.float() if t.is_floating_point() else t, make_batch(5))
with torch.no_grad():
    same = (restored(probe) - model(probe)).abs().max().item()
extra = (restored.labels, restored.temperature)
state_keys = [k for k in checkpoint["model"] if "extra" in k]
ema_gap = max((e - p).abs().max().item() for e, p in zip(checkpoint["ema"], model.parameters()))
leaf_count = len(tree_leaves(make_batch(2)))
failed_calls = {k: v for k, v in stats.items() if k.endswith("/failed")}
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}; failed hook calls {failed_calls}; extra {extra}")
