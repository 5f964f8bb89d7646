"""Soft actor-critic (Haarnoja et al. 2018) as people write it for PyTorch (after CleanRL's
sac_continuous_action.py), on a small continuous-control task written in NumPy (push a point
mass to the origin): a tanh-squashed Gaussian policy with Normal.rsample and the log-prob
correction, twin Q networks with target copies updated by Polyak averaging, the entropy
temperature tuned through log_alpha, and a replay buffer of NumPy arrays."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(1)
np.random.seed(1)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class PointMass:
    """x'' = a (clipped to [-1, 1]); reward -(x^2 + 0.1 v^2 + 0.01 a^2); 50 steps per episode."""

    obs_dim, act_dim, horizon = 2, 1, 50

    def reset(self):
        self.state = np.random.uniform(-1, 1, 2).astype(np.float32)
        self.t = 0
        return self.state.copy()

    def step(self, action):
        a = float(np.clip(action[0], -1, 1))
        x, v = self.state
        v = v + 0.1 * a
        x = x + 0.1 * v
        self.state = np.array([x, v], dtype=np.float32)
        self.t += 1
        reward = -(x**2 + 0.1 * v**2 + 0.01 * a**2)
        return self.state.copy(), float(reward), self.t >= self.horizon


class ReplayBuffer:
    def __init__(self, size, obs_dim, act_dim):
        self.obs = np.zeros((size, obs_dim), dtype=np.float32)
        self.next_obs = np.zeros((size, obs_dim), dtype=np.float32)
        self.actions = np.zeros((size, act_dim), dtype=np.float32)
        self.rewards = np.zeros(size, dtype=np.float32)
        self.dones = np.zeros(size, dtype=np.float32)
        self.ptr, self.size, self.max_size = 0, 0, size

    def add(self, obs, next_obs, action, reward, done):
        i = self.ptr
        self.obs[i], self.next_obs[i], self.actions[i] = obs, next_obs, action
        self.rewards[i], self.dones[i] = reward, done
        self.ptr = (self.ptr + 1) % self.max_size
        self.size = min(self.size + 1, self.max_size)

    def sample(self, batch_size):
        idx = np.random.randint(0, self.size, size=batch_size)
        return (
            torch.as_tensor(self.obs[idx], device=device),
            torch.as_tensor(self.actions[idx], device=device),
            torch.as_tensor(self.next_obs[idx], device=device),
            torch.as_tensor(self.rewards[idx], device=device),
            torch.as_tensor(self.dones[idx], device=device),
        )


class SoftQNetwork(nn.Module):
    def __init__(self, env):
        super().__init__()
        self.fc1 = nn.Linear(env.obs_dim + env.act_dim, 64)
        self.fc2 = nn.Linear(64, 64)
        self.fc3 = nn.Linear(64, 1)

    def forward(self, x, a):
        x = torch.cat([x, a], 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


LOG_STD_MAX, LOG_STD_MIN = 2, -5


class Actor(nn.Module):
    def __init__(self, env):
        super().__init__()
        self.fc1 = nn.Linear(env.obs_dim, 64)
        self.fc2 = nn.Linear(64, 64)
        self.fc_mean = nn.Linear(64, env.act_dim)
        self.fc_logstd = nn.Linear(64, env.act_dim)
        # action rescaling
        self.register_buffer("action_scale", torch.tensor([1.0], dtype=torch.float32))
        self.register_buffer("action_bias", torch.tensor([0.0], dtype=torch.float32))

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        mean = self.fc_mean(x)
        log_std = torch.tanh(self.fc_logstd(x))
        log_std = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (log_std + 1)
        return mean, log_std

    def get_action(self, x):
        mean, log_std = self(x)
        std = log_std.exp()
        normal = torch.distributions.Normal(mean, std)
        x_t = normal.rsample()  # for reparameterization trick (mean + std * N(0,1))
        y_t = torch.tanh(x_t)
        action = y_t * self.action_scale + self.action_bias
        log_prob = normal.log_prob(x_t)
        # Enforcing Action Bound
        log_prob -= torch.log(self.action_scale * (1 - y_t.pow(2)) + 1e-6)
        log_prob = log_prob.sum(1, keepdim=True)
        mean = torch.tanh(mean) * self.action_scale + self.action_bias
        return action, log_prob, mean


env = PointMass()
actor = Actor(env).to(device)
qf1, qf2 = SoftQNetwork(env).to(device), SoftQNetwork(env).to(device)
qf1_target, qf2_target = SoftQNetwork(env).to(device), SoftQNetwork(env).to(device)
qf1_target.load_state_dict(qf1.state_dict())
qf2_target.load_state_dict(qf2.state_dict())
q_optimizer = optim.Adam(list(qf1.parameters()) + list(qf2.parameters()), lr=1e-3)
actor_optimizer = optim.Adam(list(actor.parameters()), lr=1e-3)

# Automatic entropy tuning
target_entropy = -torch.prod(torch.Tensor([env.act_dim]).to(device)).item()
log_alpha = torch.zeros(1, requires_grad=True, device=device)
alpha = log_alpha.exp().item()
a_optimizer = optim.Adam([log_alpha], lr=3e-3)

gamma, tau, batch_size, learning_starts = 0.99, 0.005, 64, 150
rb = ReplayBuffer(5000, env.obs_dim, env.act_dim)


def evaluate(episodes=5):
    returns = []
    for _ in range(episodes):
        obs, done, total = env.reset(), False, 0.0
        while not done:
            with torch.no_grad():
                _, _, mean = actor.get_action(torch.as_tensor(obs[None], device=device))
            obs, reward, done = env.step(mean[0].cpu().numpy())
            total += reward
        returns.append(total)
    return float(np.mean(returns))


initial_return = evaluate()
obs = env.reset()
episode_returns, episode_return, alphas, q_losses = [], 0.0, [], []
for global_step in range(700):
    if global_step < learning_starts:
        action = np.random.uniform(-1, 1, env.act_dim).astype(np.float32)
    else:
        with torch.no_grad():
            action, _, _ = actor.get_action(torch.Tensor(obs).unsqueeze(0).to(device))
        action = action[0].cpu().numpy()
    next_obs, reward, done = env.step(action)
    rb.add(obs, next_obs, action, reward, done)
    episode_return += reward
    obs = next_obs
    if done:
        episode_returns.append(episode_return)
        obs, episode_return = env.reset(), 0.0

    if global_step > learning_starts:
        b_obs, b_actions, b_next_obs, b_rewards, b_dones = rb.sample(batch_size)
        with torch.no_grad():
            next_state_actions, next_state_log_pi, _ = actor.get_action(b_next_obs)
            qf1_next_target = qf1_target(b_next_obs, next_state_actions)
            qf2_next_target = qf2_target(b_next_obs, next_state_actions)
            min_qf_next_target = (
                torch.min(qf1_next_target, qf2_next_target) - alpha * next_state_log_pi
            )
            next_q_value = b_rewards.flatten() + (1 - b_dones.flatten()) * gamma * (
                min_qf_next_target
            ).view(-1)

        qf1_a_values = qf1(b_obs, b_actions).view(-1)
        qf2_a_values = qf2(b_obs, b_actions).view(-1)
        qf1_loss = F.mse_loss(qf1_a_values, next_q_value)
        qf2_loss = F.mse_loss(qf2_a_values, next_q_value)
        qf_loss = qf1_loss + qf2_loss
        q_optimizer.zero_grad()
        qf_loss.backward()
        q_optimizer.step()
        q_losses.append(qf_loss.item())

        if global_step % 2 == 0:  # TD 3 Delayed update support
            pi, log_pi, _ = actor.get_action(b_obs)
            qf1_pi = qf1(b_obs, pi)
            qf2_pi = qf2(b_obs, pi)
            min_qf_pi = torch.min(qf1_pi, qf2_pi)
            actor_loss = ((alpha * log_pi) - min_qf_pi).mean()
            actor_optimizer.zero_grad()
            actor_loss.backward()
            actor_optimizer.step()

            with torch.no_grad():
                _, log_pi, _ = actor.get_action(b_obs)
            alpha_loss = (-log_alpha.exp() * (log_pi + target_entropy)).mean()
            a_optimizer.zero_grad()
            alpha_loss.backward()
            a_optimizer.step()
            alpha = log_alpha.exp().item()
            alphas.append(alpha)

        # update the target networks
        for param, target_param in zip(qf1.parameters(), qf1_target.parameters()):
            target_param.data.copy_(tau * param.data + (1 - tau) * target_param.data)
        for param, target_param in zip(qf2.parameters(), qf2_target.parameters()):
            target_param.data.copy_(tau * param.data + (1 - tau) * target_param.data)

    if global_step % 350 == 349:
        print(
            f"global_step={global_step}, alpha={alpha:.3f}, last return={episode_returns[-1]:.2f}"
        )

final_return = evaluate()
print(f"evaluation return: before {initial_return:.2f}, after {final_return:.2f}")
target_gap = max(
    (p - t).abs().max().item() for p, t in zip(qf1.parameters(), qf1_target.parameters())
)
