"""Adversarial training as Madry et al.'s PGD training and TRADES (Zhang et al. 2019) are written
in yaodongyu/TRADES's ``trades.py`` and the usual PGD loops: a random start in the L-inf ball
(``torch.zeros_like(x).uniform_(-eps, eps)``), steps of ``alpha * grad.sign()`` from
``torch.autograd.grad`` on the input, projection by ``torch.min(torch.max(x_adv, x - eps), x +
eps)`` and ``clamp(0, 1)``, the model in ``eval()`` while attacking and back in ``train()`` to
learn; TRADES's inner maximisation of ``nn.KLDivLoss(reduction="sum")`` between log-softmax of
the adversarial and softmax of the natural logits, and its loss CE + beta * KL (batchmean).
Robust accuracy under a PGD-10 attack compared for standard, PGD and TRADES training."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
EPS, ALPHA, STEPS = 0.08, 0.03, 5


def make_images(n):
    labels = torch.randint(0, 2, (n,))
    images = 0.5 + 0.15 * torch.randn(n, 1, 8, 8)
    images[labels == 0, :, :, :4] += 0.3  # bright left half
    images[labels == 1, :, :, 4:] += 0.3  # bright right half
    return images.clamp(0, 1), labels


def make_model():
    torch.manual_seed(1)
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(8 * 4 * 4, 16), nn.ReLU(), nn.Linear(16, 2),
    )  # fmt: skip


def pgd_attack(model, x, y, eps=EPS, alpha=ALPHA, steps=STEPS):
    x_adv = x.detach() + torch.zeros_like(x).uniform_(-eps, eps)
    x_adv = torch.clamp(x_adv, 0.0, 1.0)
    for _ in range(steps):
        x_adv.requires_grad_()
        with torch.enable_grad():
            loss = F.cross_entropy(model(x_adv), y)
        grad = torch.autograd.grad(loss, [x_adv])[0]
        x_adv = x_adv.detach() + alpha * torch.sign(grad.detach())
        x_adv = torch.min(torch.max(x_adv, x - eps), x + eps)
        x_adv = torch.clamp(x_adv, 0.0, 1.0)
    return x_adv


def trades_loss(model, x_natural, y, optimizer, step_size=ALPHA, epsilon=EPS, perturb_steps=STEPS,
                beta=6.0):  # fmt: skip
    criterion_kl = nn.KLDivLoss(size_average=False)
    model.eval()
    batch_size = len(x_natural)
    x_adv = x_natural.detach() + 0.001 * torch.randn(x_natural.shape).detach()
    for _ in range(perturb_steps):
        x_adv.requires_grad_()
        with torch.enable_grad():
            loss_kl = criterion_kl(
                F.log_softmax(model(x_adv), dim=1), F.softmax(model(x_natural), dim=1)
            )
        grad = torch.autograd.grad(loss_kl, [x_adv])[0]
        x_adv = x_adv.detach() + step_size * torch.sign(grad.detach())
        x_adv = torch.min(torch.max(x_adv, x_natural - epsilon), x_natural + epsilon)
        x_adv = torch.clamp(x_adv, 0.0, 1.0)
    model.train()
    x_adv = torch.autograd.Variable(torch.clamp(x_adv, 0.0, 1.0), requires_grad=False)
    optimizer.zero_grad()
    logits = model(x_natural)
    loss_natural = F.cross_entropy(logits, y)
    loss_robust = (1.0 / batch_size) * criterion_kl(
        F.log_softmax(model(x_adv), dim=1), F.softmax(model(x_natural), dim=1)
    )
    return loss_natural + beta * loss_robust


def train(mode, x, y):
    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for epoch in range(4):
        for idx in torch.randperm(len(x)).split(16):
            xb, yb = x[idx], y[idx]
            if mode == "trades":
                loss = trades_loss(model, xb, yb, optimizer)
            else:
                if mode == "pgd":
                    model.eval()
                    xb = pgd_attack(model, xb, yb)
                    model.train()
                optimizer.zero_grad()
                loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return model, losses


x_train, y_train = make_images(64)
x_test, y_test = make_images(32)
results = {}
for mode in ("standard", "pgd", "trades"):
    model, losses = train(mode, x_train, y_train)
    model.eval()
    x_adv = pgd_attack(model, x_test, y_test, steps=10)
    with torch.no_grad():
        clean = (model(x_test).argmax(1) == y_test).float().mean().item()
        robust = (model(x_adv).argmax(1) == y_test).float().mean().item()
    linf = (x_adv - x_test).abs().max().item()
    results[mode] = {"losses": losses, "clean": clean, "robust": robust, "linf": linf}
kl_sum_vs_batchmean = [
    nn.KLDivLoss(reduction="sum")(F.log_softmax(x_test[:4].flatten(1), 1), F.softmax(x_test[4:8].flatten(1), 1)).item(),
    nn.KLDivLoss(reduction="batchmean")(F.log_softmax(x_test[:4].flatten(1), 1), F.softmax(x_test[4:8].flatten(1), 1)).item(),
]  # fmt: skip
