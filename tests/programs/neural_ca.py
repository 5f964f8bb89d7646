"""Growing neural cellular automata (Mordvintsev et al., the PyTorch ports): a perception step
of fixed identity and Sobel filters applied per channel with a depthwise ``F.conv2d(...,
groups=channels)`` and circular padding, a 1x1-convolution update rule with a zero-initialized
last layer, stochastic cell updates from a random mask, the alive mask from
``F.max_pool2d`` over the alpha channel, a seed grown for a random number of steps and trained
towards a target pattern with gradient normalization per parameter."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy

rng = np.random.default_rng(81)
CHANNELS, SIZE = 8, 12


def perception_kernels(channels):
    ident = torch.tensor([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    sobel_x = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 8.0
    kernel = torch.stack([ident, sobel_x, sobel_x.T])  # (3, 3, 3)
    return kernel.repeat(channels, 1, 1).unsqueeze(1)  # (3 * channels, 1, 3, 3)


class CAModel(nn.Module):
    def __init__(self, channels=CHANNELS, hidden=32, fire_rate=0.5):
        super().__init__()
        self.channels, self.fire_rate = channels, fire_rate
        self.register_buffer("kernel", perception_kernels(channels))
        self.fc0 = nn.Conv2d(channels * 3, hidden, kernel_size=1)
        self.fc1 = nn.Conv2d(hidden, channels, kernel_size=1, bias=False)

    def alive(self, x):
        return F.max_pool2d(x[:, 3:4], kernel_size=3, stride=1, padding=1) > 0.1

    def perceive(self, x):
        x = F.pad(x, (1, 1, 1, 1), mode="circular")
        return F.conv2d(x, self.kernel, groups=self.channels)

    def forward(self, x, update_masks):
        pre_life_mask = self.alive(x)
        dx = self.fc1(F.relu(self.fc0(self.perceive(x))))
        x = x + dx * update_masks
        post_life_mask = self.alive(x)
        life_mask = (pre_life_mask & post_life_mask).float()
        return x * life_mask


def seed(batch):
    x = torch.zeros(batch, CHANNELS, SIZE, SIZE)
    x[:, 3:, SIZE // 2, SIZE // 2] = 1.0
    return x


yy, xx = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing="ij")
disc = (((yy - SIZE / 2 + 0.5) ** 2 + (xx - SIZE / 2 + 0.5) ** 2) < 12).float()
target = torch.stack([disc * 0.9, disc * 0.2, disc * 0.5, disc])  # RGBA

model = CAModel()
init_from_numpy(model, seed=81)
with torch.no_grad():
    model.fc1.weight.zero_()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, [20], 0.3)
losses, step_counts = [], []
for it in range(12):
    n_steps = int(rng.integers(6, 10))
    x = seed(4)
    for _ in range(n_steps):
        mask = torch.from_numpy(
            (rng.random((4, 1, SIZE, SIZE)) < model.fire_rate).astype(np.float32)
        )
        x = model(x, mask)
    loss = F.mse_loss(x[:, :4], target.expand(4, -1, -1, -1))
    optimizer.zero_grad()
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p.grad /= p.grad.norm() + 1e-8
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())
    step_counts.append(n_steps)

alive_cells = model.alive(x).sum().item()
kernel_shape = list(model.kernel.shape)
perceived = (
    model.perceive(seed(1))[0, :6, SIZE // 2, SIZE // 2 - 1 : SIZE // 2 + 2].flatten().tolist()
)
print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}; alive cells {alive_cells}")
