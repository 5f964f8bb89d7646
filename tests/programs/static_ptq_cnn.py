"""Eager-mode static post-training quantization of a small CNN, following the PyTorch static
quantization tutorial: ``QuantStub``/``DeQuantStub``, ``fuse_modules`` of conv-bn-relu and
linear-relu, a qconfig with the default observers, ``prepare``, calibration batches,
``convert``; the int8 model's outputs, scales and zero points compared, and its accuracy
versus the float model."""

import numpy as np
import torch
import torch.ao.quantization as tq
import torch.nn as nn
from numpy_init import init_from_numpy, randn

torch.backends.quantized.engine = "x86"


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.quant = tq.QuantStub()
        self.conv = nn.Conv2d(1, 4, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.relu = nn.ReLU()
        self.pool = nn.AvgPool2d(2)
        self.fc = nn.Linear(4 * 4 * 4, 16)
        self.relu2 = nn.ReLU()
        self.out = nn.Linear(16, 3)
        self.dequant = tq.DeQuantStub()

    def forward(self, x):
        x = self.quant(x)
        x = self.pool(self.relu(self.bn(self.conv(x))))
        x = x.reshape(x.shape[0], -1)
        x = self.out(self.relu2(self.fc(x)))
        return self.dequant(x)


rng = np.random.default_rng(12)
templates = randn(rng, 3, 1, 8, 8)
labels = torch.from_numpy(rng.integers(0, 3, 48))
images = templates[labels] + 0.5 * randn(rng, 48, 1, 8, 8)
model = init_from_numpy(Net(), seed=12)
opt = torch.optim.Adam(model.parameters(), lr=0.02)
losses = []
for _ in range(15):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(images), labels)
    loss.backward()
    opt.step()
    losses.append(loss.item())
model.eval()
running_var = model.bn.running_var.tolist()
float_out = model(images).detach()
float_acc = (float_out.argmax(1) == labels).float().mean().item()

fused = tq.fuse_modules(model, [["conv", "bn", "relu"], ["fc", "relu2"]])
fused_gap = (fused(images) - float_out).abs().max().item()
fused_types = [type(m).__name__ for m in fused.children()]
# reduce_range: 7-bit activations, as PyTorch's x86 default (AVX2 saturates 16-bit pair sums)
fused.qconfig = tq.QConfig(
    activation=tq.MinMaxObserver.with_args(dtype=torch.quint8, reduce_range=True),
    weight=tq.MinMaxObserver.with_args(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric),
)
prepared = tq.prepare(fused)
with torch.no_grad():
    for i in range(0, 48, 16):
        prepared(images[i : i + 16])
observed = prepared.quant.activation_post_process.calculate_qparams()
observed_scale = observed[0].item()
quantized = tq.convert(prepared)
q_out = quantized(images)
quant_types = [type(m).__name__ for m in quantized.children()]
q_acc = (q_out.argmax(1) == labels).float().mean().item()
quant_gap = (q_out - float_out).abs().max().item()
fc_weight = quantized.fc.weight()
weight_scale = fc_weight.q_scale()
weight_int = fc_weight.int_repr()[0, :8].tolist()
out_scale, out_zero_point = quantized.out.scale, quantized.out.zero_point
q_values = q_out[:4].flatten().tolist()
