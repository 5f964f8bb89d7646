"""A neural ODE as the torchdiffeq examples write it (ode_demo.py), with a hand-written
fixed-step RK4 solver instead of torchdiffeq: the true dynamics dy/dt = (y**3) @ A, an ODEFunc
MLP (tanh) trained by backpropagating through the solver on random sub-trajectories
(get_batch), a RunningAverageMeter, the number of function evaluations counted by the
module, and an adjoint-free check that the learned dynamics extrapolate the trajectory."""

import numpy as np
import torch
import torch.nn as nn

np.random.seed(0)
torch.manual_seed(0)
device = torch.device("cpu")

data_size, batch_time, batch_size, niters = 200, 10, 16, 60


def odeint(func, y0, t, method="rk4"):
    """Integrate dy/dt = func(t, y) at the times t (first is y0), one RK4 step per interval."""
    if method != "rk4":
        raise ValueError(method)
    ys = [y0]
    y = y0
    for t0, t1 in zip(t[:-1], t[1:]):
        dt = t1 - t0
        k1 = func(t0, y)
        k2 = func(t0 + dt / 2, y + dt * k1 / 2)
        k3 = func(t0 + dt / 2, y + dt * k2 / 2)
        k4 = func(t1, y + dt * k3)
        y = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        ys.append(y)
    return torch.stack(ys)


true_y0 = torch.tensor([[2.0, 0.0]]).to(device)
t = torch.linspace(0.0, 25.0, data_size).to(device)
true_A = torch.tensor([[-0.1, 2.0], [-2.0, -0.1]]).to(device)


class Lambda(nn.Module):
    def forward(self, t, y):
        return torch.mm(y**3, true_A)


with torch.no_grad():
    true_y = odeint(Lambda(), true_y0, t, method="rk4")


def get_batch():
    s = torch.from_numpy(
        np.random.choice(
            np.arange(data_size - batch_time, dtype=np.int64), batch_size, replace=False
        )
    )
    batch_y0 = true_y[s]  # (M, D)
    batch_t = t[:batch_time]  # (T)
    batch_y = torch.stack([true_y[s + i] for i in range(batch_time)], dim=0)  # (T, M, D)
    return batch_y0.to(device), batch_t.to(device), batch_y.to(device)


class ODEFunc(nn.Module):
    def __init__(self):
        super(ODEFunc, self).__init__()
        self.net = nn.Sequential(nn.Linear(2, 50), nn.Tanh(), nn.Linear(50, 2))
        self.nfe = 0
        for m in self.net.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, mean=0, std=0.1)
                nn.init.constant_(m.bias, val=0)

    def forward(self, t, y):
        self.nfe += 1
        return self.net(y**3)


class RunningAverageMeter(object):
    """Computes and stores the average and current value"""

    def __init__(self, momentum=0.99):
        self.momentum = momentum
        self.reset()

    def reset(self):
        self.val = None
        self.avg = 0

    def update(self, val):
        if self.val is None:
            self.avg = val
        else:
            self.avg = self.avg * self.momentum + val * (1 - self.momentum)
        self.val = val


func = ODEFunc().to(device)
optimizer = torch.optim.RMSprop(func.parameters(), lr=3e-3)
loss_meter = RunningAverageMeter(0.97)
losses, test_losses = [], []


def full_trajectory_loss(steps=60):
    with torch.no_grad():
        pred_y = odeint(func, true_y0, t[:steps])
        return torch.mean(torch.abs(pred_y - true_y[:steps])).item()


initial_test_loss = full_trajectory_loss()
for itr in range(1, niters + 1):
    optimizer.zero_grad()
    batch_y0, batch_t, batch_y = get_batch()
    pred_y = odeint(func, batch_y0, batch_t).to(device)
    loss = torch.mean(torch.abs(pred_y - batch_y))
    loss.backward()
    optimizer.step()
    loss_meter.update(loss.item())
    losses.append(loss.item())
    if itr % 20 == 0:
        test_losses.append(full_trajectory_loss())
        print(f"Iter {itr:04d} | Total Loss {test_losses[-1]:.6f} | running {loss_meter.avg:.4f}")

nfe_per_solve = 4 * (batch_time - 1)
func.nfe = 0
with torch.no_grad():
    odeint(func, true_y0, t[:batch_time])
counted_nfe = func.nfe

# RK4 is 4th-order: halving the step cuts the error on a linear ODE about 16x
decay = torch.tensor([[-0.5, 1.0], [-1.0, -0.5]], dtype=torch.float64)
y0 = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
exact = y0 @ torch.linalg.matrix_exp(decay * 2.0)
errors = []
for n in (11, 21):
    ts = torch.linspace(0, 2.0, n, dtype=torch.float64)
    errors.append((odeint(lambda t, y: y @ decay, y0, ts)[-1] - exact).abs().max().item())
order_ratio = errors[0] / errors[1]
print(f"RK4 error ratio when halving the step: {order_ratio:.1f}")
