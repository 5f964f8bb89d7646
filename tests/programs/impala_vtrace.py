"""IMPALA's off-policy actor-critic, as torchbeast's ``vtrace.py`` and ``monobeast.py`` write
it: actors run a stale copy of the learner's policy (``copy.deepcopy`` refreshed every few
updates) on a tiny corridor written in NumPy and hand over time-major unrolls with their
behaviour logits; the learner computes V-trace targets under ``torch.no_grad()`` (importance
ratios from ``log_softmax(...).gather``, clipped with ``torch.clamp(max=...)``, a reversed scan
with ``torch.stack``), the policy-gradient loss from ``F.nll_loss(..., reduction="none")`` on
flattened logits, the baseline loss, the entropy bonus from ``F.softmax * F.log_softmax``,
clipped rewards, RMSprop with ``alpha=0.99, eps=0.01`` and a ``LambdaLR`` linear decay, and
``nn.utils.clip_grad_norm_``. V-trace is checked against a float64 NumPy reference too."""

import collections
import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
N_CELLS, N_ACT, T, B, GAMMA = 5, 3, 6, 4, 0.9
VTraceReturns = collections.namedtuple("VTraceReturns", "vs pg_advantages")


def action_log_probs(policy_logits, actions):
    return -F.nll_loss(
        F.log_softmax(torch.flatten(policy_logits, 0, -2), dim=-1),
        target=torch.flatten(actions),
        reduction="none",
    ).view_as(actions)


@torch.no_grad()
def from_importance_weights(
    log_rhos,
    discounts,
    rewards,
    values,
    bootstrap_value,
    clip_rho_threshold=1.0,
    clip_pg_rho_threshold=1.0,
):
    rhos = torch.exp(log_rhos)
    clipped_rhos = torch.clamp(rhos, max=clip_rho_threshold)
    cs = torch.clamp(rhos, max=1.0)
    values_t_plus_1 = torch.cat([values[1:], torch.unsqueeze(bootstrap_value, 0)], dim=0)
    deltas = clipped_rhos * (rewards + discounts * values_t_plus_1 - values)
    acc = torch.zeros_like(bootstrap_value)
    result = []
    for t in range(discounts.shape[0] - 1, -1, -1):
        acc = deltas[t] + discounts[t] * cs[t] * acc
        result.append(acc)
    result.reverse()
    vs_minus_v_xs = torch.stack(result)
    vs = torch.add(vs_minus_v_xs, values)
    vs_t_plus_1 = torch.cat([vs[1:], torch.unsqueeze(bootstrap_value, 0)], dim=0)
    clipped_pg_rhos = torch.clamp(rhos, max=clip_pg_rho_threshold)
    pg_advantages = clipped_pg_rhos * (rewards + discounts * vs_t_plus_1 - values)
    return VTraceReturns(vs=vs, pg_advantages=pg_advantages)


def vtrace_numpy(log_rhos, discounts, rewards, values, bootstrap):
    """The paper's definition, term by term, in float64."""
    rhos = np.minimum(np.exp(log_rhos), 1.0)
    vs = np.zeros_like(values)
    for s in range(T):
        total = values[s].copy()
        for t in range(s, T):
            nxt = values[t + 1] if t + 1 < T else bootstrap
            delta = rhos[t] * (rewards[t] + discounts[t] * nxt - values[t])
            total += np.prod(discounts[s:t], 0) * np.prod(rhos[s:t], 0) * delta
        vs[s] = total
    return vs


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.core = nn.Sequential(nn.Linear(N_CELLS, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU())
        self.policy = nn.Linear(32, N_ACT)
        self.baseline = nn.Linear(32, 1)

    def forward(self, obs):
        t, b = obs.shape[:2]
        x = self.core(torch.flatten(obs, 0, 1).float())
        return self.policy(x).view(t, b, N_ACT), self.baseline(x).view(t, b)


def env_step(pos, action):
    """Action 2 moves right, 0 left, 1 stays; reaching the right end pays 1 and restarts."""
    pos = pos + (action == 2) - (action == 0)
    pos = np.clip(pos, 0, N_CELLS - 1)
    done = pos == N_CELLS - 1
    return np.where(done, 0, pos), done.astype(np.float32), done


def act(actor, pos, rng):
    obs, actions, logits, rewards, dones = [], [], [], [], []
    for _ in range(T + 1):
        x = F.one_hot(torch.from_numpy(pos), N_CELLS)
        with torch.no_grad():
            lg, _ = actor(x[None])
        probs = F.softmax(lg[0], dim=-1).double().numpy()
        a = np.array([rng.choice(N_ACT, p=p / p.sum()) for p in probs])
        obs.append(x)
        logits.append(lg[0])
        actions.append(torch.from_numpy(a))
        pos, r, d = env_step(pos, a)
        rewards.append(torch.from_numpy(r))
        dones.append(torch.from_numpy(d))
    batch = dict(obs=obs, action=actions, policy_logits=logits, reward=rewards, done=dones)
    return {k: torch.stack(v) for k, v in batch.items()}, pos


def compute_baseline_loss(advantages):
    return 0.5 * torch.sum(advantages**2)


def compute_entropy_loss(logits):
    policy = F.softmax(logits, dim=-1)
    log_policy = F.log_softmax(logits, dim=-1)
    return torch.sum(policy * log_policy)


def compute_policy_gradient_loss(logits, actions, advantages):
    cross_entropy = F.nll_loss(
        F.log_softmax(torch.flatten(logits, 0, 1), dim=-1),
        target=torch.flatten(actions, 0, 1),
        reduction="none",
    )
    cross_entropy = cross_entropy.view_as(advantages)
    return torch.sum(cross_entropy * advantages.detach())


learner = Net()
actor = copy.deepcopy(learner)
optimizer = torch.optim.RMSprop(learner.parameters(), lr=0.01, momentum=0, eps=0.01, alpha=0.99)
UPDATES = 30
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 1 - epoch / UPDATES)
rng = np.random.default_rng(0)
pos = np.zeros(B, dtype=np.int64)
stats = []
for update in range(UPDATES):
    batch, pos = act(actor, pos, rng)
    learner_logits, learner_baseline = learner(batch["obs"])
    bootstrap_value = learner_baseline[-1]
    batch = {key: tensor[1:] for key, tensor in batch.items()}
    learner_logits, learner_baseline = learner_logits[:-1], learner_baseline[:-1]
    rewards = batch["reward"]
    clipped_rewards = torch.clamp(rewards, -1, 1)
    discounts = (~batch["done"]).float() * GAMMA
    target_lp = action_log_probs(learner_logits, batch["action"])
    behaviour_lp = action_log_probs(batch["policy_logits"], batch["action"])
    log_rhos = target_lp - behaviour_lp
    vtrace_returns = from_importance_weights(
        log_rhos, discounts, clipped_rewards, learner_baseline, bootstrap_value
    )
    pg_loss = compute_policy_gradient_loss(
        learner_logits, batch["action"], vtrace_returns.pg_advantages
    )
    baseline_loss = 0.5 * compute_baseline_loss(vtrace_returns.vs - learner_baseline)
    entropy_loss = 0.01 * compute_entropy_loss(learner_logits)
    total_loss = pg_loss + baseline_loss + entropy_loss
    optimizer.zero_grad()
    total_loss.backward()
    nn.utils.clip_grad_norm_(learner.parameters(), 40.0)
    optimizer.step()
    scheduler.step()
    if update % 3 == 2:
        actor.load_state_dict(learner.state_dict())
    stats.append(
        [
            total_loss.item(),
            pg_loss.item(),
            baseline_loss.item(),
            rewards.sum().item(),
            log_rhos.abs().max().item(),
        ]
    )

reference = vtrace_numpy(
    log_rhos.detach().double().numpy(),
    discounts.double().numpy(),
    clipped_rewards.double().numpy(),
    learner_baseline.detach().double().numpy(),
    bootstrap_value.detach().double().numpy(),
)
vtrace_gap = float(np.abs(reference - vtrace_returns.vs.double().numpy()).max())
vs_requires_grad = vtrace_returns.vs.requires_grad
last_lr = scheduler.get_last_lr()[0]
with torch.no_grad():
    logits, values = learner(F.one_hot(torch.arange(N_CELLS - 1), N_CELLS)[None])
greedy = logits[0].argmax(-1).tolist()
values_by_cell = values[0].tolist()
