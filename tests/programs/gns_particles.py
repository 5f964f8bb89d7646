"""A learned particle simulator in the style of GNS ("Learning to Simulate Complex Physics with
Graph Networks", Sanchez-Gonzalez et al. 2020) and its PyTorch ports: node features from the
last C velocities (finite differences of the position history) and the distance to the walls,
edges by radius (``torch.cdist`` below ``R``, self-pairs dropped, ``nonzero``), edge features
of relative displacement and distance, encode-process-decode with residual ``InteractionNetwork``
steps (messages from ``cat([x_i, x_j, e_ij])`` summed into receivers with ``index_add_``),
acceleration targets normalised by running statistics, random-walk noise injected into the
input history (``randn`` cumulated over time, the last position's noise carried into the
target), and a short rollout that integrates the predicted accelerations (semi-implicit
Euler). The "physics" is a ball of particles under gravity with a soft floor, simulated
with the same integrator."""

import torch
import torch.nn as nn

torch.manual_seed(31)
C, R, DT, N_PART = 3, 0.35, 0.1, 12


def simulate(pos0, steps):
    pos, vel, traj = pos0.clone(), torch.zeros_like(pos0), [pos0.clone()]
    for _ in range(steps):
        acc = torch.tensor([0.0, -1.0]).expand_as(pos).clone()
        acc[:, 1] += 20.0 * torch.relu(-pos[:, 1])  # soft floor at y = 0
        d = torch.cdist(pos, pos) + torch.eye(len(pos))
        push = torch.relu(R - d) / d  # soft repulsion between close particles
        acc += 5.0 * ((pos[:, None] - pos[None, :]) * push[..., None]).sum(1)
        vel = vel + DT * acc
        pos = pos + DT * vel
        traj.append(pos.clone())
    return torch.stack(traj)  # (T, N, 2)


def mlp(i, o, h=32):
    return nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, o))


class InteractionNetwork(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.edge_fn, self.node_fn = mlp(3 * dim, dim), mlp(2 * dim, dim)

    def forward(self, x, e, senders, receivers):
        e_new = self.edge_fn(torch.cat([x[receivers], x[senders], e], dim=-1))
        agg = torch.zeros_like(x).index_add_(0, receivers, e_new)
        x_new = self.node_fn(torch.cat([x, agg], dim=-1))
        return x + x_new, e + e_new


class LearnedSimulator(nn.Module):
    def __init__(self, dim=32, steps=2):
        super().__init__()
        self.node_enc, self.edge_enc = mlp(2 * C + 1, dim), mlp(3, dim)
        self.processor = nn.ModuleList(InteractionNetwork(dim) for _ in range(steps))
        self.decoder = mlp(dim, 2)
        self.register_buffer("acc_mean", torch.zeros(2))
        self.register_buffer("acc_std", torch.ones(2))

    def graph(self, pos):
        d = torch.cdist(pos, pos)
        senders, receivers = ((d < R) & ~torch.eye(len(pos), dtype=torch.bool)).nonzero(
            as_tuple=True
        )
        disp = (pos[senders] - pos[receivers]) / R
        return senders, receivers, torch.cat([disp, disp.norm(dim=-1, keepdim=True)], dim=-1)

    def forward(self, history):  # history: (C + 1, N, 2) positions, oldest first
        vel = (history[1:] - history[:-1]) / DT
        node = torch.cat([vel.permute(1, 0, 2).flatten(1), history[-1, :, 1:].clamp(max=1.0)], -1)
        senders, receivers, edge = self.graph(history[-1])
        x, e = self.node_enc(node), self.edge_enc(edge)
        for block in self.processor:
            x, e = block(x, e, senders, receivers)
        return self.decoder(x), len(senders)

    def next_position(self, history):
        acc = self(history)[0] * self.acc_std + self.acc_mean
        vel = (history[-1] - history[-2]) / DT + DT * acc
        return history[-1] + DT * vel


starts = [
    torch.rand(N_PART, 2) * torch.tensor([1.0, 0.6]) + torch.tensor([0.0, 0.3]) for _ in range(3)
]
trajs = [simulate(s, 24) for s in starts]
accs = torch.cat([(t[2:] - 2 * t[1:-1] + t[:-2]) / DT**2 for t in trajs]).flatten(0, 1)

sim = LearnedSimulator()
sim.acc_mean.copy_(accs.mean(0))
sim.acc_std.copy_(accs.std(0))
optimizer = torch.optim.Adam(sim.parameters(), lr=3e-3)
scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.99)
noise_std = 3e-4
losses, edge_counts = [], []
for step in range(60):
    traj = trajs[step % 3]
    t = int(torch.randint(C, traj.size(0) - 1, ()).item())
    history = traj[t - C : t + 1]
    noise = torch.randn(C, N_PART, 2) * (noise_std / C**0.5)
    noise = torch.cat([torch.zeros(1, N_PART, 2), noise.cumsum(0)])
    noisy = history + noise
    target_pos = traj[t + 1] + noise[-1]
    target_acc = (target_pos - 2 * noisy[-1] + noisy[-2]) / DT**2
    pred, n_edges = sim(noisy)
    loss = ((pred - (target_acc - sim.acc_mean) / sim.acc_std) ** 2).sum(-1).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())
    edge_counts.append(n_edges)

sim.eval()
with torch.no_grad():
    window = list(trajs[0][: C + 1])
    for _ in range(8):
        window.append(sim.next_position(torch.stack(window[-(C + 1) :])))
    rollout = torch.stack(window)
rollout_mse = ((rollout[C + 1 :] - trajs[0][C + 1 : C + 9]) ** 2).mean().item()
still_mse = ((trajs[0][C : C + 1] - trajs[0][C + 1 : C + 9]) ** 2).mean().item()
acc_stats = sim.acc_mean.tolist() + sim.acc_std.tolist()
