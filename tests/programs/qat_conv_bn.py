"""Quantization-aware training of a small CNN as the static quantization tutorial's QAT section
does it: ``fuse_modules_qat`` of conv-bn-relu, ``get_default_qat_qconfig("x86")``,
``prepare_qat``, a few epochs of training with fake quantization, observers disabled with
``disable_observer`` and batch-norm statistics frozen with ``freeze_bn_stats`` after the first
epochs, and ``convert`` to an int8 model evaluated after each epoch."""

import torch
import torch.ao.quantization as tq
import torch.nn as nn
import torch.nn.functional as F

torch.backends.quantized.engine = "x86"


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.quant = tq.QuantStub()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 6, 3, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(6)
        self.relu2 = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(6, 3)
        self.dequant = tq.DeQuantStub()

    def forward(self, x):
        x = self.quant(x)
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.relu2(self.bn2(self.conv2(x)))
        x = self.fc(torch.flatten(self.pool(x), 1))
        return self.dequant(x)

    def fuse_model(self, is_qat=False):
        fuse = tq.fuse_modules_qat if is_qat else tq.fuse_modules
        fuse(self, [["conv1", "bn1", "relu1"], ["conv2", "bn2", "relu2"]], inplace=True)


def evaluate(model, images, labels):
    with torch.no_grad():
        out = model(images)
    return out, (out.argmax(1) == labels).float().mean().item()


torch.manual_seed(3)
prototypes = torch.randn(3, 1, 6, 6)
labels = torch.randint(0, 3, (64,))
images = prototypes[labels] + 0.7 * torch.randn(64, 1, 6, 6)
test_images, test_labels = images[48:], labels[48:]

qat_model = Net()
qat_model.train()
qat_model.fuse_model(is_qat=True)
fused_types = [type(m).__name__ for m in qat_model.children()]
qat_model.qconfig = tq.get_default_qat_qconfig("x86")
tq.prepare_qat(qat_model, inplace=True)
qat_types = [type(m).__name__ for m in qat_model.children()]
opt = torch.optim.SGD(qat_model.parameters(), lr=0.05, momentum=0.9)
losses, accuracies, frozen = [], [], []
for epoch in range(4):
    qat_model.train()
    for i in range(0, 48, 16):
        opt.zero_grad()
        loss = F.cross_entropy(qat_model(images[i : i + 16]), labels[i : i + 16])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    if epoch >= 2:
        qat_model.apply(tq.disable_observer)
    if epoch >= 1:
        qat_model.apply(torch.ao.nn.intrinsic.qat.freeze_bn_stats)
    frozen.append(bool(qat_model.conv1.freeze_bn))
    quantized = tq.convert(qat_model.eval(), inplace=False)
    accuracies.append(evaluate(quantized, test_images, test_labels)[1])

running_mean = qat_model.conv1.bn.running_mean.tolist()
quant_types = [type(m).__name__ for m in quantized.children()]
fake_out, _ = evaluate(qat_model, test_images, test_labels)
quant_out, quant_acc = evaluate(quantized, test_images, test_labels)
quant_values = quant_out[:4].flatten().tolist()
fake_gap = (fake_out - quant_out).abs().max().item()
conv1_scales = quantized.conv1.weight().q_per_channel_scales().tolist()
act_scale = quantized.conv1.scale
observer_enabled = int(qat_model.conv1.weight_fake_quant.observer_enabled)
