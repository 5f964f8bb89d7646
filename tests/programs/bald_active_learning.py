"""Active learning with MC-dropout BALD (Gal, Islam and Ghahramani 2017, as the ``baal`` and
"BatchBALD" reference code write it): a classifier with dropout is trained on a small labelled
pool; for the unlabelled pool, ``T`` stochastic forward passes with dropout left on (the model in
``train()`` mode under ``torch.no_grad()``) give ``(T, N, C)`` log-probabilities; BALD is the
entropy of the mean prediction minus the mean entropy (``torch.special.entr``, ``logsumexp``
over the samples), and the ``topk`` scores are queried, labelled and moved from the pool with
boolean masks. Max-entropy and random acquisition are run beside it; dropout's masks draw from
the global generator, so both frameworks query the same points."""

import math

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
N, D, C = 180, 2, 3
angles = torch.rand(N) * 2 * math.pi
labels = (angles / (2 * math.pi / C)).long().clamp(max=C - 1)
radius = 1.0 + 0.3 * torch.randn(N)
X = torch.stack([radius * torch.cos(angles), radius * torch.sin(angles)], 1)
test_x, test_y = X[:80], labels[:80]
pool_x, pool_y = X[80:], labels[80:]


class MCDropoutNet(nn.Module):
    def __init__(self, p=0.3):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(D, 24),
            nn.ReLU(),
            nn.Dropout(p),
            nn.Linear(24, 24),
            nn.ReLU(),
            nn.Dropout(p),
            nn.Linear(24, C),
        )

    def forward(self, x):
        return self.net(x)


def train(model, x, y, epochs=20):
    opt = torch.optim.Adam(model.parameters(), lr=2e-2)
    model.train()
    for _ in range(epochs):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item()


@torch.no_grad()
def mc_log_probs(model, x, T=6):
    model.train()  # keep dropout on: Monte Carlo samples of the posterior
    return torch.stack([F.log_softmax(model(x), -1) for _ in range(T)])


def bald(log_probs):
    T = log_probs.shape[0]
    mean_log = torch.logsumexp(log_probs, 0) - math.log(T)
    predictive_entropy = torch.special.entr(mean_log.exp()).sum(-1)
    expected_entropy = -(log_probs.exp() * log_probs).sum(-1).mean(0)
    return predictive_entropy - expected_entropy, predictive_entropy


def accuracy(model):
    model.eval()
    with torch.no_grad():
        return (model(test_x).argmax(1) == test_y).float().mean().item()


results = {}
for strategy in ("bald", "entropy", "random"):
    torch.manual_seed(1)
    labelled = torch.zeros(len(pool_x), dtype=torch.bool)
    labelled[torch.randperm(len(pool_x))[:6]] = True
    model = MCDropoutNet()
    accs, picks, scores_seen = [], [], []
    for rnd in range(3):
        train(model, pool_x[labelled], pool_y[labelled])
        accs.append(accuracy(model))
        candidates = (~labelled).nonzero().squeeze(1)
        if strategy == "random":
            chosen = candidates[torch.randperm(len(candidates))[:8]]
        else:
            mi, entropy = bald(mc_log_probs(model, pool_x[candidates]))
            score = mi if strategy == "bald" else entropy
            top = score.topk(8)
            chosen = candidates[top.indices]
            scores_seen.append(top.values[:3].tolist())
        labelled[chosen] = True
        picks.append(chosen.tolist())
    train(model, pool_x[labelled], pool_y[labelled])
    accs.append(accuracy(model))
    results[strategy] = {
        "accs": accs,
        "picks": picks,
        "scores": scores_seen,
        "n_labelled": int(labelled.sum()),
    }

lp = mc_log_probs(model, pool_x[:16])
mi, ent = bald(lp)
bald_bounds = [mi.min().item(), (ent - mi).min().item(), (ent - math.log(C)).max().item()]
