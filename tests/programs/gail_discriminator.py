"""GAIL, as ikostrikov's pytorch-a2c-ppo-acktr-gail writes its discriminator, on a grid walk
written in NumPy: expert state-action pairs from a scripted policy, a discriminator on
``torch.cat([state, action_one_hot], dim=1)`` trained with ``F.binary_cross_entropy_with_logits``
(expert labelled 1, policy 0) plus a gradient penalty on interpolated inputs
(``torch.autograd.grad(create_graph=True)``, ``(grad.norm(2, dim=1) - 1).pow(2)``), the reward
``log D - log(1 - D)`` computed under ``torch.no_grad()`` and normalised by a running return
variance (``RunningMeanStd``), and a policy improved by REINFORCE with a value baseline on
discounted returns of that reward; actions sampled from ``torch.distributions.Categorical``."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical

torch.manual_seed(0)
SIZE, N_ACT, HORIZON, GAMMA, N_ENVS = 4, 4, 6, 0.95, 8
MOVES = np.array([[0, 1], [1, 0], [0, -1], [-1, 0]])  # right, down, left, up


def obs_of(pos):
    return torch.from_numpy(np.concatenate([np.eye(SIZE)[pos[:, 0]], np.eye(SIZE)[pos[:, 1]]], 1))


def expert_action(pos):
    """Head for the bottom-right corner: right while the column is not the last, else down."""
    return np.where(pos[:, 1] < SIZE - 1, 0, 1)


def env_step(pos, action):
    return np.clip(pos + MOVES[action], 0, SIZE - 1)


class Discriminator(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.trunk = nn.Sequential(
            nn.Linear(2 * SIZE + N_ACT, hidden),
            nn.Tanh(),
            nn.Linear(hidden, hidden),
            nn.Tanh(),
            nn.Linear(hidden, 1),
        )
        self.optimizer = torch.optim.Adam(self.trunk.parameters(), lr=1e-2)
        self.returns, self.ret_var, self.count = None, 1.0, 1e-4

    def compute_grad_pen(
        self, expert_state, expert_action, policy_state, policy_action, lambda_=10
    ):
        alpha = torch.rand(expert_state.size(0), 1)
        expert_data = torch.cat([expert_state, expert_action], dim=1)
        policy_data = torch.cat([policy_state, policy_action], dim=1)
        alpha = alpha.expand_as(expert_data).to(expert_data.device)
        mixup_data = alpha * expert_data + (1 - alpha) * policy_data
        mixup_data.requires_grad = True
        disc = self.trunk(mixup_data)
        ones = torch.ones(disc.size()).to(disc.device)
        grad = torch.autograd.grad(
            outputs=disc,
            inputs=mixup_data,
            grad_outputs=ones,
            create_graph=True,
            retain_graph=True,
            only_inputs=True,
        )[0]
        return lambda_ * (grad.norm(2, dim=1) - 1).pow(2).mean()

    def update(self, expert, policy):
        self.train()
        policy_d = self.trunk(torch.cat(policy, dim=1))
        expert_d = self.trunk(torch.cat(expert, dim=1))
        expert_loss = F.binary_cross_entropy_with_logits(expert_d, torch.ones(expert_d.size()))
        policy_loss = F.binary_cross_entropy_with_logits(policy_d, torch.zeros(policy_d.size()))
        gail_loss = expert_loss + policy_loss
        grad_pen = self.compute_grad_pen(*expert, *policy, lambda_=1)
        self.optimizer.zero_grad()
        (gail_loss + grad_pen).backward()
        self.optimizer.step()
        return gail_loss.item(), grad_pen.item()

    def predict_reward(self, state, action, masks):
        with torch.no_grad():
            self.eval()
            d = self.trunk(torch.cat([state, action], dim=1))
            s = torch.sigmoid(d)
            reward = s.log() - (1 - s).log()
            if self.returns is None:
                self.returns = reward.clone()
            self.returns = self.returns * masks * GAMMA + reward
            batch_var = self.returns.var(unbiased=False).item()
            total = self.count + reward.shape[0]
            self.ret_var = (self.ret_var * self.count + batch_var * reward.shape[0]) / total
            self.count = total
            return reward / np.sqrt(self.ret_var + 1e-8)


class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2 * SIZE, 32), nn.Tanh())
        self.pi, self.v = nn.Linear(32, N_ACT), nn.Linear(32, 1)

    def forward(self, obs):
        h = self.body(obs)
        return Categorical(logits=self.pi(h)), self.v(h).squeeze(-1)


rng = np.random.default_rng(0)
expert_states, expert_actions = [], []
for _ in range(6):
    pos = rng.integers(0, SIZE, size=(N_ENVS, 2))
    for _ in range(HORIZON):
        a = expert_action(pos)
        expert_states.append(obs_of(pos).float())
        expert_actions.append(F.one_hot(torch.from_numpy(a), N_ACT).float())
        pos = env_step(pos, a)
expert_states, expert_actions = torch.cat(expert_states), torch.cat(expert_actions)

discr, policy = Discriminator(), Policy()
policy_opt = torch.optim.Adam(policy.parameters(), lr=2e-2)
disc_log, policy_log, agreement = [], [], []
for it in range(30):
    pos = rng.integers(0, SIZE, size=(N_ENVS, 2))
    states, actions, log_probs, values, entropies, matched = [], [], [], [], [], []
    for _ in range(HORIZON):
        obs = obs_of(pos).float()
        dist, value = policy(obs)
        action = dist.sample()
        states.append(obs)
        actions.append(action)
        log_probs.append(dist.log_prob(action))
        values.append(value)
        entropies.append(dist.entropy())
        matched.append(action.numpy() == expert_action(pos))
        pos = env_step(pos, action.numpy())
    states, actions = torch.stack(states), torch.stack(actions)
    one_hots = F.one_hot(actions, N_ACT).float()
    idx = torch.randperm(expert_states.shape[0])[: N_ENVS * HORIZON]
    disc_log.append(
        discr.update(
            (expert_states[idx], expert_actions[idx]),
            (states.flatten(0, 1), one_hots.flatten(0, 1)),
        )
    )
    rewards = torch.stack(
        [
            discr.predict_reward(states[t], one_hots[t], torch.ones(N_ENVS, 1)).squeeze(1)
            for t in range(HORIZON)
        ]
    )
    returns, running = torch.zeros(HORIZON, N_ENVS), torch.zeros(N_ENVS)
    for t in reversed(range(HORIZON)):
        running = rewards[t] + GAMMA * running
        returns[t] = running
    values, log_probs = torch.stack(values), torch.stack(log_probs)
    advantages = returns - values.detach()
    loss = -(log_probs * advantages).mean() + 0.5 * F.mse_loss(values, returns)
    loss = loss - 0.01 * torch.stack(entropies).mean()
    policy_opt.zero_grad()
    loss.backward()
    policy_opt.step()
    policy_log.append([loss.item(), rewards.mean().item()])
    agreement.append(float(np.mean(matched)))

with torch.no_grad():
    grid = np.array([[r, c] for r in range(SIZE) for c in range(SIZE)])
    dist, _ = policy(obs_of(grid).float())
    matches = (dist.probs.argmax(-1).numpy() == expert_action(grid)).mean().item()
    d_expert = torch.sigmoid(discr.trunk(torch.cat([expert_states, expert_actions], 1))).mean()
    policy_probs = dist.probs[:3].tolist()
    fresh = Categorical(logits=policy.pi(policy.body(obs_of(grid[:2]).float())))
    dist_reprs = [repr(fresh), repr(dist)]  # logits only until probs is used; then both
expert_score = d_expert.item()
