"""MADDPG on a speaker-listener game, as the MADDPG-pytorch ports of the MPE code write it:
decentralised actors whose discrete actions are drawn with ``F.gumbel_softmax(hard=True)``
(straight-through one-hots), centralised critics that see every agent's observation and
action, target actors acting with ``onehot_from_logits`` (``(logits == logits.max(1,
keepdim=True)[0]).float()``), a replay buffer in NumPy, the policy loss ``-critic(...).mean()``
with the ``(logits ** 2).mean() * 1e-3`` regulariser, ``clip_grad_norm_(..., 0.5)``, Adam, and
soft target updates written as ``target_param.data.copy_(target_param.data * (1.0 - tau) +
param.data * tau)``. The speaker sees the goal and says one of three words; the listener hears
only the last word and must name the goal; both share the reward (1 for the right guess, a
shaping 0.5 for naming the goal with its own word)."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
N_GOALS, N_WORDS, STEPS, GAMMA, TAU, BATCH = 3, 3, 3, 0.9, 0.05, 16
OBS = [N_GOALS, N_WORDS]  # the speaker's and the listener's observation sizes
ACT = [N_WORDS, N_GOALS]


def onehot_from_logits(logits):
    return (logits == logits.max(1, keepdim=True)[0]).float()


class MLPNetwork(nn.Module):
    def __init__(self, input_dim, out_dim, hidden_dim=32):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(input_dim, hidden_dim), nn.Linear(hidden_dim, hidden_dim)
        self.fc3 = nn.Linear(hidden_dim, out_dim)

    def forward(self, x):
        return self.fc3(F.leaky_relu(self.fc2(F.leaky_relu(self.fc1(x)))))


class DDPGAgent:
    def __init__(self, i):
        self.policy, self.target_policy = MLPNetwork(OBS[i], ACT[i]), MLPNetwork(OBS[i], ACT[i])
        self.critic = MLPNetwork(sum(OBS) + sum(ACT), 1)
        self.target_critic = MLPNetwork(sum(OBS) + sum(ACT), 1)
        hard_update(self.target_policy, self.policy)
        hard_update(self.target_critic, self.critic)
        self.policy_optimizer = torch.optim.Adam(self.policy.parameters(), lr=0.01)
        self.critic_optimizer = torch.optim.Adam(self.critic.parameters(), lr=0.01)

    def step(self, obs, explore=False):
        logits = self.policy(obs)
        return F.gumbel_softmax(logits, hard=True) if explore else onehot_from_logits(logits)


def hard_update(target, source):
    for target_param, param in zip(target.parameters(), source.parameters()):
        target_param.data.copy_(param.data)


def soft_update(target, source, tau):
    for target_param, param in zip(target.parameters(), source.parameters()):
        target_param.data.copy_(target_param.data * (1.0 - tau) + param.data * tau)


def env_obs(goal, word):
    return [np.eye(N_GOALS, dtype=np.float32)[goal], np.eye(N_WORDS, dtype=np.float32)[word]]


agents = [DDPGAgent(0), DDPGAgent(1)]
rng = np.random.default_rng(0)
buffer = {k: [] for k in ("obs0", "obs1", "act0", "act1", "rew", "next0", "next1", "done")}
critic_losses, policy_losses, episode_rewards = [], [], []
for episode in range(90):
    goal, word, total = int(rng.integers(N_GOALS)), 0, 0.0
    for t in range(STEPS):
        obs = env_obs(goal, word)
        with torch.no_grad():
            acts = [a.step(torch.from_numpy(o)[None], explore=True)[0] for a, o in zip(agents, obs)]
        new_word, guess = int(acts[0].argmax()), int(acts[1].argmax())
        reward = float(guess == goal) + 0.5 * float(new_word == goal)
        nxt = env_obs(goal, new_word)
        for key, value in zip(
            buffer, (*obs, *[a.numpy() for a in acts], reward, *nxt, t == STEPS - 1)
        ):
            buffer[key].append(value)
        word, total = new_word, total + reward
    episode_rewards.append(total)
    if len(buffer["rew"]) < BATCH:
        continue
    idx = rng.choice(len(buffer["rew"]), BATCH, replace=False)
    sample = {k: torch.tensor(np.array(v)[idx]) for k, v in buffer.items()}
    obs, nxt = [sample["obs0"], sample["obs1"]], [sample["next0"], sample["next1"]]
    acs = [sample["act0"], sample["act1"]]
    rew, dones = sample["rew"].float().view(-1, 1), sample["done"].float().view(-1, 1)
    for agent_i, curr_agent in enumerate(agents):
        curr_agent.critic_optimizer.zero_grad()
        all_trgt_acs = [onehot_from_logits(pi.target_policy(nobs)) for pi, nobs in zip(agents, nxt)]
        trgt_vf_in = torch.cat((*nxt, *all_trgt_acs), dim=1)
        target_value = rew + GAMMA * curr_agent.target_critic(trgt_vf_in) * (1 - dones)
        vf_in = torch.cat((*obs, *acs), dim=1)
        actual_value = curr_agent.critic(vf_in)
        vf_loss = nn.MSELoss()(actual_value, target_value.detach())
        vf_loss.backward()
        torch.nn.utils.clip_grad_norm_(curr_agent.critic.parameters(), 0.5)
        curr_agent.critic_optimizer.step()

        curr_agent.policy_optimizer.zero_grad()
        curr_pol_out = curr_agent.policy(obs[agent_i])
        curr_pol_vf_in = F.gumbel_softmax(curr_pol_out, hard=True)
        all_pol_acs = []
        for i, pi, ob in zip(range(2), agents, obs):
            if i == agent_i:
                all_pol_acs.append(curr_pol_vf_in)
            else:
                all_pol_acs.append(onehot_from_logits(pi.policy(ob)))
        vf_in = torch.cat((*obs, *all_pol_acs), dim=1)
        pol_loss = -curr_agent.critic(vf_in).mean()
        pol_loss += (curr_pol_out**2).mean() * 1e-3
        pol_loss.backward()
        torch.nn.utils.clip_grad_norm_(curr_agent.policy.parameters(), 0.5)
        curr_agent.policy_optimizer.step()
        critic_losses.append(vf_loss.item())
        policy_losses.append(pol_loss.item())
    for a in agents:
        soft_update(a.target_critic, a.critic, TAU)
        soft_update(a.target_policy, a.policy, TAU)

with torch.no_grad():
    words = onehot_from_logits(agents[0].policy(torch.eye(N_GOALS))).argmax(1)
    guesses = onehot_from_logits(agents[1].policy(F.one_hot(words, N_WORDS).float())).argmax(1)
greedy_words, greedy_guesses = words.tolist(), guesses.tolist()
torch.manual_seed(1)
soft = F.gumbel_softmax(torch.tensor([[1.0, 2.0, 0.5]]), tau=0.5)
hard = F.gumbel_softmax(torch.tensor([[1.0, 2.0, 0.5]], requires_grad=True), tau=0.5, hard=True)
gumbel_draws = [soft.tolist(), hard.tolist(), hard.grad_fn is not None]
