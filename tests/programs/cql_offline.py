"""Conservative Q-learning (Kumar et al. 2020) for discrete actions, as offline-RL codebases
(d3rlpy-style DiscreteCQL, the CQL authors' Atari code) write it in PyTorch: a fixed dataset of
transitions logged by a poor behaviour policy on a NumPy gridworld, a double-DQN target with a
target network synced by ``load_state_dict``, the conservative penalty
``torch.logsumexp(q, dim=1) - q.gather(1, actions)``, the ``smooth_l1_loss`` TD error, and a
comparison with plain offline DQN on how much each overestimates the values of actions the
data never took; also quantile-regression DQN's quantile Huber loss (``F.huber_loss`` with
``reduction="none"``, weights ``|tau - 1{u < 0}|``) on the same data, its quantiles ordered by
``torch.sort``."""

import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy

N_STATES, N_ACTIONS, GAMMA, N_QUANTILES = 6, 3, 0.9, 8


def make_dataset(rng, n=600):
    """Chain: action 1 moves right (reward 1 at the end), 0 stays (reward 0.1), 2 is never
    logged. The behaviour policy takes action 0 with probability 0.7."""
    s = rng.integers(0, N_STATES, n)
    a = np.where(rng.random(n) < 0.7, 0, 1)
    s2 = np.where(a == 1, np.minimum(s + 1, N_STATES - 1), s)
    r = np.where((a == 1) & (s2 == N_STATES - 1), 1.0, np.where(a == 0, 0.1, 0.0))
    done = (a == 1) & (s2 == N_STATES - 1)
    return [torch.from_numpy(v) for v in (s, a, r.astype(np.float32), s2, done.astype(np.float32))]


def q_net(outputs, seed):
    return init_from_numpy(
        nn.Sequential(nn.Linear(N_STATES, 32), nn.ReLU(), nn.Linear(32, outputs)), seed=seed
    )


def train(alpha, rng_seed):
    rng = np.random.default_rng(rng_seed)
    net = q_net(N_ACTIONS, 1)
    target = copy.deepcopy(net)
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    losses = []
    for step in range(80):
        idx = torch.from_numpy(rng.integers(0, len(S), 64))
        s, a, r, s2, d = eye[S[idx]], A[idx], R[idx], eye[S2[idx]], D[idx]
        q = net(s)
        q_taken = q.gather(1, a.unsqueeze(1)).squeeze(1)
        with torch.no_grad():
            best = net(s2).argmax(1, keepdim=True)
            y = r + GAMMA * (1 - d) * target(s2).gather(1, best).squeeze(1)
        td = F.smooth_l1_loss(q_taken, y)
        conservative = (torch.logsumexp(q, dim=1) - q_taken).mean()
        loss = td + alpha * conservative
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if step % 20 == 0:
            target.load_state_dict(net.state_dict())
    return net, losses


def quantile_huber(pred, target, taus, kappa=1.0):
    diff = target.unsqueeze(1) - pred.unsqueeze(2)  # (B, N pred, N target)
    huber = F.huber_loss(
        pred.unsqueeze(2).expand_as(diff),
        target.unsqueeze(1).expand_as(diff),
        reduction="none",
        delta=kappa,
    )
    weight = (taus.view(1, -1, 1) - (diff.detach() < 0).float()).abs()
    return (weight * huber / kappa).sum(1).mean()


S, A, R, S2, D = make_dataset(np.random.default_rng(0))
eye = torch.eye(N_STATES)
cql, cql_losses = train(alpha=1.0, rng_seed=1)
dqn, dqn_losses = train(alpha=0.0, rng_seed=1)
with torch.no_grad():
    q_cql, q_dqn = cql(eye), dqn(eye)
unseen_gap_cql = (q_cql[:, 2] - q_cql[:, :2].max(1).values).mean().item()
unseen_gap_dqn = (q_dqn[:, 2] - q_dqn[:, :2].max(1).values).mean().item()
cql_greedy = q_cql.argmax(1).tolist()
cql_values = q_cql[0].tolist()

rng = np.random.default_rng(2)
qr = q_net(N_ACTIONS * N_QUANTILES, 3)
optimizer = torch.optim.Adam(qr.parameters(), lr=3e-3)
taus = (torch.arange(N_QUANTILES, dtype=torch.float32) + 0.5) / N_QUANTILES
qr_losses = []
for step in range(80):
    idx = torch.from_numpy(rng.integers(0, len(S), 64))
    s, a, r, s2, d = eye[S[idx]], A[idx], R[idx], eye[S2[idx]], D[idx]
    quantiles = qr(s).view(-1, N_ACTIONS, N_QUANTILES)[torch.arange(64), a]
    with torch.no_grad():
        next_q = qr(s2).view(-1, N_ACTIONS, N_QUANTILES)[:, :2]
        best = next_q.mean(2).argmax(1)
        target = r.unsqueeze(1) + GAMMA * (1 - d).unsqueeze(1) * next_q[torch.arange(64), best]
    loss = quantile_huber(quantiles, target, taus)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    qr_losses.append(loss.item())
with torch.no_grad():
    learned = qr(eye).view(N_STATES, N_ACTIONS, N_QUANTILES)[:, 1]
sorted_vals, order = torch.sort(learned, dim=1)
monotone_fraction = (order == torch.arange(N_QUANTILES)).float().mean().item()
quantile_sample = learned[N_STATES - 2].tolist()
