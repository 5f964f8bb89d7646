"""Quantization-aware training of an MLP in eager mode, as the QAT tutorial does it: stubs,
``fuse_modules_qat`` of linear-relu pairs, ``get_default_qat_qconfig``, ``prepare_qat`` (fake
quantization in the forward, straight-through gradients), a few epochs of training with the
observers frozen half-way, then ``convert`` to int8; losses, fake-quant parameters and the
converted model's predictions compared."""

import numpy as np
import torch
import torch.ao.quantization as tq
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.quant, self.dequant = tq.QuantStub(), tq.DeQuantStub()
        self.fc1, self.relu1 = nn.Linear(4, 16), nn.ReLU()
        self.fc2, self.relu2 = nn.Linear(16, 16), nn.ReLU()
        self.fc3 = nn.Linear(16, 3)

    def forward(self, x):
        x = self.quant(x)
        x = self.relu2(self.fc2(self.relu1(self.fc1(x))))
        return self.dequant(self.fc3(x))


rng = np.random.default_rng(13)
centres = randn(rng, 3, 4) * 2
labels = torch.from_numpy(rng.integers(0, 3, 90))
inputs = centres[labels] + 0.6 * randn(rng, 90, 4)
model = init_from_numpy(MLP(), seed=13)
model.train()
fused = tq.fuse_modules_qat(model, [["fc1", "relu1"], ["fc2", "relu2"]])
fused.qconfig = tq.get_default_qat_qconfig("x86")
qat = tq.prepare_qat(fused)
qat_types = [type(m).__name__ for m in qat.children()]
opt = torch.optim.SGD(qat.parameters(), lr=0.1, momentum=0.9)
losses = []
for epoch in range(8):
    if epoch == 4:
        qat.apply(tq.disable_observer)
    opt.zero_grad()
    loss = F.cross_entropy(qat(inputs), labels)
    loss.backward()
    opt.step()
    losses.append(loss.item())
fq = qat.fc1.weight_fake_quant
fc1_weight_scales = fq.scale.tolist()
fc1_weight_zero_points = fq.zero_point.tolist()
act_scale = qat.fc1.activation_post_process.scale.item()
qat.eval()
fake_logits = qat(inputs).detach()
int8 = tq.convert(qat)
int8_types = [type(m).__name__ for m in int8.children()]
int8_logits = int8(inputs)
agreement = (int8_logits.argmax(1) == fake_logits.argmax(1)).float().mean().item()
accuracy = (int8_logits.argmax(1) == labels).float().mean().item()
int8_gap = (int8_logits - fake_logits).abs().max().item()
int8_values = int8_logits[:5].flatten().tolist()
fc3_scale = int8.fc3.scale
