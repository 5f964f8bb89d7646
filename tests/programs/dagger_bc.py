"""Behaviour cloning and DAgger, as the imitation-learning course code (CS285 homework 1) writes
them, on a cart that must settle at the origin, written in NumPy: an expert linear-quadratic
controller labels states; an ``nn.Module`` Gaussian policy (a mean network and a state-free
``log_std`` parameter) is fitted by maximum likelihood through ``torch.distributions.Normal``
on a growing dataset (``ConcatDataset`` of ``TensorDataset`` rounds, a ``DataLoader`` with a
seeded ``torch.Generator``); each DAgger round rolls out the learner (``rsample`` under
``torch.no_grad()``), relabels the states it visited with the expert's actions and aggregates
them. Behaviour cloning alone is kept for comparison: its rollouts drift off the expert's
state distribution, DAgger's do not."""

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import ConcatDataset, DataLoader, TensorDataset

torch.manual_seed(0)
DT, HORIZON, K_EXPERT = 0.1, 25, np.array([[3.0, 2.5]])


def expert(states):
    return -(states @ K_EXPERT.T)


def step(states, actions):
    pos, vel = states[:, :1], states[:, 1:]
    vel = vel + DT * (actions + 0.3 * np.sin(3 * pos))
    return np.concatenate([pos + DT * vel, vel], 1)


class MLPPolicy(nn.Module):
    def __init__(self, ob_dim=2, ac_dim=1, size=32):
        super().__init__()
        self.mean_net = nn.Sequential(
            nn.Linear(ob_dim, size),
            nn.Tanh(),
            nn.Linear(size, size),
            nn.Tanh(),
            nn.Linear(size, ac_dim),
        )
        self.logstd = nn.Parameter(torch.zeros(ac_dim))

    def forward(self, observation):
        return torch.distributions.Normal(self.mean_net(observation), torch.exp(self.logstd))

    def get_action(self, obs, sample=True):
        with torch.no_grad():
            dist = self(torch.as_tensor(obs, dtype=torch.float32))
            return (dist.rsample() if sample else dist.mean).numpy()


def rollout(policy, starts, sample=True):
    states, costs, s = [], [], starts
    for _ in range(HORIZON):
        states.append(s)
        a = expert(s) if policy is None else policy.get_action(s, sample).astype(np.float64)
        costs.append(float((s**2).sum(1).mean()))
        s = step(s, np.clip(a, -4, 4))
    return np.concatenate(states), float(np.mean(costs))


def train(policy, dataset, generator, steps=30):
    optimizer = torch.optim.Adam(policy.parameters(), lr=5e-3)
    loader = DataLoader(dataset, batch_size=64, shuffle=True, generator=generator)
    losses, batches = [], iter(loader)
    for _ in range(steps):
        try:
            obs, acts = next(batches)
        except StopIteration:
            batches = iter(loader)
            obs, acts = next(batches)
        loss = -policy(obs).log_prob(acts).sum(-1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def as_dataset(states):
    return TensorDataset(
        torch.tensor(states, dtype=torch.float32), torch.tensor(expert(states), dtype=torch.float32)
    )


rng = np.random.default_rng(0)
starts = rng.uniform(-1, 1, size=(6, 2))
expert_states, expert_cost = rollout(None, starts)
data = [as_dataset(expert_states)]
eval_starts = rng.uniform(-1.5, 1.5, size=(6, 2))

bc = MLPPolicy()
dagger = MLPPolicy()
dagger.load_state_dict(bc.state_dict())
generator = torch.Generator().manual_seed(0)
bc_losses = train(bc, ConcatDataset(data), generator, steps=60)
bc_visited, bc_cost = rollout(bc, eval_starts, sample=False)


def imitation_error(policy, states):
    """How far the learner's mean action is from the expert's on the states it visits itself."""
    with torch.no_grad():
        mean = policy(torch.tensor(states, dtype=torch.float32)).mean.double()
    return (mean - torch.from_numpy(expert(states))).abs().mean().item()


dagger_losses, dagger_costs, dagger_errors, sizes = [], [], [], []
for round_ in range(3):
    dagger_losses.append(train(dagger, ConcatDataset(data), generator)[-1])
    visited, cost = rollout(dagger, starts)
    dagger_errors.append(imitation_error(dagger, visited))
    data.append(as_dataset(visited))
    sizes.append(len(ConcatDataset(data)))
    dagger_costs.append(cost)
dagger_visited, dagger_cost = rollout(dagger, eval_starts, sample=False)
_, expert_eval_cost = rollout(None, eval_starts)

stds = [bc.logstd.exp().item(), dagger.logstd.exp().item()]


errors = [imitation_error(bc, bc_visited), imitation_error(dagger, dagger_visited)]
