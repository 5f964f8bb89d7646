"""Group-equivariant convolutions (Cohen & Welling 2016, "G-CNNs") on the rotation group p4, as
the PyTorch ports of GrouPy write ``P4ConvZ2`` and ``P4ConvP4``: the filter bank is expanded to
its four rotations with ``torch.rot90(w, r, dims=(-2, -1))`` (and, on group feature maps, a
cyclic ``torch.roll`` of the rotation axis), the result used in one ordinary ``F.conv2d``; a
group-pooled (max over rotations), spatially pooled classifier is then invariant to 90-degree
rotations of its input, which the program checks to rounding before and after training on
patterns shown in random orientations; the plain CNN of the same size is not."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
S = 9


class P4ConvZ2(nn.Module):
    """Lifting convolution: an image (B, C, H, W) to a p4 feature map (B, O, 4, H', W')."""

    def __init__(self, in_channels, out_channels, kernel_size, padding=0):
        super().__init__()
        self.padding = padding
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))

    def forward(self, x):
        o = self.weight.shape[0]
        w = torch.stack([torch.rot90(self.weight, r, dims=(-2, -1)) for r in range(4)], dim=1)
        y = F.conv2d(x, w.view(o * 4, *w.shape[2:]), padding=self.padding)
        return y.view(x.shape[0], o, 4, *y.shape[-2:]) + self.bias.view(1, o, 1, 1, 1)


class P4ConvP4(nn.Module):
    """Group convolution: (B, C, 4, H, W) to (B, O, 4, H', W')."""

    def __init__(self, in_channels, out_channels, kernel_size, padding=0):
        super().__init__()
        self.padding = padding
        self.weight = nn.Parameter(
            torch.empty(out_channels, in_channels, 4, kernel_size, kernel_size)
        )
        self.bias = nn.Parameter(torch.zeros(out_channels))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))

    def forward(self, x):
        o, c = self.weight.shape[:2]
        rotated = [
            torch.roll(torch.rot90(self.weight, r, dims=(-2, -1)), shifts=r, dims=2)
            for r in range(4)
        ]
        w = torch.stack(rotated, dim=1).reshape(o * 4, c * 4, *self.weight.shape[-2:])
        b, _, _, h, wd = x.shape
        y = F.conv2d(x.reshape(b, c * 4, h, wd), w, padding=self.padding)
        return y.view(b, o, 4, *y.shape[-2:]) + self.bias.view(1, o, 1, 1, 1)


class P4CNN(nn.Module):
    def __init__(self, width=6, n_classes=3):
        super().__init__()
        self.conv1 = P4ConvZ2(1, width, 3, padding=1)
        self.conv2 = P4ConvP4(width, width, 3, padding=1)
        self.fc = nn.Linear(width, n_classes)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = x.amax(dim=2)  # pool over the rotations ...
        return self.fc(x.amax(dim=(-2, -1)))  # and over the plane


class PlainCNN(nn.Module):
    def __init__(self, width=8, n_classes=3):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)
        self.fc = nn.Linear(width * S * S, n_classes)

    def forward(self, x):
        return self.fc(F.relu(self.conv2(F.relu(self.conv1(x)))).flatten(1))


templates = torch.zeros(3, S, S)
templates[0, 2:7, 4] = 1.0
templates[0, 2, 4:7] = 1.0  # an "L"-ish hook
templates[1, 4, 1:8] = 1.0
templates[1, 2:7, 2] = 1.0  # a "T"-ish shape
templates[2, 2:7, 2:7] = 1.0
templates[2, 3:6, 3:6] = 0.0  # a hollow square


def make_set(n):
    labels = torch.randint(0, 3, (n,))
    turns = torch.randint(0, 4, (n,))
    images = torch.stack(
        [torch.rot90(templates[label], int(k), dims=(0, 1)) for label, k in zip(labels, turns)]
    )
    return (images + 0.1 * torch.randn(n, S, S)).unsqueeze(1), labels


def rotation_gap(model, x):
    with torch.no_grad():
        base = model(x)
        return max(
            (model(torch.rot90(x, k, dims=(2, 3))) - base).abs().max().item() for k in (1, 2, 3)
        )


x_train, y_train = make_set(48)
x_test, y_test = make_set(24)
results = {}
for name, model in (("p4", P4CNN()), ("plain", PlainCNN())):
    gap_before = rotation_gap(model, x_test)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for epoch in range(6):
        for idx in torch.randperm(48).split(16):
            loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    with torch.no_grad():
        accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
    results[name] = (losses, accuracy, gap_before, rotation_gap(model, x_test))

p4_losses, p4_accuracy, p4_gap_before, p4_gap_after = results["p4"]
plain_losses, plain_accuracy, plain_gap_before, plain_gap_after = results["plain"]
lifted_shape = tuple(P4ConvZ2(1, 2, 3)(x_test[:2]).shape)
