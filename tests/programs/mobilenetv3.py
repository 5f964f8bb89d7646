"""MobileNetV3's building blocks (Howard et al. 2019) as torchvision writes them: inverted
residual blocks with depthwise convolutions (groups=channels), squeeze-and-excitation with
nn.Hardsigmoid, nn.Hardswish activations, a channel count rounded by _make_divisible, and
a classifier with nn.Dropout; plus the activations people swap in (nn.Mish, nn.SiLU,
nn.PReLU, nn.GELU(approximate="tanh")) compared with their formulas."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn


def _make_divisible(v, divisor, min_value=None):
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class SqueezeExcitation(nn.Module):
    def __init__(self, input_channels, squeeze_factor=4):
        super().__init__()
        squeeze_channels = _make_divisible(input_channels // squeeze_factor, 8)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.scale_activation = nn.Hardsigmoid()

    def forward(self, input):
        scale = F.adaptive_avg_pool2d(input, 1)
        scale = self.scale_activation(self.fc2(self.relu(self.fc1(scale))))
        return scale * input


class InvertedResidual(nn.Module):
    def __init__(self, cin, expanded, cout, kernel, stride, use_se, activation):
        super().__init__()
        self.use_res_connect = stride == 1 and cin == cout
        layers = [nn.Conv2d(cin, expanded, 1, bias=False), nn.BatchNorm2d(expanded), activation()]
        layers += [
            nn.Conv2d(
                expanded, expanded, kernel, stride, (kernel - 1) // 2, groups=expanded, bias=False
            ),
            nn.BatchNorm2d(expanded),
            activation(),
        ]
        if use_se:
            layers.append(SqueezeExcitation(expanded))
        layers += [nn.Conv2d(expanded, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.block = nn.Sequential(*layers)

    def forward(self, input):
        result = self.block(input)
        if self.use_res_connect:
            result += input
        return result


class MobileNetV3Tiny(nn.Module):
    def __init__(self, num_classes=3, width_mult=1.0):
        super().__init__()
        c = lambda ch: _make_divisible(ch * width_mult, 8)  # noqa: E731
        self.features = nn.Sequential(
            nn.Sequential(
                nn.Conv2d(1, c(16), 3, 2, 1, bias=False), nn.BatchNorm2d(c(16)), nn.Hardswish()
            ),
            InvertedResidual(c(16), c(16), c(16), 3, 1, True, nn.ReLU),
            InvertedResidual(c(16), c(48), c(24), 3, 2, False, nn.ReLU),
            InvertedResidual(c(24), c(72), c(24), 5, 1, True, nn.Hardswish),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(c(24), 64),
            nn.Hardswish(inplace=True),
            nn.Dropout(p=0.2, inplace=True),
            nn.Linear(64, num_classes),
        )

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


def make_images(rng, n):
    """Three classes: horizontal stripes, vertical stripes, a checkerboard."""
    labels = rng.integers(0, 3, n)
    yy, xx = np.meshgrid(np.arange(16), np.arange(16), indexing="ij")
    patterns = [(yy // 2) % 2, (xx // 2) % 2, ((yy // 2) + (xx // 2)) % 2]
    images = np.stack([patterns[label] for label in labels])[:, None].astype(np.float32)
    images += 0.3 * rng.standard_normal(images.shape).astype(np.float32)
    return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))


rng = np.random.default_rng(0)
images, labels = make_images(rng, 32)
test_images, test_labels = make_images(rng, 64)
model = init_from_numpy(MobileNetV3Tiny())
num_params = sum(p.numel() for p in model.parameters())
print(
    f"MobileNetV3Tiny: {num_params} parameters, _make_divisible(20, 8) = {_make_divisible(20, 8)}"
)
optimizer = torch.optim.RMSprop(model.parameters(), lr=0.003, alpha=0.9, eps=0.0316, momentum=0.9)
criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
losses = []
for step in range(16):
    model.train()
    optimizer.zero_grad()
    # dropout draws from torch's generator: train without it so both frameworks agree
    model.classifier[2].p = 0.0
    loss = criterion(model(images), labels)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}")

# 16 steps leave the running statistics far behind the weights: recompute them on the training
# set with a cumulative average (momentum=None), as torch.optim.swa_utils.update_bn does
for module in model.modules():
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        module.reset_running_stats()
        module.momentum = None
with torch.no_grad():
    model(images)
model.eval()
with torch.no_grad():
    accuracy = (model(test_images).argmax(1) == test_labels).float().mean().item()
print(f"test accuracy {accuracy:.3f}")

z = randn(np.random.default_rng(1), 1000)
prelu = nn.PReLU()
activation_gaps = {
    "hardswish": (F.hardswish(z) - z * F.relu6(z + 3) / 6).abs().max().item(),
    "hardsigmoid": (F.hardsigmoid(z) - F.relu6(z + 3) / 6).abs().max().item(),
    "mish": (nn.Mish()(z) - z * torch.tanh(F.softplus(z))).abs().max().item(),
    "silu": (nn.SiLU()(z) - z * torch.sigmoid(z)).abs().max().item(),
    "prelu": (prelu(z) - torch.where(z > 0, z, 0.25 * z)).abs().max().item(),
    "gelu_tanh": (
        nn.GELU(approximate="tanh")(z)
        - 0.5 * z * (1 + torch.tanh((2 / torch.pi) ** 0.5 * (z + 0.044715 * z**3)))
    )
    .abs()
    .max()
    .item(),
}
print("activation formula gaps:", {k: f"{v:.1e}" for k, v in activation_gaps.items()})
