"""Categorical (C51) distributional DQN (Bellemare et al. 2017) as its PyTorch ports write it
(after CleanRL's c51.py): the network outputs a softmax over 51 atoms per action, Q values are
the expectation ``(probs * atoms).sum(-1)``, and the target distribution is projected onto the
fixed support with ``floor``/``ceil`` and two ``index_add_`` calls on the flattened batch, the
``l == u`` case fixed as the original code does; trained with the cross-entropy
``-(target * log_probs).sum(-1)`` on a small chain MDP written in NumPy whose returns are
random, with a target network copied by ``load_state_dict``."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy

N_STATES, N_ACTIONS, N_ATOMS, V_MIN, V_MAX, GAMMA = 6, 2, 51, -2.0, 8.0, 0.9


class Chain:
    """Walk right to the end for a noisy reward around 5; walking left ends with reward 1."""

    def __init__(self, rng):
        self.rng, self.state = rng, 0

    def step(self, action):
        if action == 0:
            self.state = 0
            return 0, 1.0, True
        self.state += 1
        if self.state == N_STATES - 1:
            self.state = 0
            return 0, float(self.rng.choice([3.0, 7.0])), True
        return self.state, 0.0, False


class C51(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("atoms", torch.linspace(V_MIN, V_MAX, steps=N_ATOMS))
        self.net = nn.Sequential(nn.Linear(N_STATES, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.head = nn.Linear(64, N_ACTIONS * N_ATOMS)

    def forward(self, x):
        logits = self.head(self.net(x)).view(len(x), N_ACTIONS, N_ATOMS)
        probs = F.softmax(logits, dim=2)
        return logits, probs, (probs * self.atoms).sum(2)


def project(next_probs, rewards, dones, atoms):
    delta_z = (V_MAX - V_MIN) / (N_ATOMS - 1)
    tz = (rewards.unsqueeze(1) + GAMMA * atoms.unsqueeze(0) * (1 - dones.unsqueeze(1))).clamp(
        V_MIN, V_MAX
    )
    b = (tz - V_MIN) / delta_z
    lower, upper = b.floor().long(), b.ceil().long()
    lower[(upper > 0) & (lower == upper)] -= 1
    upper[(lower < N_ATOMS - 1) & (lower == upper)] += 1
    offset = (torch.arange(len(rewards)) * N_ATOMS).unsqueeze(1).expand(len(rewards), N_ATOMS)
    target = torch.zeros(len(rewards) * N_ATOMS)
    target.index_add_(0, (lower + offset).view(-1), (next_probs * (upper.float() - b)).view(-1))
    target.index_add_(0, (upper + offset).view(-1), (next_probs * (b - lower.float())).view(-1))
    return target.view(len(rewards), N_ATOMS)


rng = np.random.default_rng(0)
env = Chain(rng)
q_net = init_from_numpy(C51(), seed=1)
target_net = init_from_numpy(C51(), seed=1)
optimizer = torch.optim.Adam(q_net.parameters(), lr=2.5e-3, eps=0.01 / 32)
eye = torch.eye(N_STATES)
buffer, state, losses, mass_errors = [], 0, [], []
for step in range(400):
    epsilon = max(0.05, 1.0 - step / 200)
    if rng.random() < epsilon:
        action = int(rng.integers(N_ACTIONS))
    else:
        with torch.no_grad():
            action = int(q_net(eye[state : state + 1])[2].argmax(1).item())
    next_state, reward, done = env.step(action)
    buffer.append((state, action, reward, next_state, float(done)))
    state = next_state
    if step >= 64 and step % 2 == 0:
        idx = rng.integers(len(buffer), size=32)
        s, a, r, s2, d = (np.array(col) for col in zip(*[buffer[i] for i in idx]))
        s, s2 = eye[torch.from_numpy(s)], eye[torch.from_numpy(s2)]
        a = torch.from_numpy(a)
        r, d = torch.from_numpy(r).float(), torch.from_numpy(d).float()
        with torch.no_grad():
            _, next_probs, next_q = target_net(s2)
            best = next_q.argmax(1)
            target = project(next_probs[torch.arange(32), best], r, d, target_net.atoms)
            mass_errors.append(float((target.sum(1) - 1).abs().max()))
        logits = q_net(s)[0][torch.arange(32), a]
        loss = -(target * F.log_softmax(logits, dim=1)).sum(1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    if step % 50 == 0:
        target_net.load_state_dict(q_net.state_dict())

with torch.no_grad():
    _, probs, q_values = q_net(eye)
start_q = q_values[0].tolist()
end_distribution = probs[N_STATES - 2, 1].tolist()
greedy = q_values.argmax(1).tolist()
atoms = q_net.atoms.tolist()
