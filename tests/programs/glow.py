"""Glow (Kingma & Dhariwal 2018) as rosinality's glow-pytorch writes it: ActNorm with
data-dependent initialization (a uint8 ``initialized`` buffer, mean and std of the first batch
copied into the parameters with ``.data.copy_``), the invertible 1x1 convolution in its LU
form (``torch.linalg.lu`` of a random rotation from ``torch.linalg.qr``, fixed permutation and
sign buffers, ``torch.triu``/``torch.tril`` masks, a ``log|s|`` parameter so the
log-determinant is ``h * w * sum(w_s)``), affine coupling with a zero-initialized last conv and
``torch.sigmoid(scale + 2)``, squeeze by view/permute, a Gaussian prior, bits per dim, and the
reverse pass (``weight.squeeze().inverse()``) to reconstruct and sample; on 4x4 images."""

import math

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
logabs = lambda x: torch.log(torch.abs(x))  # noqa: E731


class ActNorm(nn.Module):
    def __init__(self, in_channel):
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(1, in_channel, 1, 1))
        self.scale = nn.Parameter(torch.ones(1, in_channel, 1, 1))
        self.register_buffer("initialized", torch.tensor(0, dtype=torch.uint8))

    def initialize(self, input):
        with torch.no_grad():
            flatten = input.permute(1, 0, 2, 3).contiguous().view(input.shape[1], -1)
            mean = flatten.mean(1).unsqueeze(1).unsqueeze(2).unsqueeze(3).permute(1, 0, 2, 3)
            std = flatten.std(1).unsqueeze(1).unsqueeze(2).unsqueeze(3).permute(1, 0, 2, 3)
            self.loc.data.copy_(-mean)
            self.scale.data.copy_(1 / (std + 1e-6))

    def forward(self, input):
        _, _, height, width = input.shape
        if self.initialized.item() == 0:
            self.initialize(input)
            self.initialized.fill_(1)
        logdet = height * width * torch.sum(logabs(self.scale))
        return self.scale * (input + self.loc), logdet

    def reverse(self, output):
        return output / self.scale - self.loc


class InvConv2dLU(nn.Module):
    def __init__(self, in_channel):
        super().__init__()
        weight = torch.randn(in_channel, in_channel)
        q, _ = torch.linalg.qr(weight)
        w_p, w_l, w_u = torch.linalg.lu(q)
        w_s = torch.diag(w_u)
        w_u = torch.triu(w_u, 1)
        u_mask = torch.triu(torch.ones_like(w_u), 1)
        self.register_buffer("w_p", w_p)
        self.register_buffer("u_mask", u_mask)
        self.register_buffer("l_mask", u_mask.T)
        self.register_buffer("s_sign", torch.sign(w_s))
        self.register_buffer("l_eye", torch.eye(l_mask_size := u_mask.shape[0]))
        self.w_l, self.w_s, self.w_u = (
            nn.Parameter(w_l),
            nn.Parameter(logabs(w_s)),
            nn.Parameter(w_u),
        )
        self.size = l_mask_size

    def calc_weight(self):
        weight = (
            self.w_p
            @ (self.w_l * self.l_mask + self.l_eye)
            @ ((self.w_u * self.u_mask) + torch.diag(self.s_sign * torch.exp(self.w_s)))
        )
        return weight.unsqueeze(2).unsqueeze(3)

    def forward(self, input):
        _, _, height, width = input.shape
        out = F.conv2d(input, self.calc_weight())
        return out, height * width * torch.sum(self.w_s)

    def reverse(self, output):
        return F.conv2d(output, self.calc_weight().squeeze().inverse().unsqueeze(2).unsqueeze(3))


class ZeroConv2d(nn.Module):
    def __init__(self, in_channel, out_channel):
        super().__init__()
        self.conv = nn.Conv2d(in_channel, out_channel, 3, padding=0)
        self.conv.weight.data.zero_()
        self.conv.bias.data.zero_()
        self.scale = nn.Parameter(torch.zeros(1, out_channel, 1, 1))

    def forward(self, input):
        out = F.pad(input, [1, 1, 1, 1], value=1)
        return self.conv(out) * torch.exp(self.scale * 3)


class AffineCoupling(nn.Module):
    def __init__(self, in_channel, filter_size=16):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channel // 2, filter_size, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(filter_size, filter_size, 1), nn.ReLU(inplace=True),
            ZeroConv2d(filter_size, in_channel),
        )  # fmt: skip
        self.net[0].weight.data.normal_(0, 0.05)
        self.net[0].bias.data.zero_()

    def forward(self, input):
        in_a, in_b = input.chunk(2, 1)
        log_s, t = self.net(in_a).chunk(2, 1)
        s = torch.sigmoid(log_s + 2)
        out_b = (in_b + t) * s
        logdet = torch.sum(torch.log(s).view(input.shape[0], -1), 1)
        return torch.cat([in_a, out_b], 1), logdet

    def reverse(self, output):
        out_a, out_b = output.chunk(2, 1)
        log_s, t = self.net(out_a).chunk(2, 1)
        return torch.cat([out_a, out_b / torch.sigmoid(log_s + 2) - t], 1)


class Flow(nn.Module):
    def __init__(self, in_channel):
        super().__init__()
        self.actnorm = ActNorm(in_channel)
        self.invconv = InvConv2dLU(in_channel)
        self.coupling = AffineCoupling(in_channel)

    def forward(self, input):
        out, logdet = self.actnorm(input)
        out, det1 = self.invconv(out)
        out, det2 = self.coupling(out)
        return out, logdet + det1 + det2

    def reverse(self, output):
        return self.actnorm.reverse(self.invconv.reverse(self.coupling.reverse(output)))


def squeeze2d(x):
    b, c, h, w = x.shape
    x = x.view(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4).contiguous()
    return x.view(b, c * 4, h // 2, w // 2)


def unsqueeze2d(x):
    b, c, h, w = x.shape
    x = x.view(b, c // 4, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3).contiguous()
    return x.view(b, c // 4, h * 2, w * 2)


def gaussian_log_p(x):
    return -0.5 * math.log(2 * math.pi) - 0.5 * x**2


flows = nn.ModuleList([Flow(4) for _ in range(3)])


def encode(x):
    out, logdet = squeeze2d(x), 0
    for flow in flows:
        out, det = flow(out)
        logdet = logdet + det
    return out, logdet


def decode(z):
    for flow in reversed(flows):
        z = flow.reverse(z)
    return unsqueeze2d(z)


def images(n):
    """4x4 images: a random bright row and column over a dim background, dequantized."""
    x = torch.full((n, 1, 4, 4), 0.1)
    rows, cols = torch.randint(0, 4, (n,)), torch.randint(0, 4, (n,))
    x[torch.arange(n), 0, rows, :] = 0.8
    x[torch.arange(n), 0, :, cols] = 0.8
    return x + torch.rand_like(x) / 32 - 0.5  # n_bins = 32, centred


n_pixel, n_bins = 16, 32
init_batch = images(64)
with torch.no_grad():
    encode(init_batch)  # ActNorm's data-dependent initialization
init_flags = [int(f.actnorm.initialized) for f in flows]
actnorm_loc = flows[0].actnorm.loc.view(-1).tolist()
optimizer = torch.optim.Adam(flows.parameters(), lr=5e-3)
bpds = []
for step in range(40):
    x = images(32)
    z, logdet = encode(x)
    log_p = gaussian_log_p(z).view(32, -1).sum(1)
    loss = -math.log(n_bins) * n_pixel + logdet + log_p
    bpd = (-loss / (math.log(2) * n_pixel)).mean()
    optimizer.zero_grad()
    bpd.backward()
    optimizer.step()
    bpds.append(bpd.item())

with torch.no_grad():
    x = images(8)
    z, logdet = encode(x)
    reconstruction_gap = (decode(z) - x).abs().max().item()
    weight = flows[0].invconv.calc_weight().squeeze()
    slogdet_gap = abs(torch.linalg.slogdet(weight)[1].item() - flows[0].invconv.w_s.sum().item())
    det_sign = torch.linalg.slogdet(weight)[0].item()
    sample = decode(torch.randn(4, 4, 2, 2) * 0.7)
sample_stats = [sample.mean().item(), sample.std().item()]
lu_shapes = [tuple(t.shape) for t in torch.linalg.lu(torch.eye(4))]
