"""stable-baselines3's PPO for continuous actions, written the way SB3 writes it (``import torch
as th``): a ``RolloutBuffer`` of NumPy arrays with ``compute_returns_and_advantage`` (GAE
backwards through ``episode_starts``), ``swap_and_flatten`` and a ``get(batch_size)`` generator
of ``th.tensor`` minibatches; an ``ActorCriticPolicy`` with separate tanh ``mlp_extractor``
branches, orthogonal init through ``module.apply(partial(init_weights, gain=...))``, a
``DiagGaussianDistribution`` (``Normal(mean, ones_like(mean) * log_std.exp())`` with
``sum_independent_dims``); a ``VecNormalize``-style ``RunningMeanStd`` of observations;
``train()`` with advantage normalisation, the clipped ratio, ``clip_fraction``, value MSE,
entropy bonus, ``approx_kl_div`` with a ``target_kl`` stop and ``explained_variance``; on a
vectorised point-mass task written in NumPy."""

from functools import partial

import numpy as np
import torch as th
from torch import nn
from torch.distributions import Normal
from torch.nn import functional as F


class RunningMeanStd:
    def __init__(self, epsilon=1e-4, shape=()):
        self.mean, self.var, self.count = (
            np.zeros(shape, np.float64),
            np.ones(shape, np.float64),
            epsilon,
        )

    def update(self, arr):
        batch_mean, batch_var, batch_count = np.mean(arr, axis=0), np.var(arr, axis=0), arr.shape[0]
        delta, tot_count = batch_mean - self.mean, self.count + batch_count
        m2 = (
            self.var * self.count
            + batch_var * batch_count
            + np.square(delta) * self.count * batch_count / tot_count
        )
        self.mean, self.var, self.count = (
            self.mean + delta * batch_count / tot_count,
            m2 / tot_count,
            tot_count,
        )


class PointMassVecEnv:
    def __init__(self, n_envs, seed):
        self.rng, self.n_envs = np.random.default_rng(seed), n_envs
        self.state, self.t = self.rng.uniform(-1, 1, (n_envs, 2)), np.zeros(n_envs, int)

    def step(self, action):
        pos, vel = self.state[:, 0], self.state[:, 1]
        vel = 0.9 * vel + 0.2 * action[:, 0]
        pos = pos + 0.2 * vel
        self.state, self.t = np.stack([pos, vel], 1), self.t + 1
        rewards, dones = -(pos**2) - 0.01 * action[:, 0] ** 2, self.t >= 12
        self.state[dones], self.t[dones] = self.rng.uniform(-1, 1, (dones.sum(), 2)), 0
        return self.state.copy(), rewards.astype(np.float32), dones


class RolloutBuffer:
    def __init__(self, buffer_size, n_envs, obs_dim, action_dim, gamma=0.95, gae_lambda=0.9):
        self.buffer_size, self.n_envs, self.gamma, self.gae_lambda = (
            buffer_size,
            n_envs,
            gamma,
            gae_lambda,
        )
        self.observations = np.zeros((buffer_size, n_envs, obs_dim), np.float32)
        self.actions = np.zeros((buffer_size, n_envs, action_dim), np.float32)
        self.rewards, self.returns, self.episode_starts, self.values, self.log_probs, self.advantages = (
            np.zeros((buffer_size, n_envs), np.float32) for _ in range(6))  # fmt: skip
        self.pos = 0

    def add(self, obs, action, reward, episode_start, value, log_prob):
        self.observations[self.pos], self.actions[self.pos], self.rewards[self.pos] = (
            obs,
            action,
            reward,
        )
        self.episode_starts[self.pos] = episode_start
        self.values[self.pos] = value.clone().cpu().numpy().flatten()
        self.log_probs[self.pos] = log_prob.clone().cpu().numpy()
        self.pos += 1

    def compute_returns_and_advantage(self, last_values, dones):
        last_values = last_values.clone().cpu().numpy().flatten()
        last_gae_lam = 0
        for step in reversed(range(self.buffer_size)):
            if step == self.buffer_size - 1:
                next_non_terminal, next_values = 1.0 - dones.astype(np.float32), last_values
            else:
                next_non_terminal, next_values = (
                    1.0 - self.episode_starts[step + 1],
                    self.values[step + 1],
                )
            delta = (
                self.rewards[step]
                + self.gamma * next_values * next_non_terminal
                - self.values[step]
            )
            last_gae_lam = delta + self.gamma * self.gae_lambda * next_non_terminal * last_gae_lam
            self.advantages[step] = last_gae_lam
        self.returns = self.advantages + self.values

    @staticmethod
    def swap_and_flatten(arr):
        shape = arr.shape
        if len(shape) < 3:
            shape = (*shape, 1)
        return arr.swapaxes(0, 1).reshape(shape[0] * shape[1], *shape[2:])

    def get(self, batch_size, rng):
        indices = rng.permutation(self.buffer_size * self.n_envs)
        names = ("observations", "actions", "values", "log_probs", "advantages", "returns")
        flat = {name: self.swap_and_flatten(getattr(self, name)) for name in names}
        for start_idx in range(0, len(indices), batch_size):
            idx = indices[start_idx : start_idx + batch_size]
            data = (
                flat["observations"][idx],
                flat["actions"][idx],
                *(flat[n][idx].flatten() for n in names[2:]),
            )
            yield tuple(th.tensor(array) for array in data)


def sum_independent_dims(tensor):
    return tensor.sum(dim=1) if len(tensor.shape) > 1 else tensor.sum()


class ActorCriticPolicy(nn.Module):
    def __init__(self, obs_dim, action_dim, log_std_init=0.0):
        super().__init__()
        self.policy_net = nn.Sequential(
            nn.Linear(obs_dim, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh()
        )
        self.value_net_body = nn.Sequential(
            nn.Linear(obs_dim, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh()
        )
        self.action_net, self.value_net = nn.Linear(32, action_dim), nn.Linear(32, 1)
        self.log_std = nn.Parameter(th.ones(action_dim) * log_std_init, requires_grad=True)
        module_gains = {
            self.policy_net: np.sqrt(2),
            self.value_net_body: np.sqrt(2),
            self.action_net: 0.01,
            self.value_net: 1,
        }
        for module, gain in module_gains.items():
            module.apply(partial(self.init_weights, gain=gain))
        self.optimizer = th.optim.Adam(self.parameters(), lr=3e-3, eps=1e-5)

    @staticmethod
    def init_weights(module, gain=1):
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            nn.init.orthogonal_(module.weight, gain=gain)
            if module.bias is not None:
                module.bias.data.fill_(0.0)

    def _distribution(self, obs):
        mean_actions = self.action_net(self.policy_net(obs))
        return Normal(mean_actions, th.ones_like(mean_actions) * self.log_std.exp())

    def forward(self, obs):
        distribution = self._distribution(obs)
        actions = distribution.sample()
        return (
            actions,
            self.value_net(self.value_net_body(obs)),
            sum_independent_dims(distribution.log_prob(actions)),
        )

    def evaluate_actions(self, obs, actions):
        distribution = self._distribution(obs)
        log_prob = sum_independent_dims(distribution.log_prob(actions))
        return (
            self.value_net(self.value_net_body(obs)),
            log_prob,
            sum_independent_dims(distribution.entropy()),
        )


def explained_variance(y_pred, y_true):
    var_y = np.var(y_true)
    return np.nan if var_y == 0 else float(1 - np.var(y_true - y_pred) / var_y)


th.manual_seed(0)
rng, env, obs_rms = np.random.default_rng(1), PointMassVecEnv(4, seed=2), RunningMeanStd(shape=(2,))
policy, buffer = ActorCriticPolicy(2, 1), RolloutBuffer(16, 4, 2, 1)
last_obs, last_episode_starts = env.state.copy(), np.ones(4, np.float32)
log = {
    "reward": [],
    "policy_loss": [],
    "value_loss": [],
    "clip_fraction": [],
    "approx_kl": [],
    "explained_var": [],
    "epochs": [],
}
for iteration in range(4):
    buffer.pos = 0
    for _ in range(16):
        obs_rms.update(last_obs)
        norm_obs = np.clip((last_obs - obs_rms.mean) / np.sqrt(obs_rms.var + 1e-8), -10, 10).astype(
            np.float32
        )
        with th.no_grad():
            actions, values, log_probs = policy(th.as_tensor(norm_obs))
        actions = actions.cpu().numpy()
        new_obs, rewards, dones = env.step(np.clip(actions, -1, 1))
        buffer.add(norm_obs, actions, rewards, last_episode_starts, values, log_probs)
        last_obs, last_episode_starts = new_obs, dones.astype(np.float32)
    with th.no_grad():
        norm_obs = np.clip((last_obs - obs_rms.mean) / np.sqrt(obs_rms.var + 1e-8), -10, 10).astype(
            np.float32
        )
        values = policy.value_net(policy.value_net_body(th.as_tensor(norm_obs)))
    buffer.compute_returns_and_advantage(last_values=values, dones=dones)
    for epoch in range(4):
        approx_kl_divs, continue_training = [], True
        for obs, acts, _, old_log_prob, advantages, returns in buffer.get(32, rng):
            values, log_prob, entropy = policy.evaluate_actions(obs, acts)
            values = values.flatten()
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
            ratio = th.exp(log_prob - old_log_prob)
            policy_loss = -th.min(
                advantages * ratio, advantages * th.clamp(ratio, 1 - 0.2, 1 + 0.2)
            ).mean()
            clip_fraction = th.mean((th.abs(ratio - 1) > 0.2).float()).item()
            value_loss = F.mse_loss(returns, values)
            loss = policy_loss + 0.01 * -th.mean(entropy) + 0.5 * value_loss
            with th.no_grad():
                log_ratio = log_prob - old_log_prob
                approx_kl_div = th.mean((th.exp(log_ratio) - 1) - log_ratio).cpu().numpy()
                approx_kl_divs.append(float(approx_kl_div))
            if approx_kl_div > 1.5 * 0.01:
                continue_training = False
                break
            policy.optimizer.zero_grad()
            loss.backward()
            th.nn.utils.clip_grad_norm_(policy.parameters(), 0.5)
            policy.optimizer.step()
        if not continue_training:
            break
    log["epochs"].append(epoch + 1)
    log["reward"].append(float(buffer.rewards.mean()))
    log["policy_loss"].append(policy_loss.item())
    log["value_loss"].append(value_loss.item())
    log["clip_fraction"].append(clip_fraction)
    log["approx_kl"].append(float(np.mean(approx_kl_divs)))
    log["explained_var"].append(
        explained_variance(buffer.values.flatten(), buffer.returns.flatten())
    )
    print(f"iteration {iteration}: " + ", ".join(f"{k} {v[-1]:.4f}" for k, v in log.items()))
advantages_sample = buffer.advantages[:3, 0].tolist()
log_std = policy.log_std.item()
