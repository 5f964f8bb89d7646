"""Advantage actor-critic (A2C) on vectorised environments, as stable-baselines3's and
ikostrikov's pytorch-a2c-ppo-acktr write it: a batch of NumPy grid-walk environments stepped
together (auto-reset on done), an actor-critic with a shared trunk, actions drawn by
``Categorical(logits=...).sample()`` after ``torch.manual_seed`` (the same generator stream in
both libraries), n-step rollouts with bootstrapped returns computed backwards through
``masks``, generalised advantage estimation, the loss ``policy + 0.5 value - 0.01 entropy``,
``RMSprop(alpha=0.99, eps=1e-5)`` with ``clip_grad_norm_``, and ``torch.distributions`` log
probs and entropies; plus a NoisyNet linear layer (factorised Gaussian noise,
``sign(x) * sqrt(|x|)``) whose noise comes from ``torch.randn`` and is reset each update."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy
from torch.distributions import Categorical

N_ENVS, N_STEPS, SIZE, GAMMA, LAM = 8, 5, 5, 0.95, 0.9


class GridWalk:
    """Vectorised 1-D walk: start in the middle, +1 at the right end, -1 at the left end."""

    def __init__(self, n):
        self.pos = np.full(n, SIZE // 2)

    def obs(self):
        return torch.from_numpy(np.eye(SIZE, dtype=np.float32)[self.pos])

    def step(self, actions):
        self.pos = self.pos + np.where(actions == 1, 1, -1)
        reward = np.where(self.pos >= SIZE - 1, 1.0, np.where(self.pos <= 0, -1.0, -0.01))
        done = (self.pos <= 0) | (self.pos >= SIZE - 1)
        self.pos = np.where(done, SIZE // 2, self.pos)
        return self.obs(), reward.astype(np.float32), done


class NoisyLinear(nn.Module):
    def __init__(self, cin, cout, sigma0=0.5):
        super().__init__()
        self.cin, self.cout = cin, cout
        self.weight_mu = nn.Parameter(
            torch.empty(cout, cin).uniform_(-1 / math.sqrt(cin), 1 / math.sqrt(cin))
        )
        self.weight_sigma = nn.Parameter(torch.full((cout, cin), sigma0 / math.sqrt(cin)))
        self.bias_mu = nn.Parameter(torch.zeros(cout))
        self.bias_sigma = nn.Parameter(torch.full((cout,), sigma0 / math.sqrt(cin)))
        self.register_buffer("weight_epsilon", torch.empty(cout, cin))
        self.register_buffer("bias_epsilon", torch.empty(cout))
        self.reset_noise()

    @staticmethod
    def _scale_noise(size):
        x = torch.randn(size)
        return x.sign().mul_(x.abs().sqrt_())

    def reset_noise(self):
        eps_in, eps_out = self._scale_noise(self.cin), self._scale_noise(self.cout)
        self.weight_epsilon.copy_(eps_out.outer(eps_in))
        self.bias_epsilon.copy_(eps_out)

    def forward(self, x):
        if self.training:
            w = self.weight_mu + self.weight_sigma * self.weight_epsilon
            b = self.bias_mu + self.bias_sigma * self.bias_epsilon
            return F.linear(x, w, b)
        return F.linear(x, self.weight_mu, self.bias_mu)


class ActorCritic(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(SIZE, 32), nn.Tanh())
        self.actor = NoisyLinear(32, 2)
        self.critic = nn.Linear(32, 1)

    def forward(self, obs):
        h = self.trunk(obs)
        return self.actor(h), self.critic(h).squeeze(-1)


torch.manual_seed(0)
model = ActorCritic()
init_from_numpy(model.trunk, seed=1)
init_from_numpy(model.critic, seed=2)
optimizer = torch.optim.RMSprop(model.parameters(), lr=7e-3, alpha=0.99, eps=1e-5)
envs = GridWalk(N_ENVS)
obs = envs.obs()
losses, entropies, episode_rewards, grad_norms = [], [], [], []
for update in range(40):
    model.actor.reset_noise()
    log_probs, values, rewards, masks, ents = [], [], [], [], []
    for _ in range(N_STEPS):
        logits, value = model(obs)
        dist = Categorical(logits=logits)
        action = dist.sample()
        obs, reward, done = envs.step(action.numpy())
        log_probs.append(dist.log_prob(action))
        values.append(value)
        ents.append(dist.entropy())
        rewards.append(torch.from_numpy(reward))
        masks.append(torch.from_numpy(1.0 - done.astype(np.float32)))
        episode_rewards += reward[done].tolist()
    with torch.no_grad():
        next_value = model(obs)[1]
    advantages, gae = [], torch.zeros(N_ENVS)
    for t in reversed(range(N_STEPS)):
        nv = next_value if t == N_STEPS - 1 else values[t + 1].detach()
        delta = rewards[t] + GAMMA * nv * masks[t] - values[t].detach()
        gae = delta + GAMMA * LAM * masks[t] * gae
        advantages.insert(0, gae)
    advantages, values = torch.stack(advantages), torch.stack(values)
    returns = advantages + values.detach()
    policy_loss = -(advantages * torch.stack(log_probs)).mean()
    value_loss = F.mse_loss(values, returns)
    entropy = torch.stack(ents).mean()
    loss = policy_loss + 0.5 * value_loss - 0.01 * entropy
    optimizer.zero_grad()
    loss.backward()
    grad_norms.append(nn.utils.clip_grad_norm_(model.parameters(), 0.5).item())
    optimizer.step()
    losses.append(loss.item())
    entropies.append(entropy.item())

model.eval()
with torch.no_grad():
    greedy = model(torch.eye(SIZE))[0].argmax(1).tolist()
    state_values = model(torch.eye(SIZE))[1].tolist()
success_rate = float(np.mean(np.array(episode_rewards[-20:]) > 0))
noise_sample = model.actor.weight_epsilon[0, :4].tolist()
sigma_mean = model.actor.weight_sigma.mean().item()
