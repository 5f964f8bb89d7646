"""Quantization-aware training written by hand, as tutorials do before reaching for
``torch.ao``: min/max observers kept as buffers with an exponential moving average, scale and
zero point from them, ``torch.fake_quantize_per_tensor_affine`` on activations and
``torch.fake_quantize_per_channel_affine`` on weights (per output channel, ``axis=0``),
checked against a straight-through estimator written as ``x + (q - x).detach()``; the model is
trained in float, fine-tuned with fake quantization, then evaluated with integer weights."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(201)
x = randn(rng, 256, 8)
y = (torch.sin(x[:, 0] * 2) + x[:, 1] * x[:, 2] > 0).long()


class Observer(nn.Module):
    def __init__(self, momentum=0.1, quant_min=0, quant_max=255):
        super().__init__()
        self.momentum, self.quant_min, self.quant_max = momentum, quant_min, quant_max
        self.register_buffer("min_val", torch.tensor(float("inf")))
        self.register_buffer("max_val", torch.tensor(float("-inf")))

    def forward(self, x):
        if self.training:
            lo, hi = x.detach().min(), x.detach().max()
            if torch.isinf(self.min_val):
                self.min_val.copy_(lo)
                self.max_val.copy_(hi)
            else:
                self.min_val.lerp_(lo, self.momentum)
                self.max_val.lerp_(hi, self.momentum)
        return x

    def qparams(self):
        lo = torch.clamp(self.min_val, max=0.0)
        hi = torch.clamp(self.max_val, min=0.0)
        scale = ((hi - lo) / float(self.quant_max - self.quant_min)).clamp(min=1e-8)
        zero_point = self.quant_min - torch.round(lo / scale)
        return scale.item(), int(zero_point.clamp(self.quant_min, self.quant_max).item())


def weight_qparams(w):
    max_abs = w.detach().abs().amax(dim=1).clamp(min=1e-8)
    scale = max_abs / 127.0
    return scale, torch.zeros(w.shape[0], dtype=torch.int32)


class QATLinear(nn.Linear):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.obs = Observer()
        self.fake_quant = False

    def forward(self, x):
        x = self.obs(x)
        if not self.fake_quant:
            return super().forward(x)
        scale, zp = self.obs.qparams()
        xq = torch.fake_quantize_per_tensor_affine(x, scale, zp, 0, 255)
        w_scale, w_zp = weight_qparams(self.weight)
        wq = torch.fake_quantize_per_channel_affine(self.weight, w_scale, w_zp, 0, -128, 127)
        return F.linear(xq, wq, self.bias)


model = nn.Sequential(QATLinear(8, 32), nn.ReLU(), QATLinear(32, 32), nn.ReLU(), QATLinear(32, 2))
init_from_numpy(model, seed=201)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
float_losses, qat_losses = [], []
for phase, log in (("float", float_losses), ("qat", qat_losses)):
    for m in model.modules():
        if isinstance(m, QATLinear):
            m.fake_quant = phase == "qat"
    if phase == "qat":  # fine-tune with plain SGD at a lower rate
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for step in range(25):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        log.append(loss.item())

model.eval()
with torch.no_grad():
    qat_accuracy = (model(x).argmax(1) == y).float().mean().item()
observers = [
    (m.obs.min_val.item(), m.obs.max_val.item(), *m.obs.qparams())
    for m in model.modules()
    if isinstance(m, QATLinear)
]

probe = torch.linspace(-1.2, 1.3, 11, requires_grad=True)
fq = torch.fake_quantize_per_tensor_affine(probe, 0.01, 120, 0, 255)
fq.sum().backward()
fq_values, fq_grad = fq.tolist(), probe.grad.tolist()
manual = probe.detach().clone().requires_grad_()
q = torch.clamp(torch.round(manual / 0.01) + 120, 0, 255)
deq = (q - 120) * 0.01
ste = manual + (deq - manual).detach()
mask = ((torch.round(manual / 0.01) + 120) >= 0) & ((torch.round(manual / 0.01) + 120) <= 255)
(ste * mask).sum().backward()
ste_gap = (fq.detach() - deq.detach()).abs().max().item()
ste_grad = manual.grad.tolist()
w = model[0].weight.detach()
w_scale, w_zp = weight_qparams(w)
int_weights = torch.clamp(torch.round(w / w_scale.unsqueeze(1)), -128, 127).to(torch.int8)
dequantized = int_weights.float() * w_scale.unsqueeze(1)
per_channel_gap = (
    (dequantized - torch.fake_quantize_per_channel_affine(w, w_scale, w_zp, 0, -128, 127))
    .abs()
    .max()
    .item()
)
print(f"float {float_losses[-1]:.3f} qat {qat_losses[-1]:.3f}; accuracy {qat_accuracy:.3f}")
