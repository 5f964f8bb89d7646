"""More of the ``torch.export`` tutorial: keyword inputs and dict/tuple outputs, a dynamic
sequence length shared by two inputs, ``Dim.AUTO``, dynamic shapes given as a tuple,
``strict=False``, ``run_decompositions``, the module of an exported program used in a training
loop of the original module's parameters (``ep.module()`` shares them), and guard messages."""

import torch
import torch.nn as nn
from torch.export import Dim, export


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 8)
        self.proj = nn.Linear(8, 8)
        self.register_buffer("scale", torch.tensor(0.5))

    def forward(self, tokens, mask, *, temperature=1.0):
        h = torch.tanh(self.proj(self.embed(tokens))) * self.scale
        h = h * mask.unsqueeze(-1)
        pooled = h.sum(1) / mask.sum(1, keepdim=True)
        return {"hidden": h, "pooled": pooled / temperature}, pooled.norm(dim=-1)


torch.manual_seed(8)
enc = Encoder()
tokens = torch.randint(0, 20, (2, 5))
mask = torch.ones(2, 5)
seq = Dim("seq", min=2, max=32)
ep = export(
    enc,
    (tokens, mask),
    {"temperature": 2.0},
    dynamic_shapes={"tokens": {1: seq}, "mask": {1: seq}, "temperature": None},
)
user_inputs = list(ep.graph_signature.user_inputs)
buffers = list(ep.graph_signature.buffers)
n_outputs = len(ep.graph_signature.user_outputs)
results = []
for length in (2, 9, 32):
    t, m = torch.randint(0, 20, (2, length)), (torch.rand(2, length) > 0.3).float()
    m[:, 0] = 1.0
    got, norm = ep.module()(t, m, temperature=2.0)
    want, want_norm = enc(t, m, temperature=2.0)
    results.append(
        [
            sorted(got),
            list(got["hidden"].shape),
            (got["pooled"] - want["pooled"]).abs().max().item(),
            (norm - want_norm).abs().max().item(),
        ]
    )
errors = []
for bad in ((torch.randint(0, 20, (2, 40)), torch.ones(2, 40)), (tokens, torch.ones(2, 6))):
    try:
        ep.module()(*bad, temperature=2.0)
        errors.append(None)
    except AssertionError as e:
        errors.append(str(e).splitlines()[0])

auto = export(
    enc, (tokens, mask), dynamic_shapes=({0: Dim.AUTO, 1: Dim.AUTO}, (Dim.AUTO, Dim.AUTO))
)
auto_out = auto.module()(torch.randint(0, 20, (3, 4)), torch.ones(3, 4))[1]
auto_shape = list(auto_out.shape)
loose = export(enc, (tokens, mask), strict=False).run_decompositions()
loose_gap = (loose.module()(tokens, mask)[1] - enc(tokens, mask)[1]).abs().max().item()

trained = ep.module()
opt = torch.optim.SGD(trained.parameters(), lr=0.1)
losses = []
for step in range(3):
    opt.zero_grad()
    out, norm = trained(tokens, mask, temperature=2.0)
    loss = (norm - 1.0).pow(2).mean()
    loss.backward()
    opt.step()
    losses.append(loss.item())
shares_parameters = enc.proj.weight.data_ptr() == trained.proj.weight.data_ptr()
