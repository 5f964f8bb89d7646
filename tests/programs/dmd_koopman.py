"""Dynamic mode decomposition and a deep Koopman autoencoder, as data-driven-dynamics course
notebooks write them in PyTorch: snapshots of a travelling-plus-decaying 1-D field, exact DMD
from a rank-r ``torch.linalg.svd`` (``Vh.mH``, ``torch.diag(1 / S)``), the reduced operator's
complex eigenpairs from ``torch.linalg.eig``, continuous-time frequencies from ``torch.log``
of complex eigenvalues, mode amplitudes by ``torch.linalg.lstsq`` on complex modes, the
reconstruction from the time dynamics ``eigs[:, None] ** torch.arange(T)``;
then a Koopman autoencoder on a pendulum-like nonlinear system: an encoder, a
linear latent operator ``nn.Linear(bias=False)`` rolled forward several steps, a decoder,
trained with reconstruction + multi-step prediction + linearity losses, and the spectrum of
the learned operator from ``torch.linalg.eigvals``. Float64 for DMD, float32 for the net."""

import math

import torch
import torch.nn as nn

torch.manual_seed(8)
x = torch.linspace(-5, 5, 64, dtype=torch.float64)
t = torch.linspace(0, 4 * math.pi, 40, dtype=torch.float64)
dt = (t[1] - t[0]).item()
Xgrid, Tgrid = torch.meshgrid(x, t, indexing="ij")
f1 = (1 / torch.cosh(Xgrid + 3)) * torch.exp(2.3j * Tgrid)
f2 = (2 / torch.cosh(Xgrid)) * torch.tanh(Xgrid) * torch.exp(2.8j * Tgrid)
f3 = 0.5 * torch.exp(-(Xgrid**2)) * torch.exp((-0.1 + 1.0j) * Tgrid)
data = f1 + f2 + f3
data = data + 0.01 * torch.randn(data.shape, dtype=torch.float64)


def dmd(X, Xp, r):
    U, S, Vh = torch.linalg.svd(X, full_matrices=False)
    U, S, V = U[:, :r], S[:r], Vh.mH[:, :r]
    A_tilde = U.mH @ Xp @ V @ torch.diag(1 / S).to(X.dtype)
    eigs, W = torch.linalg.eig(A_tilde)
    Phi = Xp @ V @ torch.diag(1 / S).to(X.dtype) @ W
    return eigs, Phi, S


X1, X2 = data[:, :-1], data[:, 1:]
eigs, Phi, S = dmd(X1, X2, r=3)
omega = torch.log(eigs) / dt
b = torch.linalg.lstsq(Phi, data[:, 0:1]).solution.squeeze(1)
time_dynamics = b[:, None] * eigs[:, None] ** torch.arange(len(t))
recon = Phi @ time_dynamics
recon_err = (torch.linalg.norm(recon - data) / torch.linalg.norm(data)).item()
freqs = sorted(round(v, 6) for v in omega.imag.tolist())
growth = sorted(round(v, 6) for v in omega.real.tolist())
energy = (S**2 / (S**2).sum()).tolist()
print(f"DMD frequencies {[round(f, 3) for f in freqs]} growth {[round(g, 3) for g in growth]}")
print(f"DMD relative reconstruction error {recon_err:.4f}")


def pendulum_trajectories(n_traj, steps, h=0.1):
    state = torch.rand(n_traj, 2) * 2 - 1
    traj = [state]
    for _ in range(steps - 1):
        th, om = state[:, 0], state[:, 1]
        om = om - h * torch.sin(th)
        th = th + h * om
        state = torch.stack([th, om], 1)
        traj.append(state)
    return torch.stack(traj, 1)  # (n_traj, steps, 2)


class KoopmanAE(nn.Module):
    def __init__(self, n=2, latent=4, hidden=32):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(n, hidden), nn.Tanh(), nn.Linear(hidden, latent))
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.Tanh(), nn.Linear(hidden, n))
        self.K = nn.Linear(latent, latent, bias=False)
        nn.init.eye_(self.K.weight)

    def forward(self, x0, steps):
        z = self.encoder(x0)
        zs = [z]
        for _ in range(steps):
            z = self.K(z)
            zs.append(z)
        zs = torch.stack(zs, 1)
        return zs, self.decoder(zs)


trajs = pendulum_trajectories(32, 12)
model = KoopmanAE()
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
mse = nn.MSELoss()
koopman_losses = []
for epoch in range(40):
    opt.zero_grad()
    zs, pred = model(trajs[:, 0], trajs.shape[1] - 1)
    recon_loss = mse(model.decoder(model.encoder(trajs)), trajs)
    pred_loss = mse(pred, trajs)
    lin_loss = mse(zs, model.encoder(trajs))
    loss = recon_loss + pred_loss + 0.1 * lin_loss
    loss.backward()
    opt.step()
    koopman_losses.append(loss.item())
    if epoch % 10 == 0:
        print(f"epoch {epoch} loss {loss.item():.5f} (pred {pred_loss.item():.5f})")
K_eigs = torch.linalg.eigvals(model.K.weight.detach())
K_moduli = sorted(K_eigs.abs().tolist())
