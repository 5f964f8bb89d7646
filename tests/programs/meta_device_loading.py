"""The "Tips for loading an nn.Module from a checkpoint" recipe: build the model on the meta
device (``with torch.device("meta")``: no memory, no initialization), ``torch.load`` the
checkpoint with ``mmap=True`` and ``weights_only=True``, and ``load_state_dict(..., assign=True)``
so the loaded tensors become the parameters; also ``to_empty`` then an ordinary load, and
``torch.nn.utils.skip_init``; the loaded models compared with the trained original."""

import os
import tempfile

import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(6, 16), nn.LayerNorm(16), nn.GELU())
        self.bn = nn.BatchNorm1d(16)
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        return self.head(self.bn(self.encoder(x)))


torch.manual_seed(14)
model = Net()
x, y = torch.randn(32, 6), torch.randint(0, 3, (32,))
opt = torch.optim.Adam(model.parameters(), lr=0.01)
for _ in range(5):
    opt.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
model.eval()
with torch.no_grad():
    reference = model(x)
path = os.path.join(tempfile.mkdtemp(), "checkpoint.pt")
torch.save(model.state_dict(), path)

with torch.device("meta"):
    meta_model = Net()
meta_info = (meta_model.head.weight.device.type, meta_model.head.weight.is_meta)
state_dict = torch.load(path, mmap=True, weights_only=True)
meta_model.load_state_dict(state_dict, assign=True)
meta_model.eval()
with torch.no_grad():
    assigned_gap = (meta_model(x) - reference).abs().max().item()
assigned_info = (
    meta_model.head.weight.device.type,
    type(meta_model.head.weight).__name__,
    meta_model.head.weight.requires_grad,
    int(meta_model.bn.num_batches_tracked),
)

with torch.device("meta"):
    empty_model = Net()
empty_model = empty_model.to_empty(device="cpu")
missing = empty_model.load_state_dict(torch.load(path, weights_only=True))
empty_model.eval()
with torch.no_grad():
    empty_gap = (empty_model(x) - reference).abs().max().item()
missing_keys = (list(missing.missing_keys), list(missing.unexpected_keys))

lazy = torch.nn.utils.skip_init(nn.Linear, 6, 16)
lazy.load_state_dict(
    {k[len("encoder.0.") :]: v for k, v in state_dict.items() if k.startswith("encoder.0.")}
)
skip_gap = (lazy(x) - model.encoder[0](x)).abs().max().item()
state_keys = sorted(state_dict)
reference_sample = reference[:2].flatten().tolist()
