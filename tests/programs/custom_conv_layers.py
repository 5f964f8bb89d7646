"""Convolution layers written the way libraries write them on top of ``torch.nn``: a
weight-standardized ``Conv2d`` subclass (BiT / NF-nets), a "same"-padding convolution that
computes TensorFlow's asymmetric padding with ``_pair`` and ``F.pad``, CoordConv (coordinate
channels from ``torch.linspace``), layers annotated with ``torch.nn.common_types._size_2_t``,
``isinstance`` checks against ``nn.modules.conv._ConvNd`` to re-initialize them, a checkpoint
saved from a ``DataParallel``-style wrapper loaded back after
``consume_prefix_in_state_dict_if_present(..., "module.")``, and
``nn.utils.rnn.invert_permutation`` to restore a length-sorted batch."""

import math
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn
from torch.nn.common_types import _size_2_t
from torch.nn.modules.conv import _ConvNd
from torch.nn.modules.utils import (
    _pair,
    _reverse_repeat_tuple,
    consume_prefix_in_state_dict_if_present,
)
from torch.nn.utils.rnn import invert_permutation

rng = np.random.default_rng(241)


class StdConv2d(nn.Conv2d):
    def __init__(self, *args, eps=1e-6, **kwargs):
        super().__init__(*args, **kwargs)
        self.eps = eps

    def forward(self, x):
        weight = F.batch_norm(
            self.weight.reshape(1, self.out_channels, -1),
            None,
            None,
            training=True,
            momentum=0.0,
            eps=self.eps,
        ).reshape_as(self.weight)
        return F.conv2d(x, weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


def get_same_padding(x: int, k: int, s: int, d: int):
    return max((math.ceil(x / s) - 1) * s + (k - 1) * d + 1 - x, 0)


class Conv2dSame(nn.Conv2d):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _size_2_t,
        stride: _size_2_t = 1,
        dilation: _size_2_t = 1,
        bias: bool = True,
    ):
        super().__init__(in_channels, out_channels, kernel_size, stride, 0, dilation, 1, bias)

    def forward(self, x):
        ih, iw = x.size()[-2:]
        kh, kw = _pair(self.kernel_size)
        pad_h = get_same_padding(ih, kh, self.stride[0], self.dilation[0])
        pad_w = get_same_padding(iw, kw, self.stride[1], self.dilation[1])
        x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, (0, 0), self.dilation, self.groups)


class CoordConv(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: _size_2_t = 3):
        super().__init__()
        padding = _pair(kernel_size)[0] // 2
        self.conv = nn.Conv2d(
            in_channels + 2, out_channels, kernel_size, padding=padding, padding_mode="reflect"
        )

    def forward(self, x):
        b, _, h, w = x.shape
        ys = torch.linspace(-1, 1, h).view(1, 1, h, 1).expand(b, 1, h, w)
        xs = torch.linspace(-1, 1, w).view(1, 1, 1, w).expand(b, 1, h, w)
        return self.conv(torch.cat([x, ys, xs], dim=1))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = StdConv2d(1, 4, 3, padding=1)
        self.down = Conv2dSame(4, 8, 3, stride=2)
        self.coord = CoordConv(8, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        x = F.relu(self.stem(x))
        x = F.relu(self.down(x))
        x = F.relu(self.coord(x))
        return self.head(x.mean((2, 3)))


model = Net()
conv_names = [name for name, m in model.named_modules() if isinstance(m, _ConvNd)]
init_from_numpy(model, seed=241)
images = randn(rng, 24, 1, 9, 9)
labels = (images[:, 0, :, :4].mean((1, 2)) > images[:, 0, :, 5:].mean((1, 2))).long()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
losses = []
for step in range(15):
    loss = F.cross_entropy(model(images), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
shapes = [list(model.down(torch.zeros(1, 4, n, n)).shape) for n in (7, 8, 9)]
standardized = model.stem.weight.reshape(4, -1)

wrapped = OrderedDict(("module." + k, v.clone()) for k, v in model.state_dict().items())
consume_prefix_in_state_dict_if_present(wrapped, "module.")
fresh = Net()
fresh.load_state_dict(wrapped)
with torch.no_grad():
    reload_gap = (fresh(images) - model(images)).abs().max().item()
stripped_keys = list(wrapped.keys())[:3]
padding_args = [_reverse_repeat_tuple((1, 2), 2), _pair(3), _pair((2, 5))]

lengths = torch.tensor([3, 7, 5, 2])
sorted_lengths, perm = lengths.sort(descending=True)
restored = sorted_lengths[invert_permutation(perm)].tolist()
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}; shapes {shapes}; reload gap {reload_gap}")
