"""The "Building Models with PyTorch" and "Training with PyTorch" pages of the "Introduction to
PyTorch" video series, as written for PyTorch, with synthetic 28x28 garments in place of
FashionMNIST: the ``TinyModel`` printed and its ``linear2`` parameters listed, the layer demos
(``MaxPool2d(3)``, ``BatchNorm1d`` centring a shifted tensor, ``Dropout(p=0.4)`` in training),
the ``GarmentClassifier``, the dummy-batch ``CrossEntropyLoss`` printed with ``format``,
``train_one_epoch`` reporting a running loss every few batches to a ``SummaryWriter`` (a
temporary log dir), per-epoch validation under ``model.eval()`` and ``no_grad`` with the
tensor ``avg_vloss`` printed by ``format`` and logged by ``add_scalars``, the best model saved
to a timestamped path and reloaded."""

import os
import tempfile
from datetime import datetime

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.tensorboard import SummaryWriter

torch.manual_seed(0)


class TinyModel(torch.nn.Module):
    def __init__(self):
        super(TinyModel, self).__init__()
        self.linear1 = torch.nn.Linear(100, 200)
        self.activation = torch.nn.ReLU()
        self.linear2 = torch.nn.Linear(200, 10)
        self.softmax = torch.nn.Softmax()

    def forward(self, x):
        return self.softmax(self.linear2(self.activation(self.linear1(x))))


tinymodel = TinyModel()
tiny_repr = str(tinymodel)
print("The model:", tinymodel)
tiny_params = [(name, tuple(p.shape)) for name, p in tinymodel.linear2.named_parameters()]
my_tensor = torch.rand(1, 6, 6)
maxpool = nn.MaxPool2d(3)(my_tensor)
my_tensor = torch.rand(1, 4, 4) * 20 + 5
normed_tensor = nn.BatchNorm1d(4)(my_tensor)
layer_demos = [maxpool.tolist(), my_tensor.mean().item(), normed_tensor.mean().item()]
dropped = nn.Dropout(p=0.4)(torch.rand(1, 4, 4))
layer_demos.append(dropped.tolist())

classes = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat")
labels = torch.randint(0, len(classes), (60,))
images = torch.rand(60, 1, 28, 28) * 0.3
for i, c in enumerate(labels.tolist()):
    images[i, 0, 4 * c : 4 * c + 8, 6:22] += 0.7  # a garment-shaped bright band
images = (images - 0.5) / 0.5  # transforms.Normalize((0.5,), (0.5,))
training_loader = DataLoader(TensorDataset(images[:40], labels[:40]), batch_size=4, shuffle=True)
validation_loader = DataLoader(TensorDataset(images[40:], labels[40:]), batch_size=4, shuffle=False)
print("Training set has {} instances".format(len(training_loader.dataset)))


class GarmentClassifier(nn.Module):
    def __init__(self):
        super(GarmentClassifier, self).__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 4 * 4, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 4 * 4)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


model = GarmentClassifier()
loss_fn = torch.nn.CrossEntropyLoss()
dummy_outputs = torch.rand(4, 10)
dummy_labels = torch.tensor([1, 5, 3, 7])
dummy_line = "Total loss for this batch: {}".format(loss_fn(dummy_outputs, dummy_labels).item())
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)


def train_one_epoch(epoch_index, tb_writer):
    running_loss = 0.0
    last_loss = 0.0
    for i, data in enumerate(training_loader):
        inputs, labels = data
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = loss_fn(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        if i % 5 == 4:
            last_loss = running_loss / 5  # loss per batch
            print("  batch {} loss: {}".format(i + 1, last_loss))
            tb_x = epoch_index * len(training_loader) + i + 1
            tb_writer.add_scalar("Loss/train", last_loss, tb_x)
            running_loss = 0.0
    return last_loss


log_dir = tempfile.TemporaryDirectory()
timestamp = datetime.now().strftime("%Y%m%d_%H%M%S")
writer = SummaryWriter(os.path.join(log_dir.name, "runs/fashion_trainer_{}".format(timestamp)))
epoch_number = 0
EPOCHS = 3
best_vloss = 1_000_000.0
report = []
for epoch in range(EPOCHS):
    print("EPOCH {}:".format(epoch_number + 1))
    model.train(True)
    avg_loss = train_one_epoch(epoch_number, writer)
    running_vloss = 0.0
    model.eval()
    with torch.no_grad():
        for i, vdata in enumerate(validation_loader):
            vinputs, vlabels = vdata
            voutputs = model(vinputs)
            vloss = loss_fn(voutputs, vlabels)
            running_vloss += vloss
    avg_vloss = running_vloss / (i + 1)
    line = "LOSS train {} valid {}".format(avg_loss, avg_vloss)
    print(line)
    report.append((avg_loss, avg_vloss.item(), line.split(" valid ")[1][:12]))
    writer.add_scalars(
        "Training vs. Validation Loss",
        {"Training": avg_loss, "Validation": avg_vloss},
        epoch_number + 1,
    )
    writer.flush()
    if avg_vloss < best_vloss:
        best_vloss = avg_vloss
        model_path = os.path.join(log_dir.name, "model_{}_{}".format(timestamp, epoch_number))
        torch.save(model.state_dict(), model_path)
    epoch_number += 1
writer.close()
saved_model = GarmentClassifier()
saved_model.load_state_dict(torch.load(model_path))
with torch.no_grad():
    saved_correct = (saved_model(images[40:]).argmax(1) == labels[40:]).sum().item()
best_epoch = int(model_path.rsplit("_", 1)[1])
event_files = sum(len(files) for _, _, files in os.walk(log_dir.name) if files) > 0
log_dir.cleanup()
