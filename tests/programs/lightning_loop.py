"""A Lightning-like manual loop: a LightningModule-shaped class with training_step,
validation_step and configure_optimizers (returning optimizer and ReduceLROnPlateau in a dict);
the loop switches phases with ``torch.set_grad_enabled(phase == 'train')``, validates under
``torch.inference_mode()``, checks ``torch.is_grad_enabled()`` and ``is_inference()``, and
keeps the best state_dict by validation loss (``copy.deepcopy``)."""

import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(4)
x = randn(rng, 80, 6)
y = torch.sin(x[:, :1] * 2) + 0.3 * x[:, 1:2] ** 2 + 0.05 * randn(rng, 80, 1)
splits = {"train": (x[:64], y[:64]), "val": (x[64:], y[64:])}


class LitRegressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(6, 32), nn.GELU(), nn.Linear(32, 1))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.mse_loss(self(x), y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        return {"val_loss": F.l1_loss(self(x), y), "mse": F.mse_loss(self(x), y)}

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=0.1, momentum=0.9, nesterov=True)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "monitor": "val_loss"},
        }


module = init_from_numpy(LitRegressor(), seed=7)
config = module.configure_optimizers()
optimizer, scheduler = config["optimizer"], config["lr_scheduler"]["scheduler"]
history = {"train": [], "val": []}
grad_flags, lrs = [], []
best_loss, best_state = float("inf"), None
for epoch in range(8):
    for phase in ["train", "val"]:
        module.train() if phase == "train" else module.eval()
        with torch.set_grad_enabled(phase == "train"):
            grad_flags.append(torch.is_grad_enabled())
            if phase == "train":
                for batch_idx in range(4):
                    rows = slice(16 * batch_idx, 16 * batch_idx + 16)
                    loss = module.training_step(
                        (splits["train"][0][rows], splits["train"][1][rows]), batch_idx
                    )
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                history["train"].append(loss.item())
    with torch.inference_mode():
        outputs = module.validation_step(splits["val"], 0)
        inference_flag = outputs["val_loss"].is_inference()
    val_loss = outputs["val_loss"].item()
    history["val"].append(val_loss)
    scheduler.step(val_loss)
    lrs.append(optimizer.param_groups[0]["lr"])
    if val_loss < best_loss:
        best_loss, best_state = val_loss, copy.deepcopy(module.state_dict())
module.load_state_dict(best_state)
with torch.no_grad():
    restored_loss = F.l1_loss(module(splits["val"][0]), splits["val"][1]).item()
train_losses, val_losses = history["train"], history["val"]
requires_grad_after = module.net[0].weight.grad is not None
