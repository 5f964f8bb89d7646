"""Sebastian Raschka's "Machine Learning with PyTorch and Scikit-Learn", chapters 12 and 14:
the Iris MLP (standardized features, ``TensorDataset``, a ``Model`` with ``nn.Sigmoid`` and
``nn.Softmax(dim=1)``, per-epoch ``loss_hist`` / ``accuracy_hist`` filled by index,
``torch.save`` of the whole state and reloading), and the CelebA smile classifier as a
``nn.Sequential`` built with ``add_module`` (Conv2d, ReLU, MaxPool2d, Dropout, global
``AvgPool2d``, Flatten, Linear, Sigmoid), trained with ``BCELoss`` on images augmented per
sample (random crop, horizontal flip) in a ``Dataset`` ``transform``. torchvision is not
installed beside PyTorch here, so the augmentation is written with tensor ops."""

import os
import tempfile

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

torch.manual_seed(1)
centers = torch.tensor([[5.0, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3], [6.6, 3.0, 5.6, 2.0]])
y = torch.arange(3).repeat_interleave(30)
X = centers[y] + 0.35 * torch.randn(90, 4)
perm = torch.randperm(90)
X_train, y_train, X_test, y_test = X[perm[:60]], y[perm[:60]], X[perm[60:]], y[perm[60:]]
X_train_norm = (X_train - X_train.mean(dim=0)) / X_train.std(dim=0)
train_ds = TensorDataset(X_train_norm, y_train)
torch.manual_seed(1)
train_dl = DataLoader(train_ds, batch_size=2, shuffle=True)


class Model(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.layer1 = nn.Linear(input_size, hidden_size)
        self.layer2 = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        x = self.layer1(x)
        x = nn.Sigmoid()(x)
        x = self.layer2(x)
        x = nn.Softmax(dim=1)(x)
        return x


model = Model(X_train_norm.shape[1], 16, 3)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
num_epochs = 8
loss_hist, accuracy_hist = [0] * num_epochs, [0] * num_epochs
for epoch in range(num_epochs):
    for x_batch, y_batch in train_dl:
        pred = model(x_batch)
        loss = loss_fn(pred, y_batch.long())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        loss_hist[epoch] += loss.item() * y_batch.size(0)
        is_correct = (torch.argmax(pred, dim=1) == y_batch).float()
        accuracy_hist[epoch] += is_correct.sum()
    loss_hist[epoch] /= len(train_dl.dataset)
    accuracy_hist[epoch] /= len(train_dl.dataset)
accuracy_hist = [float(a) for a in accuracy_hist]

X_test_norm = (X_test - X_train.mean(dim=0)) / X_train.std(dim=0)
pred_test = model(X_test_norm)
correct = (torch.argmax(pred_test, dim=1) == y_test).float()
iris_test_accuracy = correct.mean().item()
print(f"Test Acc.: {iris_test_accuracy:.4f}")
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "iris_classifier.pt")
    torch.save(model.state_dict(), path)
    model_new = Model(4, 16, 3)
    model_new.load_state_dict(torch.load(path))
reloaded_equal = bool(torch.equal(model_new(X_test_norm), pred_test))


def random_crop_flip(img, size=12):
    top, left = torch.randint(0, img.shape[1] - size + 1, (2,)).tolist()
    img = img[:, top : top + size, left : left + size]
    if torch.rand(1) < 0.5:
        img = torch.flip(img, dims=[2])
    return img


class SmileDataset(Dataset):
    def __init__(self, images, labels, transform=None):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        img = self.images[idx]
        return (self.transform(img) if self.transform else img), self.labels[idx]


torch.manual_seed(1)
faces = torch.rand(64, 3, 16, 16) * 0.5
smile = torch.randint(0, 2, (64,))
faces[smile == 1, :, 10:13, 4:12] += 0.5  # a bright mouth band for the smiling class
celeba_train = SmileDataset(faces[:48], smile[:48], transform=random_crop_flip)
celeba_valid = SmileDataset(faces[48:, :, 2:14, 2:14], smile[48:])
torch.manual_seed(1)
train_dl = DataLoader(celeba_train, batch_size=16, shuffle=True)
valid_dl = DataLoader(celeba_valid, batch_size=16, shuffle=False)

cnn = nn.Sequential()
cnn.add_module("conv1", nn.Conv2d(3, 8, kernel_size=3, padding=1))
cnn.add_module("relu1", nn.ReLU())
cnn.add_module("pool1", nn.MaxPool2d(kernel_size=2))
cnn.add_module("dropout1", nn.Dropout(p=0.5))
cnn.add_module("conv2", nn.Conv2d(8, 16, kernel_size=3, padding=1))
cnn.add_module("relu2", nn.ReLU())
cnn.add_module("pool3", nn.AvgPool2d(kernel_size=6))
cnn.add_module("flatten", nn.Flatten())
cnn.add_module("fc", nn.Linear(16, 1))
cnn.add_module("sigmoid", nn.Sigmoid())
feature_shape = tuple(cnn[:-2](torch.ones(4, 3, 12, 12)).shape)
cnn_loss_fn = nn.BCELoss()
cnn_optimizer = torch.optim.Adam(cnn.parameters(), lr=0.02)
cnn_loss_hist, cnn_valid_acc = [], []
for epoch in range(10):
    cnn.train()
    epoch_loss = 0.0
    for x_batch, y_batch in train_dl:
        pred = cnn(x_batch)[:, 0]
        loss = cnn_loss_fn(pred, y_batch.float())
        loss.backward()
        cnn_optimizer.step()
        cnn_optimizer.zero_grad()
        epoch_loss += loss.item() * y_batch.size(0)
    cnn_loss_hist.append(epoch_loss / len(train_dl.dataset))
    cnn.eval()
    with torch.no_grad():
        hits = sum(((cnn(xb)[:, 0] >= 0.5).float() == yb).float().sum() for xb, yb in valid_dl)
    cnn_valid_acc.append(float(hits) / len(valid_dl.dataset))
    print(f"Epoch {epoch + 1} loss: {cnn_loss_hist[-1]:.4f} val_accuracy: {cnn_valid_acc[-1]:.4f}")
