"""FX graph mode quantization-aware training: ``get_default_qat_qconfig_mapping("x86")``,
``prepare_qat_fx`` on a model in training mode (conv-bn-relu fused into a QAT module, fake
quantizers after each quantized op, an ``add`` of two branches), a few training steps with
fake quantization, ``convert_fx`` and the int8 model's agreement with the fake-quantized one."""

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.ao.quantization import get_default_qat_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_qat_fx

torch.backends.quantized.engine = "x86"


class TwoBranch(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.left = nn.Conv2d(4, 4, 1)
        self.right = nn.Conv2d(4, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 4 * 4, 3)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        x = F.relu(self.left(x) + self.right(x))
        x = F.avg_pool2d(x, 2)
        return self.fc(torch.flatten(x, 1))


torch.manual_seed(9)
prototypes = torch.randn(3, 1, 8, 8)
labels = torch.randint(0, 3, (48,))
images = prototypes[labels] + 0.6 * torch.randn(48, 1, 8, 8)
model = TwoBranch().train()
prepared = prepare_qat_fx(
    copy.deepcopy(model), get_default_qat_qconfig_mapping("x86"), (images[:1],)
)
prepared_types = sorted({type(m).__name__ for _, m in prepared.named_children()})
opt = torch.optim.SGD(prepared.parameters(), lr=0.05, momentum=0.9)
losses = []
for epoch in range(3):
    for i in range(0, 48, 16):
        opt.zero_grad()
        loss = F.cross_entropy(prepared(images[i : i + 16]), labels[i : i + 16])
        loss.backward()
        opt.step()
        losses.append(loss.item())
prepared.eval()
with torch.no_grad():
    fake_out = prepared(images)
quantized = convert_fx(copy.deepcopy(prepared))
with torch.no_grad():
    quant_out = quantized(images)
quant_types = sorted({type(m).__name__ for _, m in quantized.named_children()})
agreement = (fake_out.argmax(1) == quant_out.argmax(1)).float().mean().item()
accuracy = (quant_out.argmax(1) == labels).float().mean().item()
fake_gap = (fake_out - quant_out).abs().max().item()
quant_values = quant_out[:3].flatten().tolist()
fc_scale = quantized.fc.scale
