"""A small research-code Trainer without Lightning: a fit loop that calls a list of callbacks
(on_train_start, on_batch_end, on_epoch_end, a stop flag), with an EMA of the weights kept by
torch._foreach_mul_/_foreach_add_ (and _foreach_lerp_ in a second copy), an early-stopping
callback on the validation loss, a history logger, blocks run through
torch.utils.checkpoint.checkpoint(use_reentrant=False) and checkpoint_sequential, whose
gradients must equal the plain forward's."""

import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn
from torch.utils.checkpoint import checkpoint, checkpoint_sequential

rng = np.random.default_rng(0)
x_train, x_val = randn(rng, 64, 6), randn(rng, 32, 6)
w_true = 0.4 * randn(rng, 6, 1)
y_train = torch.sin(x_train @ w_true) + 0.05 * randn(rng, 64, 1)
y_val = torch.sin(x_val @ w_true)


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.fc = nn.Linear(width, width)

    def forward(self, x):
        return x + F.gelu(self.fc(self.norm(x)))


class Net(nn.Module):
    def __init__(self, width=16, depth=3, use_checkpoint=False):
        super().__init__()
        self.inp = nn.Linear(6, width)
        self.blocks = nn.ModuleList(Block(width) for _ in range(depth))
        self.out = nn.Linear(width, 1)
        self.use_checkpoint = use_checkpoint

    def forward(self, x):
        h = self.inp(x)
        for block in self.blocks:
            if self.use_checkpoint and self.training:
                h = checkpoint(block, h, use_reentrant=False)
            else:
                h = block(h)
        return self.out(h)


class Callback:
    def on_train_start(self, trainer): ...
    def on_batch_end(self, trainer, loss): ...
    def on_epoch_end(self, trainer, epoch, val_loss): ...


class EMA(Callback):
    def __init__(self, decay=0.9):
        self.decay = decay

    def on_train_start(self, trainer):
        self.shadow = [p.detach().clone() for p in trainer.model.parameters()]
        self.lerped = [p.detach().clone() for p in trainer.model.parameters()]

    @torch.no_grad()
    def on_batch_end(self, trainer, loss):
        params = [p.detach() for p in trainer.model.parameters()]
        torch._foreach_mul_(self.shadow, self.decay)
        torch._foreach_add_(self.shadow, params, alpha=1 - self.decay)
        torch._foreach_lerp_(self.lerped, params, 1 - self.decay)


class EarlyStopping(Callback):
    def __init__(self, patience=3, min_delta=1e-4):
        self.patience, self.min_delta, self.best, self.bad_epochs = (
            patience,
            min_delta,
            float("inf"),
            0,
        )

    def on_epoch_end(self, trainer, epoch, val_loss):
        if val_loss < self.best - self.min_delta:
            self.best, self.bad_epochs = val_loss, 0
            self.best_state = copy.deepcopy(trainer.model.state_dict())
        else:
            self.bad_epochs += 1
            trainer.should_stop = self.bad_epochs >= self.patience


class History(Callback):
    def on_train_start(self, trainer):
        self.train, self.val, self.lr = [], [], []

    def on_batch_end(self, trainer, loss):
        self.train.append(loss)

    def on_epoch_end(self, trainer, epoch, val_loss):
        self.val.append(val_loss)
        self.lr.append(trainer.optimizer.param_groups[0]["lr"])


class Trainer:
    def __init__(self, model, callbacks, lr=1e-2, max_epochs=30):
        self.model, self.callbacks, self.max_epochs = model, callbacks, max_epochs
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
        self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, step_size=5, gamma=0.5)
        self.should_stop = False

    def call(self, hook, *args):
        for cb in self.callbacks:
            getattr(cb, hook)(self, *args)

    def fit(self, x, y, x_val, y_val, batch_size=16):
        self.call("on_train_start")
        for epoch in range(self.max_epochs):
            self.model.train()
            for xb, yb in zip(x.split(batch_size), y.split(batch_size)):
                self.optimizer.zero_grad(set_to_none=True)
                loss = F.mse_loss(self.model(xb), yb)
                loss.backward()
                self.optimizer.step()
                self.call("on_batch_end", loss.item())
            self.scheduler.step()
            self.model.eval()
            with torch.no_grad():
                val_loss = F.mse_loss(self.model(x_val), y_val).item()
            self.call("on_epoch_end", epoch, val_loss)
            if self.should_stop:
                return epoch
        return self.max_epochs - 1


# checkpointed and plain forward give the same gradients
plain, ckpt = init_from_numpy(Net()), init_from_numpy(Net(use_checkpoint=True))
for model in (plain, ckpt):
    F.mse_loss(model(x_train), y_train).backward()
checkpoint_grad_gap = max(
    (a.grad - b.grad).abs().max().item() for a, b in zip(plain.parameters(), ckpt.parameters())
)
seq = nn.Sequential(plain.inp, *plain.blocks, plain.out)
xs = x_train.clone().requires_grad_()
checkpoint_sequential(seq, 2, xs, use_reentrant=False).sum().backward()
input_grad_sample = xs.grad[0].tolist()

ema, stopper, history = EMA(), EarlyStopping(), History()
trainer = Trainer(init_from_numpy(Net(use_checkpoint=True)), [ema, stopper, history])
last_epoch = trainer.fit(x_train, y_train, x_val, y_val)
ema_model = copy.deepcopy(trainer.model)
with torch.no_grad():
    for p, s in zip(ema_model.parameters(), ema.shadow):
        p.copy_(s)
    ema_val = F.mse_loss(ema_model.eval()(x_val), y_val).item()
foreach_gap = max((a - b).abs().max().item() for a, b in zip(ema.shadow, ema.lerped))
trainer.model.load_state_dict(stopper.best_state)
with torch.no_grad():
    restored_val = F.mse_loss(trainer.model(x_val), y_val).item()
print(f"stopped after epoch {last_epoch}; best val {stopper.best:.4f}, EMA val {ema_val:.4f}")
