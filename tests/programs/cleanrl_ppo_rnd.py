"""CleanRL's ``ppo_rnd_envpool.py`` (PPO with random network distillation, Burda et al. 2018),
shrunk onto a sparse-reward corridor written in NumPy: a frozen random ``target`` and a trained
``predictor`` (``requires_grad = False`` on the target), observations normalised by a NumPy
``RunningMeanStd`` through ``torch.from_numpy(obs_rms.mean)`` (float64) and ``.clip(-5, 5)
.float()``, curiosity rewards ``(target - predict).pow(2).sum(1) / 2`` written with ``.data``
and scaled by a ``RewardForwardFilter``'s running std, two value heads (episodic extrinsic,
non-episodic intrinsic GAE), the predictor's loss on a random subset
``(mask < update_proportion).type(torch.FloatTensor)`` divided by ``torch.max(mask.sum(),
torch.tensor([1], dtype=torch.float32))``, clipped value loss, learning-rate annealing and
``np.random.shuffle`` minibatches."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.distributions.categorical import Categorical

N, NUM_ENVS, NUM_STEPS, UPDATES = 8, 4, 16, 3
GAMMA, INT_GAMMA, LAMBDA, CLIP = 0.99, 0.99, 0.95, 0.1


class RunningMeanStd:
    def __init__(self, epsilon=1e-4, shape=()):
        self.mean, self.var, self.count = (
            np.zeros(shape, "float64"),
            np.ones(shape, "float64"),
            epsilon,
        )

    def update(self, x):
        self.update_from_moments(np.mean(x, axis=0), np.var(x, axis=0), x.shape[0])

    def update_from_moments(self, batch_mean, batch_var, batch_count):
        delta, tot_count = batch_mean - self.mean, self.count + batch_count
        m_2 = (
            self.var * self.count
            + batch_var * batch_count
            + np.square(delta) * self.count * batch_count / tot_count
        )
        self.mean, self.var, self.count = (
            self.mean + delta * batch_count / tot_count,
            m_2 / tot_count,
            tot_count,
        )


class RewardForwardFilter:
    def __init__(self, gamma):
        self.rewems, self.gamma = None, gamma

    def update(self, rews):
        self.rewems = rews if self.rewems is None else self.rewems * self.gamma + rews
        return self.rewems


class Corridor:
    def __init__(self):
        self.pos, self.t = np.zeros(NUM_ENVS, int), np.zeros(NUM_ENVS, int)

    def obs(self):
        return np.eye(N, dtype=np.float32)[self.pos]

    def step(self, action):
        self.pos, self.t = np.clip(self.pos + 2 * action - 1, 0, N - 1), self.t + 1
        reward = (self.pos == N - 1).astype(np.float32)
        done = (self.pos == N - 1) | (self.t >= 20)
        self.pos[done], self.t[done] = 0, 0
        return self.obs(), reward, done


def layer_init(layer, std=np.sqrt(2), bias_const=0.0):
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    def __init__(self):
        super().__init__()
        self.network = nn.Sequential(layer_init(nn.Linear(N, 32)), nn.ReLU())
        self.actor = layer_init(nn.Linear(32, 2), std=0.01)
        self.critic_ext, self.critic_int = (
            layer_init(nn.Linear(32, 1), std=0.01),
            layer_init(nn.Linear(32, 1), std=0.01),
        )

    def get_action_and_value(self, x, action=None):
        hidden = self.network(x)
        probs = Categorical(logits=self.actor(hidden))
        if action is None:
            action = probs.sample()
        return (
            action,
            probs.log_prob(action),
            probs.entropy(),
            self.critic_ext(hidden),
            self.critic_int(hidden),
        )


class RNDModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.predictor = nn.Sequential(
            layer_init(nn.Linear(N, 32)), nn.ReLU(), layer_init(nn.Linear(32, 16))
        )
        self.target = nn.Sequential(
            layer_init(nn.Linear(N, 32)), nn.ReLU(), layer_init(nn.Linear(32, 16))
        )
        for param in self.target.parameters():
            param.requires_grad = False


def gae(rewards, values, next_value, dones, next_done, gamma, episodic):
    advantages, lastgaelam = torch.zeros_like(rewards), 0
    for t in reversed(range(NUM_STEPS)):
        nextnonterminal = (
            (1.0 - (next_done if t == NUM_STEPS - 1 else dones[t + 1])) if episodic else 1.0
        )
        nextvalues = next_value if t == NUM_STEPS - 1 else values[t + 1]
        delta = rewards[t] + gamma * nextvalues * nextnonterminal - values[t]
        advantages[t] = lastgaelam = delta + gamma * LAMBDA * nextnonterminal * lastgaelam
    return advantages, advantages + values


np.random.seed(0)
torch.manual_seed(0)
envs, agent, rnd_model = Corridor(), Agent(), RNDModel()
combined_parameters = list(agent.parameters()) + list(rnd_model.predictor.parameters())
optimizer = optim.Adam(combined_parameters, lr=1e-3, eps=1e-5)
reward_rms, obs_rms, discounted_reward = (
    RunningMeanStd(),
    RunningMeanStd(shape=(N,)),
    RewardForwardFilter(INT_GAMMA),
)
obs = torch.zeros((NUM_STEPS, NUM_ENVS, N))
actions, logprobs, rewards, curiosity_rewards, dones, ext_values, int_values = (
    torch.zeros((NUM_STEPS, NUM_ENVS)) for _ in range(7)
)
next_obs, next_done = torch.Tensor(envs.obs()), torch.zeros(NUM_ENVS)
for _ in range(8):  # initialise the observation normalisation with random actions
    o, _, _ = envs.step(np.random.randint(0, 2, size=(NUM_ENVS,)))
    obs_rms.update(o)
log = {
    "lr": [],
    "curiosity": [],
    "forward_loss": [],
    "pg_loss": [],
    "v_loss": [],
    "mask_fraction": [],
}
for update in range(1, UPDATES + 1):
    optimizer.param_groups[0]["lr"] = (1.0 - (update - 1.0) / UPDATES) * 1e-3
    for step in range(NUM_STEPS):
        obs[step], dones[step] = next_obs, next_done
        with torch.no_grad():
            action, logprob, _, value_ext, value_int = agent.get_action_and_value(next_obs)
        ext_values[step], int_values[step] = value_ext.flatten(), value_int.flatten()
        actions[step], logprobs[step] = action, logprob
        o, reward, done = envs.step(action.cpu().numpy())
        rewards[step] = torch.tensor(reward).view(-1)
        next_obs, next_done = torch.Tensor(o), torch.Tensor(done.astype(np.float32))
        rnd_next_obs = (
            (
                (next_obs - torch.from_numpy(obs_rms.mean))
                / torch.sqrt(torch.from_numpy(obs_rms.var))
            )
            .clip(-5, 5)
            .float()
        )
        target_next_feature = rnd_model.target(rnd_next_obs)
        predict_next_feature = rnd_model.predictor(rnd_next_obs)
        curiosity_rewards[step] = (
            (target_next_feature - predict_next_feature).pow(2).sum(1) / 2
        ).data
    curiosity_reward_per_env = np.array(
        [discounted_reward.update(r) for r in curiosity_rewards.cpu().data.numpy().T]
    )
    reward_rms.update_from_moments(
        np.mean(curiosity_reward_per_env),
        np.std(curiosity_reward_per_env) ** 2,
        len(curiosity_reward_per_env),
    )
    curiosity_rewards /= np.sqrt(reward_rms.var)
    with torch.no_grad():
        next_value_ext, next_value_int = agent.get_action_and_value(next_obs)[3:]
        ext_advantages, ext_returns = gae(
            rewards, ext_values, next_value_ext.reshape(1, -1), dones, next_done, GAMMA, True
        )
        int_advantages, int_returns = gae(
            curiosity_rewards,
            int_values,
            next_value_int.reshape(1, -1),
            dones,
            next_done,
            INT_GAMMA,
            False,
        )
    b_obs, b_logprobs, b_actions = obs.reshape((-1, N)), logprobs.reshape(-1), actions.reshape(-1)
    b_ext_returns, b_int_returns, b_ext_values = (
        ext_returns.reshape(-1),
        int_returns.reshape(-1),
        ext_values.reshape(-1),
    )
    b_advantages = int_advantages.reshape(-1) * 1.0 + ext_advantages.reshape(-1) * 2.0
    obs_rms.update(b_obs.cpu().numpy())
    rnd_next_obs = (
        ((b_obs - torch.from_numpy(obs_rms.mean)) / torch.sqrt(torch.from_numpy(obs_rms.var)))
        .clip(-5, 5)
        .float()
    )
    b_inds = np.arange(NUM_STEPS * NUM_ENVS)
    for epoch in range(2):
        np.random.shuffle(b_inds)
        for start in range(0, len(b_inds), 32):
            mb_inds = b_inds[start : start + 32]
            predict_next_state_feature, target_next_state_feature = (
                rnd_model.predictor(rnd_next_obs[mb_inds]),
                rnd_model.target(rnd_next_obs[mb_inds]),
            )
            forward_loss = F.mse_loss(
                predict_next_state_feature, target_next_state_feature.detach(), reduction="none"
            ).mean(-1)
            mask = torch.rand(len(forward_loss))
            mask = (mask < 0.25).type(torch.FloatTensor)
            forward_loss = (forward_loss * mask).sum() / torch.max(
                mask.sum(), torch.tensor([1], dtype=torch.float32)
            )
            _, newlogprob, entropy, new_ext_values, new_int_values = agent.get_action_and_value(
                b_obs[mb_inds], b_actions.long()[mb_inds]
            )
            ratio = (newlogprob - b_logprobs[mb_inds]).exp()
            mb_advantages = b_advantages[mb_inds]
            pg_loss = torch.max(
                -mb_advantages * ratio, -mb_advantages * torch.clamp(ratio, 1 - CLIP, 1 + CLIP)
            ).mean()
            new_ext_values, new_int_values = new_ext_values.view(-1), new_int_values.view(-1)
            ext_v_loss_unclipped = (new_ext_values - b_ext_returns[mb_inds]) ** 2
            ext_v_clipped = b_ext_values[mb_inds] + torch.clamp(
                new_ext_values - b_ext_values[mb_inds], -CLIP, CLIP
            )
            ext_v_loss = (
                0.5
                * torch.max(
                    ext_v_loss_unclipped, (ext_v_clipped - b_ext_returns[mb_inds]) ** 2
                ).mean()
            )
            v_loss = ext_v_loss + 0.5 * ((new_int_values - b_int_returns[mb_inds]) ** 2).mean()
            loss = pg_loss - 0.001 * entropy.mean() + v_loss * 0.5 + forward_loss
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(combined_parameters, 0.5)
            optimizer.step()
    for key, value in zip(
        log,
        (
            optimizer.param_groups[0]["lr"],
            curiosity_rewards.mean(),
            forward_loss,
            pg_loss,
            v_loss,
            mask.mean(),
        ),
    ):
        log[key].append(value.item() if torch.is_tensor(value) else value)
    print(f"update {update}: " + ", ".join(f"{k} {v[-1]:.5f}" for k, v in log.items()))
forward_loss_shape, mask_dtype = list(forward_loss.shape), str(mask.dtype)
target_frozen = all(not p.requires_grad and p.grad is None for p in rnd_model.target.parameters())
