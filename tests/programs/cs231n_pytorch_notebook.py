"""CS231n assignment 2's ``PyTorch.ipynb`` on a tiny CIFAR-shaped set: Part II "barebones"
networks as functions of explicit weights (``flatten`` by ``x.view(N, -1)``, ``F.conv2d`` with
``padding=``, ``random_weight`` scaling ``torch.randn`` by a NumPy ``np.sqrt(2. / fan_in)``
with ``fan_in = np.prod(shape[1:])``, ``w.requires_grad = True``, the manual update
``w -= learning_rate * w.grad`` then ``w.grad.zero_()`` under ``torch.no_grad()``), the
``check_accuracy`` loop (``scores.max(1)``, ``float(num_correct) / num_samples``), Part III's
``nn.Module`` ``ThreeLayerConvNet`` with ``nn.init.kaiming_normal_`` and ``nn.init.zeros_``,
and Part IV's ``nn.Sequential`` with the notebook's own ``Flatten`` module and
``optim.SGD(momentum=0.9, nesterov=True)``; data through a ``DataLoader`` with a
``sampler.SubsetRandomSampler`` splitting train from validation."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset, sampler

USE_GPU = False
dtype = torch.float32
device = torch.device("cuda") if USE_GPU and torch.cuda.is_available() else torch.device("cpu")
print_every = 100

torch.manual_seed(0)
NUM_TRAIN = 48
labels = torch.arange(64) % 4
images = torch.randn(64, 3, 8, 8) * 0.5
images[:, 0] += (labels == 1).float().view(-1, 1, 1)
images[:, 1] += (labels == 2).float().view(-1, 1, 1)
images[:, 2] -= (labels == 3).float().view(-1, 1, 1)
cifar10_train = TensorDataset(images, labels)
loader_train = DataLoader(
    cifar10_train, batch_size=16, sampler=sampler.SubsetRandomSampler(range(NUM_TRAIN))
)
loader_val = DataLoader(cifar10_train, batch_size=16, sampler=sampler.SubsetRandomSampler(range(NUM_TRAIN, 64)))  # fmt: skip


def flatten(x):
    N = x.shape[0]  # read in N, C, H, W
    return x.view(N, -1)  # "flatten" the C * H * W values into a single vector per image


def three_layer_convnet(x, params):
    conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b = params
    x = F.relu(F.conv2d(x, conv_w1, conv_b1, padding=2))
    x = F.relu(F.conv2d(x, conv_w2, conv_b2, padding=1))
    scores = flatten(x).mm(fc_w) + fc_b
    return scores


def random_weight(shape):
    if len(shape) == 2:  # FC weight
        fan_in = shape[0]
    else:
        fan_in = np.prod(shape[1:])  # conv weight [out_channel, in_channel, kH, kW]
    w = torch.randn(shape, device=device, dtype=dtype) * np.sqrt(2.0 / fan_in)
    w.requires_grad = True
    return w


def zero_weight(shape):
    return torch.zeros(shape, device=device, dtype=dtype, requires_grad=True)


def check_accuracy_part2(loader, model_fn, params):
    num_correct, num_samples = 0, 0
    with torch.no_grad():
        for x, y in loader:
            x = x.to(device=device, dtype=dtype)
            y = y.to(device=device, dtype=torch.int64)
            scores = model_fn(x, params)
            _, preds = scores.max(1)
            num_correct += (preds == y).sum()
            num_samples += preds.size(0)
        acc = float(num_correct) / num_samples
    return acc


def train_part2(model_fn, params, learning_rate, epochs):
    losses = []
    for _ in range(epochs):
        for t, (x, y) in enumerate(loader_train):
            x = x.to(device=device, dtype=dtype)
            y = y.to(device=device, dtype=torch.long)
            scores = model_fn(x, params)
            loss = F.cross_entropy(scores, y)
            loss.backward()
            with torch.no_grad():
                for w in params:
                    w -= learning_rate * w.grad
                    w.grad.zero_()
            losses.append(loss.item())
    return losses


x_test = torch.zeros((64, 3, 8, 8), dtype=dtype)
flatten_shape = tuple(flatten(torch.arange(12).view(2, 1, 3, 2)).shape)
channel_1, channel_2, num_classes = 6, 4, 4
params = [
    random_weight((channel_1, 3, 5, 5)), zero_weight((channel_1,)),
    random_weight((channel_2, channel_1, 3, 3)), zero_weight((channel_2,)),
    random_weight((channel_2 * 8 * 8, num_classes)), zero_weight((num_classes,)),
]  # fmt: skip
test_scores_shape = tuple(three_layer_convnet(x_test, params).size())
weight_dtype = str(params[0].dtype)
part2_losses = train_part2(three_layer_convnet, params, 3e-2, epochs=3)
part2_acc = check_accuracy_part2(loader_val, three_layer_convnet, params)


class ThreeLayerConvNet(nn.Module):
    def __init__(self, in_channel, channel_1, channel_2, num_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channel, channel_1, (5, 5), padding=2)
        nn.init.kaiming_normal_(self.conv1.weight)
        nn.init.zeros_(self.conv1.bias)
        self.conv2 = nn.Conv2d(channel_1, channel_2, (3, 3), padding=1)
        nn.init.kaiming_normal_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)
        self.fc = nn.Linear(channel_2 * 8 * 8, num_classes)
        nn.init.kaiming_normal_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        return self.fc(flatten(x))


def check_accuracy_part34(loader, model):
    num_correct, num_samples = 0, 0
    model.eval()  # set model to evaluation mode
    with torch.no_grad():
        for x, y in loader:
            scores = model(x.to(device=device, dtype=dtype))
            _, preds = scores.max(1)
            num_correct += (preds == y.to(device=device, dtype=torch.long)).sum()
            num_samples += preds.size(0)
    return float(num_correct) / num_samples


def train_part34(model, optimizer, epochs=1):
    model = model.to(device=device)  # move the model parameters to CPU/GPU
    losses = []
    for e in range(epochs):
        for t, (x, y) in enumerate(loader_train):
            model.train()  # put model to training mode
            scores = model(x.to(device=device, dtype=dtype))
            loss = F.cross_entropy(scores, y.to(device=device, dtype=torch.long))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses


model = ThreeLayerConvNet(3, channel_1, channel_2, num_classes)
optimizer = optim.SGD(model.parameters(), lr=3e-2)
part3_losses = train_part34(model, optimizer, epochs=3)
part3_acc = check_accuracy_part34(loader_val, model)


class Flatten(nn.Module):
    def forward(self, x):
        return flatten(x)


hidden_layer_size = 32
model = nn.Sequential(
    Flatten(),
    nn.Linear(3 * 8 * 8, hidden_layer_size),
    nn.ReLU(),
    nn.Linear(hidden_layer_size, 4),
)
optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9, nesterov=True)
part4_losses = train_part34(model, optimizer, epochs=3)
part4_acc = check_accuracy_part34(loader_val, model)
momentum_buffer = optimizer.state[model[1].weight]["momentum_buffer"][0, :4].tolist()
