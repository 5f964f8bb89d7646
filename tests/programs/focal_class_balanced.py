"""Losses for long-tailed classification as their reference implementations write them:
class-balanced weights from the effective number of samples (Cui et al. 2019:
``(1 - beta) / (1 - beta ** n_c)`` normalized to the number of classes, ``np.power`` in the
original), its focal loss on ``F.binary_cross_entropy_with_logits(reduction='none')`` with the
modulator ``torch.exp(-gamma * labels * logits - gamma * torch.log1p(torch.exp(-logits)))``,
a softmax focal loss module (``gather`` of the target log-probabilities, ``alpha`` per class,
``(1 - pt) ** gamma``), and ``F.cross_entropy`` with ``weight=`` and ``label_smoothing=``
compared with the same loss written out by hand. Four linear classifiers train on an
imbalanced 2-D problem; per-class recall shows the rare class recovered."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def focal_loss(labels, logits, alpha, gamma):
    BCLoss = F.binary_cross_entropy_with_logits(input=logits, target=labels, reduction="none")
    if gamma == 0.0:
        modulator = 1.0
    else:
        modulator = torch.exp(
            -gamma * labels * logits - gamma * torch.log(1 + torch.exp(-1.0 * logits))
        )
    loss = modulator * BCLoss
    weighted_loss = alpha * loss
    focal_loss = torch.sum(weighted_loss)
    focal_loss /= torch.sum(labels)
    return focal_loss


def CB_loss(labels, logits, samples_per_cls, no_of_classes, loss_type, beta, gamma):
    effective_num = 1.0 - np.power(beta, samples_per_cls)
    weights = (1.0 - beta) / np.array(effective_num)
    weights = weights / np.sum(weights) * no_of_classes
    labels_one_hot = F.one_hot(labels, no_of_classes).float()
    weights = torch.tensor(weights).float()
    weights = weights.unsqueeze(0)
    weights = weights.repeat(labels_one_hot.shape[0], 1) * labels_one_hot
    weights = weights.sum(1)
    weights = weights.unsqueeze(1)
    weights = weights.repeat(1, no_of_classes)
    if loss_type == "focal":
        cb_loss = focal_loss(labels_one_hot, logits, weights, gamma)
    elif loss_type == "sigmoid":
        cb_loss = F.binary_cross_entropy_with_logits(
            input=logits, target=labels_one_hot, weight=weights
        )
    elif loss_type == "softmax":
        pred = logits.softmax(dim=1)
        cb_loss = F.binary_cross_entropy(input=pred, target=labels_one_hot, weight=weights)
    return cb_loss


class FocalLoss(nn.Module):
    def __init__(self, alpha=None, gamma=2.0, reduction="mean"):
        super().__init__()
        self.register_buffer("alpha", alpha)
        self.gamma = gamma
        self.reduction = reduction

    def forward(self, logits, target):
        logpt = F.log_softmax(logits, dim=1).gather(1, target.unsqueeze(1)).squeeze(1)
        pt = logpt.exp()
        loss = -((1 - pt) ** self.gamma) * logpt
        if self.alpha is not None:
            loss = loss * self.alpha[target]
        return loss.mean() if self.reduction == "mean" else loss.sum()


def smoothed_ce_by_hand(logits, target, weight, eps):
    logp = F.log_softmax(logits, dim=1)
    w_y = weight[target]
    nll = -(logp.gather(1, target[:, None]).squeeze(1) * w_y).sum() / w_y.sum()
    smooth = -(logp * weight).sum(1).sum() / w_y.sum() / logits.shape[1]
    return (1 - eps) * nll + eps * smooth


torch.manual_seed(0)
counts = [120, 40, 8]
centers = torch.tensor([[0.0, 0.0], [2.0, 0.5], [0.8, 2.0]])
X = torch.cat([centers[c] + 0.7 * torch.randn(k, 2) for c, k in enumerate(counts)])
y = torch.cat([torch.full((k,), c) for c, k in enumerate(counts)])
beta = 0.99
effective = 1.0 - np.power(beta, counts)
cb_weights = ((1.0 - beta) / effective) / np.sum((1.0 - beta) / effective) * 3
class_weights = torch.tensor(cb_weights, dtype=torch.float32)

losses = {
    "plain": lambda z, t: F.cross_entropy(z, t),
    "cb_focal": lambda z, t: CB_loss(t, z, counts, 3, "focal", beta, 2.0),
    "cb_sigmoid": lambda z, t: CB_loss(t, z, counts, 3, "sigmoid", beta, 0.0),
    "cb_softmax": lambda z, t: CB_loss(t, z, counts, 3, "softmax", beta, 0.0),
    "focal_alpha": FocalLoss(alpha=class_weights, gamma=2.0),
    "cb_smooth_ce": lambda z, t: F.cross_entropy(z, t, weight=class_weights, label_smoothing=0.1),
}
histories, recalls = {}, {}
for name, loss_fn in losses.items():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = torch.optim.Adam(model.parameters(), lr=0.03)
    history = []
    for epoch in range(30):
        opt.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        opt.step()
        history.append(loss.item())
    histories[name] = history
    with torch.no_grad():
        pred = model(X).argmax(1)
    recalls[name] = [(pred[y == c] == c).float().mean().item() for c in range(3)]

torch.manual_seed(2)
z = torch.randn(6, 3, requires_grad=True)
t = torch.tensor([0, 1, 2, 2, 1, 0])
builtin = F.cross_entropy(z, t, weight=class_weights, label_smoothing=0.1)
by_hand = smoothed_ce_by_hand(z, t, class_weights, 0.1)
(g_builtin,) = torch.autograd.grad(builtin, z)
(g_hand,) = torch.autograd.grad(by_hand, z)
smoothing_gap = (builtin - by_hand).abs().item()
smoothing_grad_gap = (g_builtin - g_hand).abs().max().item()
focal_gamma0_gap = (FocalLoss(gamma=0.0)(z, t) - F.cross_entropy(z, t)).abs().item()
modulator_stable = torch.isfinite(
    CB_loss(t, torch.tensor([[-200.0, 0.0, 0.0]] * 6), counts, 3, "focal", beta, 2.0)
).item()
