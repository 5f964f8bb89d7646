"""PETS (Chua et al. 2018) as the mbrl-lib and the authors' handful-of-trials PyTorch code
write it: a probabilistic ensemble whose layers hold ``(ensemble, in, out)`` weights applied
with ``torch.baddbmm``, a mean and a log-variance head soft-bounded by learned
``max_logvar``/``min_logvar`` through ``F.softplus``, the Gaussian NLL (checked against
``torch.distributions.Normal(...).log_prob``), bootstrapped batches per member, then
model-predictive control by the cross-entropy method: action sequences sampled around a
mean and a standard deviation, rolled out through the ensemble with trajectory sampling,
elites chosen by ``torch.topk`` and the sampling distribution refitted from them. A
point-mass task in NumPy; every random draw comes from NumPy."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import randn

ENSEMBLE, STATE, ACTION, HIDDEN, HORIZON, POP, ELITES = 4, 2, 1, 32, 6, 64, 8


def true_step(state, action):
    pos, vel = state[:, 0], state[:, 1]
    vel = 0.9 * vel + 0.2 * np.clip(action[:, 0], -1, 1)
    return np.stack([pos + 0.1 * vel, vel], 1)


class EnsembleLinear(nn.Module):
    def __init__(self, rng, in_features, out_features):
        super().__init__()
        bound = 1 / np.sqrt(in_features)
        self.weight = nn.Parameter(
            torch.from_numpy(
                rng.uniform(-bound, bound, (ENSEMBLE, in_features, out_features)).astype(np.float32)
            )
        )
        self.bias = nn.Parameter(torch.zeros(ENSEMBLE, 1, out_features))

    def forward(self, x):
        return torch.baddbmm(self.bias, x, self.weight)


class ProbabilisticEnsemble(nn.Module):
    def __init__(self, rng):
        super().__init__()
        self.layers = nn.ModuleList(
            [EnsembleLinear(rng, STATE + ACTION, HIDDEN), EnsembleLinear(rng, HIDDEN, HIDDEN)]
        )
        self.head = EnsembleLinear(rng, HIDDEN, 2 * STATE)
        self.max_logvar = nn.Parameter(torch.full((1, 1, STATE), 0.5))
        self.min_logvar = nn.Parameter(torch.full((1, 1, STATE), -10.0))

    def forward(self, x):
        for layer in self.layers:
            x = F.silu(layer(x))
        mean, logvar = self.head(x).chunk(2, dim=-1)
        logvar = self.max_logvar - F.softplus(self.max_logvar - logvar)
        logvar = self.min_logvar + F.softplus(logvar - self.min_logvar)
        return mean, logvar


def nll(mean, logvar, target):
    return (((mean - target) ** 2) * torch.exp(-logvar) + logvar).mean()


rng = np.random.default_rng(0)
states = rng.uniform(-1, 1, (400, STATE))
actions = rng.uniform(-1, 1, (400, ACTION))
deltas = true_step(states, actions) - states + 0.002 * rng.standard_normal((400, STATE))
inputs = torch.tensor(np.concatenate([states, actions], 1), dtype=torch.float32)
targets = torch.tensor(deltas, dtype=torch.float32)

model = ProbabilisticEnsemble(rng)
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-5)
bootstrap = torch.from_numpy(rng.integers(0, 400, (ENSEMBLE, 400)))
losses = []
for epoch in range(6):
    for start in range(0, 400, 100):
        idx = bootstrap[:, start : start + 100]
        mean, logvar = model(inputs[idx])
        loss = nll(mean, logvar, targets[idx]) + 0.01 * (
            model.max_logvar.sum() - model.min_logvar.sum()
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

with torch.no_grad():
    mean, logvar = model(inputs[:50].expand(ENSEMBLE, 50, -1))
    dist = torch.distributions.Normal(mean, (0.5 * logvar).exp())
    log_prob_gap = abs(
        -dist.log_prob(targets[:50]).mean().item()
        - 0.5 * (nll(mean, logvar, targets[:50]).item() + np.log(2 * np.pi))
    )
    model_error = (mean.mean(0) - targets[:50]).abs().mean().item()
    predicted_std = (0.5 * logvar).exp().mean().item()


@torch.no_grad()
def plan(state, goal, iterations=3):
    mu, sigma = torch.zeros(HORIZON, ACTION), torch.ones(HORIZON, ACTION) * 0.7
    for _ in range(iterations):
        noise = randn(rng, POP, HORIZON, ACTION)
        candidates = (mu + sigma * noise).clamp(-1, 1)
        s = torch.tensor(state, dtype=torch.float32).expand(POP, STATE)
        members = torch.from_numpy(rng.integers(0, ENSEMBLE, POP))  # TS1: a member per particle
        cost = torch.zeros(POP)
        for t in range(HORIZON):
            x = torch.cat([s, candidates[:, t]], 1).expand(ENSEMBLE, POP, STATE + ACTION)
            mean, logvar = model(x)
            delta = mean[members, torch.arange(POP)]
            s = s + delta
            cost = cost + (s[:, 0] - goal) ** 2 + 0.01 * candidates[:, t, 0] ** 2
        elite_idx = torch.topk(-cost, ELITES).indices
        elites = candidates[elite_idx]
        mu, sigma = elites.mean(0), elites.std(0)
    return mu[0].numpy(), cost[elite_idx[0]].item()


state, goal, trajectory, plan_costs = np.array([[-0.8, 0.0]]), 0.0, [], []
for step in range(10):
    action, best_cost = plan(state[0], goal)
    state = true_step(state, action[None])
    trajectory.append(float(state[0, 0]))
    plan_costs.append(best_cost)
final_distance = abs(trajectory[-1] - goal)
logvar_bounds = [model.max_logvar.mean().item(), model.min_logvar.mean().item()]
