"""QMIX, as pymarl's ``QMixer``, ``RNNAgent`` and ``QLearner`` write it, on a two-agent
cooperative game written in NumPy (both agents must pick the same landmark, each seeing only
its own noisy hint): agents share one ``nn.GRUCell`` network with agent-id one-hots appended to
their observations, hidden states carried over the episode; the monotonic mixing network takes
its weights from hypernetworks of the global state, made non-negative with ``torch.abs``, and
mixes with ``torch.bmm`` on ``view(-1, 1, n_agents)``; double-Q targets pick the online
network's ``max(dim=3, keepdim=True)[1]`` among available actions (``mac_out[avail == 0] =
-9999999``) and ``gather`` them from the target network; the TD error is masked for padded
steps (``mask.expand_as``), gradients clipped, targets refreshed with ``load_state_dict``."""

import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
N_AGENTS, N_ACTIONS, OBS, STATE, T, EMBED, HIDDEN = 2, 3, 4, 6, 4, 16, 16
GAMMA, BATCH = 0.95, 8


class RNNAgent(nn.Module):
    def __init__(self, input_shape):
        super().__init__()
        self.fc1 = nn.Linear(input_shape, HIDDEN)
        self.rnn = nn.GRUCell(HIDDEN, HIDDEN)
        self.fc2 = nn.Linear(HIDDEN, N_ACTIONS)

    def init_hidden(self):
        return self.fc1.weight.new(1, HIDDEN).zero_()

    def forward(self, inputs, hidden_state):
        x = F.relu(self.fc1(inputs))
        h_in = hidden_state.reshape(-1, HIDDEN)
        h = self.rnn(x, h_in)
        return self.fc2(h), h


class QMixer(nn.Module):
    def __init__(self):
        super().__init__()
        self.hyper_w_1 = nn.Sequential(
            nn.Linear(STATE, EMBED), nn.ReLU(), nn.Linear(EMBED, EMBED * N_AGENTS)
        )
        self.hyper_w_final = nn.Sequential(
            nn.Linear(STATE, EMBED), nn.ReLU(), nn.Linear(EMBED, EMBED)
        )
        self.hyper_b_1 = nn.Linear(STATE, EMBED)
        self.V = nn.Sequential(nn.Linear(STATE, EMBED), nn.ReLU(), nn.Linear(EMBED, 1))

    def forward(self, agent_qs, states):
        bs = agent_qs.size(0)
        states = states.reshape(-1, STATE)
        agent_qs = agent_qs.view(-1, 1, N_AGENTS)
        w1 = torch.abs(self.hyper_w_1(states))
        b1 = self.hyper_b_1(states)
        w1 = w1.view(-1, N_AGENTS, EMBED)
        b1 = b1.view(-1, 1, EMBED)
        hidden = F.elu(torch.bmm(agent_qs, w1) + b1)
        w_final = torch.abs(self.hyper_w_final(states))
        w_final = w_final.view(-1, EMBED, 1)
        v = self.V(states).view(-1, 1, 1)
        y = torch.bmm(hidden, w_final) + v
        return y.view(bs, -1, 1)


class MAC:
    """pymarl's basic multi-agent controller: one network, agent ids in the input."""

    def __init__(self):
        self.agent = RNNAgent(OBS + N_AGENTS)

    def init_hidden(self, batch_size):
        self.hidden_states = self.agent.init_hidden().unsqueeze(0).expand(batch_size, N_AGENTS, -1)

    def forward(self, batch, t):
        bs = batch["obs"].shape[0]
        ids = torch.eye(N_AGENTS).unsqueeze(0).expand(bs, -1, -1)
        inputs = torch.cat([batch["obs"][:, t], ids], dim=-1).reshape(bs * N_AGENTS, -1)
        outs, self.hidden_states = self.agent(inputs, self.hidden_states)
        return outs.view(bs, N_AGENTS, -1)

    def parameters(self):
        return self.agent.parameters()

    def load_state(self, other):
        self.agent.load_state_dict(other.agent.state_dict())


def rollout(rng, mac, epsilon):
    """The goal landmark (0..2) is hinted to each agent with noise; reward 1 if both agents pick
    it, 0.3 if both agree on another, else 0. Action 2 is unavailable to agent 1 at t=0."""
    goal = rng.integers(0, N_ACTIONS, size=BATCH)
    obs = np.zeros((BATCH, T, N_AGENTS, OBS), dtype=np.float32)
    obs[np.arange(BATCH), :, :, goal] = 1.0
    obs[..., :N_ACTIONS] += 0.3 * rng.standard_normal((BATCH, T, N_AGENTS, N_ACTIONS))
    obs[..., OBS - 1] = np.arange(T)[None, :, None] / T
    state = np.concatenate(
        [obs[:, :, 0, :N_ACTIONS], np.eye(N_ACTIONS)[goal][:, None].repeat(T, 1)], -1
    )
    avail = np.ones((BATCH, T, N_AGENTS, N_ACTIONS), dtype=np.float32)
    avail[:, 0, 1, 2] = 0
    lengths = rng.integers(2, T + 1, size=BATCH)
    batch = dict(obs=torch.from_numpy(obs), avail_actions=torch.from_numpy(avail))
    mac.init_hidden(BATCH)
    actions = np.zeros((BATCH, T, N_AGENTS), dtype=np.int64)
    with torch.no_grad():
        for t in range(T):
            q = mac.forward(batch, t)
            q[batch["avail_actions"][:, t] == 0] = -float("inf")
            greedy = q.argmax(-1).numpy()
            explore = rng.random((BATCH, N_AGENTS)) < epsilon
            actions[:, t] = np.where(explore, rng.integers(0, 2, size=(BATCH, N_AGENTS)), greedy)
    agree = actions[:, :, 0] == actions[:, :, 1]
    reward = np.where(agree & (actions[:, :, 0] == goal[:, None]), 1.0, np.where(agree, 0.3, 0.0))
    mask = (np.arange(T)[None] < lengths[:, None]).astype(np.float32)
    terminated = (np.arange(T)[None] == lengths[:, None] - 1).astype(np.float32)
    batch.update(
        state=torch.from_numpy(state.astype(np.float32)),
        actions=torch.from_numpy(actions).unsqueeze(-1),
        reward=torch.from_numpy((reward * mask).astype(np.float32)).unsqueeze(-1),
        terminated=torch.from_numpy(terminated).unsqueeze(-1),
        filled=torch.from_numpy(mask).unsqueeze(-1),
    )
    return batch, float((reward * mask).sum() / mask.sum())


mac, mixer = MAC(), QMixer()
target_mac, target_mixer = copy.deepcopy(mac), copy.deepcopy(mixer)
params = list(mac.parameters()) + list(mixer.parameters())
optimiser = torch.optim.RMSprop(params=params, lr=5e-3, alpha=0.99, eps=1e-5)
rng = np.random.default_rng(0)
losses, returns = [], []
for episode in range(25):
    batch, ret = rollout(rng, mac, epsilon=max(0.05, 1.0 - episode / 15))
    returns.append(ret)
    rewards = batch["reward"][:, :-1]
    actions = batch["actions"][:, :-1]
    terminated = batch["terminated"][:, :-1].float()
    mask = batch["filled"][:, :-1].float()
    mask[:, 1:] = mask[:, 1:] * (1 - terminated[:, :-1])
    avail_actions = batch["avail_actions"]

    mac.init_hidden(BATCH)
    mac_out = torch.stack([mac.forward(batch, t) for t in range(T)], dim=1)
    chosen_action_qvals = torch.gather(mac_out[:, :-1], dim=3, index=actions).squeeze(3)
    target_mac.init_hidden(BATCH)
    target_mac_out = torch.stack([target_mac.forward(batch, t) for t in range(T)][1:], dim=1)
    target_mac_out[avail_actions[:, 1:] == 0] = -9999999
    mac_out_detach = mac_out.clone().detach()
    mac_out_detach[avail_actions == 0] = -9999999
    cur_max_actions = mac_out_detach[:, 1:].max(dim=3, keepdim=True)[1]
    target_max_qvals = torch.gather(target_mac_out, 3, cur_max_actions).squeeze(3)

    chosen_action_qvals = mixer(chosen_action_qvals, batch["state"][:, :-1])
    target_max_qvals = target_mixer(target_max_qvals, batch["state"][:, 1:])
    targets = rewards + GAMMA * (1 - terminated) * target_max_qvals
    td_error = chosen_action_qvals - targets.detach()
    mask = mask.expand_as(td_error)
    masked_td_error = td_error * mask
    loss = (masked_td_error**2).sum() / mask.sum()
    optimiser.zero_grad()
    loss.backward()
    grad_norm = torch.nn.utils.clip_grad_norm_(params, 10.0)
    optimiser.step()
    if episode % 5 == 4:
        target_mac.load_state(mac)
        target_mixer.load_state_dict(mixer.state_dict())
    losses.append([loss.item(), grad_norm.item()])

# the mixing is monotonic: raising any agent's Q never lowers Q_tot
qs = torch.tensor([[[0.1, 0.2]], [[0.5, 0.2]], [[0.5, 0.9]]])
states = batch["state"][:1, :1].expand(3, 1, STATE)
with torch.no_grad():
    q_tot = mixer(qs, states).flatten().tolist()
agent_qs = torch.zeros(1, 1, N_AGENTS, requires_grad=True)
mixer(agent_qs, states[:1]).sum().backward()
mixing_grad = agent_qs.grad.flatten().tolist()
shapes = [tuple(mac_out.shape), tuple(chosen_action_qvals.shape), tuple(target_max_qvals.shape)]
