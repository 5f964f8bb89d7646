"""The "Train a Mario-playing RL Agent" tutorial, as written for PyTorch, with a tiny
hand-written side-scroller instead of gym-super-mario-bros: the SkipFrame / GrayScale /
Resize / FrameStack wrappers (sum of rewards over skipped frames, ``mean`` over colour
channels, ``F.interpolate``, a deque of frames joined by ``torch.cat``), ``MarioNet`` with an
``online`` CNN and a ``target`` copy made by ``copy.deepcopy`` whose parameters are frozen,
epsilon-greedy ``act`` with decaying exploration, a replay memory sampled in batches, the double
DQN ``td_estimate`` / ``td_target`` (the online net chooses the next action, the target net
scores it, under ``@torch.no_grad()``), ``SmoothL1Loss``, and ``sync_Q_target`` by
``load_state_dict``."""

import copy
import random
from collections import deque

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class Runner:
    """A 1-D corridor drawn as an RGB 12x12 frame: Mario (red) moves right (action 1) or waits
    (action 0); a pit (blue) appears ahead and must be jumped over (action 2) when adjacent; an episode lasts 24 frames."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def reset(self):
        self.x, self.pit, self.t = 0, int(self.rng.integers(3, 8)), 0
        return self._frame()

    def _frame(self):
        frame = np.zeros((12, 12, 3), dtype=np.float32)
        frame[8:, :, 1] = 0.5  # ground
        frame[8:, self.pit % 12, 2] = 1.0
        frame[6:8, self.x % 12, 0] = 1.0
        return frame

    def step(self, action):
        self.t += 1
        reward, done = -0.05, False
        if action == 2:
            self.x += 2
            reward -= 0.1
        elif action == 1:
            self.x += 1
        if self.x == self.pit:  # fell in: back to the start of the screen
            reward, self.x = -1.0, self.x - 3
        elif self.x > self.pit:
            self.pit = self.x + int(self.rng.integers(2, 6))
            reward += 0.5
        done = done or self.t >= 24
        return self._frame(), reward, done, {"x_pos": self.x}


class SkipFrame:
    def __init__(self, env, skip):
        self.env, self._skip = env, skip

    def reset(self):
        return self.env.reset()

    def step(self, action):
        total_reward = 0.0
        for i in range(self._skip):
            obs, reward, done, info = self.env.step(action)
            total_reward += reward
            if done:
                break
        return obs, total_reward, done, info


class GrayScaleResizeStack:
    """GrayScaleObservation, ResizeObservation(shape=8) and FrameStack(num_stack=4)."""

    def __init__(self, env, shape=8, num_stack=4):
        self.env, self.shape, self.frames = env, shape, deque(maxlen=num_stack)

    def observation(self, obs):
        obs = torch.tensor(np.transpose(obs, (2, 0, 1)).copy(), dtype=torch.float)
        gray = obs.mean(0, keepdim=True)  # T.Grayscale
        return F.interpolate(gray[None], size=(self.shape, self.shape), mode="bilinear")[0]

    def reset(self):
        frame = self.observation(self.env.reset())
        for _ in range(self.frames.maxlen):
            self.frames.append(frame)
        return torch.cat(list(self.frames))

    def step(self, action):
        obs, reward, done, info = self.env.step(action)
        self.frames.append(self.observation(obs))
        return torch.cat(list(self.frames)), reward, done, info


class MarioNet(nn.Module):
    """mini CNN structure: input -> (conv2d + relu) x 2 -> flatten -> (dense + relu) -> output"""

    def __init__(self, input_dim, output_dim):
        super().__init__()
        c, h, w = input_dim
        self.online = self.__build_cnn(c, output_dim)
        self.target = copy.deepcopy(self.online)
        # Q_target parameters are frozen.
        for p in self.target.parameters():
            p.requires_grad = False

    def forward(self, input, model):
        if model == "online":
            return self.online(input)
        elif model == "target":
            return self.target(input)

    def __build_cnn(self, c, output_dim):
        return nn.Sequential(
            nn.Conv2d(in_channels=c, out_channels=8, kernel_size=3, stride=2),
            nn.ReLU(),
            nn.Conv2d(in_channels=8, out_channels=8, kernel_size=2, stride=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(8 * 2 * 2, 32),
            nn.ReLU(),
            nn.Linear(32, output_dim),
        )


class Mario:
    def __init__(self, state_dim, action_dim):
        self.state_dim, self.action_dim = state_dim, action_dim
        self.net = MarioNet(self.state_dim, self.action_dim).float()
        self.exploration_rate = 1
        self.exploration_rate_decay = 0.97
        self.exploration_rate_min = 0.1
        self.curr_step = 0
        self.memory = deque(maxlen=500)
        self.batch_size = 12
        self.gamma = 0.9
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=0.002)
        self.loss_fn = torch.nn.SmoothL1Loss()
        self.burnin, self.learn_every, self.sync_every = 12, 2, 8

    def act(self, state):
        if random.random() < self.exploration_rate:  # EXPLORE
            action_idx = random.randrange(self.action_dim)
        else:  # EXPLOIT
            state = state.unsqueeze(0)
            action_values = self.net(state, model="online")
            action_idx = torch.argmax(action_values, axis=1).item()
        self.exploration_rate *= self.exploration_rate_decay
        self.exploration_rate = max(self.exploration_rate_min, self.exploration_rate)
        self.curr_step += 1
        return action_idx

    def cache(self, state, next_state, action, reward, done):
        self.memory.append(
            (
                state,
                next_state,
                torch.tensor([action]),
                torch.tensor([reward]),
                torch.tensor([done]),
            )
        )

    def recall(self):
        batch = random.sample(self.memory, self.batch_size)
        state, next_state, action, reward, done = map(torch.stack, zip(*batch))
        return state, next_state, action.squeeze(), reward.squeeze(), done.squeeze()

    def td_estimate(self, state, action):
        current_Q = self.net(state, model="online")[np.arange(0, self.batch_size), action]
        return current_Q

    @torch.no_grad()
    def td_target(self, reward, next_state, done):
        next_state_Q = self.net(next_state, model="online")
        best_action = torch.argmax(next_state_Q, axis=1)
        next_Q = self.net(next_state, model="target")[np.arange(0, self.batch_size), best_action]
        return (reward + (1 - done.float()) * self.gamma * next_Q).float()

    def update_Q_online(self, td_estimate, td_target):
        loss = self.loss_fn(td_estimate, td_target)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def sync_Q_target(self):
        self.net.target.load_state_dict(self.net.online.state_dict())

    def learn(self):
        if self.curr_step % self.sync_every == 0:
            self.sync_Q_target()
        if self.curr_step < self.burnin or self.curr_step % self.learn_every != 0:
            return None, None
        state, next_state, action, reward, done = self.recall()
        td_est = self.td_estimate(state, action)
        td_tgt = self.td_target(reward, next_state, done)
        loss = self.update_Q_online(td_est, td_tgt)
        return (td_est.mean().item(), loss)


random.seed(0)
torch.manual_seed(0)
env = GrayScaleResizeStack(SkipFrame(Runner(seed=0), skip=2))
mario = Mario(state_dim=(4, 8, 8), action_dim=3)
first_state = env.reset()
state_info = (tuple(first_state.shape), str(first_state.dtype))
target_frozen = [p.requires_grad for p in mario.net.target.parameters()]
episode_rewards, losses, q_values = [], [], []
for e in range(3):
    state = env.reset()
    total = 0.0
    while True:
        action = mario.act(state)
        next_state, reward, done, info = env.step(action)
        mario.cache(state, next_state, action, reward, done)
        q, loss = mario.learn()
        if loss is not None:
            losses.append(loss)
            q_values.append(q)
        state = next_state
        total += reward
        if done:
            break
    episode_rewards.append(round(total, 6))
target_gap = max(
    (a - b).abs().max().item()
    for a, b in zip(mario.net.online.parameters(), mario.net.target.parameters())
)
target_grads = [p.grad is None for p in mario.net.target.parameters()]
exploration_rate = mario.exploration_rate
steps = mario.curr_step
