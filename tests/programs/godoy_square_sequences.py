"""Daniel Voigt Godoy's "Deep Learning with PyTorch Step-by-Step", chapter 8 (sequences): the
square-corners data (``generate_sequences`` drawing a random starting corner and direction,
noisy points), ``SquareModel`` reading the final hidden state of an ``nn.RNN`` with
``batch_first=True``, ``SquareModelGRU`` / ``SquareModelLSTM`` swaps, variable-length
sequences with ``pack_sequence(enforce_sorted=False)`` in a ``pack_collate`` function,
``pad_packed_sequence`` and the last real step picked with ``out[seq_idx, seq_len - 1]``, and
``SquareModelPacked`` trained on them."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.utils.rnn as rnn_utils
import torch.optim as optim
from torch.utils.data import DataLoader, Dataset, TensorDataset


def generate_sequences(n=128, variable_len=False, seed=13):
    basic_corners = np.array([[-1, -1], [-1, 1], [1, 1], [1, -1]])
    np.random.seed(seed)
    bases = np.random.randint(4, size=n)
    if variable_len:
        lengths = np.random.randint(3, size=n) + 2
    else:
        lengths = [4] * n
    directions = np.random.randint(2, size=n)
    points = [
        basic_corners[[(b + i) % 4 for i in range(4)]][slice(None, None, d * 2 - 1)][:length]
        + np.random.randn(length, 2) * 0.1
        for b, d, length in zip(bases, directions, lengths)
    ]
    return points, directions


class SquareModel(nn.Module):
    def __init__(self, n_features, hidden_dim, n_outputs, cell=nn.RNN):
        super().__init__()
        self.hidden_dim, self.n_features, self.n_outputs = hidden_dim, n_features, n_outputs
        self.hidden = None
        self.basic_rnn = cell(self.n_features, self.hidden_dim, batch_first=True)
        self.classifier = nn.Linear(self.hidden_dim, self.n_outputs)

    def forward(self, X):
        batch_first_output, self.hidden = self.basic_rnn(X)
        last_output = batch_first_output[:, -1]
        out = self.classifier(last_output)
        return out.view(-1, self.n_outputs)


class CustomDataset(Dataset):
    def __init__(self, x, y):
        self.x = [torch.as_tensor(s).float() for s in x]
        self.y = torch.as_tensor(y).float().view(-1, 1)

    def __getitem__(self, index):
        return (self.x[index], self.y[index])

    def __len__(self):
        return len(self.x)


def pack_collate(batch):
    X = [item[0] for item in batch]
    y = [item[1] for item in batch]
    X_pack = rnn_utils.pack_sequence(X, enforce_sorted=False)
    return X_pack, torch.as_tensor(y).view(-1, 1)


class SquareModelPacked(nn.Module):
    def __init__(self, n_features, hidden_dim, n_outputs):
        super().__init__()
        self.hidden_dim, self.n_features, self.n_outputs = hidden_dim, n_features, n_outputs
        self.hidden = self.cell = None
        self.basic_rnn = nn.LSTM(self.n_features, self.hidden_dim, bidirectional=True)
        self.classifier = nn.Linear(2 * self.hidden_dim, self.n_outputs)

    def forward(self, X):
        rnn_out, (self.hidden, self.cell) = self.basic_rnn(X)
        batch_first_output, seq_sizes = rnn_utils.pad_packed_sequence(rnn_out, batch_first=True)
        seq_idx = torch.arange(seq_sizes.size(0))
        last_output = batch_first_output[seq_idx, seq_sizes - 1]
        out = self.classifier(last_output)
        return out.view(-1, self.n_outputs)


def fit(model, loader, epochs, lr=0.05):
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = optim.Adam(model.parameters(), lr=lr)
    epoch_losses = []
    for _ in range(epochs):
        batch_losses = []
        for x_batch, y_batch in loader:
            model.train()
            loss = loss_fn(model(x_batch), y_batch)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            batch_losses.append(loss.item())
        epoch_losses.append(float(np.mean(batch_losses)))
    return epoch_losses


def accuracy(model, loader):
    model.eval()
    with torch.no_grad():
        hits = [((model(x) > 0).float() == y).sum().item() for x, y in loader]
    return sum(hits) / len(loader.dataset)


points, directions = generate_sequences(n=96, seed=13)
test_points, test_directions = generate_sequences(n=32, seed=19)
train_data = TensorDataset(
    torch.as_tensor(np.array(points)).float(), torch.as_tensor(directions).view(-1, 1).float()
)
test_data = TensorDataset(
    torch.as_tensor(np.array(test_points)).float(),
    torch.as_tensor(test_directions).view(-1, 1).float(),
)
test_loader = DataLoader(test_data, batch_size=16)

results = {}
for name, cell in (("rnn", nn.RNN), ("gru", nn.GRU), ("lstm", nn.LSTM)):
    torch.manual_seed(21)
    train_loader = DataLoader(train_data, batch_size=16, shuffle=True)
    model = SquareModel(n_features=2, hidden_dim=2, n_outputs=1, cell=cell)
    losses = fit(model, train_loader, epochs=6)
    results[name] = (losses, accuracy(model, test_loader))
    print(f"{name}: loss {losses[-1]:.4f} accuracy {results[name][1]:.4f}")
hidden_shapes = tuple(model.hidden[0].shape), tuple(model.hidden[1].shape)

var_points, var_directions = generate_sequences(n=96, variable_len=True, seed=13)
var_lengths = sorted({len(s) for s in var_points})
train_var_data = CustomDataset(var_points, var_directions)
torch.manual_seed(21)
train_var_loader = DataLoader(train_var_data, batch_size=16, shuffle=True, collate_fn=pack_collate)
x_pack, y_first = next(iter(train_var_loader))
batch_sizes = x_pack.batch_sizes.tolist()
packed_model = SquareModelPacked(n_features=2, hidden_dim=2, n_outputs=1)
packed_losses = fit(packed_model, train_var_loader, epochs=6)
packed_accuracy = accuracy(packed_model, train_var_loader)
print(f"packed: loss {packed_losses[-1]:.4f} accuracy {packed_accuracy:.4f}")
