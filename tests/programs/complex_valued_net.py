"""A complex-valued network trained with complex autograd, as complex-valued deep learning
code (complexPyTorch-style) writes it: ``nn.Linear(..., dtype=torch.cfloat)`` layers with
complex weights, a modReLU and a cardioid activation built from ``abs``/``angle``/``polar``,
trained to equalize a 16-QAM signal sent through a dispersive channel with a phase offset
(loss on ``(out - target).abs()``, Wirtinger gradients of the complex parameters, Adam on
complex parameters); the complex gradient is checked against finite differences of the real
and imaginary parts, and the symbol error rate against that of no equalization."""

import math

import torch
import torch.nn as nn

torch.manual_seed(0)

# -- 16-QAM symbols through a channel with memory and a phase offset
levels = torch.tensor([-3.0, -1.0, 1.0, 3.0])
n = 600
symbols = torch.complex(levels[torch.randint(0, 4, (n,))], levels[torch.randint(0, 4, (n,))])
symbols = symbols / math.sqrt(10)
taps = torch.tensor([1.0 + 0.0j, 0.35 - 0.2j, -0.1 + 0.15j], dtype=torch.cfloat)
received = sum(taps[k] * torch.roll(symbols, k) for k in range(3))
received = received * torch.polar(torch.tensor(1.0), torch.tensor(0.4))
received = received + (0.03 * torch.randn(n, dtype=torch.cfloat))
window = 5
frames = received.unfold(0, window, 1)  # (n - window + 1, window)
targets = symbols[2 : 2 + len(frames)]  # the centre symbol of each frame


class ModReLU(nn.Module):
    def __init__(self, features):
        super().__init__()
        self.bias = nn.Parameter(torch.full((features,), -0.05))

    def forward(self, z):
        magnitude = torch.relu(z.abs() + self.bias)
        return torch.polar(magnitude, z.angle())


def cardioid(z):
    return 0.5 * (1 + torch.cos(z.angle())) * z


class Equalizer(nn.Module):
    def __init__(self, window, hidden=16):
        super().__init__()
        self.fc1 = nn.Linear(window, hidden, dtype=torch.cfloat)
        self.act = ModReLU(hidden)
        self.fc2 = nn.Linear(hidden, hidden, dtype=torch.cfloat)
        self.fc3 = nn.Linear(hidden, 1, dtype=torch.cfloat)

    def forward(self, x):
        h = self.act(self.fc1(x))
        h = cardioid(self.fc2(h)) + h
        return self.fc3(h).squeeze(-1)


model = Equalizer(window)
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
losses = []
for epoch in range(6):
    for idx in torch.randperm(len(frames)).split(64):
        optimizer.zero_grad()
        loss = (model(frames[idx]) - targets[idx]).abs().pow(2).mean()
        loss.backward()
        optimizer.step()
    losses.append(loss.item())


def decide(z):
    scaled = z * math.sqrt(10)
    snap = lambda v: levels[(v.unsqueeze(-1) - levels).abs().argmin(-1)]  # noqa: E731
    return torch.complex(snap(scaled.real), snap(scaled.imag))


with torch.no_grad():
    equalized = model(frames)
    ser_equalized = (decide(equalized) != decide(targets)).float().mean().item()
    ser_raw = (decide(frames[:, 2]) != decide(targets)).float().mean().item()
    output_sample = torch.view_as_real(equalized[:3]).tolist()

# -- the complex gradient: PyTorch's convention is the conjugate Wirtinger derivative
w = model.fc3.weight
loss = (model(frames[:32]) - targets[:32]).abs().pow(2).mean()
(grad,) = torch.autograd.grad(loss, w)
fd_grad = []
with torch.no_grad():
    for delta in (1e-2, 1e-2j):
        w[0, 0] += delta
        up = (model(frames[:32]) - targets[:32]).abs().pow(2).mean()
        w[0, 0] -= 2 * delta
        down = (model(frames[:32]) - targets[:32]).abs().pow(2).mean()
        w[0, 0] += delta
        fd_grad.append(((up - down) / 2e-2).item())
wirtinger = [grad[0, 0].real.item(), grad[0, 0].imag.item()]
param_dtypes = sorted({str(p.dtype) for p in model.parameters()})
weight_sample = torch.view_as_real(model.fc1.weight[0, :2].detach()).tolist()
