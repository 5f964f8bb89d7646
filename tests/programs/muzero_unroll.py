"""MuZero's training step, as muzero-general and EfficientZero write it, on a tiny chain task
written in NumPy: representation, dynamics and prediction networks unrolled K steps from the
first observation along the stored actions, hidden states min-max scaled to [0, 1]; values and
rewards predicted as categorical distributions over an integer support, targets made with the
invertible transform h(x) = sign(x)(sqrt(|x| + 1) - 1) + eps x and a two-hot projection
(``floor``, ``scatter_``), predictions turned back with the inverse transform; the dynamics
gradient halved at every unroll step with ``register_hook(lambda grad: grad * 0.5)``, each
step's loss scaled by 1/K through a hook, cross-entropy with ``torch.log_softmax``,
``(-target * log_softmax).sum(1)``, and importance weights; n-step value targets."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
N_STATES, N_ACT, HIDDEN, SUPPORT, K, N_TD, DISCOUNT = 6, 2, 16, 5, 3, 3, 0.9
SUPPORT_SIZE = 2 * SUPPORT + 1
EPS = 0.001


def h(x):
    return torch.sign(x) * (torch.sqrt(torch.abs(x) + 1) - 1) + EPS * x


def scalar_to_support(x):
    """Two-hot: the transformed scalar split between its two neighbouring support points."""
    x = h(x).clamp(-SUPPORT, SUPPORT)
    floor = x.floor()
    prob = x - floor
    logits = torch.zeros(x.shape[0], x.shape[1], SUPPORT_SIZE, dtype=torch.float64)
    logits.scatter_(2, (floor + SUPPORT).long().unsqueeze(-1), (1 - prob).unsqueeze(-1))
    indexes = floor + SUPPORT + 1
    prob = prob.masked_fill_(2 * SUPPORT < indexes, 0.0)
    indexes = indexes.masked_fill_(2 * SUPPORT < indexes, 0.0)
    logits.scatter_(2, indexes.long().unsqueeze(-1), prob.unsqueeze(-1))
    return logits


def support_to_scalar(logits):
    probs = torch.softmax(logits, dim=1)
    support = torch.tensor(list(range(-SUPPORT, SUPPORT + 1))).expand(probs.shape).double()
    x = torch.sum(support * probs, dim=1, keepdim=True)
    # the inverse of h, from the MuZero appendix
    x = torch.sign(x) * (
        ((torch.sqrt(1 + 4 * EPS * (torch.abs(x) + 1 + EPS)) - 1) / (2 * EPS)) ** 2 - 1
    )
    return x


def scale_hidden(state):
    lo = state.min(1, keepdim=True)[0]
    hi = state.max(1, keepdim=True)[0]
    scale = hi - lo
    scale[scale < 1e-5] += 1e-5
    return (state - lo) / scale


class MuZeroNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.representation_network = nn.Sequential(
            nn.Linear(N_STATES, HIDDEN), nn.ELU(), nn.Linear(HIDDEN, HIDDEN)
        )
        self.dynamics_encoded_state_network = nn.Sequential(
            nn.Linear(HIDDEN + N_ACT, HIDDEN), nn.ELU(), nn.Linear(HIDDEN, HIDDEN)
        )
        self.dynamics_reward_network = nn.Linear(HIDDEN, SUPPORT_SIZE)
        self.prediction_policy_network = nn.Linear(HIDDEN, N_ACT)
        self.prediction_value_network = nn.Linear(HIDDEN, SUPPORT_SIZE)

    def prediction(self, encoded_state):
        return self.prediction_policy_network(encoded_state), self.prediction_value_network(
            encoded_state
        )

    def representation(self, observation):
        return scale_hidden(self.representation_network(observation.view(observation.shape[0], -1)))

    def dynamics(self, encoded_state, action):
        action_one_hot = torch.zeros((action.shape[0], N_ACT)).double()
        action_one_hot.scatter_(1, action.long(), 1.0)
        x = torch.cat((encoded_state, action_one_hot), dim=1)
        next_encoded_state = self.dynamics_encoded_state_network(x)
        reward = self.dynamics_reward_network(next_encoded_state)
        return scale_hidden(next_encoded_state), reward

    def initial_inference(self, observation):
        encoded_state = self.representation(observation)
        policy_logits, value = self.prediction(encoded_state)
        reward = torch.log(
            torch.zeros(1, SUPPORT_SIZE, dtype=torch.float64)
            .scatter(1, torch.tensor([[SUPPORT]]).long(), 1.0)
            .repeat(len(observation), 1)
        )
        return value, reward, policy_logits, encoded_state

    def recurrent_inference(self, encoded_state, action):
        next_encoded_state, reward = self.dynamics(encoded_state, action)
        policy_logits, value = self.prediction(next_encoded_state)
        return value, reward, policy_logits, next_encoded_state


def env_step(state, action):
    """Right moves toward the goal at the end (reward 2), left gives 0.2 at the left wall."""
    if action == 1:
        return (0, 2.0) if state == N_STATES - 1 else (state + 1, 0.0)
    return max(state - 1, 0), 0.2 if state == 0 else 0.0


def play(rng, model, length=12):
    state, states, actions, rewards, policies, roots = (
        int(rng.integers(N_STATES)),
        [],
        [],
        [],
        [],
        [],
    )
    for _ in range(length):
        with torch.no_grad():
            obs = F.one_hot(torch.tensor([state]), N_STATES).double()
            value, _, logits, _ = model.initial_inference(obs)
        policy = torch.softmax(logits, 1)[0].numpy().astype(np.float64)
        visit = 0.75 * policy + 0.25 * rng.dirichlet([0.3] * N_ACT)
        action = int(rng.choice(N_ACT, p=visit / visit.sum()))
        states.append(state)
        actions.append(action)
        policies.append(visit / visit.sum())
        roots.append(float(support_to_scalar(value)))
        state, reward = env_step(state, action)
        rewards.append(reward)
    return states, actions, rewards, policies, roots


def make_targets(game, start):
    states, actions, rewards, policies, roots = game
    values, target_rewards, target_policies, target_actions = [], [], [], []
    for index in range(start, start + K + 1):
        bootstrap = index + N_TD
        value = roots[bootstrap] * DISCOUNT**N_TD if bootstrap < len(roots) else 0.0
        for i, reward in enumerate(rewards[index:bootstrap]):
            value += reward * DISCOUNT**i
        values.append(value)
        target_rewards.append(rewards[index - 1] if index > start else 0.0)
        target_policies.append(policies[index])
        target_actions.append(actions[index])
    return states[start], target_actions, values, target_rewards, target_policies


model = MuZeroNetwork().double()  # float64: the inverse transform magnifies rounding
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
rng = np.random.default_rng(0)
games = [play(rng, model) for _ in range(4)]
losses, value_losses, reward_losses, policy_losses, priorities = [], [], [], [], []
for step in range(15):
    batch = [make_targets(games[i % 4], int(rng.integers(0, 12 - K - 1))) for i in range(8)]
    obs = F.one_hot(torch.tensor([b[0] for b in batch]), N_STATES).double()
    action_batch = torch.tensor([b[1][:K] for b in batch]).long().unsqueeze(-1)
    target_value = torch.tensor([b[2] for b in batch], dtype=torch.float64)
    target_reward = torch.tensor([b[3] for b in batch], dtype=torch.float64)
    target_policy = torch.tensor(np.array([b[4] for b in batch])).double()
    weight_batch = torch.linspace(0.6, 1.0, 8, dtype=torch.float64)
    target_value_scalar = np.array(target_value, dtype="float64")
    target_value = scalar_to_support(target_value)
    target_reward = scalar_to_support(target_reward)

    value, reward, policy_logits, hidden_state = model.initial_inference(obs)
    predictions = [(value, reward, policy_logits)]
    for i in range(1, action_batch.shape[1] + 1):
        value, reward, policy_logits, hidden_state = model.recurrent_inference(
            hidden_state, action_batch[:, i - 1]
        )
        hidden_state.register_hook(lambda grad: grad * 0.5)
        predictions.append((value, reward, policy_logits))

    value_loss, reward_loss, policy_loss = (0, 0, 0)
    value, reward, policy_logits = predictions[0]
    current_value_loss = (-target_value[:, 0] * torch.nn.LogSoftmax(dim=1)(value)).sum(1)
    value_loss += current_value_loss
    policy_loss += (-target_policy[:, 0] * torch.nn.LogSoftmax(dim=1)(policy_logits)).sum(1)
    pred_value_scalar = support_to_scalar(value).detach().numpy().squeeze()
    priority = np.abs(pred_value_scalar - target_value_scalar[:, 0]) ** 1.0
    for i in range(1, len(predictions)):
        value, reward, policy_logits = predictions[i]
        step_value = (-target_value[:, i] * torch.nn.LogSoftmax(dim=1)(value)).sum(1)
        step_reward = (-target_reward[:, i] * torch.nn.LogSoftmax(dim=1)(reward)).sum(1)
        step_policy = (-target_policy[:, i] * torch.nn.LogSoftmax(dim=1)(policy_logits)).sum(1)
        step_value.register_hook(lambda grad: grad / K)
        step_reward.register_hook(lambda grad: grad / K)
        step_policy.register_hook(lambda grad: grad / K)
        value_loss += step_value
        reward_loss += step_reward
        policy_loss += step_policy

    loss = value_loss * 0.25 + reward_loss + policy_loss
    loss *= weight_batch
    loss = loss.mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    value_losses.append(value_loss.mean().item())
    reward_losses.append(reward_loss.mean().item())
    policy_losses.append(policy_loss.mean().item())
    priorities.append(float(priority.max()))

grid = torch.tensor([[-3.7], [-0.4], [0.0], [1.25], [9.0]], dtype=torch.float64)
roundtrip = support_to_scalar(torch.log(scalar_to_support(grid)[:, 0] + 1e-9)).squeeze(1).tolist()
two_hot = scalar_to_support(torch.tensor([[1.25]], dtype=torch.float64))[0, 0].tolist()
transformed = h(grid).squeeze(1).tolist()
with torch.no_grad():
    obs = F.one_hot(torch.arange(N_STATES), N_STATES).double()
    v, _, logits, hidden = model.initial_inference(obs)
    root_values = support_to_scalar(v).squeeze(1).tolist()
    hidden_range = [hidden.min().item(), hidden.max().item()]
    _, r, _, _ = model.recurrent_inference(hidden, torch.ones(N_STATES, 1, dtype=torch.long))
    predicted_rewards = support_to_scalar(r).squeeze(1).tolist()
no_reward = model.initial_inference(obs[:2])[1][0].tolist()
assert math.isinf(no_reward[0])
