"""MLP-Mixer (Tolstikhin et al. 2021) as lucidrains' mlp-mixer-pytorch and the timm port write it
in plain PyTorch, with gMLP's spatial gating unit (Liu et al. 2021) beside it: patches cut by
``unfold``-free reshapes (``view``/``permute``, einops' rearrange written out), token mixing
by a 1x1 ``nn.Conv1d`` across the patch axis (lucidrains' ``chan_first``) or by ``transpose``
around a ``nn.Linear``, channel mixing, pre-norm residuals, global average pooling; the gMLP
gate splits channels with ``chunk``, normalizes one half and mixes it along the sequence with
a ``nn.Conv1d`` initialized near the identity (weight ~ U(-eps, eps), bias 1). Both are trained
with SGD + Nesterov momentum and a OneCycleLR schedule on synthetic textures."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
IMG, PATCH, CLASSES = 16, 4, 3
N_PATCHES = (IMG // PATCH) ** 2


def patchify(x, p=PATCH):
    """rearrange('b c (h p1) (w p2) -> b (h w) (p1 p2 c)')"""
    b, c, h, w = x.shape
    x = x.view(b, c, h // p, p, w // p, p).permute(0, 2, 4, 3, 5, 1)
    return x.reshape(b, (h // p) * (w // p), p * p * c)


class PreNormResidual(nn.Module):
    def __init__(self, dim, fn):
        super().__init__()
        self.fn, self.norm = fn, nn.LayerNorm(dim)

    def forward(self, x):
        return self.fn(self.norm(x)) + x


def FeedForward(dim, expansion_factor=4, dropout=0.0, dense=nn.Linear):
    inner_dim = int(dim * expansion_factor)
    return nn.Sequential(
        dense(dim, inner_dim),
        nn.GELU(),
        nn.Dropout(dropout),
        dense(inner_dim, dim),
        nn.Dropout(dropout),
    )


def conv1x1(d_in, d_out):
    return nn.Conv1d(d_in, d_out, kernel_size=1)


class TransposedTokenMix(nn.Module):
    def __init__(self, tokens, hidden):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(tokens, hidden), nn.GELU(), nn.Linear(hidden, tokens))

    def forward(self, x):
        return self.mlp(x.transpose(1, 2)).transpose(1, 2)


def MLPMixer(dim, depth, token_mixing="conv", expansion_factor=4, expansion_factor_token=0.5):
    def token_mix():
        if token_mixing == "conv":
            return FeedForward(N_PATCHES, expansion_factor, 0.1, conv1x1)
        return TransposedTokenMix(N_PATCHES, int(N_PATCHES * expansion_factor))

    return nn.Sequential(
        nn.Linear(PATCH * PATCH, dim),
        *[
            nn.Sequential(
                PreNormResidual(dim, token_mix()),
                PreNormResidual(dim, FeedForward(dim, expansion_factor_token, 0.1)),
            )
            for _ in range(depth)
        ],
        nn.LayerNorm(dim),
    )


class SpatialGatingUnit(nn.Module):
    def __init__(self, dim_ff, seq_len, init_eps=1e-3):
        super().__init__()
        self.norm = nn.LayerNorm(dim_ff // 2)
        self.proj = nn.Conv1d(seq_len, seq_len, 1)
        init_eps /= seq_len
        nn.init.uniform_(self.proj.weight, -init_eps, init_eps)
        nn.init.constant_(self.proj.bias, 1.0)

    def forward(self, x):
        res, gate = x.chunk(2, dim=-1)
        return self.proj(self.norm(gate)) * res


class gMLPBlock(nn.Module):
    def __init__(self, dim, dim_ff, seq_len):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.proj_in, self.proj_out = nn.Linear(dim, dim_ff), nn.Linear(dim_ff // 2, dim)
        self.sgu = SpatialGatingUnit(dim_ff, seq_len)

    def forward(self, x):
        return x + self.proj_out(self.sgu(F.gelu(self.proj_in(self.norm(x)))))


class Classifier(nn.Module):
    def __init__(self, trunk, dim):
        super().__init__()
        self.trunk, self.head = trunk, nn.Linear(dim, CLASSES)

    def forward(self, img):
        return self.head(self.trunk(patchify(img)).mean(dim=1))


def textures(n):
    """Class 0: horizontal stripes, 1: vertical stripes, 2: checkerboard, random phase."""
    labels = torch.randint(0, CLASSES, (n,))
    i = torch.arange(IMG).float()
    phase = torch.rand(n, 1, 1) * 6.28
    rows = torch.sin(i[:, None] * 1.2 + phase).expand(n, IMG, IMG)
    cols = torch.sin(i[None, :] * 1.2 + phase).expand(n, IMG, IMG)
    imgs = torch.stack([rows, cols, rows * cols], dim=1)[torch.arange(n), labels]
    return imgs.unsqueeze(1) + 0.3 * torch.randn(n, 1, IMG, IMG), labels


patch_round_trip = patchify(torch.arange(32.0).view(1, 2, 4, 4), p=2)[0, :2].tolist()
x_val, y_val = textures(48)
results = {}
for name in ("mixer_conv", "mixer_linear", "gmlp"):
    torch.manual_seed(2)
    if name == "gmlp":
        trunk = nn.Sequential(
            nn.Linear(PATCH * PATCH, 24),
            gMLPBlock(24, 48, N_PATCHES),
            gMLPBlock(24, 48, N_PATCHES),
            nn.LayerNorm(24),
        )
    else:
        trunk = MLPMixer(24, 2, token_mixing=name.split("_")[1])
    model = Classifier(trunk, 24)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=15)
    losses = []
    for step in range(15):
        x, y = textures(24)
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        logits = model(x_val)
    results[name] = {
        "losses": losses,
        "accuracy": (logits.argmax(1) == y_val).float().mean().item(),
        "logits": logits[:2].tolist(),
    }
print({k: (v["losses"][0], v["losses"][-1], v["accuracy"]) for k, v in results.items()})
