"""Ordinal regression and discrete-time survival losses as the libraries write them for PyTorch:
CORAL (Cao et al. 2020, coral_pytorch) -- one shared weight vector and K-1 ordered-threshold
biases, extended binary levels built with ``torch.arange(K - 1) < label``, the loss from
``F.logsigmoid``, the label as the count of probabilities above 0.5; CORN (Shi et al. 2021) --
K-1 conditional binary tasks, task k trained only on the examples with label >= k (boolean
masks), probabilities as ``torch.cumprod`` of the conditional sigmoids; and DeepHit (Lee et al.
2018, pycox) -- a softmax over discrete time bins, the likelihood of the event bin or of
survival past the censoring bin (``gather`` on the ``cumsum`` of the PMF), plus the pairwise
ranking loss ``exp(-(F_i(T_i) - F_j(T_i)) / sigma)`` over comparable pairs, and a time-dependent
concordance index."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(21)
K, D = 5, 4

x = randn(rng, 96, D)
latent = x @ torch.tensor([1.0, -0.5, 0.8, 0.0]) + 0.3 * randn(rng, 96)
labels = torch.bucketize(latent, torch.tensor([-1.2, -0.4, 0.4, 1.2]))  # 0..4, ordered


class CoralLayer(nn.Module):
    def __init__(self, size_in, num_classes):
        super().__init__()
        self.coral_weights = nn.Linear(size_in, 1, bias=False)
        self.coral_bias = nn.Parameter(
            torch.arange(num_classes - 1, 0, -1).float() / (num_classes - 1)
        )

    def forward(self, x):
        return self.coral_weights(x) + self.coral_bias


def levels_from_labelbatch(labels, num_classes):
    return (torch.arange(num_classes - 1).unsqueeze(0) < labels.unsqueeze(1)).float()


def coral_loss(logits, levels):
    term = F.logsigmoid(logits) * levels + (F.logsigmoid(logits) - logits) * (1 - levels)
    return (-term.sum(dim=1)).mean()


def corn_loss(logits, y_train, num_classes):
    losses, num_examples = 0.0, 0
    for task in range(num_classes - 1):
        train_examples = y_train > task - 1
        train_labels = (y_train[train_examples] > task).float()
        num_examples += len(train_labels)
        pred = logits[train_examples, task]
        losses += -torch.sum(
            F.logsigmoid(pred) * train_labels + (F.logsigmoid(pred) - pred) * (1 - train_labels)
        )
    return losses / num_examples


def train(head, loss_fn, steps=20):
    torch.manual_seed(0)
    model = init_from_numpy(nn.Sequential(nn.Linear(D, 8), nn.ReLU(), head), seed=3)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    history = []
    for _ in range(steps):
        loss = loss_fn(model(x))
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
    return model, history


coral_model, coral_losses = train(
    CoralLayer(8, K), lambda z: coral_loss(z, levels_from_labelbatch(labels, K))
)
corn_model, corn_losses = train(nn.Linear(8, K - 1), lambda z: corn_loss(z, labels, K))
with torch.no_grad():
    coral_pred = (torch.sigmoid(coral_model(x)) > 0.5).sum(dim=1)
    corn_proba = torch.cumprod(torch.sigmoid(corn_model(x)), dim=1)
    corn_pred = (corn_proba > 0.5).sum(dim=1)
coral_mae = (coral_pred - labels).abs().float().mean().item()
corn_mae = (corn_pred - labels).abs().float().mean().item()
corn_monotone = bool((corn_proba[:, 1:] <= corn_proba[:, :-1]).all())
coral_bias = coral_model[2].coral_bias.tolist()

# DeepHit on discrete times
T_BINS, SIGMA, ALPHA = 6, 0.5, 0.5
risk = x[:, 0] - x[:, 1]
event_time = torch.clamp((3 - 1.5 * risk + randn(rng, 96)).round(), 0, T_BINS - 1).long()
censor_time = torch.from_numpy(rng.integers(2, T_BINS, 96))
durations = torch.minimum(event_time, censor_time)
events = (event_time <= censor_time).float()


def deephit_loss(phi, idx_durations, events):
    pmf = F.softmax(phi, dim=1)
    cif = pmf.cumsum(1)
    pmf_at = pmf.gather(1, idx_durations.view(-1, 1)).squeeze(1)
    surv_at = (1.0 - cif.gather(1, idx_durations.view(-1, 1)).squeeze(1)).clamp(min=0)
    nll = -(events * torch.log(pmf_at + 1e-7) + (1 - events) * torch.log(surv_at + 1e-7)).mean()
    cif_at_ti = cif[:, idx_durations]  # [j, i] = F_j(T_i)
    diag = cif_at_ti.diagonal()
    comparable = (idx_durations.view(-1, 1) < idx_durations.view(1, -1)) & (events.view(-1, 1) == 1)
    rank_mat = torch.exp(-(diag.view(-1, 1) - cif_at_ti.t()) / SIGMA) * comparable
    rank = rank_mat.sum() / comparable.sum().clamp(min=1)
    return ALPHA * nll + (1 - ALPHA) * rank, nll, rank


net = init_from_numpy(nn.Sequential(nn.Linear(D, 16), nn.ReLU(), nn.Linear(16, T_BINS)), seed=8)
opt = torch.optim.AdamW(net.parameters(), lr=0.02)
deephit_losses, nll_parts, rank_parts = [], [], []
for _ in range(20):
    loss, nll, rank = deephit_loss(net(x), durations, events)
    opt.zero_grad()
    loss.backward()
    opt.step()
    deephit_losses.append(loss.item())
    nll_parts.append(nll.item())
    rank_parts.append(rank.item())
with torch.no_grad():
    cif = F.softmax(net(x), dim=1).cumsum(1)
at_own = cif[torch.arange(96), durations]
ordered = (durations.view(-1, 1) < durations.view(1, -1)) & (events.view(-1, 1) == 1)
concordant = (at_own.view(-1, 1) > cif[:, durations].t()) & ordered
c_index = (concordant.sum() / ordered.sum()).item()
n_comparable = int(ordered.sum())
