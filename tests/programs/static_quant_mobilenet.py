"""The static quantization tutorial's MobileNetV2 recipe on a tiny MobileNet: inverted
residual blocks (1x1 expansion, 3x3 depthwise ``groups=channels`` convolution, 1x1
projection, ``FloatFunctional.add`` on the skip), ``ConvBNReLU`` as an ``nn.Sequential``,
``fuse_modules`` on the sequential indices, per-channel ``get_default_qconfig("x86")``, a
calibration loop, ``convert``; the int8 model's outputs, depthwise weights and its top-1
agreement with the float model."""

import torch
import torch.ao.quantization as tq
import torch.nn as nn

torch.backends.quantized.engine = "x86"


class ConvBNReLU(nn.Sequential):
    def __init__(self, cin, cout, kernel=3, stride=1, groups=1):
        padding = (kernel - 1) // 2
        super().__init__(
            nn.Conv2d(cin, cout, kernel, stride, padding, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=False),
        )


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.conv = nn.Sequential(
            ConvBNReLU(cin, hidden, kernel=1),
            ConvBNReLU(hidden, hidden, stride=stride, groups=hidden),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        )
        self.skip_add = nn.quantized.FloatFunctional()

    def forward(self, x):
        return self.skip_add.add(x, self.conv(x)) if self.use_res else self.conv(x)


class TinyMobileNet(nn.Module):
    def __init__(self, classes=4):
        super().__init__()
        self.quant, self.dequant = tq.QuantStub(), tq.DeQuantStub()
        self.features = nn.Sequential(
            ConvBNReLU(3, 8, stride=2),
            InvertedResidual(8, 8, 1, 2),
            InvertedResidual(8, 12, 2, 2),
            InvertedResidual(12, 12, 1, 2),
        )
        self.classifier = nn.Linear(12, classes)

    def forward(self, x):
        x = self.features(self.quant(x))
        x = nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.dequant(self.classifier(x))

    def fuse_model(self):
        for m in self.modules():
            if type(m) is ConvBNReLU:
                tq.fuse_modules(m, ["0", "1", "2"], inplace=True)
            if type(m) is InvertedResidual:
                tq.fuse_modules(m.conv, ["2", "3"], inplace=True)


torch.manual_seed(12)
model = TinyMobileNet()
images = torch.randn(24, 3, 16, 16)
labels = torch.randint(0, 4, (24,))
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
losses = []
for step in range(4):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(images), labels)
    loss.backward()
    opt.step()
    losses.append(loss.item())
model.eval()
with torch.no_grad():
    float_out = model(images)
model.fuse_model()
fused_block = [type(m).__name__ for m in model.features[1].conv.children()]
model.qconfig = tq.get_default_qconfig("x86")
tq.prepare(model, inplace=True)
with torch.no_grad():
    for i in range(0, 24, 8):
        model(images[i : i + 8])
tq.convert(model, inplace=True)
with torch.no_grad():
    quant_out = model(images)
depthwise = model.features[1].conv[1][0]
depthwise_info = (type(depthwise).__name__, depthwise.groups, list(depthwise.weight().shape))
depthwise_ints = depthwise.weight().int_repr()[:2].flatten().tolist()
skip_scale = model.features[1].skip_add.scale
out_scale = model.classifier.scale
quant_values = quant_out[:4].flatten().tolist()
agreement = (quant_out.argmax(1) == float_out.argmax(1)).float().mean().item()
