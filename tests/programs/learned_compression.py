"""Learned image compression (Ballé et al. 2017, "End-to-end optimized image compression")
as CompressAI writes it: GDN layers ``x / sqrt(beta + conv1x1(x^2, gamma))`` whose beta and
gamma are reparametrized non-negative (``NonNegativeParametrizer``: squared, offset by
pedestal, and bounded below through ``LowerBound``, a ``torch.autograd.Function`` whose
backward lets a gradient through where ``(x >= bound) | (grad < 0)``), inverse GDN in the
decoder, ConvTranspose2d synthesis, an EntropyBottleneck with the factorized prior's
cumulative logits (per-channel softplus matrices, biases and tanh factors), likelihoods as
``sigmoid(upper) - sigmoid(lower)`` with the sign flip that keeps them in the accurate tail,
additive uniform noise in training and ``torch.round`` around the medians at inference, and
the rate-distortion loss ``lambda * 255^2 * MSE + bpp``; on 16x16 images of smooth gradients."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class LowerBoundFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input_, bound):
        ctx.save_for_backward(input_, bound)
        return torch.max(input_, bound)

    @staticmethod
    def backward(ctx, grad_output):
        input_, bound = ctx.saved_tensors
        pass_through_if = (input_ >= bound) | (grad_output < 0)
        return pass_through_if * grad_output, None


class LowerBound(nn.Module):
    def __init__(self, bound):
        super().__init__()
        self.register_buffer("bound", torch.Tensor([float(bound)]))

    def forward(self, x):
        return LowerBoundFunction.apply(x, self.bound)


class NonNegativeParametrizer(nn.Module):
    def __init__(self, minimum=0.0, reparam_offset=2**-18):
        super().__init__()
        self.pedestal = reparam_offset**2
        self.lower_bound = LowerBound((minimum + self.pedestal) ** 0.5)

    def init(self, x):
        return torch.sqrt(torch.max(x + self.pedestal, torch.tensor(self.pedestal)))

    def forward(self, x):
        return self.lower_bound(x) ** 2 - self.pedestal


class GDN(nn.Module):
    def __init__(self, in_channels, inverse=False, beta_min=1e-6, gamma_init=0.1):
        super().__init__()
        self.inverse = bool(inverse)
        self.beta_reparam = NonNegativeParametrizer(minimum=beta_min)
        self.beta = nn.Parameter(self.beta_reparam.init(torch.ones(in_channels)))
        self.gamma_reparam = NonNegativeParametrizer()
        self.gamma = nn.Parameter(self.gamma_reparam.init(gamma_init * torch.eye(in_channels)))

    def forward(self, x):
        C = x.size(1)
        beta, gamma = (
            self.beta_reparam(self.beta),
            self.gamma_reparam(self.gamma).reshape(C, C, 1, 1),
        )
        norm = F.conv2d(x**2, gamma, beta)
        norm = torch.sqrt(norm) if self.inverse else torch.rsqrt(norm)
        return x * norm


class EntropyBottleneck(nn.Module):
    def __init__(self, channels, init_scale=10.0, filters=(3, 3)):
        super().__init__()
        filters = (1, *filters, 1)
        scale = init_scale ** (1 / (len(filters) - 1))
        self.matrices, self.biases, self.factors = (
            nn.ParameterList(),
            nn.ParameterList(),
            nn.ParameterList(),
        )
        for i in range(len(filters) - 1):
            init = math.log(math.expm1(1 / scale / filters[i + 1]))
            self.matrices.append(
                nn.Parameter(torch.Tensor(channels, filters[i + 1], filters[i]).fill_(init))
            )
            self.biases.append(
                nn.Parameter(torch.Tensor(channels, filters[i + 1], 1).uniform_(-0.5, 0.5))
            )
            if i < len(filters) - 2:
                self.factors.append(nn.Parameter(torch.zeros(channels, filters[i + 1], 1)))
        self.medians = nn.Parameter(torch.zeros(1, channels, 1, 1), requires_grad=False)

    def _logits_cumulative(self, inputs):
        logits = inputs
        for i in range(len(self.matrices)):
            logits = torch.matmul(F.softplus(self.matrices[i]), logits) + self.biases[i]
            if i < len(self.factors):
                logits = logits + torch.tanh(self.factors[i]) * torch.tanh(logits)
        return logits

    def _likelihood(self, inputs):
        lower = self._logits_cumulative(inputs - 0.5)
        upper = self._logits_cumulative(inputs + 0.5)
        sign = -torch.sign(lower + upper).detach()
        return torch.abs(torch.sigmoid(sign * upper) - torch.sigmoid(sign * lower))

    def forward(self, x, training=True):
        perm = [1, 0, 2, 3]
        values = x.permute(*perm).contiguous()
        shape = values.size()
        values = values.reshape(x.size(1), 1, -1)  # (C, 1, N*H*W)
        if training:
            outputs = values + torch.empty_like(values).uniform_(-0.5, 0.5)
        else:
            medians = self.medians.detach().reshape(-1, 1, 1)
            outputs = torch.round(values - medians) + medians
        likelihood = torch.clamp(self._likelihood(outputs), min=1e-9)
        outputs = outputs.reshape(shape).permute(*perm).contiguous()
        likelihood = likelihood.reshape(shape).permute(*perm).contiguous()
        return outputs, likelihood


class FactorizedPrior(nn.Module):
    def __init__(self, N=16, M=8):
        super().__init__()
        self.g_a = nn.Sequential(nn.Conv2d(1, N, 5, 2, 2), GDN(N), nn.Conv2d(N, M, 5, 2, 2))
        self.g_s = nn.Sequential(nn.ConvTranspose2d(M, N, 5, 2, 2, output_padding=1), GDN(N, inverse=True),
                                 nn.ConvTranspose2d(N, 1, 5, 2, 2, output_padding=1))  # fmt: skip
        self.entropy_bottleneck = EntropyBottleneck(M)

    def forward(self, x, training=True):
        y = self.g_a(x)
        y_hat, y_likelihoods = self.entropy_bottleneck(y, training)
        return self.g_s(y_hat), y_likelihoods


def images(n):
    grid = torch.linspace(0, 1, 16)
    angle = torch.rand(n, 1, 1) * 6.28
    ramp = torch.cos(angle) * grid.view(1, 1, 16) + torch.sin(angle) * grid.view(1, 16, 1)
    return (0.5 + 0.4 * torch.sin(ramp * 4 + torch.rand(n, 1, 1) * 6.28)).unsqueeze(1)


model = FactorizedPrior()
lmbda, num_pixels = 0.01, 16 * 16
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
mse_losses, bpp_losses = [], []
for step in range(60):
    x = images(8)
    x_hat, likelihoods = model(x)
    bpp_loss = torch.log(likelihoods).sum() / (-math.log(2) * num_pixels * x.size(0))
    mse_loss = F.mse_loss(x_hat, x)
    loss = lmbda * 255**2 * mse_loss + bpp_loss
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    mse_losses.append(mse_loss.item())
    bpp_losses.append(bpp_loss.item())

with torch.no_grad():
    x = images(8)
    x_hat, likelihoods = model(x, training=False)
    eval_bpp = (torch.log(likelihoods).sum() / (-math.log(2) * num_pixels * 8)).item()
    eval_psnr = (10 * torch.log10(1 / F.mse_loss(x_hat.clamp(0, 1), x))).item()
    codes = model.entropy_bottleneck(model.g_a(x), training=False)[0]
    integer_codes = (codes == codes.round()).all().item()
    gdn = model.g_a[1]
    beta_min = gdn.beta_reparam(gdn.beta).min().item()
bound = torch.tensor([0.5])
w = torch.tensor([0.2, 0.7, 0.3], requires_grad=True)
out = LowerBoundFunction.apply(w, bound)
(out * torch.tensor([1.0, 1.0, -1.0])).sum().backward()
lower_bound_grad = w.grad.tolist()  # 0 where below the bound and pushed further down
