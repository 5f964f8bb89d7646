"""Normalizer-free networks (Brock et al. 2021) the way timm and the NFNet reference port write
them: ``ScaledStdConv2d`` (scaled weight standardization through ``F.batch_norm`` on the
reshaped kernel with a learnable ``gain``, ``eps`` inside the variance, the fan-in ``scale``),
a scaled activation (``gamma`` for ReLU), pre-activation NF blocks with the ``alpha``/``beta``
variance bookkeeping and a ``skipinit_gain`` that starts at zero, and adaptive gradient
clipping (timm's ``adaptive_clip_grad``: unit-wise norms over all dims but the first,
``torch.where(trigger, clipped, grad)`` copied into ``p.grad``), the final classifier excluded
from clipping; trained with SGD + Nesterov on tiny 8x8 images, the clip counted per step."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class ScaledStdConv2d(nn.Conv2d):
    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=None,
        dilation=1,
        groups=1,
        bias=True,
        gamma=1.0,
        eps=1e-6,
        gain_init=1.0,
    ):
        if padding is None:
            padding = ((stride - 1) + dilation * (kernel_size - 1)) // 2
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=bias,
        )
        self.gain = nn.Parameter(torch.full((self.out_channels, 1, 1, 1), gain_init))
        self.scale = gamma * self.weight[0].numel() ** -0.5
        self.eps = eps

    def forward(self, x):
        weight = F.batch_norm(
            self.weight.reshape(1, self.out_channels, -1),
            None,
            None,
            weight=(self.gain * self.scale).reshape(-1),
            training=True,
            momentum=0.0,
            eps=self.eps,
        ).reshape_as(self.weight)
        return F.conv2d(x, weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


_nonlin_gamma = dict(relu=1.7139588594436646, silu=1.7881293296813965)


class GammaAct(nn.Module):
    def __init__(self, act_type="relu", inplace=False):
        super().__init__()
        self.act_fn = F.relu if act_type == "relu" else F.silu
        self.gamma = _nonlin_gamma[act_type]
        self.inplace = inplace
        self.mul_inplace = False  # relu saves its output: mul_ would break its backward

    def forward(self, x):
        out = self.act_fn(x, inplace=self.inplace)
        return out.mul_(self.gamma) if self.mul_inplace else out * self.gamma


class NormFreeBlock(nn.Module):
    def __init__(self, in_chs, out_chs, stride=1, alpha=0.2, beta=1.0):
        super().__init__()
        self.alpha, self.beta = alpha, beta
        self.act1 = GammaAct("relu")
        self.downsample = (
            ScaledStdConv2d(in_chs, out_chs, 1, stride=stride, gamma=1.0)
            if stride != 1 or in_chs != out_chs
            else None
        )
        self.conv1 = ScaledStdConv2d(in_chs, out_chs, 3, stride=stride, gamma=1.0)
        self.act2 = GammaAct("relu", inplace=True)
        self.conv2 = ScaledStdConv2d(out_chs, out_chs, 3, gamma=1.0)
        self.skipinit_gain = nn.Parameter(torch.tensor(0.0))

    def forward(self, x):
        out = self.act1(x) * self.beta
        shortcut = x if self.downsample is None else self.downsample(out)
        out = self.conv2(self.act2(self.conv1(out)))
        return out.mul_(self.skipinit_gain) * self.alpha + shortcut


class NFNet(nn.Module):
    def __init__(self, num_classes=3, alpha=0.2):
        super().__init__()
        self.stem = ScaledStdConv2d(1, 8, 3, stride=1)
        blocks, expected_var, chs = [], 1.0, 8
        for out_chs, stride in ((8, 1), (16, 2), (16, 1)):
            beta = 1.0 / expected_var**0.5
            blocks.append(NormFreeBlock(chs, out_chs, stride, alpha=alpha, beta=beta))
            expected_var = 1.0 if stride != 1 or chs != out_chs else expected_var + alpha**2
            chs = out_chs
        self.stages = nn.Sequential(*blocks)
        self.final_act = GammaAct("relu")
        self.head = nn.Linear(chs, num_classes)
        self.betas = [b.beta for b in blocks]

    def forward(self, x):
        x = self.final_act(self.stages(self.stem(x)))
        return self.head(x.mean((2, 3)))


def unitwise_norm(x, norm_type=2.0):
    if x.ndim <= 1:
        return x.norm(norm_type)
    return x.norm(norm_type, dim=tuple(range(1, x.ndim)), keepdim=True)


def adaptive_clip_grad(parameters, clip_factor=0.01, eps=1e-3, norm_type=2.0):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    clipped_units = 0
    for p in parameters:
        if p.grad is None:
            continue
        p_data = p.detach()
        g_data = p.grad.detach()
        max_norm = unitwise_norm(p_data, norm_type=norm_type).clamp_(min=eps).mul_(clip_factor)
        grad_norm = unitwise_norm(g_data, norm_type=norm_type)
        clipped_grad = g_data * (max_norm / grad_norm.clamp(min=1e-6))
        trigger = grad_norm > max_norm
        clipped_units += int(trigger.sum())
        new_grads = torch.where(trigger, clipped_grad, g_data)
        p.grad.detach().copy_(new_grads)
    return clipped_units


torch.manual_seed(0)
n = 60
labels = torch.arange(n) % 3
images = 0.5 * torch.randn(n, 1, 8, 8)
images[labels == 0, :, :4, :] += 1.0
images[labels == 1, :, :, :4] += 1.0
images[labels == 2] -= 0.5

model = NFNet()
weight_stats = {}
with torch.no_grad():
    conv = model.stem
    try:
        F.batch_norm(conv.weight.reshape(1, 8, -1), None, None, training=True, eps=0.0)
    except ValueError as e:
        zero_eps_error = str(e)
    w = F.batch_norm(
        conv.weight.reshape(1, 8, -1), None, None, training=True, momentum=0.0, eps=1e-12
    ).reshape_as(conv.weight)
    weight_stats["mean"] = w.mean((1, 2, 3)).abs().max().item()
    weight_stats["var"] = w.var((1, 2, 3), unbiased=False).mean().item()
    init_out_std = model.stages(model.stem(images)).std().item()

gotcha = GammaAct("relu")
gotcha.mul_inplace = True
try:
    gotcha(torch.randn(3, requires_grad=True)).sum().backward()
except RuntimeError as e:
    inplace_error = str(e).split(":")[0]

body = [p for n_, p in model.named_parameters() if not n_.startswith("head")]
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=2e-5)
losses, clip_counts = [], []
for epoch in range(6):
    for idx in torch.randperm(n).split(20):
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(images[idx]), labels[idx])
        loss.backward()
        clip_counts.append(adaptive_clip_grad(body, clip_factor=0.02))
        opt.step()
        losses.append(loss.item())
with torch.no_grad():
    accuracy = (model(images).argmax(1) == labels).float().mean().item()
skip_gains = [b.skipinit_gain.item() for b in model.stages]
betas = model.betas
