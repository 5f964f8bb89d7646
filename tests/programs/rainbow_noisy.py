"""Rainbow's noisy nets, n-step returns and distributional targets, as Kaixhin's Rainbow
writes them, on a chain walk written in NumPy: ``NoisyLinear`` with factorised Gaussian noise
(``x.sign().mul_(x.abs().sqrt_())``, ``weight_epsilon.copy_(epsilon_out.ger(epsilon_in))``,
buffers registered with ``register_buffer``, ``F.linear`` with the noisy weights only in
training mode) and ``reset_noise`` before every step; a dueling distributional head whose
atoms go through ``F.log_softmax``; exploration by the noise alone (no epsilon); n-step
returns from a ``deque``; the categorical projection of the target distribution onto the
support with ``floor``/``ceil``, the fixes ``l[(u > 0) * (l == u)] -= 1`` and
``u[(l < atoms - 1) * (l == u)] += 1`` and ``index_add_`` on flattened offsets; the loss
``-torch.sum(m * log_p, 1)`` and double-DQN action selection with the online network."""

import math
from collections import deque

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
N_STATES, N_ACT, ATOMS, V_MIN, V_MAX, N_STEP, GAMMA, BATCH = 6, 2, 11, -1.0, 3.0, 3, 0.9, 16


class NoisyLinear(nn.Module):
    def __init__(self, in_features, out_features, std_init=0.5):
        super().__init__()
        self.in_features, self.out_features, self.std_init = in_features, out_features, std_init
        self.weight_mu = nn.Parameter(torch.empty(out_features, in_features))
        self.weight_sigma = nn.Parameter(torch.empty(out_features, in_features))
        self.register_buffer("weight_epsilon", torch.empty(out_features, in_features))
        self.bias_mu = nn.Parameter(torch.empty(out_features))
        self.bias_sigma = nn.Parameter(torch.empty(out_features))
        self.register_buffer("bias_epsilon", torch.empty(out_features))
        self.reset_parameters()
        self.reset_noise()

    def reset_parameters(self):
        mu_range = 1 / math.sqrt(self.in_features)
        self.weight_mu.data.uniform_(-mu_range, mu_range)
        self.weight_sigma.data.fill_(self.std_init / math.sqrt(self.in_features))
        self.bias_mu.data.uniform_(-mu_range, mu_range)
        self.bias_sigma.data.fill_(self.std_init / math.sqrt(self.out_features))

    def _scale_noise(self, size):
        x = torch.randn(size, device=self.weight_mu.device)
        return x.sign().mul_(x.abs().sqrt_())

    def reset_noise(self):
        epsilon_in = self._scale_noise(self.in_features)
        epsilon_out = self._scale_noise(self.out_features)
        self.weight_epsilon.copy_(epsilon_out.ger(epsilon_in))
        self.bias_epsilon.copy_(epsilon_out)

    def forward(self, input):
        if self.training:
            return F.linear(
                input,
                self.weight_mu + self.weight_sigma * self.weight_epsilon,
                self.bias_mu + self.bias_sigma * self.bias_epsilon,
            )
        return F.linear(input, self.weight_mu, self.bias_mu)


class DQN(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.fc = nn.Linear(N_STATES, hidden)
        self.fc_h_v, self.fc_h_a = NoisyLinear(hidden, hidden), NoisyLinear(hidden, hidden)
        self.fc_z_v, self.fc_z_a = NoisyLinear(hidden, ATOMS), NoisyLinear(hidden, N_ACT * ATOMS)

    def forward(self, x, log=False):
        x = F.relu(self.fc(x))
        v = self.fc_z_v(F.relu(self.fc_h_v(x)))
        a = self.fc_z_a(F.relu(self.fc_h_a(x)))
        v, a = v.view(-1, 1, ATOMS), a.view(-1, N_ACT, ATOMS)
        q = v + a - a.mean(1, keepdim=True)
        return F.log_softmax(q, dim=2) if log else F.softmax(q, dim=2)

    def reset_noise(self):
        for name, module in self.named_children():
            if "fc_" in name:
                module.reset_noise()


support = torch.linspace(V_MIN, V_MAX, ATOMS)
delta_z = (V_MAX - V_MIN) / (ATOMS - 1)


def act(net, state):
    with torch.no_grad():
        return (net(state.unsqueeze(0)) * support).sum(2).argmax(1).item()


def env_step(state, action):
    """Action 1 walks right (reward 1 at the end, restart); action 0 walks left and pays 0.02
    at the left wall."""
    if action == 1:
        return (0, 1.0, True) if state == N_STATES - 1 else (state + 1, 0.0, False)
    return max(state - 1, 0), 0.02 if state == 0 else 0.0, False


def learn(online, target, optimiser, batch):
    states, actions, returns, next_states, nonterminals = batch
    log_ps = online(states, log=True)
    log_ps_a = log_ps[range(BATCH), actions]
    with torch.no_grad():
        pns = online(next_states)
        dns = support.expand_as(pns) * pns
        argmax_indices_ns = dns.sum(2).argmax(1)
        target.reset_noise()
        pns = target(next_states)
        pns_a = pns[range(BATCH), argmax_indices_ns]
        Tz = returns.unsqueeze(1) + nonterminals * (GAMMA**N_STEP) * support.unsqueeze(0)
        Tz = Tz.clamp(min=V_MIN, max=V_MAX)
        b = (Tz - V_MIN) / delta_z
        l, u = b.floor().to(torch.int64), b.ceil().to(torch.int64)  # noqa: E741 - as Rainbow
        l[(u > 0) * (l == u)] -= 1
        u[(l < (ATOMS - 1)) * (l == u)] += 1
        m = states.new_zeros(BATCH, ATOMS)
        offset = (
            torch.linspace(0, ((BATCH - 1) * ATOMS), BATCH)
            .unsqueeze(1)
            .expand(BATCH, ATOMS)
            .to(actions)
        )
        m.view(-1).index_add_(0, (l + offset).view(-1), (pns_a * (u.float() - b)).view(-1))
        m.view(-1).index_add_(0, (u + offset).view(-1), (pns_a * (b - l.float())).view(-1))
    loss = -torch.sum(m * log_ps_a, 1)
    online.zero_grad()
    loss.mean().backward()
    nn.utils.clip_grad_norm_(online.parameters(), 10.0)
    optimiser.step()
    return loss.mean().item(), m.sum(1).sub(1).abs().max().item()


online, target = DQN(), DQN()
target.load_state_dict(online.state_dict())
target.train()
for param in target.parameters():
    param.requires_grad = False
optimiser = torch.optim.Adam(online.parameters(), lr=3e-3, eps=1.5e-4)
eye = torch.eye(N_STATES)
memory, window = [], deque(maxlen=N_STEP)
state, losses, mass_errors, rewards_seen = 0, [], [], 0.0
for step in range(160):
    if step % 2 == 0:
        online.reset_noise()
    action = act(online, eye[state])
    nxt, reward, done = env_step(state, action)
    rewards_seen += reward
    window.append((state, action, reward))
    if len(window) == N_STEP:
        ret = sum(GAMMA**k * r for k, (_, _, r) in enumerate(window))
        memory.append((window[0][0], window[0][1], ret, nxt, 0.0 if done else 1.0))
    if done:
        window.clear()
    state = nxt
    if len(memory) >= BATCH and step % 2 == 0:
        idx = torch.randint(len(memory), (BATCH,)).tolist()
        s, a, r, s2, nt = zip(*[memory[i] for i in idx])
        batch = (
            eye[list(s)],
            torch.tensor(a),
            torch.tensor(r, dtype=torch.float32),
            eye[list(s2)],
            torch.tensor(nt).unsqueeze(1),
        )
        loss, mass_error = learn(online, target, optimiser, batch)
        losses.append(loss)
        mass_errors.append(mass_error)
    if step % 20 == 19:
        target.load_state_dict(online.state_dict())

online.eval()
with torch.no_grad():
    q_values = (online(eye) * support).sum(2)
greedy = q_values.argmax(1).tolist()
q_table = q_values.tolist()
noise = online.fc_z_v
noise_summary = [
    tuple(noise.weight_epsilon.shape),
    noise.weight_sigma.abs().mean().item(),
    sorted(k for k, _ in noise.named_buffers()),
    len(online.state_dict()),
]
eps_in, eps_out = noise._scale_noise(3), noise._scale_noise(2)
outer_product = eps_out.ger(eps_in).tolist()
