"""MobileNetV2 / EfficientNet building blocks as torchvision and timm write them: inverted
residual blocks (1x1 expand, depthwise 3x3 conv with groups=channels, 1x1 project), ReLU6 and
SiLU, squeeze-and-excitation (adaptive average pool, two 1x1 convs, sigmoid gate), stochastic
depth (per-sample drop path with bernoulli_ and div), _make_divisible channel rounding,
Kaiming/normal init per module type, and label-smoothed cross-entropy training with
AdamW and OneCycleLR on a toy image task, BatchNorm statistics recomputed by update_bn."""

import math

import torch
import torch.nn as nn
from torch import Tensor
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)


def _make_divisible(v, divisor=8, min_value=None):
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    # Make sure that round down does not go down by more than 10%.
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def stochastic_depth(input: Tensor, p: float, mode: str, training: bool = True) -> Tensor:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    survival_rate = 1.0 - p
    if mode == "row":
        size = [input.shape[0]] + [1] * (input.ndim - 1)
    else:
        size = [1] * input.ndim
    noise = torch.empty(size, dtype=input.dtype, device=input.device)
    noise = noise.bernoulli_(survival_rate)
    if survival_rate > 0.0:
        noise.div_(survival_rate)
    return input * noise


class StochasticDepth(nn.Module):
    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, input: Tensor) -> Tensor:
        return stochastic_depth(input, self.p, self.mode, self.training)


class Conv2dNormActivation(nn.Sequential):
    def __init__(self, in_planes, out_planes, kernel_size=3, stride=1, groups=1,
                 activation_layer=nn.ReLU6):  # fmt: skip
        padding = (kernel_size - 1) // 2
        layers = [
            nn.Conv2d(
                in_planes, out_planes, kernel_size, stride, padding, groups=groups, bias=False
            ),
            nn.BatchNorm2d(out_planes),
        ]
        if activation_layer is not None:
            layers.append(activation_layer(inplace=True))
        super().__init__(*layers)
        self.out_channels = out_planes


class SqueezeExcitation(nn.Module):
    def __init__(
        self, input_channels, squeeze_channels, activation=nn.ReLU, scale_activation=nn.Sigmoid
    ):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def _scale(self, input: Tensor) -> Tensor:
        scale = self.avgpool(input)
        scale = self.fc1(scale)
        scale = self.activation(scale)
        scale = self.fc2(scale)
        return self.scale_activation(scale)

    def forward(self, input: Tensor) -> Tensor:
        scale = self._scale(input)
        return scale * input


class InvertedResidual(nn.Module):
    """MobileNetV2's block: expand, depthwise, project; residual when shapes allow."""

    def __init__(self, inp, oup, stride, expand_ratio):
        super().__init__()
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(inp, hidden_dim, kernel_size=1))
        layers.extend([
            Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim),
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
            nn.BatchNorm2d(oup),
        ])  # fmt: skip
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class MBConv(nn.Module):
    """EfficientNet's block: SiLU, squeeze-excitation, stochastic depth on the residual."""

    def __init__(self, inp, oup, kernel, stride, expand_ratio, sd_prob):
        super().__init__()
        self.use_res_connect = stride == 1 and inp == oup
        expanded = _make_divisible(inp * expand_ratio)
        layers = []
        if expanded != inp:
            layers.append(Conv2dNormActivation(inp, expanded, 1, activation_layer=nn.SiLU))
        layers.append(Conv2dNormActivation(expanded, expanded, kernel, stride, groups=expanded,
                                           activation_layer=nn.SiLU))  # fmt: skip
        squeeze = max(1, inp // 4)
        layers.append(SqueezeExcitation(expanded, squeeze, activation=nn.SiLU))
        layers.append(Conv2dNormActivation(expanded, oup, 1, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(sd_prob, "row")

    def forward(self, input):
        result = self.block(input)
        if self.use_res_connect:
            result = self.stochastic_depth(result)
            result += input
        return result


class TinyEfficientNet(nn.Module):
    def __init__(self, num_classes=3, width_mult=0.5, stochastic_depth_prob=0.2):
        super().__init__()
        first = _make_divisible(32 * width_mult)
        self.stem = Conv2dNormActivation(3, first, stride=2, activation_layer=nn.SiLU)
        settings = [(1, 16, 1, 1, 3), (4, 24, 2, 2, 3), (4, 40, 2, 2, 5)]  # t, c, n, s, k
        total = sum(n for _, _, n, _, _ in settings)
        blocks, idx, inp = [], 0, first
        for t, c, n, s, k in settings:
            oup = _make_divisible(c * width_mult)
            for i in range(n):
                sd = stochastic_depth_prob * idx / total
                if t == 1:
                    blocks.append(InvertedResidual(inp, oup, s if i == 0 else 1, t))
                else:
                    blocks.append(MBConv(inp, oup, k, s if i == 0 else 1, t, sd))
                inp, idx = oup, idx + 1
        self.features = nn.Sequential(*blocks)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Dropout(p=0.2, inplace=True), nn.Linear(inp, num_classes)
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                init_range = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -init_range, init_range)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.features(self.stem(x))
        x = torch.flatten(self.avgpool(x), 1)
        return self.classifier(x)


def make_images(n):
    """Three classes: a bright square, a bright disc, or vertical stripes, on noise."""
    y = torch.randint(0, 3, (n,))
    grid = torch.arange(16).float()
    yy, xx = torch.meshgrid(grid, grid, indexing="ij")
    square = ((yy - 7.5).abs() < 4) & ((xx - 7.5).abs() < 4)
    disc = ((yy - 7.5) ** 2 + (xx - 7.5) ** 2) < 20
    stripes = (xx.long() % 4) < 2
    shapes = torch.stack([square, disc, stripes]).float()
    x = 0.5 * torch.randn(n, 3, 16, 16) + shapes[y].unsqueeze(1)
    return x, y


x_train, y_train = make_images(160)
x_test, y_test = make_images(96)
model = TinyEfficientNet()
n_params = sum(p.numel() for p in model.parameters())
depthwise = [m for m in model.modules() if isinstance(m, nn.Conv2d) and m.groups > 1]
print(f"parameters: {n_params}, depthwise convs: {len(depthwise)}")
criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
epochs, batch = 4, 32
scheduler = torch.optim.lr_scheduler.OneCycleLR(
    optimizer, max_lr=4e-3, total_steps=epochs * (len(x_train) // batch)
)
losses = []
for epoch in range(epochs):
    model.train()
    perm = torch.randperm(len(x_train))
    for i in range(0, len(x_train), batch):
        idx = perm[i : i + batch]
        loss = criterion(model(x_train[idx]), y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    print(f"epoch {epoch}: loss {sum(losses[-5:]) / 5:.3f}")

model.eval()
with torch.no_grad():
    accuracy_before_recalibration = (model(x_test).argmax(1) == y_test).float().mean().item()
# A schedule this short leaves the running BatchNorm statistics behind the weights:
# recompute them over the training set before evaluating
torch.optim.swa_utils.update_bn(DataLoader(TensorDataset(x_train), batch_size=32), model)
model.eval()
with torch.no_grad():
    accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
    x = torch.randn(4, 8, 5, 5)
    sd_eval_identity = torch.equal(stochastic_depth(x, 0.5, "row", training=False), x)
    dropped = stochastic_depth(torch.ones(1000, 1, 1), 0.3, "row")
    drop_fraction = (dropped == 0).float().mean().item()
    kept_value = dropped.max().item()
print(
    f"test accuracy {accuracy_before_recalibration:.3f} -> {accuracy:.3f} after update_bn, "
    f"drop fraction {drop_fraction:.3f}"
)
