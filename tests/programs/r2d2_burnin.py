"""R2D2's learner, as its PyTorch re-implementations write it, on a memory task written in
NumPy (a cue shown once, just after the burn-in, says which action pays at the last step): an
``nn.LSTM(batch_first=True)`` Q-network; fixed-length sequences stored in a prioritised replay
together with the recurrent state the actor had at their start; a burn-in prefix replayed
under ``torch.no_grad()`` to refresh that state before the trained part; n-step double-Q
targets passed through the invertible value rescaling h(x) = sign(x)(sqrt(|x| + 1) - 1) + eps x
and its closed-form inverse; the sequence priority ``eta * max|td| + (1 - eta) * mean|td|``;
importance weights from ``torch.pow``; masks for padded steps; ``Adam(eps=1e-3)``,
``clip_grad_norm_(40)`` and a target network copied every few updates."""

import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)  # the inverse rescaling magnifies float32 rounding
N_ACT, OBS, HIDDEN, SEQ, BURN_IN, N_STEP = 2, 3, 16, 5, 2, 2
LEARN = SEQ - BURN_IN
GAMMA, ETA, EPS, BATCH, ALPHA, BETA = 0.97, 0.9, 1e-3, 8, 0.6, 0.4


def value_rescale(x, eps=EPS):
    return torch.sign(x) * (torch.sqrt(torch.abs(x) + 1) - 1) + eps * x


def inverse_value_rescale(x, eps=EPS):
    return torch.sign(x) * (
        ((torch.sqrt(1 + 4 * eps * (torch.abs(x) + 1 + eps)) - 1) / (2 * eps)).pow(2) - 1
    )


class RecurrentQ(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(OBS + N_ACT + 1, HIDDEN)
        self.lstm = nn.LSTM(HIDDEN, HIDDEN, batch_first=True)
        self.advantage = nn.Linear(HIDDEN, N_ACT)
        self.value = nn.Linear(HIDDEN, 1)

    def forward(self, obs, last_action, last_reward, hidden=None):
        x = torch.cat(
            [obs, F.one_hot(last_action, N_ACT).to(obs.dtype), last_reward.unsqueeze(-1)], -1
        )
        out, hidden = self.lstm(F.relu(self.encoder(x)), hidden)
        adv = self.advantage(out)
        return self.value(out) + adv - adv.mean(-1, keepdim=True), hidden


def episodes(rng, net, epsilon, n=4):
    """``n`` actors at once, each with its own exploration rate. Cue in {0, 1} shown at t=BURN_IN only; action == cue at the last
    step pays 1."""
    cue = rng.integers(2, size=n)
    obs = np.zeros((n, SEQ + N_STEP, OBS))
    obs[np.arange(n), BURN_IN, cue] = 1.0
    obs[:, :, 2] = np.arange(SEQ + N_STEP) / SEQ
    hidden = (torch.zeros(1, n, HIDDEN), torch.zeros(1, n, HIDDEN))
    start_hidden = tuple(h.clone() for h in hidden)
    actions, rewards = np.zeros((n, SEQ + N_STEP), dtype=np.int64), np.zeros((n, SEQ + N_STEP))
    last_a, last_r = torch.zeros(n, 1, dtype=torch.long), torch.zeros(n, 1)
    for t in range(SEQ + N_STEP):
        with torch.no_grad():
            q, hidden = net(torch.tensor(obs[:, t : t + 1]), last_a, last_r, hidden)
        greedy = q[:, 0].argmax(-1).numpy()
        a = np.where(rng.random(n) > epsilon, greedy, rng.integers(N_ACT, size=n))
        r = (a == cue).astype(np.float64) if t == SEQ - 1 else np.zeros(n)
        actions[:, t], rewards[:, t] = a, r
        last_a, last_r = torch.from_numpy(a)[:, None], torch.from_numpy(r)[:, None]
    done = np.arange(SEQ + N_STEP) >= SEQ - 1
    return [
        dict(
            obs=obs[i],
            actions=actions[i],
            rewards=rewards[i],
            done=done,
            cue=int(cue[i]),
            hidden=tuple(h[:, i : i + 1] for h in start_hidden),
        )
        for i in range(n)
    ]


def batch_of(seqs):
    def stack(key, dtype=None):
        return torch.from_numpy(np.stack([s[key] for s in seqs])).to(
            dtype or torch.get_default_dtype()
        )

    actions = stack("actions", torch.long)
    last_actions = torch.cat([torch.zeros_like(actions[:, :1]), actions[:, :-1]], 1)
    rewards = stack("rewards")
    last_rewards = torch.cat([torch.zeros_like(rewards[:, :1]), rewards[:, :-1]], 1)
    hidden = tuple(torch.cat([s["hidden"][i] for s in seqs], 1) for i in range(2))
    return stack("obs"), actions, last_actions, rewards, last_rewards, stack("done"), hidden


def learn(net, target_net, optimizer, seqs, weights):
    obs, actions, last_actions, rewards, last_rewards, done, hidden = batch_of(seqs)
    with torch.no_grad():  # burn-in: only refresh the stored recurrent state
        _, hidden = net(
            obs[:, :BURN_IN], last_actions[:, :BURN_IN], last_rewards[:, :BURN_IN], hidden
        )
        _, target_hidden = target_net(
            obs[:, :BURN_IN], last_actions[:, :BURN_IN], last_rewards[:, :BURN_IN], hidden
        )
    rest = slice(BURN_IN, None)
    q, _ = net(obs[:, rest], last_actions[:, rest], last_rewards[:, rest], hidden)
    with torch.no_grad():
        q_target, _ = target_net(obs[:, rest], last_actions[:, rest], last_rewards[:, rest], hidden)
    q_taken = q[:, :LEARN].gather(2, actions[:, BURN_IN:SEQ].unsqueeze(-1)).squeeze(-1)
    best = q[:, N_STEP:].detach().argmax(-1, keepdim=True)
    bootstrap = inverse_value_rescale(q_target[:, N_STEP:].gather(2, best).squeeze(-1))
    returns = torch.zeros_like(q_taken)
    alive = torch.ones_like(q_taken)
    for k in range(N_STEP):
        returns = returns + alive * GAMMA**k * rewards[:, BURN_IN + k : SEQ + k]
        alive = alive * (1 - done[:, BURN_IN + k : SEQ + k])
    target = value_rescale(returns + alive * GAMMA**N_STEP * bootstrap[:, :LEARN])
    td = target - q_taken
    loss = (weights.unsqueeze(1) * 0.5 * td.pow(2)).mean()
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(net.parameters(), 40.0)
    optimizer.step()
    abs_td = td.detach().abs()
    priorities = ETA * abs_td.max(dim=1)[0] + (1 - ETA) * abs_td.mean(dim=1)
    return loss.item(), priorities.numpy(), target_hidden[0].abs().mean().item()


net = RecurrentQ()
target_net = copy.deepcopy(net)
optimizer = torch.optim.Adam(net.parameters(), lr=1e-2, eps=1e-3)
rng = np.random.default_rng(0)
replay, priorities, log = [], [], []
ACTOR_EPSILONS = 0.5 ** (1 + np.arange(4) / 3)  # Ape-X's per-actor schedule, milder
for it in range(100):
    if it % 2 == 0:  # the actors hand over sequences every second learner step
        for sequence in episodes(rng, net, epsilon=ACTOR_EPSILONS):
            replay.append(sequence)
            priorities.append(max(priorities, default=1.0))
    p = np.array(priorities) ** ALPHA
    p /= p.sum()
    idx = rng.choice(len(replay), BATCH, p=p)
    weights = torch.pow(torch.from_numpy(len(replay) * p[idx]), -BETA)
    weights = weights / weights.max()
    loss, new_priorities, hidden_scale = learn(
        net, target_net, optimizer, [replay[i] for i in idx], weights
    )
    for i, pr in zip(idx, new_priorities):
        priorities[i] = float(pr)
    if it % 5 == 4:
        target_net.load_state_dict(net.state_dict())
    log.append([loss, float(new_priorities.mean()), hidden_scale])

wins = episodes(rng, net, np.zeros(20), n=20)
greedy_success = float(np.mean([w["rewards"][SEQ - 1] for w in wins]))
x = torch.tensor([-50.0, -1.0, 0.0, 0.5, 20.0])
rescale_roundtrip = (inverse_value_rescale(value_rescale(x)) - x).abs().max().item()
rescaled = value_rescale(x).tolist()
