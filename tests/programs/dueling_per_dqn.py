"""Rainbow's pieces without the noisy nets, as the PER and dueling DQN repositories write them
for PyTorch: a dueling head (``value + advantage - advantage.mean(1, keepdim=True)``),
double-DQN targets (the online net's ``argmax(1, keepdim=True)`` evaluated by the target net
through ``gather``), n-step returns, a proportional prioritized replay buffer on a NumPy sum
tree with importance-sampling weights (``(weights * F.smooth_l1_loss(..., reduction='none'))
.mean()``), priorities refreshed from ``td_error.detach().abs().cpu().numpy()``, gradient
clipping with ``clip_grad_norm_``, a float64 network (``.double()``; the sum tree's
sampling would magnify float32 rounding) and hard target updates through ``load_state_dict``; on a
ten-state chain walk written in NumPy."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy

N_STATES, N_ACTIONS, GAMMA, N_STEP, ALPHA = 6, 2, 0.9, 3, 0.6


class SumTree:
    """A binary tree whose leaves hold priorities and whose nodes hold their sums."""

    def __init__(self, capacity):
        self.capacity, self.tree, self.write, self.size = capacity, np.zeros(2 * capacity - 1), 0, 0

    def update(self, idx, priority):
        change = priority - self.tree[idx]
        self.tree[idx] = priority
        while idx != 0:
            idx = (idx - 1) // 2
            self.tree[idx] += change

    def add(self, priority):
        self.update(self.write + self.capacity - 1, priority)
        self.write = (self.write + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def get(self, s):
        idx = 0
        while 2 * idx + 1 < len(self.tree):
            left = 2 * idx + 1
            if s <= self.tree[left]:
                idx = left
            else:
                s -= self.tree[left]
                idx = left + 1
        return idx

    @property
    def total(self):
        return self.tree[0]


class DuelingQNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.feature = nn.Sequential(nn.Linear(N_STATES, 32), nn.ReLU())
        self.value = nn.Sequential(nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 1))
        self.advantage = nn.Sequential(nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, N_ACTIONS))

    def forward(self, x):
        h = self.feature(x)
        value, advantage = self.value(h), self.advantage(h)
        return value + advantage - advantage.mean(1, keepdim=True)


def one_hot(states):
    return F.one_hot(torch.as_tensor(states, dtype=torch.long), N_STATES).double()


def env_step(state, action):
    """Action 1 walks right (reward 1 at the right end, then restart), action 0 walks left and
    pays 0.05 at the left wall."""
    if action == 1:
        nxt = state + 1
        return (0, 1.0, True) if nxt == N_STATES - 1 else (nxt, 0.0, False)
    return max(state - 1, 0), 0.05 if state == 0 else 0.0, False


rng = np.random.default_rng(0)
online = init_from_numpy(DuelingQNet(), seed=1).double()
target = init_from_numpy(DuelingQNet(), seed=9).double()
target.load_state_dict(online.state_dict())
optimizer = torch.optim.Adam(online.parameters(), lr=5e-3)
tree, data = SumTree(256), [None] * 256
max_priority, state, window = 1.0, 0, []
losses, beta_schedule, weight_ranges = [], [], []
for step in range(110):
    eps = max(0.05, 1 - step / 60)
    if rng.random() < eps:
        action = int(rng.integers(N_ACTIONS))
    else:
        with torch.no_grad():
            action = online(one_hot([state])).argmax(1).item()
    nxt, reward, done = env_step(state, action)
    window.append((state, action, reward))
    if len(window) == N_STEP or done:
        ret = sum(r * GAMMA**k for k, (_, _, r) in enumerate(window))
        s0, a0, _ = window[0]
        data[tree.write] = (s0, a0, ret, nxt, float(done), len(window))
        tree.add(max_priority)
        window = [] if done else window[1:]
    state = nxt
    if tree.size < 32:
        continue
    beta = min(1.0, 0.4 + 0.6 * step / 110)
    segment, idxs = tree.total / 32, []
    for i in range(32):
        idxs.append(tree.get(rng.uniform(segment * i, segment * (i + 1))))
    priorities = tree.tree[idxs]
    probs = priorities / tree.total
    weights = (tree.size * probs) ** (-beta)
    weights = torch.tensor(weights / weights.max(), dtype=torch.float64)
    batch = [data[i - tree.capacity + 1] for i in idxs]
    s, a, r, s2, d, n = (np.array(col) for col in zip(*batch))
    a = torch.tensor(a).unsqueeze(1)
    r, d = torch.tensor(r, dtype=torch.float64), torch.tensor(d, dtype=torch.float64)
    discount = torch.tensor(GAMMA**n, dtype=torch.float64)
    q = online(one_hot(s)).gather(1, a).squeeze(1)
    with torch.no_grad():
        next_action = online(one_hot(s2)).argmax(1, keepdim=True)
        next_q = target(one_hot(s2)).gather(1, next_action).squeeze(1)
        target_q = r + discount * (1 - d) * next_q
    td_error = q - target_q
    loss = (weights * F.smooth_l1_loss(q, target_q, reduction="none")).mean()
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(online.parameters(), 10.0)
    optimizer.step()
    new_priorities = (td_error.detach().abs().cpu().numpy() + 1e-6) ** ALPHA
    for i, p in zip(idxs, new_priorities):
        tree.update(i, p)
    max_priority = max(max_priority, new_priorities.max())
    losses.append(loss.item())
    weight_ranges.append(weights.min().item())
    if step % 30 == 0:
        target.load_state_dict(online.state_dict())

with torch.no_grad():
    q_table = online(torch.eye(N_STATES, dtype=torch.float64)).tolist()
    greedy = online(torch.eye(N_STATES, dtype=torch.float64)).argmax(1).tolist()
tree_total = float(tree.total)
weights_dtype = str(weights.dtype)
