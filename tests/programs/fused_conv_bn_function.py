"""The "Fusing Convolution and Batch Norm using Custom Function" tutorial, as written for
PyTorch: a Conv2D ``autograd.Function`` whose backward is a convolution of the transposed
input with the transposed gradient and a ``conv_transpose2d`` (``@once_differentiable``), a
BatchNorm Function with the tutorial's hand-derived backward working in place on C-sized
buffers, the two fused into one Function that saves only the input and recomputes the
convolution in backward (returning trailing ``None`` gradients for its extra arguments), each
checked with ``gradcheck`` in float64; then a small CNN built on ``FusedConvBN`` trained next
to the same network of ``nn.Conv2d`` + ``nn.BatchNorm2d`` (affine and running statistics off),
and, for inference, an eval-mode Conv+BN folded by hand and by
``torch.nn.utils.fusion.fuse_conv_bn_eval``; the hand gradients are also compared with
``torch.nn.grad.conv2d_input`` / ``conv2d_weight``."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd.function import once_differentiable
from torch.nn import init

torch.manual_seed(0)


def convolution_backward(grad_out, X, weight):
    grad_input = F.conv2d(X.transpose(0, 1), grad_out.transpose(0, 1)).transpose(0, 1)
    grad_X = F.conv_transpose2d(grad_out, weight)
    return grad_X, grad_input


class Conv2D(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X, weight):
        ctx.save_for_backward(X, weight)
        return F.conv2d(X, weight)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        X, weight = ctx.saved_tensors
        return convolution_backward(grad_out, X, weight)


def unsqueeze_all(t):
    return t[None, :, None, None]


def batch_norm_backward(grad_out, X, sum, sqrt_var, N, eps):
    tmp = ((X - unsqueeze_all(sum) / N) * grad_out).sum(dim=(0, 2, 3))
    tmp *= -1
    d_denom = tmp / (sqrt_var + eps) ** 2
    d_var = d_denom / (2 * sqrt_var)
    d_mean_dx = grad_out / unsqueeze_all(sqrt_var + eps)
    d_mean_dx = unsqueeze_all(-d_mean_dx.sum(dim=(0, 2, 3)) / N)
    grad_input = X * unsqueeze_all(d_var * N)
    grad_input += unsqueeze_all(-d_var * sum)
    grad_input *= 2 / ((N - 1) * N)
    grad_input += d_mean_dx
    grad_input *= unsqueeze_all(sqrt_var + eps)
    grad_input += grad_out
    grad_input /= unsqueeze_all(sqrt_var + eps)
    return grad_input


def batch_norm_forward(ctx, X, eps):
    sum = X.sum(dim=(0, 2, 3))
    var = X.var(unbiased=True, dim=(0, 2, 3))
    N = X.numel() / X.size(1)
    sqrt_var = torch.sqrt(var)
    ctx.eps, ctx.sum, ctx.N, ctx.sqrt_var = eps, sum, N, sqrt_var
    mean = sum / N
    denom = sqrt_var + eps
    out = X - unsqueeze_all(mean)
    out /= unsqueeze_all(denom)
    return out


class BatchNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X, eps=1e-3):
        ctx.save_for_backward(X)
        return batch_norm_forward(ctx, X, eps)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        (X,) = ctx.saved_tensors
        return batch_norm_backward(grad_out, X, ctx.sum, ctx.sqrt_var, ctx.N, ctx.eps), None


class FusedConvBN2DFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X, conv_weight, eps=1e-3):
        assert X.ndim == 4
        ctx.save_for_backward(X, conv_weight)
        return batch_norm_forward(ctx, F.conv2d(X, conv_weight), eps)

    @staticmethod
    def backward(ctx, grad_out):
        X, conv_weight = ctx.saved_tensors
        X_conv_out = F.conv2d(X, conv_weight)
        grad_out = batch_norm_backward(grad_out, X_conv_out, ctx.sum, ctx.sqrt_var, ctx.N, ctx.eps)
        grad_X, grad_input = convolution_backward(grad_out, X, conv_weight)
        return grad_X, grad_input, None, None, None, None, None


class FusedConvBN(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, eps=1e-3, device=None, dtype=None):
        super().__init__()
        factory_kwargs = {"device": device, "dtype": dtype}
        weight_shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.conv_weight = nn.Parameter(torch.empty(*weight_shape, **factory_kwargs))
        self.num_features, self.eps = out_channels, eps
        self.reset_parameters()

    def forward(self, X):
        return FusedConvBN2DFunction.apply(X, self.conv_weight, self.eps)

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.conv_weight, a=math.sqrt(5))


weight = torch.rand(5, 3, 3, 3, requires_grad=True, dtype=torch.double)
X = torch.rand(4, 3, 7, 7, requires_grad=True, dtype=torch.double)
gradchecks = [torch.autograd.gradcheck(Conv2D.apply, (X, weight))]
a = torch.rand(1, 2, 3, 4, requires_grad=True, dtype=torch.double)
gradchecks.append(torch.autograd.gradcheck(BatchNorm.apply, (a,), fast_mode=False))
a = torch.rand(2, 2, 5, 4, requires_grad=True, dtype=torch.double)
weight = torch.rand(5, 2, 3, 3, requires_grad=True, dtype=torch.double)
gradchecks.append(torch.autograd.gradcheck(FusedConvBN2DFunction.apply, (a, weight)))

grad_out = torch.randn(4, 5, 5, 5, dtype=torch.double)
weight = torch.rand(5, 3, 3, 3, dtype=torch.double)
hand_x, hand_w = convolution_backward(grad_out, X.detach(), weight)
library_gaps = [
    (hand_x - torch.nn.grad.conv2d_input(X.shape, weight, grad_out)).abs().max().item(),
    (hand_w - torch.nn.grad.conv2d_weight(X.detach(), weight.shape, grad_out)).abs().max().item(),
]


class Net(nn.Module):
    def __init__(self, fused=True):
        super().__init__()
        self.fused = fused
        if fused:
            self.convbn1, self.convbn2 = FusedConvBN(1, 4, 3), FusedConvBN(4, 8, 3)
        else:
            self.conv1 = nn.Conv2d(1, 4, 3, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(4, affine=False, track_running_stats=False, eps=1e-3)
            self.conv2 = nn.Conv2d(4, 8, 3, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(8, affine=False, track_running_stats=False, eps=1e-3)
        self.fc1 = nn.Linear(8, 3)

    def forward(self, x):
        x = self.convbn1(x) if self.fused else self.bn1(self.conv1(x))
        x = F.relu(x)
        x = self.convbn2(x) if self.fused else self.bn2(self.conv2(x))
        x = F.adaptive_avg_pool2d(F.relu(x), 1)
        return F.log_softmax(self.fc1(torch.flatten(x, 1)), dim=1)


images = torch.randn(24, 1, 9, 9)
labels = torch.arange(24) % 3
images[labels == 1, :, :4] += 1.5
images[labels == 2, :, :, :4] -= 1.5
fused, plain = Net(fused=True), Net(fused=False)
with torch.no_grad():
    plain.conv1.weight.copy_(fused.convbn1.conv_weight)
    plain.conv2.weight.copy_(fused.convbn2.conv_weight)
    plain.fc1.load_state_dict(fused.fc1.state_dict())
runs = {}
for name, model in [("fused", fused), ("plain", plain)]:
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    losses = []
    for epoch in range(6):
        for i in range(0, 24, 8):
            optimizer.zero_grad()
            loss = F.nll_loss(model(images[i : i + 8]), labels[i : i + 8])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    runs[name] = losses
fused_accuracy = (fused(images).argmax(1) == labels).float().mean().item()

# inference: fold an eval-mode BatchNorm into the convolution before it
conv, bn = nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4)
bn.train()
for _ in range(3):
    bn(conv(torch.randn(6, 3, 5, 5)))
with torch.no_grad():
    bn.weight.uniform_(0.5, 1.5)
    bn.bias.uniform_(-0.5, 0.5)
conv.eval(), bn.eval()
scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
folded = nn.Conv2d(3, 4, 3, padding=1)
with torch.no_grad():
    folded.weight.copy_(conv.weight * scale.reshape(-1, 1, 1, 1))
    folded.bias.copy_((conv.bias - bn.running_mean) * scale + bn.bias)
library_fused = torch.nn.utils.fusion.fuse_conv_bn_eval(conv, bn)
probe = torch.randn(2, 3, 5, 5)
with torch.no_grad():
    reference = bn(conv(probe))
    fold_gaps = [
        (folded(probe) - reference).abs().max().item(),
        (library_fused(probe) - reference).abs().max().item(),
    ]
library_fused_bias = library_fused.bias.tolist()
running_var = bn.running_var.tolist()
