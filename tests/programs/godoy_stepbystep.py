"""Daniel Voigt Godoy's "Deep Learning with PyTorch Step-by-Step": the ``StepByStep`` class
with higher-order ``_make_train_step_fn`` / ``_make_val_step_fn`` closures, ``_mini_batch``
looping over a loader, ``set_seed``, ``save_checkpoint`` / ``load_checkpoint`` through a
``tempfile`` dir, the LR range test (``lr_range_test``) built from ``LambdaLR`` with an
exponential factor and a restored state, and forward hooks capturing activations
(``attach_hooks`` / ``remove_hooks``)."""

import os
import tempfile
from copy import deepcopy

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.optim.lr_scheduler import LambdaLR
from torch.utils.data import DataLoader, TensorDataset


class StepByStep:
    def __init__(self, model, loss_fn, optimizer):
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.train_loader = self.val_loader = None
        self.losses, self.val_losses, self.total_epochs = [], [], 0
        self.visualization, self.handles = {}, {}
        self.train_step_fn = self._make_train_step_fn()
        self.val_step_fn = self._make_val_step_fn()

    def set_loaders(self, train_loader, val_loader=None):
        self.train_loader, self.val_loader = train_loader, val_loader

    def _make_train_step_fn(self):
        def perform_train_step_fn(x, y):
            self.model.train()
            yhat = self.model(x)
            loss = self.loss_fn(yhat, y)
            loss.backward()
            self.optimizer.step()
            self.optimizer.zero_grad()
            return loss.item()

        return perform_train_step_fn

    def _make_val_step_fn(self):
        def perform_val_step_fn(x, y):
            self.model.eval()
            yhat = self.model(x)
            return self.loss_fn(yhat, y).item()

        return perform_val_step_fn

    def _mini_batch(self, validation=False):
        data_loader = self.val_loader if validation else self.train_loader
        step_fn = self.val_step_fn if validation else self.train_step_fn
        mini_batch_losses = [step_fn(x_batch, y_batch) for x_batch, y_batch in data_loader]
        return float(np.mean(mini_batch_losses))  # a plain float: weights_only torch.load

    @staticmethod
    def set_seed(seed=42):
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.manual_seed(seed)
        np.random.seed(seed)

    def train(self, n_epochs, seed=42):
        self.set_seed(seed)
        for _ in range(n_epochs):
            self.total_epochs += 1
            self.losses.append(self._mini_batch(validation=False))
            with torch.no_grad():
                self.val_losses.append(self._mini_batch(validation=True))

    def save_checkpoint(self, filename):
        checkpoint = {
            "epoch": self.total_epochs,
            "model_state_dict": self.model.state_dict(),
            "optimizer_state_dict": self.optimizer.state_dict(),
            "loss": self.losses,
            "val_loss": self.val_losses,
        }
        torch.save(checkpoint, filename)

    def load_checkpoint(self, filename):
        checkpoint = torch.load(filename)
        self.model.load_state_dict(checkpoint["model_state_dict"])
        self.optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        self.total_epochs = checkpoint["epoch"]
        self.losses, self.val_losses = checkpoint["loss"], checkpoint["val_loss"]
        self.model.train()

    def predict(self, x):
        self.model.eval()
        y_hat = self.model(torch.as_tensor(x).float())
        self.model.train()
        return y_hat.detach().cpu().numpy()

    def lr_range_test(self, data_loader, end_lr, num_iter=20, step_mode="exp"):
        previous_states = {
            "model": deepcopy(self.model.state_dict()),
            "optimizer": deepcopy(self.optimizer.state_dict()),
        }
        start_lr = self.optimizer.state_dict()["param_groups"][0]["lr"]
        factor = (end_lr / start_lr) ** (1 / num_iter)
        scheduler = LambdaLR(self.optimizer, lambda it: factor**it)
        tracking, iteration = {"loss": [], "lr": []}, 0
        while iteration < num_iter:
            for x_batch, y_batch in data_loader:
                yhat = self.model(x_batch)
                loss = self.loss_fn(yhat, y_batch)
                loss.backward()
                tracking["lr"].append(scheduler.get_last_lr()[0])
                tracking["loss"].append(loss.item())
                self.optimizer.step()
                scheduler.step()
                self.optimizer.zero_grad()
                iteration += 1
                if iteration == num_iter:
                    break
        self.optimizer.load_state_dict(previous_states["optimizer"])
        self.model.load_state_dict(previous_states["model"])
        return tracking

    def attach_hooks(self, layers_to_hook, hook_fn=None):
        self.visualization = {}
        modules = list(self.model.named_modules())
        layer_names = {layer: name for name, layer in modules[1:]}
        if hook_fn is None:

            def hook_fn(layer, inputs, outputs):
                name = layer_names[layer]
                values = outputs.detach().cpu().numpy()
                if self.visualization.get(name) is None:
                    self.visualization[name] = values
                else:
                    self.visualization[name] = np.concatenate([self.visualization[name], values])

        for name, layer in modules:
            if name in layers_to_hook:
                self.visualization[name] = None
                self.handles[name] = layer.register_forward_hook(hook_fn)

    def remove_hooks(self):
        for handle in self.handles.values():
            handle.remove()
        self.handles = {}


torch.manual_seed(13)
x = torch.randn(160, 3)
y = (2.0 * x[:, :1] - x[:, 1:2] + 0.5 * x[:, 2:] ** 2 + 0.1 * torch.randn(160, 1)).float()
train_data, val_data = TensorDataset(x[:128], y[:128]), TensorDataset(x[128:], y[128:])
torch.manual_seed(13)
train_loader = DataLoader(train_data, batch_size=16, shuffle=True)
val_loader = DataLoader(val_data, batch_size=16)

torch.manual_seed(42)
model = nn.Sequential()
model.add_module("hidden", nn.Linear(3, 8))
model.add_module("activation", nn.ReLU())
model.add_module("output", nn.Linear(8, 1))
optimizer = optim.SGD(model.parameters(), lr=0.05)
sbs = StepByStep(model, nn.MSELoss(reduction="mean"), optimizer)
sbs.set_loaders(train_loader, val_loader)

tracking = sbs.lr_range_test(train_loader, end_lr=1.0, num_iter=12)
lr_track = [round(lr, 10) for lr in tracking["lr"]]
range_losses = tracking["loss"]
restored_bias = model.output.bias.item()

sbs.train(n_epochs=6)
losses = list(sbs.losses)
val_losses = list(sbs.val_losses)
print(f"epochs={sbs.total_epochs} train={losses[-1]:.4f} val={val_losses[-1]:.4f}")

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "model_checkpoint.pth")
    sbs.save_checkpoint(path)
    torch.manual_seed(0)
    new_model = nn.Sequential()
    new_model.add_module("hidden", nn.Linear(3, 8))
    new_model.add_module("activation", nn.ReLU())
    new_model.add_module("output", nn.Linear(8, 1))
    new_sbs = StepByStep(new_model, nn.MSELoss(), optim.SGD(new_model.parameters(), lr=0.05))
    new_sbs.load_checkpoint(path)
    new_sbs.set_loaders(train_loader, val_loader)
    resumed_epochs = new_sbs.total_epochs
    new_sbs.train(n_epochs=2)
    resumed_losses = list(new_sbs.losses)

new_sbs.attach_hooks(["hidden", "activation"])
predictions = new_sbs.predict(x[128:].numpy())
new_sbs.remove_hooks()
hooked_shapes = {name: values.shape for name, values in new_sbs.visualization.items()}
dead_fraction = float((new_sbs.visualization["activation"] == 0).mean())
pred_head = predictions[:4, 0].tolist()
handles_left = len(new_sbs.handles)
print(f"resumed at {resumed_epochs}, losses {resumed_losses[-1]:.4f}, hooks {hooked_shapes}")
