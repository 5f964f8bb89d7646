"""Rectified flow (Liu et al., "Flow Straight and Fast", 2022) as its tutorial notebook writes
it: a ``RectifiedFlow`` class holding a velocity MLP, ``get_train_tuple`` drawing
``t ~ U(0, 1)`` (``torch.rand``) and the interpolation ``z_t = t z1 + (1 - t) z0`` with target
``z1 - z0``, Euler sampling with ``@torch.no_grad()``, then *reflow*: the trained 1-rectified
flow couples fresh noise to its own samples, and a 2-rectified flow trained on those pairs
gives straighter paths, measured by the straightness ``E ||(z1 - z0) - v(z_t, t)||^2`` and by
one-step sampling quality. Noise from a Gaussian, target a two-mode mixture; pairs shuffled
by ``torch.randperm`` into mini-batches."""

import torch
import torch.nn as nn

torch.manual_seed(5)


class MLP(nn.Module):
    def __init__(self, input_dim=2, hidden_num=64):
        super().__init__()
        self.fc1 = nn.Linear(input_dim + 1, hidden_num, bias=True)
        self.fc2 = nn.Linear(hidden_num, hidden_num, bias=True)
        self.fc3 = nn.Linear(hidden_num, input_dim, bias=True)
        self.act = lambda x: torch.tanh(x)

    def forward(self, x_input, t):
        inputs = torch.cat([x_input, t], dim=1)
        x = self.act(self.fc1(inputs))
        x = self.act(self.fc2(x))
        return self.fc3(x)


class RectifiedFlow:
    def __init__(self, model=None, num_steps=100):
        self.model = model
        self.N = num_steps

    def get_train_tuple(self, z0=None, z1=None):
        t = torch.rand((z1.shape[0], 1))
        z_t = t * z1 + (1.0 - t) * z0
        target = z1 - z0
        return z_t, t, target

    @torch.no_grad()
    def sample_ode(self, z0=None, N=None):
        if N is None:
            N = self.N
        dt = 1.0 / N
        traj = []
        z = z0.detach().clone()
        batchsize = z.shape[0]
        traj.append(z.detach().clone())
        for i in range(N):
            t = torch.ones((batchsize, 1)) * i / N
            pred = self.model(z, t)
            z = z.detach().clone() + pred * dt
            traj.append(z.detach().clone())
        return traj


def train_rectified_flow(rectified_flow, optimizer, pairs, batchsize, inner_iters):
    loss_curve = []
    for i in range(inner_iters + 1):
        optimizer.zero_grad()
        indices = torch.randperm(len(pairs))[:batchsize]
        batch = pairs[indices]
        z0 = batch[:, 0].detach().clone()
        z1 = batch[:, 1].detach().clone()
        z_t, t, target = rectified_flow.get_train_tuple(z0=z0, z1=z1)
        pred = rectified_flow.model(z_t, t)
        loss = (target - pred).view(pred.shape[0], -1).abs().pow(2).sum(dim=1)
        loss = loss.mean()
        loss.backward()
        optimizer.step()
        loss_curve.append(loss.item())
    return rectified_flow, loss_curve


@torch.no_grad()
def straightness(rf, z0, z1, samples=8):
    total = 0.0
    for _ in range(samples):
        z_t, t, target = rf.get_train_tuple(z0, z1)
        total += (target - rf.model(z_t, t)).pow(2).sum(1).mean().item()
    return total / samples


n = 256
initial_model = torch.randn(n, 2) * 0.8
modes = torch.tensor([[3.0, 1.5], [3.0, -1.5]])
target_model = modes[torch.randint(0, 2, (n,))] + 0.3 * torch.randn(n, 2)

x_0 = initial_model.detach().clone()[torch.randperm(n)]
x_pairs = torch.stack([x_0, target_model], dim=1)

rectified_flow_1 = RectifiedFlow(model=MLP(2, hidden_num=32), num_steps=20)
optimizer = torch.optim.Adam(rectified_flow_1.model.parameters(), lr=5e-3)
rectified_flow_1, loss_curve_1 = train_rectified_flow(
    rectified_flow_1, optimizer, x_pairs, 128, 100
)

# reflow: couple fresh noise with the 1-rectified flow's samples
z10 = torch.randn(n, 2) * 0.8
z11 = rectified_flow_1.sample_ode(z0=z10, N=20)[-1].detach().clone()
z_pairs = torch.stack([z10, z11], dim=1)

reflow = RectifiedFlow(model=MLP(2, hidden_num=32), num_steps=20)
reflow.model.load_state_dict(rectified_flow_1.model.state_dict())
optimizer = torch.optim.Adam(reflow.model.parameters(), lr=5e-3)
reflow, loss_curve_2 = train_rectified_flow(reflow, optimizer, z_pairs, 128, 60)

z_test = torch.randn(128, 2) * 0.8
straight_1 = straightness(rectified_flow_1, z10, z11)
straight_2 = straightness(reflow, z10, z11)
one_step_1 = rectified_flow_1.sample_ode(z_test, N=1)[-1]
one_step_2 = reflow.sample_ode(z_test, N=1)[-1]


def mode_distance(x):
    return torch.cdist(x, modes).min(dim=1).values.mean().item()


one_step_dist = [mode_distance(one_step_1), mode_distance(one_step_2)]
euler_dist = mode_distance(rectified_flow_1.sample_ode(z_test, N=20)[-1])
traj_len = len(reflow.sample_ode(z_test[:4], N=5))
