"""Implicit quantile networks (Dabney et al. 2018) as the IQN PyTorch implementations write
them: sampled quantile fractions embedded by ``torch.cos(torch.arange(1, 65) * pi * tau)``
and a ReLU layer, multiplied into the state features, the quantile Huber loss on all pairs
``target.unsqueeze(1) - pred.unsqueeze(2)`` weighted by ``|tau - (td < 0).float()|``,
double-DQN bootstrapping of the target's quantiles through a target network, and risk-
sensitive action selection (CVaR) from the learned quantiles; on a two-armed task where one
arm pays a bimodal reward. Fractions and data come from NumPy."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, rand

N_COS, N_TAU, KAPPA, GAMMA = 32, 8, 1.0, 0.5


class IQN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(2, 32), nn.ReLU())
        self.cos_embedding = nn.Linear(N_COS, 32)
        self.head = nn.Sequential(nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2))
        self.register_buffer("pis", math.pi * torch.arange(1, N_COS + 1, dtype=torch.float32))

    def forward(self, state, taus):
        batch, n = taus.shape
        x = self.features(state)
        cos = torch.cos(taus.unsqueeze(-1) * self.pis)  # (batch, n, N_COS)
        phi = F.relu(self.cos_embedding(cos))
        return self.head(x.unsqueeze(1) * phi).view(batch, n, 2)  # quantiles per action


def quantile_huber_loss(pred, target, taus):
    td = target.unsqueeze(1) - pred.unsqueeze(2)  # (batch, n_pred, n_target)
    huber = torch.where(td.abs() <= KAPPA, 0.5 * td**2, KAPPA * (td.abs() - 0.5 * KAPPA))
    weight = torch.abs(taus.unsqueeze(-1) - (td.detach() < 0).float())
    return (weight * huber / KAPPA).sum(1).mean(1).mean()


def env(rng, states, actions):
    safe = states[:, 0] + 0.1 * rng.standard_normal(len(states))
    risky = np.where(rng.random(len(states)) < 0.5, -1.0, 3.0) + 0.05 * rng.standard_normal(
        len(states)
    )
    reward = np.where(actions == 0, safe, risky)
    done = rng.random(len(states)) < 0.5
    return reward, done


rng = np.random.default_rng(0)
online = init_from_numpy(IQN(), seed=2)
target = init_from_numpy(IQN(), seed=2)
optimizer = torch.optim.Adam(online.parameters(), lr=5e-3)
losses = []
for step in range(80):
    s = np.concatenate([rng.uniform(0, 1, (64, 1)), np.ones((64, 1))], 1)
    a = rng.integers(0, 2, 64)
    r, done = env(rng, s, a)
    s2 = np.concatenate([rng.uniform(0, 1, (64, 1)), np.ones((64, 1))], 1)
    s, s2 = torch.tensor(s, dtype=torch.float32), torch.tensor(s2, dtype=torch.float32)
    r, done, a = (
        torch.tensor(r, dtype=torch.float32),
        torch.tensor(done, dtype=torch.float32),
        torch.tensor(a),
    )
    taus, taus_next = rand(rng, 64, N_TAU), rand(rng, 64, N_TAU)
    pred = online(s, taus).gather(2, a.view(-1, 1, 1).expand(-1, N_TAU, 1)).squeeze(2)
    with torch.no_grad():
        next_action = online(s2, taus_next).mean(1).argmax(1)
        next_q = (
            target(s2, taus_next)
            .gather(2, next_action.view(-1, 1, 1).expand(-1, N_TAU, 1))
            .squeeze(2)
        )
        tgt = r.unsqueeze(1) + GAMMA * (1 - done.unsqueeze(1)) * next_q
    loss = quantile_huber_loss(pred, tgt, taus)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(online.parameters(), 10.0)
    optimizer.step()
    losses.append(loss.item())
    if step % 20 == 19:
        target.load_state_dict(online.state_dict())

probe = torch.tensor([[0.2, 1.0], [0.9, 1.0]])
fixed_taus = torch.linspace(0.05, 0.95, 10).expand(2, 10)
with torch.no_grad():
    quantiles = online(probe, fixed_taus)  # (2 states, 10 taus, 2 actions)
means = quantiles.mean(1).tolist()
spread = (quantiles[:, -1] - quantiles[:, 0]).tolist()
cvar = quantiles[:, :3].mean(1)  # the worst 30 percent
risk_neutral_action = quantiles.mean(1).argmax(1).tolist()
risk_averse_action = cvar.argmax(1).tolist()
monotone_fraction = (quantiles[:, 1:] >= quantiles[:, :-1]).float().mean().item()
