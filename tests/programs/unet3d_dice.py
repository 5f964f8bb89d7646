"""A 3-D U-Net (Cicek et al. 2016) as nnU-Net-style PyTorch code writes it, on tiny synthetic
volumes: double Conv3d blocks with InstanceNorm3d(affine=True) and LeakyReLU(0.01), strided
Conv3d down-sampling, ConvTranspose3d up-sampling concatenated with the skip, deep supervision
from a coarse head upsampled by F.interpolate(mode="trilinear"), and the loss nnU-Net trains
with: soft Dice over the foreground classes (softmax probabilities, one-hot targets by
``scatter_``, sums over the spatial dims, smooth 1e-5) plus cross-entropy. Adam with
ReduceLROnPlateau; then the hard Dice of argmax predictions per class."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
D = 8


def make_volumes(n):
    """Label 1: a ball at a random centre; label 2: a slab along one axis."""
    grid = torch.stack(torch.meshgrid(*[torch.arange(D, dtype=torch.float)] * 3, indexing="ij"))
    centres = torch.randint(2, D - 2, (n, 3, 1, 1, 1)).float()
    ball = ((grid - centres) ** 2).sum(1) <= 5.0
    slab = (grid[0] >= 6).expand(n, D, D, D)
    labels = torch.zeros(n, D, D, D, dtype=torch.long)
    labels[slab] = 2
    labels[ball] = 1
    images = torch.tensor([0.0, 1.5, 0.7])[labels].unsqueeze(1) + 0.3 * torch.randn(n, 1, D, D, D)
    return images, labels


class ConvBlock(nn.Sequential):
    def __init__(self, cin, cout, stride=1):
        super().__init__(
            nn.Conv3d(cin, cout, 3, stride=stride, padding=1),
            nn.InstanceNorm3d(cout, affine=True),
            nn.LeakyReLU(0.01, inplace=True),
            nn.Conv3d(cout, cout, 3, padding=1),
            nn.InstanceNorm3d(cout, affine=True),
            nn.LeakyReLU(0.01, inplace=True),
        )


class UNet3D(nn.Module):
    def __init__(self, n_classes=3, width=4):
        super().__init__()
        self.enc1 = ConvBlock(1, width)
        self.enc2 = ConvBlock(width, 2 * width, stride=2)
        self.up = nn.ConvTranspose3d(2 * width, width, kernel_size=2, stride=2)
        self.dec1 = ConvBlock(2 * width, width)
        self.head = nn.Conv3d(width, n_classes, 1)
        self.aux_head = nn.Conv3d(2 * width, n_classes, 1)

    def forward(self, x):
        s1 = self.enc1(x)
        s2 = self.enc2(s1)
        out = self.head(self.dec1(torch.cat([self.up(s2), s1], dim=1)))
        if self.training:
            aux = F.interpolate(
                self.aux_head(s2), size=x.shape[2:], mode="trilinear", align_corners=False
            )
            return out, aux
        return out


def soft_dice_loss(logits, target, smooth=1e-5):
    probs = logits.softmax(1)
    onehot = torch.zeros_like(probs).scatter_(1, target.unsqueeze(1), 1)
    axes = tuple(range(2, logits.ndim))
    intersect = (probs * onehot).sum(axes)
    denominator = probs.sum(axes) + onehot.sum(axes)
    dice = (2 * intersect + smooth) / (denominator + smooth)
    return 1 - dice[:, 1:].mean()  # background left out, as do_bg=False


def dice_ce(logits, target):
    return soft_dice_loss(logits, target) + F.cross_entropy(logits, target)


images, labels = make_volumes(4)
model = UNet3D()
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=2)
losses, lrs = [], []
for step in range(22):
    out, aux = model(images)
    loss = dice_ce(out, labels) + 0.5 * dice_ce(aux, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step(loss.item())
    losses.append(loss.item())
    lrs.append(optimizer.param_groups[0]["lr"])

model.eval()
test_images, test_labels = make_volumes(2)
with torch.no_grad():
    pred = model(test_images).argmax(1)
hard_dice = []
for c in (1, 2):
    p, t = pred == c, test_labels == c
    hard_dice.append((2 * (p & t).sum() / (p.sum() + t.sum()).clamp(min=1)).item())
up_weight_grad_shape = tuple(model.up.weight.shape)
norm_weight_sample = model.dec1[1].weight.detach()[:3].tolist()
