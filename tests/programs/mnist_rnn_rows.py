"""pytorch/examples mnist_rnn, tiny: each image is read row by row by an LSTM (batch_first), the
last step's output goes through a Linear and log_softmax to nll_loss; trained with Adadelta and
a StepLR schedule; evaluated with ``reduction='sum'`` losses and ``argmax(keepdim=True)``
against ``target.view_as(pred)``."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from numpy_init import init_from_numpy, randn
from torch.optim.lr_scheduler import StepLR

rng = np.random.default_rng(1)
rows, cols, num_classes = 8, 8, 3
patterns = randn(rng, num_classes, rows, cols)
target_all = torch.from_numpy(rng.integers(0, num_classes, 96).astype(np.int64))
images = (patterns[target_all] + 0.8 * randn(rng, 96, rows, cols)).unsqueeze(1)  # N, 1, H, W


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(input_size=cols, hidden_size=24, batch_first=True)
        self.batchnorm = nn.BatchNorm1d(24)
        self.dropout1 = nn.Dropout(0.0)
        self.fc1 = nn.Linear(24, 16)
        self.fc2 = nn.Linear(16, num_classes)

    def forward(self, input):
        input = input.reshape(-1, rows, cols)
        output, hidden = self.rnn(input)
        output = output[:, -1, :]
        output = self.batchnorm(output)
        output = self.dropout1(output)
        output = F.relu(self.fc1(output))
        return F.log_softmax(self.fc2(output), dim=1)


model = init_from_numpy(Net())
optimizer = optim.Adadelta(model.parameters(), lr=1.0)
scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
train_losses, test_losses, accuracies, lrs = [], [], [], []
for epoch in range(4):
    model.train()
    for batch_idx in range(0, 64, 16):
        data, target = images[batch_idx : batch_idx + 16], target_all[batch_idx : batch_idx + 16]
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
        train_losses.append(loss.item())
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        data, target = images[64:], target_all[64:]
        output = model(data)
        test_loss += F.nll_loss(output, target, reduction="sum").item()
        pred = output.argmax(dim=1, keepdim=True)
        correct += pred.eq(target.view_as(pred)).sum().item()
    test_losses.append(test_loss / 32)
    accuracies.append(correct / 32)
    lrs.append(scheduler.get_last_lr()[0])
    scheduler.step()
