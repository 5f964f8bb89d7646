"""torchaudio.models' TorchAudio-Squim (Kumar et al., 2023): reference-free speech quality
estimators. :class:`SquimObjective` predicts STOI, wide-band PESQ and SI-SDR from a waveform
(conv encoder, dual-path RNN over chunks, a transformer + auto-pool + MLP head per metric);
:class:`SquimSubjective` predicts MOS from a waveform and a non-matching clean reference
(wav2vec 2.0 features, projection, attention pooling). torchaudio's module names, so its
state_dicts load; no pretrained weights (those come through ``pipelines``)."""

from __future__ import annotations

import math

import minigrad as torch
from minigrad import nn
from minigrad.nn import functional as F


def transform_wb_pesq_range(x: float) -> float:
    """Narrow-band PESQ (P.862) to wide-band (P.862.2) MOS-LQO."""
    return 0.999 + (4.999 - 0.999) / (1 + math.exp(-1.3669 * x + 3.8224))


PESQRange = (1.0, transform_wb_pesq_range(4.5))


class RangeSigmoid(nn.Module):
    """A sigmoid scaled to ``val_range``."""

    def __init__(self, val_range=(0.0, 1.0)):
        super().__init__()
        if not (isinstance(val_range, tuple) and len(val_range) == 2):
            raise ValueError("val_range must be a (low, high) tuple")
        self.val_range = val_range
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        return self.sigmoid(x) * (self.val_range[1] - self.val_range[0]) + self.val_range[0]


class Encoder(nn.Module):
    """A strided conv (``win_len``, hop ``win_len // 2``) + ReLU over ``(batch, time)``."""

    def __init__(self, feat_dim=512, win_len=32):
        super().__init__()
        self.conv1d = nn.Conv1d(1, feat_dim, win_len, stride=win_len // 2, bias=False)

    def forward(self, x):
        return F.relu(self.conv1d(x.unsqueeze(dim=1)))


class SingleRNN(nn.Module):
    """A bidirectional ``rnn_type`` ("LSTM", "GRU", "RNN") layer projected back to its input size."""

    def __init__(self, rnn_type, input_size, hidden_size, dropout=0.0):
        super().__init__()
        self.rnn_type, self.input_size, self.hidden_size = rnn_type, input_size, hidden_size
        self.rnn = getattr(nn, rnn_type)(input_size, hidden_size, 1, dropout=dropout,
                                         batch_first=True, bidirectional=True)  # fmt: skip
        self.proj = nn.Linear(hidden_size * 2, input_size)

    def forward(self, x):
        return self.proj(self.rnn(x)[0])


class DPRNN(nn.Module):
    """Dual-path RNN: half-overlapping chunks of ``chunk_size`` frames; each block runs an RNN
    within the chunks and one across them (group norm, residual), then a 1x1 conv + PReLU
    to ``d_model`` and overlap-add back to frames: ``(batch, frames, d_model)``."""

    def __init__(self, feat_dim=64, hidden_dim=128, num_blocks=6, rnn_type="LSTM", d_model=256,
                 chunk_size=100, chunk_stride=50):  # fmt: skip
        super().__init__()
        self.num_blocks = num_blocks
        self.row_rnn, self.col_rnn = nn.ModuleList([]), nn.ModuleList([])
        self.row_norm, self.col_norm = nn.ModuleList([]), nn.ModuleList([])
        for _ in range(num_blocks):
            self.row_rnn.append(SingleRNN(rnn_type, feat_dim, hidden_dim))
            self.col_rnn.append(SingleRNN(rnn_type, feat_dim, hidden_dim))
            self.row_norm.append(nn.GroupNorm(1, feat_dim, eps=1e-8))
            self.col_norm.append(nn.GroupNorm(1, feat_dim, eps=1e-8))
        self.conv = nn.Sequential(nn.Conv2d(feat_dim, d_model, 1), nn.PReLU())
        self.chunk_size, self.chunk_stride = chunk_size, chunk_stride

    def pad_chunk(self, x):
        rest = (
            self.chunk_size - (self.chunk_stride + x.shape[-1] % self.chunk_size) % self.chunk_size
        )
        return F.pad(x, [self.chunk_stride, rest + self.chunk_stride]), rest

    def chunking(self, x):
        out, rest = self.pad_chunk(x)
        batch, feat, _ = out.shape
        first = out[:, :, : -self.chunk_stride].contiguous().view(batch, feat, -1, self.chunk_size)
        second = out[:, :, self.chunk_stride :].contiguous().view(batch, feat, -1, self.chunk_size)
        out = torch.cat([first, second], dim=3).view(batch, feat, -1, self.chunk_size)
        return out.transpose(2, 3).contiguous(), rest

    def merging(self, x, rest):
        batch, dim = x.shape[:2]
        out = x.transpose(2, 3).contiguous().view(batch, dim, -1, self.chunk_size * 2)
        first = out[:, :, :, : self.chunk_size].contiguous().view(batch, dim, -1)
        second = out[:, :, :, self.chunk_size :].contiguous().view(batch, dim, -1)
        out = first[:, :, self.chunk_stride :] + second[:, :, : -self.chunk_stride]
        return (out[:, :, :-rest] if rest > 0 else out).contiguous()

    def forward(self, x):
        x, rest = self.chunking(x)
        batch, _, dim1, dim2 = x.shape
        out = x
        for row_rnn, row_norm, col_rnn, col_norm in zip(
            self.row_rnn, self.row_norm, self.col_rnn, self.col_norm
        ):
            row_in = out.permute(0, 3, 2, 1).contiguous().view(batch * dim2, dim1, -1)
            row = row_rnn(row_in).view(batch, dim2, dim1, -1).permute(0, 3, 2, 1).contiguous()
            out = out + row_norm(row)
            col_in = out.permute(0, 2, 3, 1).contiguous().view(batch * dim1, dim2, -1)
            col = col_rnn(col_in).view(batch, dim1, dim2, -1).permute(0, 3, 1, 2).contiguous()
            out = out + col_norm(col)
        return self.merging(self.conv(out), rest).transpose(1, 2).contiguous()


class AutoPool(nn.Module):
    """Softmax pooling along ``pool_dim`` with a learned sharpness ``alpha``."""

    def __init__(self, pool_dim=1):
        super().__init__()
        self.pool_dim = pool_dim
        self.softmax = nn.Softmax(dim=pool_dim)
        self.register_parameter("alpha", nn.Parameter(torch.ones(1)))

    def forward(self, x):
        weight = self.softmax(torch.mul(x, self.alpha))
        return torch.sum(torch.mul(x, weight), dim=self.pool_dim)


class SquimObjective(nn.Module):
    """``forward(waveform (batch, time))`` -> ``[STOI, PESQ, SI-SDR]``, each ``(batch,)``."""

    def __init__(self, encoder, dprnn, branches):
        super().__init__()
        self.encoder, self.dprnn, self.branches = encoder, dprnn, branches

    def forward(self, x):
        if x.ndim != 2:
            raise ValueError(f"The input must be a 2D Tensor. Found dimension {x.ndim}.")
        x = x / (torch.mean(x**2, dim=1, keepdim=True) ** 0.5 * 20)
        out = self.dprnn(self.encoder(x))
        return [branch(out).squeeze(dim=1) for branch in self.branches]


def _create_branch(d_model, nhead, metric):
    """Transformer layer, auto-pool, MLP (ranged by a sigmoid for STOI and PESQ)."""
    head = [nn.Linear(d_model, d_model), nn.PReLU(), nn.Linear(d_model, 1)]
    if metric == "stoi":
        head.append(RangeSigmoid())
    elif metric == "pesq":
        head.append(RangeSigmoid(val_range=PESQRange))
    layer = nn.TransformerEncoderLayer(d_model, nhead, d_model * 4, dropout=0.0, batch_first=True)
    return nn.Sequential(layer, AutoPool(), nn.Sequential(*head))


def squim_objective_model(feat_dim, win_len, d_model, nhead, hidden_dim, num_blocks, rnn_type,
                          chunk_size, chunk_stride=None):  # fmt: skip
    """A :class:`SquimObjective` (``chunk_stride`` defaults to half of ``chunk_size``)."""
    if chunk_stride is None:
        chunk_stride = chunk_size // 2
    dprnn = DPRNN(feat_dim, hidden_dim, num_blocks, rnn_type, d_model, chunk_size, chunk_stride)
    branches = nn.ModuleList(_create_branch(d_model, nhead, m) for m in ("stoi", "pesq", "sisdr"))
    return SquimObjective(Encoder(feat_dim, win_len), dprnn, branches)


def squim_objective_base():
    """torchaudio's configuration (256 features, 64-sample windows, 2 DPRNN blocks)."""
    return squim_objective_model(feat_dim=256, win_len=64, d_model=256, nhead=4, hidden_dim=256,
                                 num_blocks=2, rnn_type="LSTM", chunk_size=71)  # fmt: skip


class AttPool(nn.Module):
    """Attention pooling over time, then a projection to ``att_dim``."""

    def __init__(self, input_dim, att_dim):
        super().__init__()
        self.linear1 = nn.Linear(input_dim, 1)
        self.linear2 = nn.Linear(input_dim, att_dim)

    def forward(self, x):
        att = nn.functional.softmax(self.linear1(x).transpose(2, 1), dim=2)
        return self.linear2(torch.matmul(att, x).squeeze(1))


class Predictor(nn.Module):
    """The expected score over ``att_dim`` bins spread on [0, 4]."""

    def __init__(self, input_dim, att_dim):
        super().__init__()
        self.att_pool_layer = AttPool(input_dim, att_dim)
        self.att_dim = att_dim

    def forward(self, x):
        x = nn.functional.softmax(self.att_pool_layer(x), dim=1)
        return (x * torch.linspace(0, 4, steps=self.att_dim, device=x.device)).sum(dim=1)


class SquimSubjective(nn.Module):
    """``forward(waveform, reference)`` -> MOS ``(batch,)``: 5 minus the predicted drop from
    the (tiled or cut to the waveform's length) reference."""

    def __init__(self, ssl_model, projector, predictor):
        super().__init__()
        self.ssl_model, self.projector, self.predictor = ssl_model, projector, predictor

    def _align_shapes(self, waveform, reference):
        length = waveform.shape[-1]
        if reference.shape[-1] < length:
            reference = torch.cat([reference] * (length // reference.shape[-1] + 1), dim=1)
        return waveform, reference[:, :length]

    def forward(self, waveform, reference):
        waveform, reference = self._align_shapes(waveform, reference)
        waveform = self.projector(self.ssl_model.extract_features(waveform)[0][-1])
        reference = self.projector(self.ssl_model.extract_features(reference)[0][-1])
        return 5 - self.predictor(torch.cat((reference, waveform), dim=2))


def squim_subjective_model(ssl_type, feat_dim, proj_dim, att_dim):
    """A :class:`SquimSubjective` over ``ssl_type`` (a builder name in this package, e.g.
    ``"wav2vec2_base"``)."""
    from .. import models

    ssl_model = getattr(models, ssl_type)()
    return SquimSubjective(
        ssl_model, nn.Linear(feat_dim, proj_dim), Predictor(proj_dim * 2, att_dim)
    )


def squim_subjective_base():
    """torchaudio's configuration (wav2vec 2.0 base features, 32-wide projection, 5 bins)."""
    return squim_subjective_model(ssl_type="wav2vec2_base", feat_dim=768, proj_dim=32, att_dim=5)
