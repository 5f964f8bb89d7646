"""FX graph mode post-training static quantization, following PyTorch's "FX Graph Mode Post
Training Static Quantization" tutorial: no ``QuantStub``s or hand fusion, just
``get_default_qconfig_mapping("x86")`` (histogram activation observers, per-channel weights),
``prepare_fx`` with example inputs, calibration, ``convert_fx``; then a ``QConfigMapping`` that
keeps the classifier head in float (``set_module_name(..., None)``), and the accuracy, outputs
and size of the float and quantized models."""

import copy
import io

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, fuse_fx, prepare_fx

torch.backends.quantized.engine = "x86"


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(6)
        self.conv2 = nn.Conv2d(6, 8, 3, padding=1)
        self.fc1 = nn.Linear(8 * 2 * 2, 32)
        self.head = nn.Linear(32, 4)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.head(F.relu(self.fc1(x)))


def evaluate(model, images, labels):
    with torch.no_grad():
        out = model(images)
    return out, (out.argmax(1) == labels).float().mean().item()


def size_kb(model):
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes / 1e3


torch.manual_seed(0)
prototypes = torch.randn(4, 1, 8, 8)
labels = torch.randint(0, 4, (96,))
images = prototypes[labels] + 0.6 * torch.randn(96, 1, 8, 8)
model = Net()
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
losses = []
for epoch in range(3):
    for i in range(0, 64, 16):
        opt.zero_grad()
        loss = F.cross_entropy(model(images[i : i + 16]), labels[i : i + 16])
        loss.backward()
        opt.step()
        losses.append(loss.item())
model.eval()
test_images, test_labels = images[64:], labels[64:]
float_out, float_acc = evaluate(model, test_images, test_labels)

fused = fuse_fx(copy.deepcopy(model))
fused_types = sorted(type(m).__name__ for _, m in fused.named_children())
fused_gap = (fused(test_images) - float_out).abs().max().item()

example_inputs = (images[:1],)
qconfig_mapping = get_default_qconfig_mapping("x86")
prepared = prepare_fx(copy.deepcopy(model), qconfig_mapping, example_inputs)
observer_count = sum("activation_post_process" in name for name, _ in prepared.named_modules())
with torch.no_grad():
    for i in range(0, 64, 16):  # calibration
        prepared(images[i : i + 16])
quantized = convert_fx(prepared)
quant_out, quant_acc = evaluate(quantized, test_images, test_labels)
quant_types = sorted(type(m).__name__ for name, m in quantized.named_children() if "." not in name)
conv1_weight = quantized.conv1.weight()
conv1_scales = conv1_weight.q_per_channel_scales().tolist()
conv1_ints = conv1_weight.int_repr()[0].flatten().tolist()
quant_values = quant_out[:4].flatten().tolist()
quant_gap = (quant_out - float_out).abs().max().item()

# skip the head: it stays float, fed by a dequantize
mapping = get_default_qconfig_mapping("x86").set_module_name("head", None)
partial = prepare_fx(copy.deepcopy(model), mapping, example_inputs)
with torch.no_grad():
    for i in range(0, 64, 16):
        partial(images[i : i + 16])
partial = convert_fx(partial)
partial_out, partial_acc = evaluate(partial, test_images, test_labels)
head_type = type(partial.head).__name__
partial_values = partial_out[:4].flatten().tolist()
sizes = [size_kb(model), size_kb(quantized)]
print(f"float acc {float_acc:.3f} int8 acc {quant_acc:.3f} partial {partial_acc:.3f} {sizes}")
