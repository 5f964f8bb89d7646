"""Static quantization of a residual network, as torchvision's quantizable ResNet does it:
``FloatFunctional.add_relu`` for the skip connection (it becomes ``QFunctional`` with its own
scale after ``convert``), ``fuse_modules`` per block, the default x86 qconfig (histogram
activation observer, per-channel weights) and the one-call ``torch.ao.quantization.quantize``
with a calibration function; plus the quantized tensor basics the tutorial starts with
(``quantize_per_tensor``/``quantize_per_channel``, ``int_repr``, ``dequantize``)."""

import copy

import torch
import torch.ao.quantization as tq
import torch.nn as nn

torch.backends.quantized.engine = "x86"

torch.manual_seed(5)
x = torch.randn(2, 6) * 2
q = torch.quantize_per_tensor(x, scale=0.05, zero_point=64, dtype=torch.quint8)
basics = {
    "int_repr": q.int_repr().tolist(),
    "deq_gap": (q.dequantize() - x).abs().max().item(),
    "qparams": (q.q_scale(), q.q_zero_point(), str(q.dtype).split(".")[-1]),
}
w = torch.randn(3, 4)
qc = torch.quantize_per_channel(
    w, torch.tensor([0.01, 0.02, 0.03]), torch.tensor([0, 0, 0]), 0, torch.qint8
)
basics["channel_ints"] = qc.int_repr().tolist()
basics["channel_scales"] = qc.q_per_channel_scales().tolist()
basics["qscheme"] = str(qc.qscheme()).split(".")[-1]


class BasicBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.skip_add_relu = nn.quantized.FloatFunctional()

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.skip_add_relu.add_relu(out, x)

    def fuse_model(self):
        tq.fuse_modules(self, [["conv1", "bn1", "relu"], ["conv2", "bn2"]], inplace=True)


class TinyResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.quant = tq.QuantStub()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.stem_relu = nn.ReLU()
        self.block1, self.block2 = BasicBlock(4), BasicBlock(4)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, 3)
        self.dequant = tq.DeQuantStub()

    def forward(self, x):
        x = self.stem_relu(self.stem(self.quant(x)))
        x = self.block2(self.block1(x))
        return self.dequant(self.fc(torch.flatten(self.pool(x), 1)))

    def fuse_model(self):
        tq.fuse_modules(self, [["stem", "stem_relu"]], inplace=True)
        for block in (self.block1, self.block2):
            block.fuse_model()


prototypes = torch.randn(3, 1, 6, 6)
labels = torch.randint(0, 3, (48,))
images = prototypes[labels] + 0.5 * torch.randn(48, 1, 6, 6)
model = TinyResNet()
opt = torch.optim.Adam(model.parameters(), lr=0.01)
losses = []
for step in range(6):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(images), labels)
    loss.backward()
    opt.step()
    losses.append(loss.item())
model.eval()
with torch.no_grad():
    float_out = model(images)

fused = copy.deepcopy(model)
fused.fuse_model()
fused.qconfig = tq.get_default_qconfig("x86")


def calibrate(model, batches):
    with torch.no_grad():
        for batch in batches:
            model(batch)


quantized = tq.quantize(fused, calibrate, [[images[:16], images[16:32]]])
with torch.no_grad():
    quant_out = quantized(images)
skip = quantized.block1.skip_add_relu
skip_info = (type(skip).__name__, skip.scale, skip.zero_point)
block_types = [type(m).__name__ for m in quantized.block1.children()]
agreement = (quant_out.argmax(1) == float_out.argmax(1)).float().mean().item()
quant_values = quant_out[:4].flatten().tolist()
out_scale = quantized.fc.scale
float_values = float_out[:4].flatten().tolist()
