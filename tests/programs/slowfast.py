"""SlowFast networks (Feichtenhofer et al. 2019) as facebookresearch/SlowFast writes the pieces,
scaled down: a PackPathway that subsamples the Slow pathway's frames with ``torch.index_select``
and ``torch.linspace(...).long()``, a Fast pathway with beta = 1/4 of the channels and temporal
kernels, the lateral ``FuseFastToSlow`` connection (a Conv3d of kernel (5, 1, 1) and temporal
stride alpha, BatchNorm3d, ReLU, then ``torch.cat`` onto the Slow features), and a head that
average-pools each pathway (``nn.AdaptiveAvgPool3d``) and concatenates them before Dropout and a
linear layer; trained with SGD + warm-up then cosine via ``SequentialLR`` on clips whose class is
the speed of a moving bar (only the Fast pathway sees it well)."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
T, S, ALPHA = 8, 8, 4


def make_clips(n):
    """A vertical bar moving right at speed 0 (still), 1 or 2 pixels per frame (wrapping)."""
    labels = torch.randint(0, 3, (n,))
    clips = 0.1 * torch.randn(n, 3, T, S, S)
    start = torch.randint(0, S, (n,))
    for i in range(n):
        for t in range(T):
            clips[i, :, t, :, (int(start[i]) + t * int(labels[i])) % S] += 1.0
    return clips, labels


class PackPathway(nn.Module):
    def forward(self, frames):  # (C, T, H, W) as the repository's transform
        fast_pathway = frames
        slow_pathway = torch.index_select(
            frames, 1, torch.linspace(0, frames.shape[1] - 1, frames.shape[1] // ALPHA).long()
        )
        return [slow_pathway, fast_pathway]


class FuseFastToSlow(nn.Module):
    def __init__(self, dim_in, fusion_conv_channel_ratio=2, fusion_kernel=5, alpha=ALPHA):
        super().__init__()
        self.conv_f2s = nn.Conv3d(
            dim_in, dim_in * fusion_conv_channel_ratio, kernel_size=[fusion_kernel, 1, 1],
            stride=[alpha, 1, 1], padding=[fusion_kernel // 2, 0, 0], bias=False,
        )  # fmt: skip
        self.bn = nn.BatchNorm3d(dim_in * fusion_conv_channel_ratio, eps=1e-5, momentum=0.1)
        self.relu = nn.ReLU(True)

    def forward(self, x):
        x_s, x_f = x[0], x[1]
        fuse = self.relu(self.bn(self.conv_f2s(x_f)))
        return [torch.cat([x_s, fuse], 1), x_f]


def stem(cin, cout, t_kernel):
    return nn.Sequential(
        nn.Conv3d(cin, cout, (t_kernel, 3, 3), padding=(t_kernel // 2, 1, 1), bias=False),
        nn.BatchNorm3d(cout), nn.ReLU(inplace=True), nn.MaxPool3d((1, 2, 2)),
    )  # fmt: skip


class SlowFast(nn.Module):
    def __init__(self, width=8, beta_inv=4, num_classes=3):
        super().__init__()
        fast = width // beta_inv
        self.s1_slow, self.s1_fast = stem(3, width, 1), stem(3, fast, 5)
        self.s1_fuse = FuseFastToSlow(fast)
        self.s2_slow = stem(width + 2 * fast, width, 1)
        self.s2_fast = stem(fast, fast, 3)
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.dropout = nn.Dropout(0.3)
        self.projection = nn.Linear(width + fast, num_classes)

    def forward(self, x):
        x = [self.s1_slow(x[0]), self.s1_fast(x[1])]
        x = self.s1_fuse(x)
        x = [self.s2_slow(x[0]), self.s2_fast(x[1])]
        pooled = torch.cat([self.pool(x[0]).flatten(1), self.pool(x[1]).flatten(1)], 1)
        return self.projection(self.dropout(pooled))


pack = PackPathway()
clips, labels = make_clips(24)
pathways = [torch.stack(p) for p in zip(*[pack(c) for c in clips])]
slow_shape, fast_shape = tuple(pathways[0].shape), tuple(pathways[1].shape)
model = SlowFast()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=3)
cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=9)
scheduler = torch.optim.lr_scheduler.SequentialLR(optimizer, [warmup, cosine], milestones=[3])
losses, lrs = [], []
for epoch in range(12):
    model.train()
    idx = torch.randperm(24)[:12]
    loss = F.cross_entropy(model([pathways[0][idx], pathways[1][idx]]), labels[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())
    lrs.append(optimizer.param_groups[0]["lr"])
model.train()  # BatchNorm in batch statistics: its running averages have seen only 12 steps
with torch.no_grad():
    train_accuracy = (model(pathways).argmax(1) == labels).float().mean().item()
fuse_out_shape = tuple(model.s1_fuse.conv_f2s(torch.zeros(1, 2, 8, 4, 4)).shape)
