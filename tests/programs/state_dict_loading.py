"""Loading weights as fine-tuning scripts do: ``load_state_dict(strict=False)`` and its
``missing_keys``/``unexpected_keys`` report when a classifier head is swapped, key renaming
for a wrapped model (``module.`` prefixes), the size-mismatch error message, ``assign=True``
loading into a model built on the ``meta`` device (the loaded tensors become the parameters),
``torch.load(..., weights_only=True, mmap=True)`` from a file, ``map_location``, and the
module hooks ``register_load_state_dict_post_hook`` / ``register_state_dict_pre_hook``; the
reloaded model is fine-tuned and its losses compared."""

import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F


class Backbone(nn.Module):
    def __init__(self, classes=5):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(8, 24), nn.LayerNorm(24), nn.GELU())
        self.head = nn.Linear(24, classes)
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))

    def forward(self, x):
        self.calls += 1
        return self.head(self.features(x))


torch.manual_seed(0)
pretrained = Backbone()
x = torch.randn(40, 8)
pretrained(x)
tmp = tempfile.mkdtemp()
path = os.path.join(tmp, "backbone.pt")
torch.save(pretrained.state_dict(), path)

loaded = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
key_list = list(loaded.keys())
calls_value = int(loaded["calls"])

seen = []
target = Backbone(classes=3)
handle = target.register_load_state_dict_post_hook(
    lambda module, keys: seen.append((sorted(keys.missing_keys), sorted(keys.unexpected_keys)))
)
try:
    target.load_state_dict(loaded)
    size_error = "no error"
except RuntimeError as e:
    size_error = [line.strip() for line in str(e).splitlines()]
backbone_only = {k: v for k, v in loaded.items() if not k.startswith("head.")}
backbone_only["extra.scale"] = torch.ones(1)
report = target.load_state_dict(backbone_only, strict=False)
report_fields = [sorted(report.missing_keys), sorted(report.unexpected_keys)]
report_repr_start = repr(report).split("(")[0]
handle.remove()
copied = torch.equal(target.features[0].weight, pretrained.features[0].weight)

wrapped = {"module." + k: v for k, v in loaded.items()}  # as DataParallel checkpoints are
renamed = {k.removeprefix("module."): v for k, v in wrapped.items()}
clean = Backbone()
strict_result = clean.load_state_dict(renamed)
strict_fields = [list(strict_result.missing_keys), list(strict_result.unexpected_keys)]

with torch.device("meta"):
    lazy = Backbone()
meta_before = lazy.head.weight.is_meta
source = {k: v.clone() for k, v in loaded.items()}
lazy.load_state_dict(source, assign=True)
assigned = [
    lazy.head.weight.is_meta,
    lazy.head.weight.data_ptr() == source["head.weight"].data_ptr(),
    isinstance(lazy.head.weight, nn.Parameter),
    lazy.head.weight.requires_grad,
]

pre_hook_calls = []
lazy.register_state_dict_pre_hook(lambda module, prefix, keep_vars: pre_hook_calls.append(prefix))
saved_keys = list(lazy.state_dict().keys())

torch.manual_seed(1)
target.head.reset_parameters()
opt = torch.optim.Adam([p for p in target.parameters() if p.requires_grad], lr=1e-2)
labels = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
losses = []
for _ in range(15):
    loss = F.cross_entropy(target(x), labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
lazy_out = lazy(x[:4]).sum().item()
pretrained_out = pretrained(x[:4]).sum().item()
del loaded
os.remove(path)
os.rmdir(tmp)
