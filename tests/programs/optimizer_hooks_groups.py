"""Optimizer plumbing as fine-tuning recipes use it: a frozen backbone unfrozen mid-training
with ``add_param_group`` (its own lower learning rate), a warmup ``SequentialLR``
(``LinearLR`` then ``ConstantLR``) followed by ``ReduceLROnPlateau`` on a validation loss,
``register_step_pre_hook``/``register_step_post_hook`` logging and counting steps, the
optimizer's ``register_state_dict_pre_hook``/``register_state_dict_post_hook`` adding a note
to its checkpoint and ``register_load_state_dict_post_hook`` seeing it restored, and a
resumed optimizer continuing exactly."""

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import ConstantLR, LinearLR, ReduceLROnPlateau, SequentialLR

torch.manual_seed(0)
X = torch.randn(64, 6)
Y = torch.sin(X[:, :2].sum(1, keepdim=True)) + 0.05 * torch.randn(64, 1)
Xv, Yv = X[48:], Y[48:]
X, Y = X[:48], Y[:48]

backbone = nn.Sequential(nn.Linear(6, 24), nn.Tanh())
head = nn.Linear(24, 1)
for p in backbone.parameters():
    p.requires_grad_(False)
opt = torch.optim.SGD(head.parameters(), lr=0.1, momentum=0.9, nesterov=True)
warmup = SequentialLR(
    opt,
    [LinearLR(opt, start_factor=0.2, total_iters=4), ConstantLR(opt, factor=1.0, total_iters=2)],
    milestones=[4],
)
plateau = ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=1, threshold=1e-3)

events = []
opt.register_step_pre_hook(lambda o, args, kwargs: events.append(("pre", len(o.param_groups))))
opt.register_step_post_hook(
    lambda o, args, kwargs: events.append(("post", round(o.param_groups[0]["lr"], 6)))
)


def add_note(optimizer, state_dict):
    state_dict["note"] = f"groups={len(optimizer.param_groups)}"
    return state_dict


opt.register_state_dict_pre_hook(lambda o: events.append(("sd_pre",)))
opt.register_state_dict_post_hook(add_note)
loaded_notes = []

lrs, train_losses, val_losses = [], [], []
for epoch in range(14):
    if epoch == 6:  # unfreeze the backbone at a tenth of the head's rate
        for p in backbone.parameters():
            p.requires_grad_(True)
        opt.add_param_group({"params": backbone.parameters(), "lr": 0.01})
        plateau.min_lrs = [0.0, 0.0]
    for i in range(0, 48, 16):
        loss = F.mse_loss(head(backbone(X[i : i + 16])), Y[i : i + 16])
        opt.zero_grad()
        loss.backward()
        opt.step()
        train_losses.append(loss.item())
    with torch.no_grad():
        val = F.mse_loss(head(backbone(Xv)), Yv).item()
    val_losses.append(val)
    if epoch < 6:
        warmup.step()
    else:
        plateau.step(val)
    lrs.append([round(g["lr"], 8) for g in opt.param_groups])
    if epoch == 9:
        checkpoint = copy.deepcopy(opt.state_dict())
        weights = copy.deepcopy((backbone.state_dict(), head.state_dict()))

note = checkpoint["note"]
group_keys = sorted(checkpoint["param_groups"][1].keys())
momentum_sizes = sorted(len(v["momentum_buffer"].flatten()) for v in checkpoint["state"].values())

# resume from epoch 9 and compare the next three epochs with the uninterrupted run
backbone2, head2 = nn.Sequential(nn.Linear(6, 24), nn.Tanh()), nn.Linear(24, 1)
backbone2.load_state_dict(weights[0])
head2.load_state_dict(weights[1])
opt2 = torch.optim.SGD(
    [{"params": head2.parameters()}, {"params": backbone2.parameters(), "lr": 0.01}],
    lr=0.1,
    momentum=0.9,
    nesterov=True,
)
opt2.register_load_state_dict_post_hook(lambda o: loaded_notes.append(len(o.state)))
state = dict(checkpoint)
state.pop("note")
opt2.load_state_dict(state)
resumed = []
for epoch in range(10, 14):
    for i in range(0, 48, 16):
        loss = F.mse_loss(head2(backbone2(X[i : i + 16])), Y[i : i + 16])
        opt2.zero_grad()
        loss.backward()
        opt2.step()
        resumed.append(loss.item())
    for g, lr in zip(opt2.param_groups, lrs[epoch]):
        g["lr"] = lr
resume_gap = max(abs(a - b) for a, b in zip(resumed, train_losses[30:]))
event_counts = {k: sum(1 for e in events if e[0] == k) for k in ("pre", "post", "sd_pre")}
