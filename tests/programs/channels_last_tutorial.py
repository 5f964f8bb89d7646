"""The "(beta) Channels Last Memory Format in PyTorch" tutorial, as written for PyTorch: the
strides of an NCHW tensor before and after ``.to(memory_format=torch.channels_last)``,
``contiguous(memory_format=)``, ``empty(..., memory_format=)``, ``clone``/``empty_like``
preserving the format, the permute-based alternative, the ambiguous sizes (C == 1, H == W == 1)
that are contiguous in both formats, ``view`` refusing a channels-last tensor, operators that
keep the format (convolution, batch norm, pooling, elementwise, ``interpolate``, ``cat``),
``channels_last_3d``, and a small CNN trained with its model and inputs in channels-last next to
the same CNN in the default format."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
N, C, H, W = 10, 3, 32, 32
x = torch.empty(N, C, H, W)
strides = {"classic": x.stride()}
x = x.to(memory_format=torch.channels_last)
print(x.shape)  # outputs (10, 3, 32, 32) as dimensions order preserved
strides["channels_last"] = x.stride()
x = x.to(memory_format=torch.contiguous_format)
strides["back"] = x.stride()
x = x.contiguous(memory_format=torch.channels_last)
strides["contiguous_cl"] = x.stride()
formats = {
    "is_cl": x.is_contiguous(memory_format=torch.channels_last),
    "is_classic": x.is_contiguous(),
}
x = torch.empty(N, C, H, W, memory_format=torch.channels_last)
strides["empty_cl"] = x.stride()
strides["clone"] = x.clone().stride()
strides["empty_like"] = torch.empty_like(x).stride()
strides["contiguous_format_clone"] = x.clone(memory_format=torch.contiguous_format).stride()
x = torch.randn(N, C, H, W)
alt = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
strides["permute_alternative"] = alt.stride()
formats["permute_is_cl"] = alt.is_contiguous(memory_format=torch.channels_last)
formats["same_values"] = torch.equal(alt, x.to(memory_format=torch.channels_last))

# special cases: a single channel, or 1x1 spatial size, is contiguous in both formats
special = {}
for shape in [(N, 1, H, W), (N, C, 1, 1), (1, C, 1, 1)]:
    t = torch.empty(shape)
    special[str(shape)] = [t.is_contiguous(), t.is_contiguous(memory_format=torch.channels_last)]
try:
    x.to(memory_format=torch.channels_last).view(N, -1)
    view_error = None
except RuntimeError as e:
    view_error = str(e).split(".")[0]

# operators keep the channels-last format
xc = torch.randn(2, 4, 8, 8).to(memory_format=torch.channels_last)
conv = nn.Conv2d(4, 6, 3, padding=1).to(memory_format=torch.channels_last)
bn = nn.BatchNorm2d(6)
kept = {
    "conv": conv(xc).is_contiguous(memory_format=torch.channels_last),
    "bn": bn(conv(xc)).is_contiguous(memory_format=torch.channels_last),
    "relu": F.relu(xc).is_contiguous(memory_format=torch.channels_last),
    "add": (xc + 1).is_contiguous(memory_format=torch.channels_last),
    "mul_scalar": (xc * 2).is_contiguous(memory_format=torch.channels_last),
    "max_pool": F.max_pool2d(xc, 2).is_contiguous(memory_format=torch.channels_last),
    "avg_pool": F.avg_pool2d(xc, 2).is_contiguous(memory_format=torch.channels_last),
    "interpolate": F.interpolate(xc, scale_factor=2, mode="nearest").is_contiguous(
        memory_format=torch.channels_last
    ),
    "cat": torch.cat([xc, xc], 1).is_contiguous(memory_format=torch.channels_last),
    "group_norm": nn.GroupNorm(2, 4)(xc).is_contiguous(memory_format=torch.channels_last),
    "instance_norm": nn.InstanceNorm2d(4)(xc).is_contiguous(memory_format=torch.channels_last),
}
padded = {m: F.pad(xc, (1, 1, 1, 1), mode=m).stride() for m in ["constant", "reflect", "circular"]}
# softmax writes a row-major result, so it can be viewed as (N, -1) whatever the input's format
softmax_strides = [
    xc.softmax(1).stride(),
    xc.log_softmax(-1).stride(),
    tuple(xc.softmax(1).view(2, -1).shape),
]
conv_weight_stride = conv.weight.stride()
out_stride = conv(xc).stride()
x3 = torch.randn(2, 3, 4, 5, 6).to(memory_format=torch.channels_last_3d)
strides["channels_last_3d"] = x3.stride()
formats["is_cl3d"] = x3.is_contiguous(memory_format=torch.channels_last_3d)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.relu(self.conv2(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


data = torch.randn(32, 3, 12, 12)
target = (data[:, 0].mean((1, 2)) > 0).long() + 2 * (data[:, 1].mean((1, 2)) > 0).long()
reference = Net()
losses, grads_format = {}, None
for fmt in [torch.contiguous_format, torch.channels_last]:
    model = Net()
    model.load_state_dict(reference.state_dict())
    model = model.to(memory_format=fmt)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    run = []
    for step in range(6):
        inputs = data.to(memory_format=fmt)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(inputs), target)
        loss.backward()
        optimizer.step()
        run.append(loss.item())
    losses[str(fmt)] = run
    if fmt == torch.channels_last:
        grads_format = model.conv1.weight.grad.is_contiguous(memory_format=torch.channels_last)
        weight_format = model.conv1.weight.is_contiguous(memory_format=torch.channels_last)
