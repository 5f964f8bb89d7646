"""Hindsight Experience Replay on the bit-flipping environment of the HER paper, as the common
PyTorch re-implementations write it: a goal-conditioned DQN on ``torch.cat([state, goal], -1)``,
epsilon-greedy episodes, every transition stored once with the real goal and again with
``k = 4`` goals replaced by states achieved later in the same episode (the "future" strategy),
rewards recomputed as ``-(achieved != goal).any()``, a deque replay buffer sampled with
``random.sample`` (``random.seed``), Huber loss (``nn.SmoothL1Loss``), targets from a target
network with ``max(1)[0]`` clipped to the reachable range ``[-1 / (1 - gamma), 0]`` with
``torch.clamp``, and Polyak averaging of the target with ``torch.no_grad()`` and ``mul_`` /
``add_(alpha=...)``. The goal success rate rises with HER where the sparse reward alone gives
almost nothing."""

import random
from collections import deque

import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(0)
random.seed(0)
N_BITS, GAMMA, K_FUTURE, BATCH, POLYAK = 4, 0.9, 4, 32, 0.9


class BitFlipEnv:
    def __init__(self, rng):
        self.rng = rng

    def reset(self):
        self.state = self.rng.integers(0, 2, N_BITS).astype(np.float32)
        self.goal = self.rng.integers(0, 2, N_BITS).astype(np.float32)
        return self.state.copy(), self.goal.copy()

    def step(self, action):
        self.state[action] = 1.0 - self.state[action]
        success = bool(np.array_equal(self.state, self.goal))
        return self.state.copy(), (0.0 if success else -1.0), success


class QNetwork(nn.Module):
    def __init__(self, hidden=64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2 * N_BITS, hidden), nn.ReLU(), nn.Linear(hidden, N_BITS)
        )

    def forward(self, state, goal):
        return self.net(torch.cat([state, goal], dim=-1))


def select_action(net, state, goal, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(N_BITS))
    with torch.no_grad():
        q = net(torch.from_numpy(state)[None], torch.from_numpy(goal)[None])
    return int(q.argmax(dim=1).item())


def store_episode(buffer, episode, use_her):
    for t, (s, a, r, s2, g) in enumerate(episode):
        buffer.append((s, a, r, s2, g, r == 0.0))
        if not use_her:
            continue
        for _ in range(K_FUTURE):
            future = random.randint(t, len(episode) - 1)
            new_goal = episode[future][3]
            reward = -float((s2 != new_goal).any())
            buffer.append((s, a, reward, s2, new_goal, reward == 0.0))


def optimise(net, target, optimizer, buffer):
    batch = random.sample(buffer, BATCH)
    s, a, r, s2, g, done = zip(*batch)
    s, s2, g = (torch.from_numpy(np.stack(x)) for x in (s, s2, g))
    a = torch.tensor(a).unsqueeze(1)
    r, done = torch.tensor(r), torch.tensor(done, dtype=torch.float32)
    with torch.no_grad():
        target_q = r + GAMMA * (1 - done) * target(s2, g).max(1)[0]
        target_q = torch.clamp(target_q, -1.0 / (1.0 - GAMMA), 0.0)
    q = net(s, g).gather(1, a).squeeze(1)
    loss = nn.SmoothL1Loss()(q, target_q)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        for p, p_targ in zip(net.parameters(), target.parameters()):
            p_targ.data.mul_(POLYAK)
            p_targ.data.add_(p.data, alpha=1 - POLYAK)
    return loss.item()


def run(use_her, seed, epochs=80):
    rng = np.random.default_rng(seed)
    env, net, target = BitFlipEnv(rng), QNetwork(), QNetwork()
    target.load_state_dict(net.state_dict())
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    buffer, successes, losses = deque(maxlen=5000), [], []
    for epoch in range(epochs):
        epsilon = max(0.1, 1.0 - epoch / 30)
        state, goal = env.reset()
        episode, success = [], False
        for _ in range(N_BITS):
            action = select_action(net, state, goal, epsilon, rng)
            next_state, reward, success = env.step(action)
            episode.append((state, action, reward, next_state, goal))
            state = next_state
            if success:
                break
        successes.append(success)
        store_episode(buffer, episode, use_her)
        if len(buffer) >= BATCH:
            losses += [optimise(net, target, optimizer, buffer) for _ in range(2)]
    wins = 0
    for _ in range(20):  # greedy evaluation
        state, goal = env.reset()
        for _ in range(N_BITS):
            state, _, done = env.step(select_action(net, state, goal, 0.0, rng))
            if done:
                wins += 1
                break
    return successes, losses, wins / 20, net


her_successes, her_losses, her_eval, her_net = run(True, seed=0)
torch.manual_seed(0)
random.seed(0)
plain_successes, plain_losses, plain_eval, _ = run(False, seed=0)
with torch.no_grad():
    s = torch.tensor([[0.0, 1.0, 0.0, 1.0]])
    q_one_flip = her_net(s, torch.tensor([[1.0, 1.0, 0.0, 1.0]]))[0].tolist()
best_flip = int(np.argmax(q_one_flip))
