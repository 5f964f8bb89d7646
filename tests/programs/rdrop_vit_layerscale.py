"""A small Vision Transformer trained with the regularizers of CaiT/DeiT-III and R-Drop:
stochastic depth (``DropPath``, per-sample ``torch.rand`` masks with ``floor_``, rates from
``torch.linspace`` ``.item()``), ``LayerScale`` with a learnable per-channel ``gamma``
(init 1e-4) multiplied in place into the residual branch, dropout in the MLP and attention;
R-Drop's loss (Liang et al. 2021, the authors' ``compute_kl_loss``): the batch through the
model twice, cross-entropy on both, plus the symmetric ``F.kl_div(log_softmax, softmax,
reduction='none')`` between the two dropout passes. In ``eval()`` the two passes agree and the
drop paths are the identity."""

import torch
import torch.nn as nn
import torch.nn.functional as F


def drop_path(x, drop_prob: float = 0.0, training: bool = False):
    if drop_prob == 0.0 or not training:
        return x
    keep_prob = 1 - drop_prob
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)  # work with diff dim tensors, not just 2D
    random_tensor = keep_prob + torch.rand(shape, dtype=x.dtype, device=x.device)
    random_tensor.floor_()  # binarize
    return x.div(keep_prob) * random_tensor


class DropPath(nn.Module):
    def __init__(self, drop_prob=None):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x):
        return drop_path(x, self.drop_prob, self.training)

    def extra_repr(self):
        return f"drop_prob={round(self.drop_prob, 3):0.3f}"


class LayerScale(nn.Module):
    def __init__(self, dim, init_values=1e-5, inplace=False):
        super().__init__()
        self.inplace = inplace
        self.gamma = nn.Parameter(init_values * torch.ones(dim))

    def forward(self, x):
        return x.mul_(self.gamma) if self.inplace else x * self.gamma


class Attention(nn.Module):
    def __init__(self, dim, num_heads=2, attn_drop=0.0, proj_drop=0.0):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        attn = self.attn_drop(attn.softmax(dim=-1))
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(x))


class Block(nn.Module):
    def __init__(self, dim, num_heads, drop_path=0.0, init_values=1e-4, drop=0.1):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads, attn_drop=drop, proj_drop=drop)
        self.ls1 = LayerScale(dim, init_values, inplace=True)
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(
            nn.Linear(dim, 2 * dim),
            nn.GELU(),
            nn.Dropout(drop),
            nn.Linear(2 * dim, dim),
            nn.Dropout(drop),
        )
        self.ls2 = LayerScale(dim, init_values, inplace=True)

    def forward(self, x):
        x = x + self.drop_path(self.ls1(self.attn(self.norm1(x))))
        return x + self.drop_path(self.ls2(self.mlp(self.norm2(x))))


class TinyViT(nn.Module):
    def __init__(self, img=8, patch=4, dim=16, depth=3, heads=2, classes=4, drop_path_rate=0.2):
        super().__init__()
        self.patch_embed = nn.Conv2d(1, dim, patch, patch)
        n = (img // patch) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, n + 1, dim) * 0.02)
        dpr = [x.item() for x in torch.linspace(0, drop_path_rate, depth)]
        self.blocks = nn.Sequential(*[Block(dim, heads, drop_path=dpr[i]) for i in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1) + self.pos_embed
        return self.head(self.norm(self.blocks(x))[:, 0])


def compute_kl_loss(p, q, pad_mask=None):
    p_loss = F.kl_div(F.log_softmax(p, dim=-1), F.softmax(q, dim=-1), reduction="none")
    q_loss = F.kl_div(F.log_softmax(q, dim=-1), F.softmax(p, dim=-1), reduction="none")
    if pad_mask is not None:
        p_loss.masked_fill_(pad_mask, 0.0)
        q_loss.masked_fill_(pad_mask, 0.0)
    p_loss, q_loss = p_loss.sum(), q_loss.sum()
    return (p_loss + q_loss) / 2


torch.manual_seed(0)
n = 64
labels = torch.arange(n) % 4
images = 0.3 * torch.randn(n, 1, 8, 8)
for c in range(4):
    r, col = divmod(c, 2)
    images[labels == c, :, 4 * r : 4 * r + 4, 4 * col : 4 * col + 4] += 1.0

model = TinyViT()
drop_path_reprs = [repr(b.drop_path) for b in model.blocks]
opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.05)
alpha = 0.5
ce_losses, kl_losses = [], []
for epoch in range(6):
    model.train()
    for idx in torch.randperm(n).split(16):
        x, y = images[idx], labels[idx]
        logits = model(x)
        logits2 = model(x)
        ce_loss = 0.5 * (F.cross_entropy(logits, y) + F.cross_entropy(logits2, y))
        kl_loss = compute_kl_loss(logits, logits2)
        loss = ce_loss + alpha * kl_loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        ce_losses.append(ce_loss.item())
        kl_losses.append(kl_loss.item())

model.eval()
with torch.no_grad():
    a, b = model(images), model(images)
    eval_kl = compute_kl_loss(a, b).item()
    accuracy = (a.argmax(1) == labels).float().mean().item()
gammas = [blk.ls1.gamma.abs().mean().item() for blk in model.blocks]
pad_mask = torch.zeros(4, 4, dtype=torch.bool)
pad_mask[:, -1] = True
masked_kl = compute_kl_loss(a[:4], b[:4].flip(1), pad_mask).item()
full_kl = compute_kl_loss(a[:4], b[:4].flip(1)).item()
