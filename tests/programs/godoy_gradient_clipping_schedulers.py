"""Daniel Voigt Godoy's "Deep Learning with PyTorch Step-by-Step", chapters 6 and 11 (the
training details): ``capture_gradients`` / ``capture_parameters`` through ``register_hook``
on each parameter, value clipping with ``clip_grad_value_``, norm clipping with
``clip_grad_norm_`` (the returned total norm logged), clipping during backprop with
``clamp`` hooks whose handles are removed afterwards, and the schedulers the book compares:
``StepLR``, ``ReduceLROnPlateau`` fed validation losses, and ``CyclicLR`` (``triangular2``)
cycling SGD's momentum with Nesterov on."""

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.optim.lr_scheduler import CyclicLR, ReduceLROnPlateau, StepLR

torch.manual_seed(11)
x = torch.randn(64, 5)
y = x @ torch.tensor([[3.0], [-2.0], [0.5], [4.0], [0.0]]) + 0.3 * torch.randn(64, 1)


def make_model(seed=42):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 10), nn.ReLU(), nn.Linear(10, 1))


def capture_gradients(model, layers_to_hook, store):
    handles = []
    for name, layer in model.named_modules():
        if name in layers_to_hook:
            store[name] = {}
            for parm_id, p in layer.named_parameters():
                store[name][parm_id] = []

                def log_fn(grad, name=name, parm_id=parm_id):
                    store[name][parm_id].append(grad.tolist())

                handles.append(p.register_hook(log_fn))
    return handles


def clip_backprop(model, clip_value):
    handles = []
    for p in model.parameters():
        if p.requires_grad:
            func = lambda grad: torch.clamp(grad, -clip_value, clip_value)  # noqa: E731
            handles.append(p.register_hook(func))
    return handles


def train(model, optimizer, steps, clip=None, scheduler=None, val_scheduler=None):
    loss_fn, losses, extra = nn.MSELoss(), [], []
    for step in range(steps):
        batch = slice((step % 4) * 16, (step % 4 + 1) * 16)
        loss = loss_fn(model(x[batch]), y[batch])
        loss.backward()
        if clip == "value":
            nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5)
        elif clip == "norm":
            extra.append(nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0).item())
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
        if scheduler is not None:
            scheduler.step()
            extra.append(optimizer.param_groups[0]["lr"])
        if val_scheduler is not None:
            val_scheduler.step(float(np.round(loss.item(), 1)))
            extra.append(optimizer.param_groups[0]["lr"])
    return losses, extra


model = make_model()
gradients = {}
handles = capture_gradients(model, ["0"], gradients)
value_losses, _ = train(model, optim.SGD(model.parameters(), lr=0.05), 3, clip="value")
for handle in handles:
    handle.remove()
captured = (len(gradients["0"]["weight"]), np.array(gradients["0"]["bias"]).shape)
max_captured = float(np.abs(np.array(gradients["0"]["weight"])).max())

model = make_model()
norm_losses, total_norms = train(model, optim.SGD(model.parameters(), lr=0.05), 8, clip="norm")

model = make_model()
handles = clip_backprop(model, clip_value=0.1)
hook_losses, _ = train(model, optim.SGD(model.parameters(), lr=0.05), 4)
model(x).sum().backward()
hook_grad_max = max(p.grad.abs().max().item() for p in model.parameters())
for handle in handles:
    handle.remove()

model = make_model()
optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
step_losses, step_lrs = train(
    model, optimizer, 8, scheduler=StepLR(optimizer, step_size=3, gamma=0.5)
)

model = make_model()
optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
plateau = ReduceLROnPlateau(optimizer, mode="min", patience=1, factor=0.5)
plateau_losses, plateau_lrs = train(model, optimizer, 10, val_scheduler=plateau)

model = make_model()
optimizer = optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, nesterov=True)
cyclic = CyclicLR(optimizer, base_lr=1e-3, max_lr=0.05, step_size_up=2, mode="triangular2")
cyclic_losses, cyclic_lrs = train(model, optimizer, 10, scheduler=cyclic)
cyclic_momentum = optimizer.param_groups[0]["momentum"]
print(f"norms {total_norms[0]:.3f}, plateau lrs {plateau_lrs}, cyclic lrs {cyclic_lrs[:5]}")
