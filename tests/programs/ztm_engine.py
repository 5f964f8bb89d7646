"""Zero to Mastery's PyTorch course, going modular: ``engine.py``'s ``train_step`` /
``test_step`` / ``train`` returning a results dict, ``helper_functions``' ``accuracy_fn`` and
``print_train_time``-style f-string logging, a TinyVGG CNN, ``torch.inference_mode()`` for
evaluation, ``utils.save_model`` with a ``.pth`` suffix check in a ``tempfile`` dir, and a
hand-written ``torchinfo``-free model summary (per-layer output shapes through forward hooks,
trainable parameter counts)."""

import os
import tempfile
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def accuracy_fn(y_true, y_pred):
    correct = torch.eq(y_true, y_pred).sum().item()
    return (correct / len(y_pred)) * 100


class TinyVGG(nn.Module):
    def __init__(self, input_shape: int, hidden_units: int, output_shape: int) -> None:
        super().__init__()
        self.conv_block_1 = nn.Sequential(
            nn.Conv2d(input_shape, hidden_units, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.Conv2d(hidden_units, hidden_units, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(in_features=hidden_units * 4 * 4, out_features=output_shape)
        )

    def forward(self, x: torch.Tensor):
        return self.classifier(self.conv_block_1(x))


def train_step(model, dataloader, loss_fn, optimizer, device):
    model.train()
    train_loss, train_acc = 0, 0
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)
        y_pred = model(X)
        loss = loss_fn(y_pred, y)
        train_loss += loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        y_pred_class = torch.argmax(torch.softmax(y_pred, dim=1), dim=1)
        train_acc += (y_pred_class == y).sum().item() / len(y_pred)
    return train_loss / len(dataloader), train_acc / len(dataloader)


def test_step(model, dataloader, loss_fn, device):
    model.eval()
    test_loss, test_acc = 0, 0
    with torch.inference_mode():
        for batch, (X, y) in enumerate(dataloader):
            X, y = X.to(device), y.to(device)
            test_pred_logits = model(X)
            test_loss += loss_fn(test_pred_logits, y).item()
            test_pred_labels = test_pred_logits.argmax(dim=1)
            test_acc += accuracy_fn(y, test_pred_labels) / 100
    return test_loss / len(dataloader), test_acc / len(dataloader)


def train(model, train_dataloader, test_dataloader, optimizer, loss_fn, epochs, device):
    results = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": []}
    for epoch in range(epochs):
        train_loss, train_acc = train_step(model, train_dataloader, loss_fn, optimizer, device)
        test_loss, test_acc = test_step(model, test_dataloader, loss_fn, device)
        print(
            f"Epoch: {epoch + 1} | train_loss: {train_loss:.4f} | train_acc: {train_acc:.4f} | "
            f"test_loss: {test_loss:.4f} | test_acc: {test_acc:.4f}"
        )
        for key, value in zip(results, (train_loss, train_acc, test_loss, test_acc)):
            results[key].append(value)
    return results


def save_model(model, target_dir, model_name):
    target_dir_path = Path(target_dir)
    target_dir_path.mkdir(parents=True, exist_ok=True)
    assert model_name.endswith(".pth") or model_name.endswith(".pt"), (
        "model_name should end with '.pt' or '.pth'"
    )
    model_save_path = target_dir_path / model_name
    torch.save(obj=model.state_dict(), f=model_save_path)
    return model_save_path


def summary(model, input_size):
    rows, hooks = [], []

    def hook(module, inputs, output):
        params = sum(p.numel() for p in module.parameters(recurse=False))
        rows.append((module.__class__.__name__, tuple(output.shape), params))

    for module in model.modules():
        if not list(module.children()):
            hooks.append(module.register_forward_hook(hook))
    with torch.inference_mode():
        model(torch.zeros(*input_size))
    for h in hooks:
        h.remove()
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return rows, trainable


device = "cuda" if torch.cuda.is_available() else "cpu"
torch.manual_seed(42)
images = torch.rand(96, 3, 8, 8)
labels = torch.randint(0, 3, (96,))
images[labels == 0, 0] += 0.6  # class 0: more red, class 1: more green, class 2: plain
images[labels == 1, 1] += 0.6
train_dataloader = DataLoader(TensorDataset(images[:64], labels[:64]), batch_size=16, shuffle=True)
test_dataloader = DataLoader(TensorDataset(images[64:], labels[64:]), batch_size=16, shuffle=False)

torch.manual_seed(42)
model_0 = TinyVGG(input_shape=3, hidden_units=6, output_shape=3).to(device)
layer_rows, trainable_params = summary(model_0, input_size=(1, 3, 8, 8))
for name, shape, params in layer_rows:
    print(f"{name:<10} {str(shape):<16} {params:>6,}")
print(f"Trainable params: {trainable_params:,}")

loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(params=model_0.parameters(), lr=0.01)
model_0_results = train(model_0, train_dataloader, test_dataloader, optimizer, loss_fn, 5, device)

with tempfile.TemporaryDirectory() as tmp:
    saved_path = save_model(
        model_0, target_dir=os.path.join(tmp, "models"), model_name="tinyvgg.pth"
    )
    saved_name = saved_path.name
    loaded_model = TinyVGG(input_shape=3, hidden_units=6, output_shape=3)
    loaded_model.load_state_dict(torch.load(f=saved_path))
loaded_model.eval()
with torch.inference_mode():
    loaded_preds = loaded_model(images[64:]).argmax(dim=1)
    original_preds = model_0(images[64:]).argmax(dim=1)
    inference_flag = loaded_model(images[:2]).requires_grad
same_predictions = bool(torch.all(loaded_preds == original_preds))
loaded_accuracy = accuracy_fn(labels[64:], loaded_preds)
print(f"Loaded model accuracy: {loaded_accuracy:.2f}% (same predictions: {same_predictions})")
