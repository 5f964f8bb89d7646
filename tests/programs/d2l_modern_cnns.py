"""d2l.ai's modern CNN chapter (edition 1.0, PyTorch), built entirely from lazy modules as the
book now writes them: VGG blocks, NiN blocks (``nn.LazyConv2d`` with 1x1 convolutions,
``nn.AdaptiveAvgPool2d``), GoogLeNet's ``Inception`` (four branches ``torch.cat``-ed on
channels), ResNet's ``Residual`` with ``use_1x1conv`` and ``nn.LazyBatchNorm2d``, ResNeXt's
grouped bottleneck (``groups=bot_channels // groups``) and DenseNet's ``conv_block`` +
``DenseBlock``; the book's ``layer_summary`` printing each layer's class name and output
shape, ``apply_init`` (a dummy forward to materialise the lazy parameters, then
``net.apply(init_cnn)`` keyed on ``type(module) == nn.Conv2d``, which lazy modules become),
and a few SGD steps of a small ResNet on 1x16x16 images."""

import torch
from torch import nn
from torch.nn import functional as F

torch.manual_seed(0)


def vgg_block(num_convs, out_channels):
    layers = []
    for _ in range(num_convs):
        layers.append(nn.LazyConv2d(out_channels, kernel_size=3, padding=1))
        layers.append(nn.ReLU())
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


def nin_block(out_channels, kernel_size, strides, padding):
    return nn.Sequential(
        nn.LazyConv2d(out_channels, kernel_size, strides, padding), nn.ReLU(),
        nn.LazyConv2d(out_channels, kernel_size=1), nn.ReLU(),
        nn.LazyConv2d(out_channels, kernel_size=1), nn.ReLU(),
    )  # fmt: skip


class Inception(nn.Module):
    # c1--c4 are the number of output channels for each branch
    def __init__(self, c1, c2, c3, c4, **kwargs):
        super(Inception, self).__init__(**kwargs)
        # Branch 1
        self.b1_1 = nn.LazyConv2d(c1, kernel_size=1)
        # Branch 2
        self.b2_1 = nn.LazyConv2d(c2[0], kernel_size=1)
        self.b2_2 = nn.LazyConv2d(c2[1], kernel_size=3, padding=1)
        # Branch 3
        self.b3_1 = nn.LazyConv2d(c3[0], kernel_size=1)
        self.b3_2 = nn.LazyConv2d(c3[1], kernel_size=5, padding=2)
        # Branch 4
        self.b4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.b4_2 = nn.LazyConv2d(c4, kernel_size=1)

    def forward(self, x):
        b1 = F.relu(self.b1_1(x))
        b2 = F.relu(self.b2_2(F.relu(self.b2_1(x))))
        b3 = F.relu(self.b3_2(F.relu(self.b3_1(x))))
        b4 = F.relu(self.b4_2(self.b4_1(x)))
        return torch.cat((b1, b2, b3, b4), dim=1)


class Residual(nn.Module):
    """The Residual block of ResNet models."""

    def __init__(self, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.LazyConv2d(num_channels, kernel_size=1, stride=strides)
        else:
            self.conv3 = None
        self.bn1 = nn.LazyBatchNorm2d()
        self.bn2 = nn.LazyBatchNorm2d()

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)


class ResNeXtBlock(nn.Module):
    """The ResNeXt block."""

    def __init__(self, num_channels, groups, bot_mul, use_1x1conv=False, strides=1):
        super().__init__()
        bot_channels = int(round(num_channels * bot_mul))
        self.conv1 = nn.LazyConv2d(bot_channels, kernel_size=1, stride=1)
        self.conv2 = nn.LazyConv2d(
            bot_channels, kernel_size=3, stride=strides, padding=1, groups=bot_channels // groups
        )
        self.conv3 = nn.LazyConv2d(num_channels, kernel_size=1, stride=1)
        self.bn1 = nn.LazyBatchNorm2d()
        self.bn2 = nn.LazyBatchNorm2d()
        self.bn3 = nn.LazyBatchNorm2d()
        if use_1x1conv:
            self.conv4 = nn.LazyConv2d(num_channels, kernel_size=1, stride=strides)
            self.bn4 = nn.LazyBatchNorm2d()
        else:
            self.conv4 = None

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = F.relu(self.bn2(self.conv2(Y)))
        Y = self.bn3(self.conv3(Y))
        if self.conv4:
            X = self.bn4(self.conv4(X))
        return F.relu(Y + X)


def conv_block(num_channels):
    return nn.Sequential(
        nn.LazyBatchNorm2d(), nn.ReLU(), nn.LazyConv2d(num_channels, kernel_size=3, padding=1)
    )


class DenseBlock(nn.Module):
    def __init__(self, num_convs, num_channels):
        super(DenseBlock, self).__init__()
        layer = []
        for i in range(num_convs):
            layer.append(conv_block(num_channels))
        self.net = nn.Sequential(*layer)

    def forward(self, X):
        for blk in self.net:
            Y = blk(X)
            # Concatenate input and output of each block along the channels
            X = torch.cat((X, Y), dim=1)
        return X


def layer_summary(net, X_shape):
    X = torch.randn(*X_shape)
    summary = []
    for layer in net:
        X = layer(X)
        summary.append(f"{layer.__class__.__name__} output shape:\t{tuple(X.shape)}")
    return summary


def init_cnn(module):
    """Initialize weights for CNNs."""
    if type(module) == nn.Linear or type(module) == nn.Conv2d:  # noqa: E721 - as d2l writes it
        nn.init.xavier_uniform_(module.weight)


def apply_init(net, inputs, init=None):
    net(*inputs)
    if init is not None:
        net.apply(init)


blocks = {
    "vgg": nn.Sequential(vgg_block(1, 4), vgg_block(2, 8)),
    "nin": nn.Sequential(
        nin_block(8, 5, 2, 2),
        nn.MaxPool2d(3, stride=2),
        nn.Dropout(0.5),
        nin_block(3, 3, 1, 1),
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(),
    ),
    "inception": nn.Sequential(Inception(4, (4, 8), (2, 4), 4), Inception(8, (8, 8), (2, 4), 4)),
    "resnext": nn.Sequential(
        ResNeXtBlock(16, 4, 1, use_1x1conv=True, strides=2), ResNeXtBlock(16, 4, 0.5)
    ),
    "dense": nn.Sequential(
        DenseBlock(2, 5),
        nn.LazyBatchNorm2d(),
        nn.ReLU(),
        nn.LazyConv2d(6, kernel_size=1),
        nn.AvgPool2d(kernel_size=2, stride=2),
    ),
}
summaries, param_counts, outputs = {}, {}, {}
lazy_before = [type(m).__name__ for m in blocks["nin"][0]][:1]
for name, net in blocks.items():
    summaries[name] = layer_summary(net, (2, 3, 16, 16))
    apply_init(net, [torch.randn(2, 3, 16, 16)], init_cnn)
    param_counts[name] = sum(p.numel() for p in net.parameters())
    net.eval()
    outputs[name] = net(torch.randn(1, 3, 16, 16)).flatten()[:6].tolist()
lazy_after = [type(m).__name__ for m in blocks["nin"][0]][:1]
grouped_weight = tuple(blocks["resnext"][0].conv2.weight.shape)
bn_type = type(blocks["resnext"][0].bn1).__name__

resnet = nn.Sequential(
    nn.LazyConv2d(8, kernel_size=3, padding=1), nn.LazyBatchNorm2d(), nn.ReLU(),
    Residual(8), Residual(16, use_1x1conv=True, strides=2),
    nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.LazyLinear(3),
)  # fmt: skip
templates = torch.randn(3, 1, 16, 16)
y = torch.randint(0, 3, (48,))
X = templates[y] + 0.8 * torch.randn(48, 1, 16, 16)
apply_init(resnet, [X[:2]], init_cnn)
resnet_summary = layer_summary(resnet, (1, 1, 16, 16))
optimizer = torch.optim.SGD(resnet.parameters(), lr=0.1)
resnet_losses = []
for epoch in range(4):
    for i in range(0, 48, 16):
        loss = F.cross_entropy(resnet(X[i : i + 16]), y[i : i + 16])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        resnet_losses.append(loss.item())
resnet.eval()
accuracy = (resnet(X).argmax(1) == y).float().mean().item()
