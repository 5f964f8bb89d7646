"""Soft actor-critic for discrete actions (Christodoulou, 2019), as the Deep-RL-algorithms and
CleanRL ``sac_atari`` code write it, on a cliff corridor written in NumPy: twin Q-networks and
their Polyak-averaged targets, a categorical policy whose expectations are taken exactly over
the actions (``(probs * (min_q - alpha * log_pi)).sum(dim=1)``), log-probabilities guarded
with ``torch.log(probs + (probs == 0.0).float() * 1e-8)``, the target entropy
``-0.98 * log(1 / |A|)`` and the temperature learned through ``log_alpha`` (a bare tensor with
``requires_grad=True`` in its own Adam), actions sampled from ``Categorical(probs)``, a replay
buffer of NumPy arrays and the soft update ``target.data.copy_(tau * local + (1 - tau) *
target)``."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical

torch.manual_seed(0)
N_CELLS, N_ACT, GAMMA, TAU, BATCH = 6, 3, 0.9, 0.05, 32


def env_step(pos, action):
    """Actions: left, stay, right. The right end pays 1 and restarts; stepping left of cell 0
    falls off the cliff (-1, restart)."""
    nxt = pos + action - 1
    if nxt < 0:
        return 0, -1.0, True
    if nxt >= N_CELLS - 1:
        return 0, 1.0, True
    return nxt, -0.01, False


def net(out):
    return nn.Sequential(nn.Linear(N_CELLS, 32), nn.ReLU(), nn.Linear(32, out))


class Actor(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = net(N_ACT)

    def forward(self, state):
        action_probabilities = F.softmax(self.body(state), dim=-1)
        max_probability_action = torch.argmax(action_probabilities, dim=-1)
        action_distribution = Categorical(action_probabilities)
        action = action_distribution.sample().cpu()
        z = action_probabilities == 0.0
        z = z.float() * 1e-8
        log_action_probabilities = torch.log(action_probabilities + z)
        return action, (action_probabilities, log_action_probabilities), max_probability_action


def soft_update(local_model, target_model, tau):
    for target_param, local_param in zip(target_model.parameters(), local_model.parameters()):
        target_param.data.copy_(tau * local_param.data + (1.0 - tau) * target_param.data)


actor = Actor()
critic1, critic2 = net(N_ACT), net(N_ACT)
critic1_target, critic2_target = net(N_ACT), net(N_ACT)
critic1_target.load_state_dict(critic1.state_dict())
critic2_target.load_state_dict(critic2.state_dict())
actor_opt = torch.optim.Adam(actor.parameters(), lr=3e-3, eps=1e-4)
critic1_opt = torch.optim.Adam(critic1.parameters(), lr=3e-3, eps=1e-4)
critic2_opt = torch.optim.Adam(critic2.parameters(), lr=3e-3, eps=1e-4)
target_entropy = -np.log(1.0 / N_ACT) * 0.98
log_alpha = torch.zeros(1, requires_grad=True)
alpha = log_alpha.exp().item()
alpha_optim = torch.optim.Adam([log_alpha], lr=3e-3, eps=1e-4)

buffer = {k: [] for k in ("s", "a", "r", "s2", "d")}
pos, episode_return, returns, log = 0, 0.0, [], []
eye = np.eye(N_CELLS, dtype=np.float32)
rng = np.random.default_rng(0)
for step in range(240):
    with torch.no_grad():
        action, _, _ = actor(torch.from_numpy(eye[pos])[None])
    a = int(action.item())
    nxt, reward, done = env_step(pos, a)
    for key, value in zip(buffer, (eye[pos], a, reward, eye[nxt], float(done))):
        buffer[key].append(value)
    episode_return += reward
    pos = nxt
    if done:
        returns.append(round(episode_return, 4))
        episode_return = 0.0
    if step < BATCH or step % 2:
        continue
    idx = rng.integers(0, len(buffer["r"]), BATCH)
    s, a_b, r, s2, d = (torch.tensor(np.array(buffer[k])[idx]) for k in buffer)
    r, d = r.float().unsqueeze(1), d.float().unsqueeze(1)
    with torch.no_grad():
        _, (next_probs, next_log_probs), _ = actor(s2)
        qf1_next_target, qf2_next_target = critic1_target(s2), critic2_target(s2)
        min_qf_next_target = next_probs * (
            torch.min(qf1_next_target, qf2_next_target) - alpha * next_log_probs
        )
        min_qf_next_target = min_qf_next_target.sum(dim=1).unsqueeze(-1)
        next_q_value = r + (1.0 - d) * GAMMA * min_qf_next_target
    qf1 = critic1(s).gather(1, a_b.long().unsqueeze(-1))
    qf2 = critic2(s).gather(1, a_b.long().unsqueeze(-1))
    qf1_loss, qf2_loss = F.mse_loss(qf1, next_q_value), F.mse_loss(qf2, next_q_value)
    for opt, loss in ((critic1_opt, qf1_loss), (critic2_opt, qf2_loss)):
        opt.zero_grad()
        loss.backward()
        opt.step()

    _, (action_probabilities, log_action_probabilities), _ = actor(s)
    with torch.no_grad():
        min_qf_pi = torch.min(critic1(s), critic2(s))
    inside_term = alpha * log_action_probabilities - min_qf_pi
    policy_loss = (action_probabilities * inside_term).sum(dim=1).mean()
    log_action_probabilities = torch.sum(log_action_probabilities * action_probabilities, dim=1)
    actor_opt.zero_grad()
    policy_loss.backward()
    actor_opt.step()

    alpha_loss = -(log_alpha * (log_action_probabilities + target_entropy).detach()).mean()
    alpha_optim.zero_grad()
    alpha_loss.backward()
    alpha_optim.step()
    alpha = log_alpha.exp().item()
    soft_update(critic1, critic1_target, TAU)
    soft_update(critic2, critic2_target, TAU)
    log.append([qf1_loss.item(), policy_loss.item(), alpha_loss.item(), alpha])

with torch.no_grad():
    _, (probs, log_probs), greedy = actor(torch.from_numpy(eye))
    entropy = -(probs * log_probs).sum(1).mean().item()
greedy_actions = greedy.tolist()
policy_repr = repr(Categorical(probs))
q_values = torch.min(critic1(torch.from_numpy(eye)), critic2(torch.from_numpy(eye))).tolist()
alpha_requires_grad = [log_alpha.requires_grad, log_alpha.is_leaf, tuple(log_alpha.grad.shape)]
target_entropy_value = float(target_entropy)
