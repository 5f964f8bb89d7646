"""A PatchTST-style forecaster (Nie et al. 2023) as its official code and the time-series
libraries write it: reversible instance normalization (RevIN: per-series mean and std, detached,
with a learned affine map undone on the way out), channel independence (each variable becomes
its own sequence), patching with ``nn.ReplicationPad1d`` and ``Tensor.unfold``, a learned
positional embedding, ``nn.TransformerEncoder`` over patches (``enable_nested_tensor=False``,
``norm_first``, GELU), ``src_key_padding_mask`` for series whose first patches are missing, and a
flatten head; trained with Adam on MSE. In eval under ``torch.inference_mode`` an encoder built
with ``enable_nested_tensor=True`` (post-norm) gives the same values at the kept positions and
zeros at the padded ones; a pre-norm stack warns that it cannot take that path."""

import math
import warnings

import torch
import torch.nn as nn

torch.manual_seed(0)
SEQ_LEN, PRED_LEN, N_VARS, PATCH, STRIDE, D_MODEL = 32, 8, 3, 8, 4, 16


class RevIN(nn.Module):
    def __init__(self, num_features, eps=1e-5, affine=True):
        super().__init__()
        self.eps, self.affine = eps, affine
        if affine:
            self.affine_weight = nn.Parameter(torch.ones(num_features))
            self.affine_bias = nn.Parameter(torch.zeros(num_features))

    def forward(self, x, mode):
        if mode == "norm":
            self.mean = torch.mean(x, dim=1, keepdim=True).detach()
            var = torch.var(x, dim=1, keepdim=True, unbiased=False)
            self.stdev = torch.sqrt(var + self.eps).detach()
            x = (x - self.mean) / self.stdev
            return x * self.affine_weight + self.affine_bias if self.affine else x
        if self.affine:
            x = (x - self.affine_bias) / (self.affine_weight + self.eps * self.eps)
        return x * self.stdev + self.mean


class PatchTST(nn.Module):
    def __init__(self):
        super().__init__()
        self.revin = RevIN(N_VARS)
        self.padding = nn.ReplicationPad1d((0, STRIDE))
        self.n_patches = (SEQ_LEN - PATCH) // STRIDE + 2
        self.embed = nn.Linear(PATCH, D_MODEL)
        self.pos = nn.Parameter(torch.empty(1, self.n_patches, D_MODEL).uniform_(-0.02, 0.02))
        layer = nn.TransformerEncoderLayer(
            D_MODEL, 4, 32, dropout=0.1, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(
            layer, 2, norm=nn.LayerNorm(D_MODEL), enable_nested_tensor=False
        )
        self.head = nn.Sequential(nn.Flatten(start_dim=-2), nn.Linear(self.n_patches * D_MODEL, 8))

    def forward(self, x, missing_patches=None):  # x: (batch, seq_len, n_vars)
        x = self.revin(x, "norm").permute(0, 2, 1)  # (batch, n_vars, seq_len)
        patches = self.padding(x).unfold(dimension=-1, size=PATCH, step=STRIDE)
        b, c, n, p = patches.shape
        z = self.embed(patches.reshape(b * c, n, p)) + self.pos
        mask = None
        if missing_patches is not None:  # the first k patches of sample i are padding
            mask = torch.arange(n)[None, :] < missing_patches.repeat_interleave(c)[:, None]
        z = self.encoder(z, src_key_padding_mask=mask)
        out = self.head(z.reshape(b, c, n, -1)).permute(0, 2, 1)  # (batch, pred_len, n_vars)
        return self.revin(out, "denorm")


def make_series(batch):
    t = torch.arange(SEQ_LEN + PRED_LEN, dtype=torch.float32)
    period = torch.tensor([8.0, 12.0, 16.0]).view(1, 1, N_VARS)
    phase = 2 * math.pi * torch.rand(batch, 1, N_VARS)
    level = 5 * torch.randn(batch, 1, N_VARS)
    trend = 0.05 * torch.randn(batch, 1, N_VARS) * t.view(1, -1, 1)
    series = level + trend + torch.sin(2 * math.pi * t.view(1, -1, 1) / period + phase)
    series = series + 0.1 * torch.randn_like(series)
    return series[:, :SEQ_LEN], series[:, SEQ_LEN:]


model = PatchTST()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
losses = []
for step in range(8):
    past, future = make_series(8)
    missing = torch.randint(0, 3, (8,)) if step % 2 else None
    loss = nn.functional.mse_loss(model(past, missing), future)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

model.eval()
past, future = make_series(16)
with torch.no_grad():
    forecast = model(past)
    naive = past[:, -1:].expand_as(future)
mse = nn.functional.mse_loss(forecast, future).item()
naive_mse = nn.functional.mse_loss(naive, future).item()
forecast_sample = forecast[0, :, 0].tolist()

# the nested-tensor fast path: post-norm layers, eval, no grad; padded positions become 0
post = nn.TransformerEncoderLayer(D_MODEL, 4, 32, dropout=0.1, batch_first=True)
fast = nn.TransformerEncoder(post, 2, enable_nested_tensor=True).eval()
z = torch.randn(4, 9, D_MODEL)
pad = torch.arange(9)[None, :] >= torch.tensor([9, 7, 5, 8])[:, None]
with torch.inference_mode():
    out_fast = fast(z, src_key_padding_mask=pad)
    out_rows = [fast(z[i : i + 1, :n]) for i, n in enumerate((9, 7, 5, 8))]
kept_gap = max(
    (out_fast[i, :n] - row[0]).abs().max().item()
    for i, (n, row) in enumerate(zip((9, 7, 5, 8), out_rows))
)
padded_abs = out_fast[pad].abs().max().item()
with warnings.catch_warnings(record=True) as caught:  # a pre-norm stack cannot take the path
    warnings.simplefilter("always")
    pre = nn.TransformerEncoderLayer(D_MODEL, 4, 32, batch_first=True, norm_first=True)
    nn.TransformerEncoder(pre, 1)
nested_warnings = [str(w.message) for w in caught]
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, mse {mse:.3f} (naive {naive_mse:.3f})")
print(f"nested path: kept gap {kept_gap:.1e}, padded max {padded_abs}")
