"""Soft actor-critic's actor (Haarnoja et al. 2018) as people write it for PyTorch: a
tanh-squashed Gaussian policy, TransformedDistribution(Independent(Normal), [TanhTransform,
AffineTransform]) rescaled to the action bounds, trained with the SAC actor loss
alpha * log pi(a|s) - Q(s, a) against a fixed quadratic critic, with the temperature learned in
unconstrained space through biject_to(constraints.positive) toward a target entropy. The
policy's log-probabilities are checked against the hand-written formula (Spinning Up's
2 * (log 2 - u - softplus(-2u)) correction)."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Independent, Normal, TransformedDistribution, biject_to, constraints
from torch.distributions.transforms import AffineTransform, TanhTransform

torch.manual_seed(0)

obs_dim, act_dim = 3, 2
act_low, act_high = -2.0, 2.0
LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0
target_entropy = -float(act_dim)
W = torch.randn(obs_dim, act_dim)


def best_action(obs):
    """The critic's optimum, inside the action bounds."""
    return 1.5 * torch.tanh(obs @ W)


def critic(obs, action):
    return -((action - best_action(obs)) ** 2).sum(-1)


class Actor(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.mu = nn.Linear(64, act_dim)
        self.log_std = nn.Linear(64, act_dim)
        self.register_buffer("action_scale", torch.tensor((act_high - act_low) / 2.0))
        self.register_buffer("action_bias", torch.tensor((act_high + act_low) / 2.0))

    def forward(self, obs):
        h = self.net(obs)
        log_std = torch.clamp(self.log_std(h), LOG_STD_MIN, LOG_STD_MAX)
        base = Independent(Normal(self.mu(h), log_std.exp()), 1)
        squash = [
            TanhTransform(cache_size=1),
            AffineTransform(self.action_bias, self.action_scale, cache_size=1),
        ]
        return TransformedDistribution(base, squash)


actor = Actor()
raw_alpha = torch.zeros(1, requires_grad=True)  # alpha = exp(raw_alpha) via biject_to
to_positive = biject_to(constraints.positive)
actor_opt = torch.optim.Adam(actor.parameters(), lr=3e-3)
alpha_opt = torch.optim.Adam([raw_alpha], lr=3e-3)

q_values, entropies, alphas = [], [], []
for step in range(250):
    obs = torch.randn(128, obs_dim)
    pi = actor(obs)
    action = pi.rsample()
    log_prob = pi.log_prob(action)
    alpha = to_positive(raw_alpha)
    q = critic(obs, action)
    actor_loss = (alpha.detach() * log_prob - q).mean()
    actor_opt.zero_grad()
    actor_loss.backward()
    actor_opt.step()

    alpha_loss = -(to_positive(raw_alpha) * (log_prob.detach() + target_entropy)).mean()
    alpha_opt.zero_grad()
    alpha_loss.backward()
    alpha_opt.step()
    q_values.append(q.mean().item())
    entropies.append(-log_prob.mean().item())
    alphas.append(alpha.item())
    if step % 50 == 0:
        print(
            f"step {step} Q {q_values[-1]:.3f} entropy {entropies[-1]:.3f} alpha {alphas[-1]:.3f}"
        )

# The library's log-probability against the hand-written one, at pre-tanh values u
with torch.no_grad():
    obs = torch.randn(16, obs_dim)
    pi = actor(obs)
    u = pi.base_dist.rsample()
    action = u
    for transform in pi.transforms:
        action = transform(action)  # fills the caches: log_prob reads u back, no atanh
    manual = pi.base_dist.log_prob(u) - (2 * (math.log(2) - u - F.softplus(-2 * u))).sum(-1)
    manual = manual - act_dim * math.log((act_high - act_low) / 2.0)
    formula_gap = (pi.log_prob(action) - manual).abs().max().item()
    in_bounds = bool(((action >= act_low) & (action <= act_high)).all())
    greedy = torch.tanh(pi.base_dist.mean) * actor.action_scale + actor.action_bias
    greedy_error = (greedy - best_action(obs)).abs().mean().item()
print(f"formula gap {formula_gap:.2e} greedy error {greedy_error:.3f}")
