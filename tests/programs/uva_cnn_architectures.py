"""The UvA deep learning course's Tutorial 5 ("Inception, ResNet and DenseNet", Phillip Lippe),
shrunk to 8x8 images: the tutorial's ``InceptionBlock`` (1x1, 3x3 and 5x5 branches with
reductions and a stride-1 max-pool branch, concatenated on channels), ``ResNetBlock`` and
``PreActResNetBlock`` with strided subsampling, ``DenseLayer``/``DenseBlock``/``TransitionLayer``
growing the channels by concatenation, the ``act_fn_by_name`` table of activation classes, the
``_init_params`` loop over ``self.modules()`` (``kaiming_normal_(nonlinearity=...)``,
``nn.init.constant_`` for batch norms), parameter counts by ``np.prod(p.shape)``, each model
trained a few steps on a brightest-quadrant task, and eval-mode accuracies."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(42)
act_fn_by_name = {"tanh": nn.Tanh, "relu": nn.ReLU, "leakyrelu": nn.LeakyReLU, "gelu": nn.GELU}


class InceptionBlock(nn.Module):
    def __init__(self, c_in, c_red: dict, c_out: dict, act_fn):
        super().__init__()
        self.conv_1x1 = nn.Sequential(
            nn.Conv2d(c_in, c_out["1x1"], kernel_size=1), nn.BatchNorm2d(c_out["1x1"]), act_fn()
        )
        self.conv_3x3 = nn.Sequential(
            nn.Conv2d(c_in, c_red["3x3"], kernel_size=1),
            nn.BatchNorm2d(c_red["3x3"]),
            act_fn(),
            nn.Conv2d(c_red["3x3"], c_out["3x3"], kernel_size=3, padding=1),
            nn.BatchNorm2d(c_out["3x3"]),
            act_fn(),
        )
        self.conv_5x5 = nn.Sequential(
            nn.Conv2d(c_in, c_red["5x5"], kernel_size=1),
            nn.BatchNorm2d(c_red["5x5"]),
            act_fn(),
            nn.Conv2d(c_red["5x5"], c_out["5x5"], kernel_size=5, padding=2),
            nn.BatchNorm2d(c_out["5x5"]),
            act_fn(),
        )
        self.max_pool = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, padding=1, stride=1),
            nn.Conv2d(c_in, c_out["max"], kernel_size=1),
            nn.BatchNorm2d(c_out["max"]),
            act_fn(),
        )

    def forward(self, x):
        x_1x1 = self.conv_1x1(x)
        x_3x3 = self.conv_3x3(x)
        x_5x5 = self.conv_5x5(x)
        x_max = self.max_pool(x)
        x_out = torch.cat([x_1x1, x_3x3, x_5x5, x_max], dim=1)
        return x_out


class ResNetBlock(nn.Module):
    def __init__(self, c_in, act_fn, subsample=False, c_out=-1):
        super().__init__()
        if not subsample:
            c_out = c_in
        self.net = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, padding=1, stride=1 if not subsample else 2, bias=False),
            nn.BatchNorm2d(c_out),
            act_fn(),
            nn.Conv2d(c_out, c_out, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
        )
        self.downsample = nn.Conv2d(c_in, c_out, kernel_size=1, stride=2) if subsample else None
        self.act_fn = act_fn()

    def forward(self, x):
        z = self.net(x)
        if self.downsample is not None:
            x = self.downsample(x)
        out = z + x
        out = self.act_fn(out)
        return out


class PreActResNetBlock(nn.Module):
    def __init__(self, c_in, act_fn, subsample=False, c_out=-1):
        super().__init__()
        if not subsample:
            c_out = c_in
        self.net = nn.Sequential(
            nn.BatchNorm2d(c_in),
            act_fn(),
            nn.Conv2d(c_in, c_out, 3, padding=1, stride=1 if not subsample else 2, bias=False),
            nn.BatchNorm2d(c_out),
            act_fn(),
            nn.Conv2d(c_out, c_out, kernel_size=3, padding=1, bias=False),
        )
        self.downsample = (
            nn.Sequential(
                nn.BatchNorm2d(c_in), act_fn(), nn.Conv2d(c_in, c_out, 1, stride=2, bias=False)
            )
            if subsample
            else None
        )

    def forward(self, x):
        z = self.net(x)
        if self.downsample is not None:
            x = self.downsample(x)
        out = z + x
        return out


class DenseLayer(nn.Module):
    def __init__(self, c_in, bn_size, growth_rate, act_fn):
        super().__init__()
        self.net = nn.Sequential(
            nn.BatchNorm2d(c_in),
            act_fn(),
            nn.Conv2d(c_in, bn_size * growth_rate, kernel_size=1, bias=False),
            nn.BatchNorm2d(bn_size * growth_rate),
            act_fn(),
            nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, padding=1, bias=False),
        )

    def forward(self, x):
        out = self.net(x)
        out = torch.cat([out, x], dim=1)
        return out


class DenseBlock(nn.Module):
    def __init__(self, c_in, num_layers, bn_size, growth_rate, act_fn):
        super().__init__()
        layers = []
        for layer_idx in range(num_layers):
            layers.append(
                DenseLayer(c_in + layer_idx * growth_rate, bn_size, growth_rate, act_fn=act_fn)
            )
        self.block = nn.Sequential(*layers)

    def forward(self, x):
        return self.block(x)


class TransitionLayer(nn.Module):
    def __init__(self, c_in, c_out, act_fn):
        super().__init__()
        self.transition = nn.Sequential(
            nn.BatchNorm2d(c_in),
            act_fn(),
            nn.Conv2d(c_in, c_out, kernel_size=1, bias=False),
            nn.AvgPool2d(kernel_size=2, stride=2),
        )

    def forward(self, x):
        return self.transition(x)


class Net(nn.Module):
    def __init__(self, kind, act_fn_name="relu", num_classes=4):
        super().__init__()
        self.act_fn_name = act_fn_name
        act_fn = act_fn_by_name[act_fn_name]
        if kind == "googlenet":
            blocks = [
                nn.Conv2d(3, 8, kernel_size=3, padding=1), nn.BatchNorm2d(8), act_fn(),
                InceptionBlock(8, {"3x3": 4, "5x5": 2}, {"1x1": 4, "3x3": 4, "5x5": 2, "max": 2}, act_fn),
                nn.MaxPool2d(3, stride=2, padding=1),
                InceptionBlock(12, {"3x3": 4, "5x5": 2}, {"1x1": 4, "3x3": 6, "5x5": 2, "max": 4}, act_fn),
            ]  # fmt: skip
            c_last = 16
        elif kind == "resnet":
            blocks = [
                nn.Conv2d(3, 8, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(8), act_fn(),
                ResNetBlock(8, act_fn), ResNetBlock(8, act_fn, subsample=True, c_out=16),
            ]  # fmt: skip
            c_last = 16
        elif kind == "preact":
            blocks = [
                nn.Conv2d(3, 8, kernel_size=3, padding=1, bias=False),
                PreActResNetBlock(8, act_fn), PreActResNetBlock(8, act_fn, True, c_out=16),
                nn.BatchNorm2d(16), act_fn(),
            ]  # fmt: skip
            c_last = 16
        else:
            blocks = [
                nn.Conv2d(3, 8, kernel_size=3, padding=1),
                DenseBlock(8, num_layers=2, bn_size=2, growth_rate=4, act_fn=act_fn),
                TransitionLayer(16, 8, act_fn), nn.BatchNorm2d(8), act_fn(),
            ]  # fmt: skip
            c_last = 8
        self.blocks = nn.Sequential(*blocks)
        self.output_net = nn.Sequential(
            nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(c_last, num_classes)
        )
        self._init_params()

    def _init_params(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity=self.act_fn_name)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        return self.output_net(self.blocks(x))


images = torch.randn(48, 3, 8, 8)
quadrants = images.mean(1).unfold(1, 4, 4).unfold(2, 4, 4).mean((-1, -2)).flatten(1)
labels = quadrants.argmax(dim=1)

results = {}
for kind in ["googlenet", "resnet", "preact", "densenet"]:
    torch.manual_seed(1)
    model = Net(kind)
    n_params = int(sum(np.prod(p.shape) for p in model.parameters()))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    losses = []
    for step in range(8):
        batch = torch.arange(step % 3 * 16, step % 3 * 16 + 16)
        loss = F.cross_entropy(model(images[batch]), labels[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        acc = (model(images).argmax(dim=-1) == labels).float().mean().item()
        feats = tuple(model.blocks(images[:2]).shape)
    bn = next(m for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    results[kind] = [n_params, losses, acc, feats, bn.running_var[:3].tolist()]

try:
    nn.init.kaiming_normal_(torch.empty(4, 3, 3, 3), nonlinearity="gelu")
    gelu_error = None
except ValueError as e:
    gelu_error = str(e)
