"""Zero to Mastery's PyTorch course, notebook 02 (neural network classification): circles data
made with NumPy and turned into tensors with ``torch.from_numpy(X).type(torch.float)``,
``CircleModelV2`` with ``nn.ReLU``, ``BCEWithLogitsLoss`` and SGD, the loop's
``torch.round(torch.sigmoid(y_logits))`` predictions and ``accuracy_fn``, an f-string log every
10 epochs, ``helper_functions.plot_decision_boundary``'s grid (``np.meshgrid`` + ``np.c_``,
``model.to("cpu")``, multi-class via ``torch.softmax(..).argmax``) without the plotting; then
the multi-class blob model (``BlobModel`` with ``nn.Sequential``) with ``CrossEntropyLoss``."""

import numpy as np
import torch
from torch import nn


def accuracy_fn(y_true, y_pred):
    correct = torch.eq(y_true, y_pred).sum().item()
    return (correct / len(y_pred)) * 100


def decision_boundary_grid(model, X, y, n=25):
    model.to("cpu")
    X, y = X.to("cpu"), y.to("cpu")
    x_min, x_max = X[:, 0].min() - 0.1, X[:, 0].max() + 0.1
    y_min, y_max = X[:, 1].min() - 0.1, X[:, 1].max() + 0.1
    xx, yy = np.meshgrid(np.linspace(x_min, x_max, n + 1), np.linspace(y_min, y_max, n + 1))
    X_to_pred_on = torch.from_numpy(np.column_stack((xx.ravel(), yy.ravel()))).float()
    model.eval()
    with torch.inference_mode():
        y_logits = model(X_to_pred_on)
    if len(torch.unique(y)) > 2:
        y_pred = torch.softmax(y_logits, dim=1).argmax(dim=1)
    else:
        y_pred = torch.round(torch.sigmoid(y_logits))
    return y_pred.reshape(xx.shape).detach().numpy()


rng = np.random.default_rng(42)
n_samples = 200
angles = rng.uniform(0, 2 * np.pi, n_samples)
radius = np.where(np.arange(n_samples) % 2 == 0, 1.0, 0.5) + rng.normal(0, 0.05, n_samples)
X_np = np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1)
y_np = (np.arange(n_samples) % 2).astype(np.int64)
X = torch.from_numpy(X_np).type(torch.float)
y = torch.from_numpy(y_np).type(torch.float)
X_train, X_test, y_train, y_test = X[:160], X[160:], y[:160], y[160:]


class CircleModelV2(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer_1 = nn.Linear(in_features=2, out_features=10)
        self.layer_2 = nn.Linear(in_features=10, out_features=10)
        self.layer_3 = nn.Linear(in_features=10, out_features=1)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.layer_3(self.relu(self.layer_2(self.relu(self.layer_1(x)))))


torch.manual_seed(42)
model_3 = CircleModelV2()
loss_fn = nn.BCEWithLogitsLoss()
optimizer = torch.optim.SGD(model_3.parameters(), lr=0.3)
log = []
for epoch in range(100):
    model_3.train()
    y_logits = model_3(X_train).squeeze()
    y_pred = torch.round(torch.sigmoid(y_logits))
    loss = loss_fn(y_logits, y_train)
    acc = accuracy_fn(y_true=y_train, y_pred=y_pred)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    model_3.eval()
    with torch.inference_mode():
        test_logits = model_3(X_test).squeeze()
        test_pred = torch.round(torch.sigmoid(test_logits))
        test_loss = loss_fn(test_logits, y_test)
        test_acc = accuracy_fn(y_true=y_test, y_pred=test_pred)
    if epoch % 10 == 0:
        log.append((loss.item(), acc, test_loss.item(), test_acc))
        print(
            f"Epoch: {epoch} | Loss: {loss:.5f}, Accuracy: {acc:.2f}% | "
            f"Test Loss: {test_loss:.5f}, Test Accuracy: {test_acc:.2f}%"
        )
circle_grid = decision_boundary_grid(model_3, X_test, y_test)
circle_grid_sum = float(circle_grid.sum())

NUM_CLASSES, NUM_FEATURES = 4, 2
torch.manual_seed(42)
blob_centers = torch.tensor([[-4.0, 4.0], [4.0, 4.0], [-4.0, -4.0], [4.0, -4.0]])
y_blob = torch.randint(0, NUM_CLASSES, (200,))
X_blob = blob_centers[y_blob] + 1.5 * torch.randn(200, NUM_FEATURES)
X_blob_train, X_blob_test, y_blob_train, y_blob_test = (
    X_blob[:160],
    X_blob[160:],
    y_blob[:160],
    y_blob[160:],
)


class BlobModel(nn.Module):
    def __init__(self, input_features, output_features, hidden_units=8):
        super().__init__()
        self.linear_layer_stack = nn.Sequential(
            nn.Linear(in_features=input_features, out_features=hidden_units),
            nn.ReLU(),
            nn.Linear(in_features=hidden_units, out_features=hidden_units),
            nn.ReLU(),
            nn.Linear(in_features=hidden_units, out_features=output_features),
        )

    def forward(self, x):
        return self.linear_layer_stack(x)


model_4 = BlobModel(input_features=NUM_FEATURES, output_features=NUM_CLASSES, hidden_units=8)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model_4.parameters(), lr=0.1)
blob_log = []
for epoch in range(50):
    model_4.train()
    y_logits = model_4(X_blob_train)
    y_pred = torch.softmax(y_logits, dim=1).argmax(dim=1)
    loss = loss_fn(y_logits, y_blob_train)
    acc = accuracy_fn(y_true=y_blob_train, y_pred=y_pred)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch % 10 == 0:
        blob_log.append((loss.item(), acc))
model_4.eval()
with torch.inference_mode():
    y_logits = model_4(X_blob_test)
y_pred_probs = torch.softmax(y_logits, dim=1)
blob_test_acc = accuracy_fn(y_true=y_blob_test, y_pred=y_pred_probs.argmax(dim=1))
prob_row_sum = y_pred_probs[0].sum().item()
blob_grid = decision_boundary_grid(model_4, X_blob_test, y_blob_test)
blob_grid_counts = np.bincount(blob_grid.ravel(), minlength=NUM_CLASSES).tolist()
print(f"Blob test accuracy: {blob_test_acc:.2f}%, grid counts {blob_grid_counts}")
