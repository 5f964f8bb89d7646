"""A small ResNet trained as torchvision's models are written: BasicBlock with in-place adds,
kaiming init, frozen layers filtered out of the optimizer, OneCycleLR, label smoothing, forward
hooks, inference_mode, and a non-strict state_dict load; the usual device idiom."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import OneCycleLR, ReduceLROnPlateau


def conv3x3(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu(out)
        out = self.conv2(out)
        out = self.bn2(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        out = self.relu(out)
        return out


class ResNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.inplanes = 8
        self.conv1 = nn.Conv2d(3, 8, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(8, 1)
        self.layer2 = self._make_layer(16, 1, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        for _ in range(1, blocks):
            layers.append(BasicBlock(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


torch.manual_seed(0)
model = ResNet()
features = {}


def hook(module, inp, out):
    features["avgpool"] = out.detach()


h = model.avgpool.register_forward_hook(hook)
print(sum(p.numel() for p in model.parameters() if p.requires_grad))
X = torch.randn(64, 3, 16, 16)
Y = (X[:, 0].mean((1, 2)) > 0).long()
for p in model.layer1.parameters():
    p.requires_grad_(False)
optimizer = torch.optim.SGD(
    filter(lambda p: p.requires_grad, model.parameters()),
    lr=0.1,
    momentum=0.9,
    weight_decay=5e-4,
    nesterov=True,
)
sched = OneCycleLR(optimizer, max_lr=0.1, total_steps=20)
plateau = ReduceLROnPlateau(optimizer, "min", patience=2)
for step in range(20):
    model.train()
    out = model(X)
    loss = F.cross_entropy(out, Y, label_smoothing=0.1)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_value_(model.parameters(), 1.0)
    optimizer.step()
    sched.step()
    if step % 5 == 0:
        print(step, loss.item(), sched.get_last_lr(), features["avgpool"].shape)
model.eval()
with torch.inference_mode():
    acc = (model(X).argmax(dim=1) == Y).float().mean()
print("acc", acc.item())
h.remove()
sd = model.state_dict()
print(list(sd.keys())[:5], sd["bn1.num_batches_tracked"])
model2 = ResNet()
missing = model2.load_state_dict(sd, strict=False)
print(missing)
for name, module in model.named_modules():
    if isinstance(module, nn.BatchNorm2d):
        module.eval()
device = (
    "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
)
