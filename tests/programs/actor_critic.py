"""pytorch/examples reinforcement_learning/actor_critic.py with a tiny hand-written environment
(a 1-D corridor: walk left or right to reach the goal) instead of gym: a two-headed policy
(action probabilities and state value), ``Categorical`` sampling with ``log_prob``, discounted
returns normalized by ``(R - mean) / (std + eps)``, policy loss plus ``smooth_l1_loss`` value
loss, ``torch.stack(...).sum()`` of per-step losses; the sampling uses a NumPy generator on the
probabilities so both libraries take the same actions."""

from collections import namedtuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from numpy_init import init_from_numpy
from torch.distributions import Categorical

SavedAction = namedtuple("SavedAction", ["log_prob", "value"])
eps = np.finfo(np.float32).eps.item()
gamma = 0.95


class Corridor:
    def __init__(self, length=6):
        self.length = length

    def reset(self):
        self.pos, self.t = 1, 0
        return self.observe()

    def observe(self):
        state = np.zeros(self.length, dtype=np.float32)
        state[self.pos] = 1.0
        return state

    def step(self, action):
        self.pos = min(max(self.pos + (1 if action == 1 else -1), 0), self.length - 1)
        self.t += 1
        done = self.pos == self.length - 1 or self.t >= 20
        reward = 1.0 if self.pos == self.length - 1 else -0.05
        return self.observe(), reward, done


class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.affine1 = nn.Linear(6, 32)
        self.action_head = nn.Linear(32, 2)
        self.value_head = nn.Linear(32, 1)
        self.saved_actions, self.rewards = [], []

    def forward(self, x):
        x = F.relu(self.affine1(x))
        return F.softmax(self.action_head(x), dim=-1), self.value_head(x)


model = init_from_numpy(Policy(), seed=4)
optimizer = optim.Adam(model.parameters(), lr=3e-2)
rng = np.random.default_rng(10)
env = Corridor()


def select_action(state):
    state = torch.from_numpy(state).float()
    probs, state_value = model(state)
    m = Categorical(probs)
    action = torch.tensor(int(rng.random() < probs[1].item()))
    model.saved_actions.append(SavedAction(m.log_prob(action), state_value))
    return action.item()


def finish_episode():
    R, policy_losses, value_losses, returns = 0, [], [], []
    for r in model.rewards[::-1]:
        R = r + gamma * R
        returns.insert(0, R)
    returns = torch.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + eps)
    for (log_prob, value), R in zip(model.saved_actions, returns):
        advantage = R - value.item()
        policy_losses.append(-log_prob * advantage)
        value_losses.append(F.smooth_l1_loss(value, torch.tensor([R])))
    optimizer.zero_grad()
    loss = torch.stack(policy_losses).sum() + torch.stack(value_losses).sum()
    loss.backward()
    optimizer.step()
    del model.rewards[:]
    del model.saved_actions[:]
    return loss.item()


episode_lengths, losses, running_reward = [], [], 0.0
for i_episode in range(40):
    state, ep_reward = env.reset(), 0.0
    for t in range(1, 100):
        action = select_action(state)
        state, reward, done = env.step(action)
        model.rewards.append(reward)
        ep_reward += reward
        if done:
            break
    running_reward = 0.05 * ep_reward + (1 - 0.05) * running_reward
    episode_lengths.append(t)
    losses.append(finish_episode())
with torch.no_grad():
    right_probs = [
        model(torch.from_numpy(env.observe() * 0 + np.eye(6, dtype=np.float32)[i]))[0][1].item()
        for i in range(5)
    ]
