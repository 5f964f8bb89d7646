"""CleanRL's ``ppo_atari_lstm.py`` (recurrent PPO), shrunk onto a memory task written in NumPy
(a cue shown on the first step of an episode must be recalled at its last step): an
``nn.LSTM`` whose weights are initialised by name (``orthogonal_`` for ``weight``,
``constant_(0)`` for ``bias``), ``get_states`` stepping the LSTM one time step at a time and
zeroing its state where an episode ended (``(1.0 - d).view(1, -1, 1) * lstm_state[0]``),
``torch.flatten(torch.cat(new_hidden), 0, 1)``, the initial LSTM state of each rollout kept
for the update (``(initial_lstm_state[0][:, mbenvinds], ...)``), minibatches of whole
environments (``flatinds[:, mbenvinds].ravel()``), normalised advantages, the clipped
surrogate and value losses, and ``clip_grad_norm_``."""

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.distributions.categorical import Categorical

NUM_ENVS, NUM_STEPS, EPISODE, NUM_MINIBATCHES = 4, 12, 4, 2


class CueEnv:
    """obs = [cue (first step only), 1 at the last step]; reward 1 for the action equal to the cue."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.t, self.cue = np.zeros(NUM_ENVS, int), self.rng.integers(0, 2, NUM_ENVS)

    def obs(self):
        first, last = (self.t == 0).astype(np.float32), (self.t == EPISODE - 1).astype(np.float32)
        return np.stack([first * (2 * self.cue - 1), last], axis=1)

    def step(self, action):
        last = self.t == EPISODE - 1
        reward = (last & (action == self.cue)).astype(np.float32)
        self.t = np.where(last, 0, self.t + 1)
        self.cue = np.where(last, self.rng.integers(0, 2, NUM_ENVS), self.cue)
        return self.obs(), reward, last


def layer_init(layer, std=np.sqrt(2), bias_const=0.0):
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    def __init__(self):
        super().__init__()
        self.network = nn.Sequential(layer_init(nn.Linear(2, 16)), nn.ReLU())
        self.lstm = nn.LSTM(16, 16)
        for name, param in self.lstm.named_parameters():
            if "bias" in name:
                nn.init.constant_(param, 0)
            elif "weight" in name:
                nn.init.orthogonal_(param, 1.0)
        self.actor, self.critic = (
            layer_init(nn.Linear(16, 2), std=0.01),
            layer_init(nn.Linear(16, 1), std=1),
        )

    def get_states(self, x, lstm_state, done):
        hidden = self.network(x)
        batch_size = lstm_state[0].shape[1]
        hidden = hidden.reshape((-1, batch_size, self.lstm.input_size))
        done = done.reshape((-1, batch_size))
        new_hidden = []
        for h, d in zip(hidden, done):
            h, lstm_state = self.lstm(
                h.unsqueeze(0),
                (
                    (1.0 - d).view(1, -1, 1) * lstm_state[0],
                    (1.0 - d).view(1, -1, 1) * lstm_state[1],
                ),
            )
            new_hidden += [h]
        return torch.flatten(torch.cat(new_hidden), 0, 1), lstm_state

    def get_value(self, x, lstm_state, done):
        return self.critic(self.get_states(x, lstm_state, done)[0])

    def get_action_and_value(self, x, lstm_state, done, action=None):
        hidden, lstm_state = self.get_states(x, lstm_state, done)
        probs = Categorical(logits=self.actor(hidden))
        if action is None:
            action = probs.sample()
        return action, probs.log_prob(action), probs.entropy(), self.critic(hidden), lstm_state


np.random.seed(0)
torch.manual_seed(0)
envs, agent = CueEnv(seed=1), Agent()
optimizer = optim.Adam(agent.parameters(), lr=5e-3, eps=1e-5)
obs, logprobs, values = (
    torch.zeros((NUM_STEPS, NUM_ENVS, 2)),
    torch.zeros((NUM_STEPS, NUM_ENVS)),
    torch.zeros((NUM_STEPS, NUM_ENVS)),
)
actions, rewards, dones = (torch.zeros((NUM_STEPS, NUM_ENVS)) for _ in range(3))
next_obs, next_done = torch.Tensor(envs.obs()), torch.zeros(NUM_ENVS)
next_lstm_state = (
    torch.zeros(agent.lstm.num_layers, NUM_ENVS, agent.lstm.hidden_size),
    torch.zeros(agent.lstm.num_layers, NUM_ENVS, agent.lstm.hidden_size),
)
returns_log, losses_log, clipfracs_log = [], [], []
for update in range(4):
    initial_lstm_state = (next_lstm_state[0].clone(), next_lstm_state[1].clone())
    for step in range(NUM_STEPS):
        obs[step], dones[step] = next_obs, next_done
        with torch.no_grad():
            action, logprob, _, value, next_lstm_state = agent.get_action_and_value(
                next_obs, next_lstm_state, next_done
            )
        values[step], actions[step], logprobs[step] = value.flatten(), action, logprob
        o, reward, done = envs.step(action.cpu().numpy())
        rewards[step] = torch.tensor(reward).view(-1)
        next_obs, next_done = torch.Tensor(o), torch.Tensor(done.astype(np.float32))
    with torch.no_grad():
        next_value = agent.get_value(next_obs, next_lstm_state, next_done).reshape(1, -1)
        advantages, lastgaelam = torch.zeros_like(rewards), 0
        for t in reversed(range(NUM_STEPS)):
            nextnonterminal = 1.0 - (next_done if t == NUM_STEPS - 1 else dones[t + 1])
            nextvalues = next_value if t == NUM_STEPS - 1 else values[t + 1]
            delta = rewards[t] + 0.99 * nextvalues * nextnonterminal - values[t]
            advantages[t] = lastgaelam = delta + 0.99 * 0.95 * nextnonterminal * lastgaelam
        returns = advantages + values
    b_obs, b_logprobs, b_actions, b_dones = (
        obs.reshape((-1, 2)),
        logprobs.reshape(-1),
        actions.reshape(-1),
        dones.reshape(-1),
    )
    b_advantages, b_returns = advantages.reshape(-1), returns.reshape(-1)
    if update == 0:  # replaying the rollout from its initial state gives its log-probabilities
        with torch.no_grad():
            replayed = agent.get_action_and_value(
                b_obs, initial_lstm_state, b_dones, b_actions.long()
            )[1]
        replay_gap = (replayed - b_logprobs).abs().max().item()
    envsperbatch = NUM_ENVS // NUM_MINIBATCHES
    envinds = np.arange(NUM_ENVS)
    flatinds = np.arange(NUM_STEPS * NUM_ENVS).reshape(NUM_STEPS, NUM_ENVS)
    clipfracs = []
    for epoch in range(3):
        np.random.shuffle(envinds)
        for start in range(0, NUM_ENVS, envsperbatch):
            mbenvinds = envinds[start : start + envsperbatch]
            mb_inds = flatinds[:, mbenvinds].ravel()
            _, newlogprob, entropy, newvalue, _ = agent.get_action_and_value(
                b_obs[mb_inds],
                (initial_lstm_state[0][:, mbenvinds], initial_lstm_state[1][:, mbenvinds]),
                b_dones[mb_inds],
                b_actions.long()[mb_inds],
            )
            logratio = newlogprob - b_logprobs[mb_inds]
            ratio = logratio.exp()
            clipfracs += [((ratio - 1.0).abs() > 0.2).float().mean().item()]
            mb_advantages = b_advantages[mb_inds]
            mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)
            pg_loss = torch.max(
                -mb_advantages * ratio, -mb_advantages * torch.clamp(ratio, 0.8, 1.2)
            ).mean()
            v_loss = 0.5 * ((newvalue.view(-1) - b_returns[mb_inds]) ** 2).mean()
            loss = pg_loss - 0.01 * entropy.mean() + v_loss * 0.5
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(agent.parameters(), 0.5)
            optimizer.step()
    returns_log.append(rewards.sum().item())
    losses_log.append([pg_loss.item(), v_loss.item()])
    clipfracs_log.append(float(np.mean(clipfracs)))
    print(
        f"update {update}: reward {returns_log[-1]:.0f}, pg_loss {pg_loss.item():.4f}, v_loss {v_loss.item():.4f}, clipfrac {clipfracs_log[-1]:.3f}"
    )
lstm_param_names = [name for name, _ in agent.lstm.named_parameters()]
state_shapes = [list(s.shape) for s in next_lstm_state]
