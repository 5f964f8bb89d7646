"""Nyströmformer (Xiong et al. 2021) as lucidrains/nystrom-attention writes it: einops
``rearrange``/``reduce`` into heads and segment-mean landmarks, the iterative Moore-Penrose
pseudo-inverse (``z = 0.25 * z @ (13I - xz @ (15I - xz @ (7I - xz)))``), left padding to a
multiple of the landmark count with a padding mask, ``masked_fill_`` of the three similarity
matrices with ``-finfo.max``, the depthwise ``Conv2d`` residual over values, and a Nyströmformer
encoder trained on a sequence task; the pseudo-inverse is compared with ``torch.linalg.pinv``
and the approximation with exact softmax attention."""

from math import ceil

import torch
import torch.nn.functional as F
from einops import rearrange, reduce
from torch import einsum, nn

torch.manual_seed(0)


def exists(val):
    return val is not None


def moore_penrose_iter_pinv(x, iters=6):
    device = x.device
    abs_x = torch.abs(x)
    col = abs_x.sum(dim=-1)
    row = abs_x.sum(dim=-2)
    z = rearrange(x, "... i j -> ... j i") / (torch.max(col) * torch.max(row))
    I = torch.eye(x.shape[-1], device=device)  # noqa: E741
    I = rearrange(I, "i j -> () i j")  # noqa: E741
    for _ in range(iters):
        xz = x @ z
        z = 0.25 * z @ (13 * I - (xz @ (15 * I - (xz @ (7 * I - xz)))))
    return z


class NystromAttention(nn.Module):
    def __init__(
        self,
        dim,
        dim_head=64,
        heads=8,
        num_landmarks=256,
        pinv_iterations=6,
        residual=True,
        residual_conv_kernel=33,
        eps=1e-8,
        dropout=0.0,
    ):
        super().__init__()
        self.eps = eps
        inner_dim = heads * dim_head
        self.num_landmarks = num_landmarks
        self.pinv_iterations = pinv_iterations
        self.heads = heads
        self.scale = dim_head**-0.5
        self.to_qkv = nn.Linear(dim, inner_dim * 3, bias=False)
        self.to_out = nn.Sequential(nn.Linear(inner_dim, dim), nn.Dropout(dropout))
        self.residual = residual
        if residual:
            kernel_size = residual_conv_kernel
            padding = residual_conv_kernel // 2
            self.res_conv = nn.Conv2d(
                heads, heads, (kernel_size, 1), padding=(padding, 0), groups=heads, bias=False
            )

    def forward(self, x, mask=None, return_attn=False):
        b, n, _, h, m, iters, eps = (  # noqa: F841
            *x.shape,
            self.heads,
            self.num_landmarks,
            self.pinv_iterations,
            self.eps,
        )
        # pad so that sequence can be evenly divided into m landmarks
        remainder = n % m
        if remainder > 0:
            padding = m - (n % m)
            x = F.pad(x, (0, 0, padding, 0), value=0)
            if exists(mask):
                mask = F.pad(mask, (padding, 0), value=False)
        # derive query, keys, values
        q, k, v = self.to_qkv(x).chunk(3, dim=-1)
        q, k, v = map(lambda t: rearrange(t, "b n (h d) -> b h n d", h=h), (q, k, v))
        # set masked positions to 0 in queries, keys, values
        if exists(mask):
            mask = rearrange(mask, "b n -> b () n")
            q, k, v = map(lambda t: t * mask[..., None], (q, k, v))
        q = q * self.scale
        # generate landmarks by sum reduction, and then calculate mean using the mask
        l = ceil(n / m)  # noqa: E741
        landmark_einops_eq = "... (n l) d -> ... n d"
        q_landmarks = reduce(q, landmark_einops_eq, "sum", l=l)
        k_landmarks = reduce(k, landmark_einops_eq, "sum", l=l)
        # calculate landmark mask, and also get sum of non-masked elements in preparation
        divisor = l
        if exists(mask):
            mask_landmarks_sum = reduce(mask, "... (n l) -> ... n", "sum", l=l)
            divisor = mask_landmarks_sum[..., None] + eps
            mask_landmarks = mask_landmarks_sum > 0
        # masked mean (if mask exists)
        q_landmarks = q_landmarks / divisor
        k_landmarks = k_landmarks / divisor
        # similarities
        einops_eq = "... i d, ... j d -> ... i j"
        sim1 = einsum(einops_eq, q, k_landmarks)
        sim2 = einsum(einops_eq, q_landmarks, k_landmarks)
        sim3 = einsum(einops_eq, q_landmarks, k)
        # masking
        if exists(mask):
            mask_value = -torch.finfo(q.dtype).max
            sim1.masked_fill_(~(mask[..., None] * mask_landmarks[..., None, :]), mask_value)
            sim2.masked_fill_(
                ~(mask_landmarks[..., None] * mask_landmarks[..., None, :]), mask_value
            )
            sim3.masked_fill_(~(mask_landmarks[..., None] * mask[..., None, :]), mask_value)
        # eq (15) in the paper and aggregate values
        attn1, attn2, attn3 = map(lambda t: t.softmax(dim=-1), (sim1, sim2, sim3))
        attn2_inv = moore_penrose_iter_pinv(attn2, iters)
        out = (attn1 @ attn2_inv) @ (attn3 @ v)
        # add depth-wise conv residual of values
        if self.residual:
            out = out + self.res_conv(v)
        # merge and combine heads
        out = rearrange(out, "b h n d -> b n (h d)", h=h)
        out = self.to_out(out)
        out = out[:, -n:]
        if return_attn:
            attn1 = attn1[:, :, -n:]
            attn = attn1 @ attn2_inv @ attn3
            return out, attn
        return out


class PreNorm(nn.Module):
    def __init__(self, dim, fn):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fn = fn

    def forward(self, x, **kwargs):
        x = self.norm(x)
        return self.fn(x, **kwargs)


class FeedForward(nn.Module):
    def __init__(self, dim, mult=4, dropout=0.0):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(dim, dim * mult), nn.GELU(), nn.Dropout(dropout), nn.Linear(dim * mult, dim)
        )

    def forward(self, x):
        return self.net(x)


class Nystromformer(nn.Module):
    def __init__(
        self,
        *,
        dim,
        depth,
        dim_head=64,
        heads=8,
        num_landmarks=256,
        pinv_iterations=6,
        attn_values_residual=True,
        attn_values_residual_conv_kernel=33,
        attn_dropout=0.0,
        ff_dropout=0.0,
    ):
        super().__init__()
        self.layers = nn.ModuleList([])
        for _ in range(depth):
            self.layers.append(
                nn.ModuleList(
                    [
                        PreNorm(
                            dim,
                            NystromAttention(
                                dim=dim,
                                dim_head=dim_head,
                                heads=heads,
                                num_landmarks=num_landmarks,
                                pinv_iterations=pinv_iterations,
                                residual=attn_values_residual,
                                residual_conv_kernel=attn_values_residual_conv_kernel,
                                dropout=attn_dropout,
                            ),
                        ),
                        PreNorm(dim, FeedForward(dim=dim, dropout=ff_dropout)),
                    ]
                )
            )

    def forward(self, x, mask=None):
        for attn, ff in self.layers:
            x = attn(x, mask=mask) + x
            x = ff(x) + x
        return x


# the iterative pseudo-inverse of a row-stochastic landmark kernel
kernel = torch.randn(2, 5, 5, dtype=torch.float64).softmax(dim=-1)
pinv_gap = (
    (moore_penrose_iter_pinv(kernel, iters=20) - torch.linalg.pinv(kernel)).abs().max().item()
)
pinv_gap_6 = (moore_penrose_iter_pinv(kernel) - torch.linalg.pinv(kernel)).abs().max().item()

# with as many landmarks as tokens the approximation is exact softmax attention
attn = NystromAttention(
    dim=8, dim_head=4, heads=2, num_landmarks=6, pinv_iterations=30, residual=False
).double()
x = torch.randn(2, 6, 8, dtype=torch.float64)
with torch.no_grad():
    out, attn_matrix = attn(x, return_attn=True)
    q, k, v = (t.unflatten(-1, (2, 4)).transpose(1, 2) for t in attn.to_qkv(x).chunk(3, dim=-1))
    exact = (q @ k.transpose(-1, -2) * 0.5).softmax(-1)
exact_gap = (attn_matrix - exact).abs().max().item()
row_sums = attn_matrix.sum(-1).mean().item()

# a padded batch (7 tokens into landmarks of 4 -> left-padded to 8) with a key mask
layer = NystromAttention(dim=8, dim_head=4, heads=2, num_landmarks=4, residual_conv_kernel=3)
mask = torch.ones(2, 7, dtype=torch.bool)
mask[1, :3] = False
masked_out = layer(torch.randn(2, 7, 8), mask=mask)
masked_shape = tuple(masked_out.shape)

# task: regress each token onto the mean of the sequence (needs global mixing)
seq = torch.randn(16, 12, 4)
target = seq.mean(dim=1, keepdim=True).expand_as(seq).sum(-1, keepdim=True)
model = nn.Sequential(
    nn.Linear(4, 16),
    Nystromformer(
        dim=16, depth=1, dim_head=8, heads=2, num_landmarks=4, attn_values_residual_conv_kernel=5
    ),
    nn.Linear(16, 1),
)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
losses = []
for step in range(30):
    loss = F.mse_loss(model(seq), target)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
conv_grad_norm = model[1].layers[0][0].fn.res_conv.weight.grad.norm().item()
masked_values = masked_out.detach()[:, -2:].tolist()
masked_finite = bool(torch.isfinite(masked_out).all())
