"""A neural spline flow (Durkan et al. 2019) written as the nflows library writes it: monotonic
rational-quadratic splines on [-B, B] with linear tails (identity outside, selected with boolean
masks and written back by masked assignment into ``zeros_like`` outputs), bin widths and
heights from ``softmax`` with a minimum, knots by ``cumsum`` and ``F.pad`` with the ends set in
place, derivatives by ``softplus`` padded with the constant that makes the tails' slope 1, the
bin found by ``torch.searchsorted``, per-bin parameters by ``gather``, the closed-form inverse
by the quadratic root; two alternating coupling layers with MLP conditioners, an
``Independent(Normal)`` base from torch.distributions, trained by maximum likelihood on a ring.
The log-determinant is checked against ``torch.autograd.functional.jacobian`` and the inverse
against the forward pass."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy
from torch.distributions import Independent, Normal

rng = np.random.default_rng(2)
K_BINS, TAIL = 5, 3.0
MIN_W = MIN_H = MIN_D = 1e-3


def rational_quadratic_spline(inputs, uw, uh, ud, inverse=False, left=-TAIL, right=TAIL):
    num_bins = uw.shape[-1]
    widths = MIN_W + (1 - MIN_W * num_bins) * F.softmax(uw, dim=-1)
    cumwidths = F.pad(torch.cumsum(widths, dim=-1), pad=(1, 0), mode="constant", value=0.0)
    cumwidths = (right - left) * cumwidths + left
    cumwidths[..., 0] = left
    cumwidths[..., -1] = right
    widths = cumwidths[..., 1:] - cumwidths[..., :-1]
    derivatives = MIN_D + F.softplus(ud)
    heights = MIN_H + (1 - MIN_H * num_bins) * F.softmax(uh, dim=-1)
    cumheights = F.pad(torch.cumsum(heights, dim=-1), pad=(1, 0), mode="constant", value=0.0)
    cumheights = (right - left) * cumheights + left
    cumheights[..., 0] = left
    cumheights[..., -1] = right
    heights = cumheights[..., 1:] - cumheights[..., :-1]

    knots = cumheights if inverse else cumwidths
    bin_idx = torch.searchsorted(knots[..., 1:-1].contiguous(), inputs[..., None], right=True)
    input_cumwidths = cumwidths.gather(-1, bin_idx)[..., 0]
    input_bin_widths = widths.gather(-1, bin_idx)[..., 0]
    input_cumheights = cumheights.gather(-1, bin_idx)[..., 0]
    delta = heights / widths
    input_delta = delta.gather(-1, bin_idx)[..., 0]
    input_derivatives = derivatives.gather(-1, bin_idx)[..., 0]
    input_derivatives_plus_one = derivatives[..., 1:].gather(-1, bin_idx)[..., 0]
    input_heights = heights.gather(-1, bin_idx)[..., 0]
    slope_sum = input_derivatives + input_derivatives_plus_one - 2 * input_delta

    if inverse:
        shifted = inputs - input_cumheights
        a = shifted * slope_sum + input_heights * (input_delta - input_derivatives)
        b = input_heights * input_derivatives - shifted * slope_sum
        c = -input_delta * shifted
        discriminant = b.pow(2) - 4 * a * c
        theta = (2 * c) / (-b - torch.sqrt(discriminant))
        outputs = theta * input_bin_widths + input_cumwidths
    else:
        theta = (inputs - input_cumwidths) / input_bin_widths
    theta_one_minus_theta = theta * (1 - theta)
    denominator = input_delta + slope_sum * theta_one_minus_theta
    if not inverse:
        numerator = input_heights * (
            input_delta * theta.pow(2) + input_derivatives * theta_one_minus_theta
        )
        outputs = input_cumheights + numerator / denominator
    derivative_numerator = input_delta.pow(2) * (
        input_derivatives_plus_one * theta.pow(2)
        + 2 * input_delta * theta_one_minus_theta
        + input_derivatives * (1 - theta).pow(2)
    )
    logabsdet = torch.log(derivative_numerator) - 2 * torch.log(denominator)
    return outputs, -logabsdet if inverse else logabsdet


def unconstrained_rq_spline(inputs, uw, uh, ud, inverse=False):
    inside = (inputs >= -TAIL) & (inputs <= TAIL)
    outside = ~inside
    ud = F.pad(ud, pad=(1, 1))
    constant = math.log(math.exp(1 - MIN_D) - 1)
    ud[..., 0] = constant
    ud[..., -1] = constant
    outputs, logabsdet = torch.zeros_like(inputs), torch.zeros_like(inputs)
    outputs[outside] = inputs[outside]
    outputs[inside], logabsdet[inside] = rational_quadratic_spline(
        inputs[inside], uw[inside, :], uh[inside, :], ud[inside, :], inverse=inverse
    )
    return outputs, logabsdet


class SplineCoupling(nn.Module):
    def __init__(self, flip, hidden=16):
        super().__init__()
        self.flip = flip
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, 3 * K_BINS - 1))

    def _transform(self, x, inverse):
        x_id, x_tr = (x[:, 1:], x[:, :1]) if self.flip else (x[:, :1], x[:, 1:])
        params = self.net(x_id).unsqueeze(1)
        uw, uh, ud = (
            params[..., :K_BINS],
            params[..., K_BINS : 2 * K_BINS],
            params[..., 2 * K_BINS :],
        )
        y_tr, logdet = unconstrained_rq_spline(x_tr, uw / 4.0, uh / 4.0, ud, inverse=inverse)
        y = torch.cat([y_tr, x_id], 1) if self.flip else torch.cat([x_id, y_tr], 1)
        return y, logdet.sum(1)

    def forward(self, x):
        return self._transform(x, inverse=False)

    def inverse(self, y):
        return self._transform(y, inverse=True)


class Flow(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList(
            [SplineCoupling(False), SplineCoupling(True), SplineCoupling(False)]
        )
        self.base = Independent(Normal(torch.zeros(2), torch.ones(2)), 1)

    def forward(self, x):
        logdet = torch.zeros(x.size(0))
        for layer in self.layers:
            x, ld = layer(x)
            logdet = logdet + ld
        return x, logdet

    def log_prob(self, x):
        z, logdet = self(x)
        return self.base.log_prob(z) + logdet

    def inverse(self, z):
        for layer in reversed(self.layers):
            z, _ = layer.inverse(z)
        return z


def ring(n):
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = 2.0 + 0.2 * rng.standard_normal(n)
    return torch.from_numpy(
        np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1).astype(np.float32)
    )


data = ring(128)
flow = init_from_numpy(Flow(), seed=6)
opt = torch.optim.Adam(flow.parameters(), lr=1e-2)
nlls = []
for _ in range(12):
    loss = -flow.log_prob(data).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    nlls.append(loss.item())
conditioner_grad = flow.layers[0].net[2].weight.grad[:3, :3].tolist()

probe = torch.tensor([[0.3, -1.1], [2.9, 0.4], [-3.5, 1.0]])  # the last leaves the spline's box
with torch.no_grad():
    z, logdet = flow(probe)
    inverse_gap = (flow.inverse(z) - probe).abs().max().item()
point = probe[0]
jac = torch.autograd.functional.jacobian(lambda p: flow(p.unsqueeze(0))[0].squeeze(0), point)
logdet_gap = abs(torch.linalg.slogdet(jac)[1].item() - logdet[0].item())
tail_identity = bool(z[2, 0] == probe[2, 0])
z_probe, logdet_probe = z.tolist(), logdet.tolist()
test_nll = -flow.log_prob(ring(64)).mean().item()
