"""The "Learn the Basics" pages after the quickstart, as written for PyTorch: "Datasets &
DataLoaders" (a ``CustomImageDataset`` reading an annotations CSV and image files from a folder,
with ``transform`` and a ``target_transform`` that one-hot encodes with
``torch.zeros(10).scatter_(0, torch.tensor(y), value=1)``), "Build the Model" (the
``NeuralNetwork`` with ``nn.Flatten`` and ``nn.Sequential``, ``nn.Softmax(dim=1)`` and
``argmax(1)``, the layers walked one by one on a 3-image minibatch, ``named_parameters``),
"Automatic Differentiation" (``binary_cross_entropy_with_logits`` of ``x @ w + b``,
``z.requires_grad`` under ``no_grad`` and after ``detach``, ``(inp + 1).pow(2).t()`` backward
twice with ``retain_graph``), "Optimization" (``train_loop``/``test_loop`` with
``model.train()``/``model.eval()``) and "Save and Load" (``state_dict`` with
``weights_only=True``, and the whole model with ``weights_only=False``)."""

import csv
import os
import tempfile

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

torch.manual_seed(0)
folder = tempfile.mkdtemp()
img_dir = os.path.join(folder, "images")
os.makedirs(img_dir)
rng = np.random.default_rng(0)
rows = []
for i in range(64):
    label = int(rng.integers(0, 10))
    image = rng.integers(0, 96, size=(8, 8), dtype=np.uint8)
    image[label % 8, :] = 255  # a bright row says the class (mod 8), a bright column the rest
    if label >= 8:
        image[:, label - 8] = 255
    np.save(os.path.join(img_dir, f"img_{i}.npy"), image)
    rows.append((f"img_{i}.npy", label))
annotations_file = os.path.join(folder, "labels.csv")
with open(annotations_file, "w", newline="") as f:
    csv.writer(f).writerows(rows)


def read_image(path):
    return torch.from_numpy(np.load(path)).unsqueeze(0)  # (C, H, W) uint8, as read_image


class CustomImageDataset(Dataset):
    def __init__(self, annotations_file, img_dir, transform=None, target_transform=None):
        with open(annotations_file) as f:
            self.img_labels = [(name, int(label)) for name, label in csv.reader(f)]
        self.img_dir = img_dir
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.img_labels)

    def __getitem__(self, idx):
        img_path = os.path.join(self.img_dir, self.img_labels[idx][0])
        image = read_image(img_path)
        label = self.img_labels[idx][1]
        if self.transform:
            image = self.transform(image)
        if self.target_transform:
            label = self.target_transform(label)
        return image, label


def to_tensor(image):  # ToTensor: uint8 [0, 255] -> float [0.0, 1.0]
    return image.float().div(255)


def one_hot(y):
    return torch.zeros(10, dtype=torch.float).scatter_(0, torch.tensor(y), value=1)


training_data = CustomImageDataset(annotations_file, img_dir, to_tensor, one_hot)
plain_data = CustomImageDataset(annotations_file, img_dir)
sample_image, sample_label = training_data[0]
raw_image, raw_label = plain_data[0]
sample_facts = [
    list(sample_image.shape), str(sample_image.dtype), str(raw_image.dtype),
    sample_label.tolist(), raw_label, len(training_data),
]  # fmt: skip
train_dataloader = DataLoader(training_data, batch_size=16, shuffle=True)
train_features, train_labels = next(iter(train_dataloader))
batch_facts = [list(train_features.size()), list(train_labels.size()), str(train_labels.dtype)]


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(8 * 8, 32),
            nn.ReLU(),
            nn.Linear(32, 32),
            nn.ReLU(),
            nn.Linear(32, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


model = NeuralNetwork()
model_repr = repr(model)
X = torch.rand(1, 8, 8)
logits = model(X)
pred_probab = nn.Softmax(dim=1)(logits)
y_pred = pred_probab.argmax(1)
first_pred = [y_pred.item(), pred_probab.sum().item()]
input_image = torch.rand(3, 8, 8)
flat_image = nn.Flatten()(input_image)
layer1 = nn.Linear(in_features=64, out_features=20)
hidden1 = nn.ReLU()(layer1(flat_image))
layer_shapes = [list(flat_image.size()), list(hidden1.size()), bool((hidden1 >= 0).all())]
param_shapes = [(name, list(param.size())) for name, param in model.named_parameters()]

# Automatic differentiation.
x = torch.ones(5)
y = torch.zeros(3)
w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
z = torch.matmul(x, w) + b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
grad_fn_names = [type(z.grad_fn).__name__, type(loss.grad_fn).__name__]
loss.backward()
autograd_grads = [w.grad.flatten().tolist(), b.grad.tolist()]
with torch.no_grad():
    z = torch.matmul(x, w) + b
requires = [z.requires_grad, (torch.matmul(x, w) + b).detach().requires_grad]
inp = torch.eye(4, 5, requires_grad=True)
out = (inp + 1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
first_call = inp.grad.clone()
out.backward(torch.ones_like(out), retain_graph=True)
second_call = inp.grad.clone()
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
jacobian_calls = [first_call.tolist(), second_call.tolist(), inp.grad.tolist()]

# Optimization.
learning_rate, batch_size, epochs = 1.0, 16, 4
test_data = CustomImageDataset(annotations_file, img_dir, to_tensor)
test_dataloader = DataLoader(test_data, batch_size=32)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)


def train_loop(dataloader, model, loss_fn, optimizer):
    model.train()
    losses = []
    for batch, (X, y) in enumerate(dataloader):
        pred = model(X)
        loss = loss_fn(pred, y)  # one-hot targets: class probabilities
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    return losses


def test_loop(dataloader, model, loss_fn):
    model.eval()
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    return test_loss / num_batches, correct / size


train_losses, test_results = [], []
for t in range(epochs):
    train_losses += train_loop(train_dataloader, model, loss_fn, optimizer)
    test_results.append(test_loop(test_dataloader, model, loss_fn))

# Save and load.
weights_path = os.path.join(folder, "model_weights.pth")
torch.save(model.state_dict(), weights_path)
model2 = NeuralNetwork()
model2.load_state_dict(torch.load(weights_path, weights_only=True))
model2.eval()
model_path = os.path.join(folder, "model.pth")
torch.save(model, model_path)
model3 = torch.load(model_path, weights_only=False)
probe = torch.rand(4, 1, 8, 8)
reload_gaps = [
    (model2(probe) - model(probe)).abs().max().item(),
    (model3(probe) - model(probe)).abs().max().item(),
]
model3_type = type(model3).__name__
