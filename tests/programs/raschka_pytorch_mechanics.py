"""Sebastian Raschka's "Machine Learning with PyTorch and Scikit-Learn", chapters 12 and 13, as
the book's notebooks write them: tensor manipulation (``torch.transpose``, ``torch.multiply``,
``torch.mean(t, axis=0)``, ``torch.linalg.norm(ord=2, dim=1)``, ``torch.chunk``, ``torch.split``
with sections, ``torch.stack``), a ``JointDataset`` in a shuffled ``DataLoader``, the gradient of
a squared loss checked by hand, the Auto-MPG style feature columns (``torch.bucketize`` with
``right=True`` into ``one_hot`` buckets), and the chapter's custom ``NoisyLinear`` layer
(``nn.Parameter(torch.Tensor(...))`` initialised by ``xavier_uniform_``, ``torch.normal`` noise
in training only, ``torch.add(torch.mm(...))``) in a model trained on XOR with ``nn.BCELoss``,
batch accuracies averaged per epoch as the book does."""

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

# chapter 12: tensors
torch.manual_seed(1)
t1 = 2 * torch.rand(5, 2) - 1
t2 = torch.normal(mean=0, std=1, size=(5, 2))
t3 = torch.multiply(t1, t2)
t4 = torch.mean(t1, axis=0)
t5 = torch.matmul(t1, torch.transpose(t2, 0, 1))
norm_t1 = torch.linalg.norm(t1, ord=2, dim=1)
t = torch.rand(6)
chunks = [c.tolist() for c in torch.chunk(t, 3)]
t = torch.rand(5)
splits = [s.shape[0] for s in torch.split(t, split_size_or_sections=[3, 2])]
stacked = torch.stack([torch.ones(3), torch.zeros(3)], axis=1)
tensor_facts = [t3.tolist(), t4.tolist(), t5.shape[0], norm_t1.tolist(), chunks, splits]
tensor_facts.append(stacked.tolist())


class JointDataset(Dataset):
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        return self.x[idx], self.y[idx]


torch.manual_seed(1)
t_x = torch.rand([4, 3], dtype=torch.float32)
t_y = torch.arange(4)
joint_dataset = JointDataset(t_x, t_y)
data_loader = DataLoader(dataset=joint_dataset, batch_size=2, shuffle=True)
epoch_batches = []
for epoch in range(2):
    for i, batch in enumerate(data_loader, 1):
        epoch_batches.append(batch[1].tolist())

# chapter 13: the computation graph and a gradient checked by hand
w = torch.tensor(1.0, requires_grad=True)
b = torch.tensor(0.5, requires_grad=True)
x = torch.tensor([1.4])
y = torch.tensor([2.1])
z = torch.add(torch.mul(w, x), b)
loss = (y - z).pow(2).sum()
loss.backward()
by_hand = 2 * x * ((w * x + b) - y)
grad_check = [w.grad.item(), b.grad.item(), by_hand.item()]

# feature columns: bucketized model years, one-hot origins
model_year = torch.tensor([70, 73, 74, 76, 77, 80, 82])
boundaries = torch.tensor([73, 76, 79])
buckets = torch.bucketize(model_year, boundaries, right=True)
year_onehot = nn.functional.one_hot(buckets, num_classes=4)
origin = torch.tensor([1, 3, 2, 1, 1, 3, 2])
origin_encoded = nn.functional.one_hot(origin % 3)
feature_facts = [buckets.tolist(), year_onehot.sum(0).tolist(), origin_encoded.tolist()]


class NoisyLinear(nn.Module):
    def __init__(self, input_size, output_size, noise_stddev=0.1):
        super().__init__()
        w = torch.Tensor(input_size, output_size)
        self.w = nn.Parameter(w)  # nn.Parameter is a Tensor that's a module parameter.
        nn.init.xavier_uniform_(self.w)
        b = torch.Tensor(output_size).fill_(0)
        self.b = nn.Parameter(b)
        self.noise_stddev = noise_stddev

    def forward(self, x, training=False):
        if training:
            noise = torch.normal(0.0, self.noise_stddev, x.shape)
            x_new = torch.add(x, noise)
        else:
            x_new = x
        return torch.add(torch.mm(x_new, self.w), self.b)


class MyNoisyModule(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = NoisyLinear(2, 4, 0.07)
        self.a1 = nn.ReLU()
        self.l2 = nn.Linear(4, 4)
        self.a2 = nn.ReLU()
        self.l3 = nn.Linear(4, 1)
        self.a3 = nn.Sigmoid()

    def forward(self, x, training=False):
        x = self.l1(x, training)
        x = self.a1(x)
        x = self.l2(x)
        x = self.a2(x)
        x = self.l3(x)
        x = self.a3(x)
        return x

    def predict(self, x):
        x = torch.tensor(x, dtype=torch.float32)
        pred = self.forward(x)[:, 0]
        return (pred >= 0.5).float()


np.random.seed(1)
torch.manual_seed(1)
x = np.random.uniform(low=-1, high=1, size=(120, 2))
y = np.ones(len(x))
y[x[:, 0] * x[:, 1] < 0] = 0
n_train = 80
x_train = torch.tensor(x[:n_train, :], dtype=torch.float32)
y_train = torch.tensor(y[:n_train], dtype=torch.float32)
x_valid = torch.tensor(x[n_train:, :], dtype=torch.float32)
y_valid = torch.tensor(y[n_train:], dtype=torch.float32)
train_ds = TensorDataset(x_train, y_train)
batch_size = 8
train_dl = DataLoader(train_ds, batch_size, shuffle=True)

model = MyNoisyModule()
loss_fn = nn.BCELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.3)
num_epochs = 12
loss_hist_train = [0] * num_epochs
accuracy_hist_train = [0] * num_epochs
loss_hist_valid = [0] * num_epochs
accuracy_hist_valid = [0] * num_epochs
for epoch in range(num_epochs):
    for x_batch, y_batch in train_dl:
        pred = model(x_batch, True)[:, 0]
        loss = loss_fn(pred, y_batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        loss_hist_train[epoch] += loss.item()
        is_correct = ((pred >= 0.5).float() == y_batch).float()
        accuracy_hist_train[epoch] += is_correct.mean()
    loss_hist_train[epoch] /= n_train / batch_size
    accuracy_hist_train[epoch] /= n_train / batch_size
    pred = model(x_valid)[:, 0]
    loss = loss_fn(pred, y_valid)
    loss_hist_valid[epoch] = loss.item()
    is_correct = ((pred >= 0.5).float() == y_valid).float()
    accuracy_hist_valid[epoch] += is_correct.mean()
train_acc_type = type(accuracy_hist_train[0]).__name__
accuracy_hist_train = [a.item() for a in accuracy_hist_train]
accuracy_hist_valid = [a.item() for a in accuracy_hist_valid]
predicted = model.predict(x[:6]).tolist()
params = [name for name, _ in model.named_parameters()][:3]
