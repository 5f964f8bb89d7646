"""TARNet and DragonNet with targeted regularization (Shalit et al. 2017; Shi, Blei and Veitch
2019, as their reference ``dragonnet`` PyTorch ports write it): a shared representation feeds
two outcome heads (one per treatment arm) and, in DragonNet, a propensity head; the loss is the
factual MSE, a propensity BCE, and the targeted-regularization term with a learnable
``epsilon`` that perturbs the outcome along the "clever covariate"
``t / g - (1 - t) / (1 - g)``. Data follow a synthetic confounded design (the IHDP-like toy):
treatment depends on the covariates, so the naive difference of means is biased. Reported: the
average treatment effect by the plug-in and the targeted (TMLE-style) estimators, PEHE
against the known individual effects, and a propensity clipped with ``clamp``."""

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
N, D = 256, 6
X = torch.randn(N, D)
logit = X[:, 0] - 0.5 * X[:, 1]
T = torch.bernoulli(torch.sigmoid(logit))
tau = 1.0 + 0.5 * X[:, 2]  # heterogeneous effect
mu0 = X[:, 0] + 0.5 * X[:, 3] ** 2
Y = mu0 + T * tau + 0.1 * torch.randn(N)
naive_ate = (Y[T == 1].mean() - Y[T == 0].mean()).item()
true_ate = tau.mean().item()


class DragonNet(nn.Module):
    def __init__(self, d, hidden=32, propensity=True):
        super().__init__()
        self.rep = nn.Sequential(
            nn.Linear(d, hidden), nn.ELU(), nn.Linear(hidden, hidden), nn.ELU()
        )
        self.y0 = nn.Sequential(nn.Linear(hidden, hidden // 2), nn.ELU(), nn.Linear(hidden // 2, 1))
        self.y1 = nn.Sequential(nn.Linear(hidden, hidden // 2), nn.ELU(), nn.Linear(hidden // 2, 1))
        self.g = nn.Linear(hidden, 1) if propensity else None
        self.epsilon = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        z = self.rep(x)
        g = torch.sigmoid(self.g(z)).squeeze(-1) if self.g is not None else None
        return self.y0(z).squeeze(-1), self.y1(z).squeeze(-1), g


def dragonnet_loss(y0, y1, g, t, y, eps, alpha=1.0, beta=1.0):
    y_pred = t * y1 + (1 - t) * y0
    loss = F.mse_loss(y_pred, y, reduction="sum")
    if g is None:
        return loss
    loss = loss + alpha * F.binary_cross_entropy(g, t, reduction="sum")
    g = g.clamp(0.01, 0.99)
    h = t / g - (1 - t) / (1 - g)
    y_pert = y_pred + eps * h
    return loss + beta * F.mse_loss(y_pert, y, reduction="sum")


def estimates(model):
    with torch.no_grad():
        y0, y1, g = model(X)
        plug_in = (y1 - y0).mean().item()
        pehe = torch.sqrt(((y1 - y0) - tau).pow(2).mean()).item()
        if g is None:
            return plug_in, plug_in, pehe
        g = g.clamp(0.01, 0.99)
        eps = model.epsilon
        targeted = ((y1 + eps / g) - (y0 - eps / (1 - g))).mean().item()
    return plug_in, targeted, pehe


results = {}
for name, propensity in (("tarnet", False), ("dragonnet", True)):
    torch.manual_seed(1)
    model = DragonNet(D, propensity=propensity)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(X, T, Y), batch_size=64, shuffle=True
    )
    losses = []
    for epoch in range(8):
        total = 0.0
        for xb, tb, yb in loader:
            y0, y1, g = model(xb)
            loss = dragonnet_loss(y0, y1, g, tb, yb, model.epsilon) / len(xb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        losses.append(total / N)
    plug_in, targeted, pehe = estimates(model)
    results[name] = {
        "losses": losses,
        "plug_in": plug_in,
        "targeted": targeted,
        "pehe": pehe,
        "epsilon": model.epsilon.item(),
    }
    if propensity:
        with torch.no_grad():
            g_hat = model(X)[2]
        propensity_auc_pairs = (
            (g_hat[T == 1][:, None] > g_hat[T == 0][None, :]).float().mean().item()
        )
        tarnet_eps_grad = None
    else:
        tarnet_eps_grad = model.epsilon.grad  # the TARNet loss never touches epsilon
