"""Sequential Monte Carlo for a time series, as state-space-model tutorials write it in
PyTorch: the classic nonlinear growth model x_t = x/2 + 25 x/(1 + x^2) + 8 cos(1.2 t) + v,
y_t = x^2 / 20 + w, simulated with ``torch.randn``; a bootstrap particle filter whose weights
live in log space (``torch.distributions.Normal.log_prob``, ``torch.logsumexp``), the effective
sample size triggering resampling, systematic resampling by ``torch.searchsorted`` on the
``cumsum`` of the weights, multinomial resampling by ``torch.multinomial`` for comparison, the
marginal log-likelihood estimate accumulated step by step, and a grid search over the process
noise by that likelihood; plus a Kalman filter on a linear-Gaussian model where the particle
filter's mean is checked against the exact posterior mean. Float64."""

import math

import torch
from torch.distributions import Normal

torch.manual_seed(2024)
torch.set_default_dtype(torch.float64)
T, N = 40, 300


def transition(x, t):
    return x / 2 + 25 * x / (1 + x**2) + 8 * math.cos(1.2 * t)


def simulate(T, q=math.sqrt(10.0), r=1.0):
    xs, ys, x = [], [], torch.tensor(0.1)
    for t in range(1, T + 1):
        x = transition(x, t) + q * torch.randn(())
        xs.append(x)
        ys.append(x**2 / 20 + r * torch.randn(()))
    return torch.stack(xs), torch.stack(ys)


def systematic_resample(log_w):
    n = log_w.shape[0]
    w = torch.exp(log_w - torch.logsumexp(log_w, 0))
    positions = (torch.rand(()) + torch.arange(n)) / n
    cdf = torch.cumsum(w, 0)
    cdf[-1] = 1.0
    return torch.searchsorted(cdf, positions)


def particle_filter(ys, q, r=1.0, n=N, resample="systematic", trans=transition, obs=None):
    obs = obs or (lambda x: x**2 / 20)
    particles = 2.0 * torch.randn(n)
    log_w = torch.full((n,), -math.log(n))
    loglik, means, n_resampled = 0.0, [], 0
    for t, y in enumerate(ys, start=1):
        particles = trans(particles, t) + q * torch.randn(n)
        log_w = log_w + Normal(obs(particles), r).log_prob(y)
        norm = torch.logsumexp(log_w, 0)
        loglik += norm.item()
        log_w = log_w - norm
        w = log_w.exp()
        means.append((w * particles).sum().item())
        ess = 1.0 / (w**2).sum()
        if ess < n / 2:
            n_resampled += 1
            if resample == "systematic":
                idx = systematic_resample(log_w)
            else:
                idx = torch.multinomial(w, n, replacement=True)
            particles = particles[idx]
            log_w = torch.full((n,), -math.log(n))
    return torch.tensor(means), loglik, n_resampled


xs, ys = simulate(T)
means, loglik, n_res = particle_filter(ys, math.sqrt(10.0))
rmse_sys = (means - xs).pow(2).mean().sqrt().item()
means_m, loglik_m, n_res_m = particle_filter(ys, math.sqrt(10.0), resample="multinomial")
rmse_multi = (means_m - xs).pow(2).mean().sqrt().item()
grid = [1.0, 2.0, 3.16, 5.0]
profile = [particle_filter(ys, q, n=200)[1] for q in grid]
best_q = grid[int(torch.tensor(profile).argmax())]
print(f"systematic rmse {rmse_sys:.3f} loglik {loglik:.3f} ({n_res} resamples)")
print(f"multinomial rmse {rmse_multi:.3f} loglik {loglik_m:.3f}; best q {best_q}")

a, q_lin, r_lin = 0.9, 0.5, 0.7
x, lin_x, lin_y = torch.tensor(0.0), [], []
for _ in range(T):
    x = a * x + q_lin * torch.randn(())
    lin_x.append(x)
    lin_y.append(x + r_lin * torch.randn(()))
lin_y = torch.stack(lin_y)
m, P, kalman_means, kalman_ll = torch.tensor(0.0), torch.tensor(4.0), [], 0.0
for y in lin_y:
    m, P = a * m, a * a * P + q_lin**2
    S = P + r_lin**2
    kalman_ll += Normal(m, S.sqrt()).log_prob(y).item()
    K_gain = P / S
    m, P = m + K_gain * (y - m), (1 - K_gain) * P
    kalman_means.append(m.item())
pf_means, pf_ll, _ = particle_filter(
    lin_y, q_lin, r=r_lin, n=400, trans=lambda x, t: a * x, obs=lambda x: x
)
kalman_gap = (pf_means - torch.tensor(kalman_means)).abs().max().item()
loglik_gap = abs(pf_ll - kalman_ll)
print(f"Kalman loglik {kalman_ll:.4f} PF {pf_ll:.4f}; max mean gap {kalman_gap:.4f}")
means = means.tolist()
torch.set_default_dtype(torch.float32)
