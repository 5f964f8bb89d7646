"""Fairness by adversarial debiasing, three ways (Zhang, Lemoine and Mitchell 2018 and the
AIF360 / "fair representations" PyTorch ports): a predictor of income from features that leak
a protected attribute, and an adversary that tries to recover the attribute from the
predictor's logit (and, for equalized odds, the true label). Variant 1 is Zhang et al.'s update:
the predictor's gradient minus its projection on the adversary's gradient minus
``alpha * adversary gradient``, computed per parameter with ``torch.autograd.grad`` and written
into ``.grad``. Variant 2 is a gradient-reversal ``torch.autograd.Function`` between the
representation and the adversary; variant 3 flips the sign with ``Tensor.register_hook``.
Reported: demographic-parity and equalized-odds gaps, accuracy, the adversary's loss."""

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
N = 400
a = torch.bernoulli(torch.full((N,), 0.5))  # protected attribute
x_fair = torch.randn(N, 3)
x_leak = a[:, None] + 0.5 * torch.randn(N, 2)  # proxies of the attribute
X = torch.cat([x_fair, x_leak], 1)
y = ((x_fair[:, 0] + 0.8 * a + 0.3 * torch.randn(N)) > 0.4).float()


class GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lambd):
        ctx.lambd = lambd
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.neg() * ctx.lambd, None


def gaps(logits):
    pred = (logits > 0).float()
    dp = (pred[a == 1].mean() - pred[a == 0].mean()).abs().item()
    tpr = [pred[(a == g) & (y == 1)].mean() for g in (0, 1)]
    fpr = [pred[(a == g) & (y == 0)].mean() for g in (0, 1)]
    eo = max((tpr[1] - tpr[0]).abs().item(), (fpr[1] - fpr[0]).abs().item())
    return dp, eo, (pred == y).float().mean().item()


def make():
    torch.manual_seed(1)
    predictor = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 1))
    adversary = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    return predictor, adversary


def adversary_input(logit):
    return torch.cat([torch.sigmoid(logit), y[:, None]], 1)  # equalized odds: sees the label


results = {}
for variant in ("baseline", "projection", "reversal", "hook"):
    predictor, adversary = make()
    opt_p = torch.optim.Adam(predictor.parameters(), lr=1e-2)
    opt_a = torch.optim.Adam(adversary.parameters(), lr=3e-2)
    alpha = 3.0
    adv_losses = []
    for step in range(40):
        logit = predictor(X)
        loss_p = F.binary_cross_entropy_with_logits(logit.squeeze(1), y)
        opt_p.zero_grad()
        opt_a.zero_grad()
        if variant == "baseline":
            loss_p.backward()
        elif variant == "projection":
            loss_a = F.binary_cross_entropy_with_logits(
                adversary(adversary_input(logit)).squeeze(1), a
            )
            params = list(predictor.parameters())
            g_p = torch.autograd.grad(loss_p, params, retain_graph=True)
            g_a = torch.autograd.grad(loss_a, params, retain_graph=True)
            for p, gp, ga in zip(params, g_p, g_a):
                unit = ga / (ga.norm() + 1e-8)
                p.grad = gp - (gp * unit).sum() * unit - alpha * ga
            loss_a.backward(inputs=list(adversary.parameters()))
        else:
            if variant == "reversal":
                h = GradReverse.apply(logit, alpha)
            else:
                h = logit * 1.0
                h.register_hook(lambda g: -alpha * g)
            loss_a = F.binary_cross_entropy_with_logits(adversary(adversary_input(h)).squeeze(1), a)
            (loss_p + loss_a).backward()
        opt_p.step()
        opt_a.step()
        if variant != "baseline":
            adv_losses.append(loss_a.item())
    with torch.no_grad():
        dp, eo, acc = gaps(predictor(X).squeeze(1))
    results[variant] = {"dp": dp, "eo": eo, "acc": acc, "adv_losses": adv_losses[::8]}

# the reversal Function and the hook give the predictor the same gradient
predictor, adversary = make()
logit = predictor(X)
h1 = GradReverse.apply(logit, 0.5)
h2 = logit * 1.0
h2.register_hook(lambda g: -0.5 * g)
g1 = torch.autograd.grad(
    adversary(adversary_input(h1)).sum(), predictor[0].weight, retain_graph=True
)
g2 = torch.autograd.grad(adversary(adversary_input(h2)).sum(), predictor[0].weight)
reversal_hook_gap = (g1[0] - g2[0]).abs().max().item()
