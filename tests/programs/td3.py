"""TD3 (Fujimoto et al. 2018) as the authors' TD3.py and CleanRL's td3_continuous_action.py write
it: a deterministic tanh actor scaled by ``max_action``, twin critics in one module returning
two Q values (``torch.cat([state, action], 1)``), target policy smoothing with clipped noise
``(torch.randn_like(action) * 0.2).clamp(-0.5, 0.5)``, the clipped double-Q target
``torch.min(q1, q2)``, delayed actor and target updates, Polyak averaging with
``param.data.copy_(tau * p + (1 - tau) * tp)``, and ``copy.deepcopy`` targets with
``requires_grad_(False)``; on a point-mass task written in NumPy. The smoothing noise is drawn
with NumPy so that both libraries train on the same numbers; ``torch.randn_like`` is used once
at the end, where only its clamped range is compared."""

import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn

MAX_ACTION, TAU, GAMMA, POLICY_DELAY = 1.0, 0.05, 0.9, 2


class Actor(nn.Module):
    def __init__(self, state_dim, action_dim):
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(state_dim, 32), nn.Linear(32, 32), nn.Linear(32, 1)

    def forward(self, state):
        a = F.relu(self.l1(state))
        a = F.relu(self.l2(a))
        return MAX_ACTION * torch.tanh(self.l3(a))


class Critic(nn.Module):
    def __init__(self, state_dim, action_dim):
        super().__init__()
        self.q1 = nn.Sequential(nn.Linear(state_dim + action_dim, 32), nn.ReLU(), nn.Linear(32, 1))
        self.q2 = nn.Sequential(nn.Linear(state_dim + action_dim, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, state, action):
        sa = torch.cat([state, action], 1)
        return self.q1(sa), self.q2(sa)


def env_step(state, action):
    """x' = x + 0.3 a; reward -x'^2 - 0.1 a^2 (bring the point to the origin)."""
    nxt = np.clip(state + 0.3 * action, -2, 2)
    return nxt, -(nxt**2).sum(1) - 0.1 * (action**2).sum(1)


def smoothed_target(actor_target, critic_target, next_state, reward, noise):
    noise = (noise * 0.2).clamp(-0.5, 0.5)
    next_action = (actor_target(next_state) + noise).clamp(-MAX_ACTION, MAX_ACTION)
    target_q1, target_q2 = critic_target(next_state, next_action)
    return reward + GAMMA * torch.min(target_q1, target_q2)


rng = np.random.default_rng(0)
actor = init_from_numpy(Actor(1, 1), seed=1)
critic = init_from_numpy(Critic(1, 1), seed=2)
actor_target, critic_target = copy.deepcopy(actor), copy.deepcopy(critic)
for p in list(actor_target.parameters()) + list(critic_target.parameters()):
    p.requires_grad_(False)
actor_opt = torch.optim.Adam(actor.parameters(), lr=3e-3)
critic_opt = torch.optim.Adam(critic.parameters(), lr=3e-3)

states = rng.uniform(-2, 2, (16, 1))
buffer_s, buffer_a, buffer_r, buffer_s2 = [], [], [], []
critic_losses, actor_losses = [], []
for it in range(240):
    with torch.no_grad():
        act = actor(torch.from_numpy(states).float()).numpy()
    act = np.clip(act + 0.3 * rng.standard_normal(act.shape), -1, 1)
    nxt, rew = env_step(states, act)
    for buf, v in zip((buffer_s, buffer_a, buffer_r, buffer_s2), (states, act, rew[:, None], nxt)):
        buf.append(v.astype(np.float32))
    states = nxt if it % 10 else rng.uniform(-2, 2, (16, 1))
    idx = rng.integers(len(buffer_s) * 16, size=64)
    s, a, r, s2 = (
        torch.from_numpy(np.concatenate(b)[idx]) for b in (buffer_s, buffer_a, buffer_r, buffer_s2)
    )
    with torch.no_grad():
        target_q = smoothed_target(actor_target, critic_target, s2, r, randn(rng, 64, 1))
    current_q1, current_q2 = critic(s, a)
    critic_loss = F.mse_loss(current_q1, target_q) + F.mse_loss(current_q2, target_q)
    critic_opt.zero_grad()
    critic_loss.backward()
    critic_opt.step()
    critic_losses.append(critic_loss.item())
    if it % POLICY_DELAY == 0:
        actor_loss = -critic(s, actor(s))[0].mean()
        actor_opt.zero_grad()
        actor_loss.backward()
        actor_opt.step()
        actor_losses.append(actor_loss.item())
        for net, target in ((critic, critic_target), (actor, actor_target)):
            for param, target_param in zip(net.parameters(), target.parameters()):
                target_param.data.copy_(TAU * param.data + (1 - TAU) * target_param.data)

grid = torch.linspace(-2, 2, 9).unsqueeze(1)
with torch.no_grad():
    policy = actor(grid).squeeze(1).tolist()
    q_grid = torch.min(*critic(grid, actor(grid))).squeeze(1).tolist()
target_gap = max(
    (p - tp).abs().max().item() for p, tp in zip(actor.parameters(), actor_target.parameters())
)
target_requires_grad = any(p.requires_grad for p in critic_target.parameters())
torch.manual_seed(0)
noise = (torch.randn_like(grid) * 0.2).clamp(-0.5, 0.5)
noise_in_range = bool(((noise >= -0.5) & (noise <= 0.5)).all())
