"""Deep Learning with PyTorch, chapters 7 and 8: birds against airplanes on a CIFAR-2 built
the book's way (``label_map = {0: 0, 2: 1}`` over a CIFAR-10-like list of (image, label)
pairs, normalised by the per-channel means of ``torch.stack(..., dim=3).view(3, -1)``), small
16x16 images standing in for 32x32 ones. The fully connected model ends in ``nn.LogSoftmax``
with ``nn.NLLLoss``; the ``nn.Module`` subclasses follow the book: ``Net`` with
``F.max_pool2d(torch.tanh(...))``, ``NetDropout`` (``nn.Dropout2d``),
``NetBatchNorm``, ``NetRes`` (a skip connection ``out1 + out``) and ``NetResDeep`` whose
``ResBlock`` uses ``kaiming_normal_(nonlinearity='relu')``, ``constant_(weight, 0.5)`` and
``nn.Sequential(*(n_blocks * [ResBlock(...)]))`` (one block repeated: its weights are
shared); ``training_loop`` with the book's hand-written L2 penalty
``sum(p.pow(2.0).sum() for p in model.parameters())``, and ``validate`` by ``torch.max``."""

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(123)
SIDE = 16
class_templates = torch.rand(10, 3, SIDE, SIDE)
cifar10 = [
    ((class_templates[label] + 0.35 * torch.randn(3, SIDE, SIDE)).clamp(0, 1), label)
    for label in torch.randint(0, 10, (160,)).tolist()
]
imgs = torch.stack([img_t for img_t, _ in cifar10], dim=3)
mean, std = imgs.view(3, -1).mean(dim=1), imgs.view(3, -1).std(dim=1)
label_map = {0: 0, 2: 1}
class_names = ["airplane", "bird"]
cifar2 = [
    ((img - mean[:, None, None]) / std[:, None, None], label_map[label])
    for img, label in cifar10
    if label in [0, 2]
]
n_cifar2 = len(cifar2)
train_loader = torch.utils.data.DataLoader(cifar2[:24], batch_size=8, shuffle=True)
val_loader = torch.utils.data.DataLoader(cifar2[24:], batch_size=16, shuffle=False)

fc_model = nn.Sequential(
    nn.Linear(3 * SIDE * SIDE, 64), nn.Tanh(), nn.Linear(64, 2), nn.LogSoftmax(dim=1)
)
numel_list = [p.numel() for p in fc_model.parameters() if p.requires_grad == True]  # noqa: E712


class Net(nn.Module):
    def __init__(self, n_chans1=8):
        super().__init__()
        self.n_chans1 = n_chans1
        self.conv1 = nn.Conv2d(3, n_chans1, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(n_chans1, n_chans1 // 2, kernel_size=3, padding=1)
        self.fc1 = nn.Linear(4 * 4 * n_chans1 // 2, 16)
        self.fc2 = nn.Linear(16, 2)

    def forward(self, x):
        out = F.max_pool2d(torch.tanh(self.conv1(x)), 2)
        out = F.max_pool2d(torch.tanh(self.conv2(out)), 2)
        out = out.view(-1, 4 * 4 * self.n_chans1 // 2)
        out = torch.tanh(self.fc1(out))
        return self.fc2(out)


class NetDropout(Net):
    def __init__(self, n_chans1=8):
        super().__init__(n_chans1)
        self.conv1_dropout = nn.Dropout2d(p=0.4)
        self.conv2_dropout = nn.Dropout2d(p=0.4)

    def forward(self, x):
        out = F.max_pool2d(torch.tanh(self.conv1(x)), 2)
        out = self.conv1_dropout(out)
        out = F.max_pool2d(torch.tanh(self.conv2(out)), 2)
        out = self.conv2_dropout(out)
        out = out.view(-1, 4 * 4 * self.n_chans1 // 2)
        return self.fc2(torch.tanh(self.fc1(out)))


class NetBatchNorm(Net):
    def __init__(self, n_chans1=8):
        super().__init__(n_chans1)
        self.conv1_batchnorm = nn.BatchNorm2d(num_features=n_chans1)
        self.conv2_batchnorm = nn.BatchNorm2d(num_features=n_chans1 // 2)

    def forward(self, x):
        out = F.max_pool2d(torch.tanh(self.conv1_batchnorm(self.conv1(x))), 2)
        out = F.max_pool2d(torch.tanh(self.conv2_batchnorm(self.conv2(out))), 2)
        out = out.view(-1, 4 * 4 * self.n_chans1 // 2)
        return self.fc2(torch.tanh(self.fc1(out)))


class NetRes(Net):
    def __init__(self, n_chans1=8):
        super().__init__(n_chans1)
        self.conv3 = nn.Conv2d(n_chans1 // 2, n_chans1 // 2, kernel_size=3, padding=1)
        self.fc1 = nn.Linear(2 * 2 * n_chans1 // 2, 16)

    def forward(self, x):
        out = F.max_pool2d(torch.relu(self.conv1(x)), 2)
        out = F.max_pool2d(torch.relu(self.conv2(out)), 2)
        out1 = out
        out = F.max_pool2d(torch.relu(self.conv3(out)) + out1, 2)
        out = out.view(-1, 2 * 2 * self.n_chans1 // 2)
        return self.fc2(torch.relu(self.fc1(out)))


class ResBlock(nn.Module):
    def __init__(self, n_chans):
        super(ResBlock, self).__init__()
        self.conv = nn.Conv2d(n_chans, n_chans, kernel_size=3, padding=1, bias=False)
        self.batch_norm = nn.BatchNorm2d(num_features=n_chans)
        torch.nn.init.kaiming_normal_(self.conv.weight, nonlinearity="relu")
        torch.nn.init.constant_(self.batch_norm.weight, 0.5)
        torch.nn.init.zeros_(self.batch_norm.bias)

    def forward(self, x):
        out = self.conv(x)
        out = self.batch_norm(out)
        out = torch.relu(out)
        return out + x


class NetResDeep(nn.Module):
    def __init__(self, n_chans1=8, n_blocks=4):
        super().__init__()
        self.n_chans1 = n_chans1
        self.conv1 = nn.Conv2d(3, n_chans1, kernel_size=3, padding=1)
        self.resblocks = nn.Sequential(*(n_blocks * [ResBlock(n_chans=n_chans1)]))
        self.fc1 = nn.Linear(4 * 4 * n_chans1, 16)
        self.fc2 = nn.Linear(16, 2)

    def forward(self, x):
        out = F.max_pool2d(torch.relu(self.conv1(x)), 2)
        out = self.resblocks(out)
        out = F.max_pool2d(out, 2)
        out = out.view(-1, 4 * 4 * self.n_chans1)
        return self.fc2(torch.relu(self.fc1(out)))


def training_loop(n_epochs, optimizer, model, loss_fn, train_loader, l2_lambda=0.0):
    history = []
    for epoch in range(1, n_epochs + 1):
        loss_train = 0.0
        for imgs, labels in train_loader:
            outputs = model(imgs)
            loss = loss_fn(outputs, labels)
            if l2_lambda:
                l2_norm = sum(p.pow(2.0).sum() for p in model.parameters())
                loss = loss + l2_lambda * l2_norm
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_train += loss.item()
        history.append(loss_train / len(train_loader))
    return history


def validate(model, loader):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for imgs, labels in loader:
            outputs = model(imgs)
            _, predicted = torch.max(outputs, dim=1)
            total += labels.shape[0]
            correct += int((predicted == labels).sum())
    return correct / total


fc_history = training_loop(
    3,
    optim.SGD(fc_model.parameters(), lr=1e-2),
    fc_model,
    nn.NLLLoss(),
    [(x.view(x.shape[0], -1), y) for x, y in train_loader],
)
results, param_counts = {}, {}
for name, make, l2 in (
    ("net", Net, 0.0), ("l2", Net, 0.001), ("dropout", NetDropout, 0.0),
    ("batchnorm", NetBatchNorm, 0.0), ("res", NetRes, 0.0), ("resdeep", NetResDeep, 0.0),
):  # fmt: skip
    model = make()
    param_counts[name] = sum(p.numel() for p in model.parameters())
    history = training_loop(
        4, optim.SGD(model.parameters(), lr=0.1), model, nn.CrossEntropyLoss(), train_loader, l2
    )
    results[name] = (history, validate(model, val_loader))
shared_blocks = (
    model.resblocks[0] is model.resblocks[3] and len(list(model.resblocks.parameters())) == 3
)
