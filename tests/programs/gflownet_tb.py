"""A GFlowNet trained with trajectory balance (Malkin et al. 2022) on the hypergrid, as the
torchgfn tutorials and the authors' notebook write it: an MLP forward policy over "step up
in dimension d" and "stop" whose invalid actions are masked with ``masked_fill(-inf)``, log
probabilities from ``torch.distributions.Categorical(logits=...).log_prob``, a uniform
backward policy over a state's parents, a learned ``log Z`` in its own Adam param group with
a larger learning rate, and the loss ``(log Z + sum log P_F - log R(x) - sum log P_B)^2``;
the sampled terminal states are checked against the reward distribution. Actions are drawn
from the policy's probabilities with NumPy so that both libraries walk the same paths."""

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy

H, DIM, BATCH = 4, 2, 32


def reward(x):
    ax = (x / (H - 1) - 0.5).abs()
    return (
        0.01 + 0.5 * ((ax > 0.25) & (ax <= 0.5)).all(-1) + 2.0 * ((ax > 0.3) & (ax < 0.4)).all(-1)
    )


def encode(x):
    return nn.functional.one_hot(x, H).float().flatten(1)


def sample_actions(rng, logits):
    probs = logits.softmax(-1).detach().numpy().astype(np.float64)
    cdf = probs.cumsum(1)
    u = rng.random((probs.shape[0], 1)) * cdf[:, -1:]
    return torch.from_numpy((u > cdf).sum(1))


policy = init_from_numpy(
    nn.Sequential(
        nn.Linear(H * DIM, 64),
        nn.LeakyReLU(),
        nn.Linear(64, 64),
        nn.LeakyReLU(),
        nn.Linear(64, DIM + 1),
    ),
    seed=3,
)
log_z = nn.Parameter(torch.zeros(1))
optimizer = torch.optim.Adam(
    [{"params": policy.parameters(), "lr": 1e-2}, {"params": [log_z], "lr": 0.3}]
)
rng = np.random.default_rng(0)
losses, log_zs, terminal_counts = [], [], torch.zeros(H, H)
for it in range(30):
    x = torch.zeros(BATCH, DIM, dtype=torch.long)
    done = torch.zeros(BATCH, dtype=torch.bool)
    sum_log_pf, sum_log_pb = torch.zeros(BATCH), torch.zeros(BATCH)
    while not done.all():
        logits = policy(encode(x))
        invalid = torch.cat([x == H - 1, torch.zeros(BATCH, 1, dtype=torch.bool)], 1)
        logits = logits.masked_fill(invalid, float("-inf"))
        actions = sample_actions(rng, logits)
        log_pf = torch.distributions.Categorical(logits=logits).log_prob(actions)
        sum_log_pf = sum_log_pf + torch.where(done, torch.zeros_like(log_pf), log_pf)
        stop = actions == DIM
        moving = ~done & ~stop
        step = nn.functional.one_hot(actions.clamp(max=DIM - 1), DIM) * moving.unsqueeze(1)
        x = x + step
        n_parents = (x > 0).sum(1).clamp(min=1).float()
        sum_log_pb = sum_log_pb - torch.where(moving, n_parents.log(), torch.zeros_like(n_parents))
        done = done | stop
    log_r = reward(x).log()
    loss = ((log_z + sum_log_pf - log_r - sum_log_pb) ** 2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    log_zs.append(log_z.item())
    if it >= 15:
        terminal_counts.index_put_((x[:, 0], x[:, 1]), torch.ones(BATCH), accumulate=True)

grid = torch.stack(torch.meshgrid(torch.arange(H), torch.arange(H), indexing="ij"), -1).reshape(
    -1, DIM
)
true_probs = reward(grid) / reward(grid).sum()
empirical = terminal_counts.flatten() / terminal_counts.sum()
l1_error = (empirical - true_probs).abs().sum().item()
true_log_z = reward(grid).sum().log().item()
high_reward_mass = empirical[true_probs > true_probs.mean()].sum().item()
mask_logits = policy(encode(torch.full((1, DIM), H - 1))).masked_fill(
    torch.tensor([[True, True, False]]), float("-inf")
)
corner_probs = mask_logits.softmax(-1).tolist()
