"""Monte Carlo option pricing with pathwise greeks through autograd (the "AAD in PyTorch" blog
posts and the ``torchquantlib``-style notebooks): spot, volatility, rate and maturity are leaf
tensors; geometric Brownian motion paths come from ``torch.randn`` with antithetic variates;
the discounted payoff's mean is the price and one ``backward`` gives delta, vega, rho and theta
at once. Gamma is a second derivative through ``torch.autograd.grad(create_graph=True)`` of a
smoothed (softplus) payoff, since the kinked payoff has no pathwise second derivative. The
European call is checked against Black-Scholes written with ``torch.distributions.Normal``;
an arithmetic Asian call and a down-and-out barrier (a sigmoid-smoothed knock-out) have no
closed form and are compared between runs only."""

import torch
from torch.distributions import Normal

torch.manual_seed(0)
N_PATHS, N_STEPS = 2000, 12

S0 = torch.tensor(100.0, dtype=torch.float64, requires_grad=True)
sigma = torch.tensor(0.2, dtype=torch.float64, requires_grad=True)
r = torch.tensor(0.03, dtype=torch.float64, requires_grad=True)
T = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
K = 105.0


def black_scholes_call(S, K, T, r, sigma):
    n = Normal(torch.zeros((), dtype=S.dtype), torch.ones((), dtype=S.dtype))
    d1 = (torch.log(S / K) + (r + 0.5 * sigma**2) * T) / (sigma * torch.sqrt(T))
    d2 = d1 - sigma * torch.sqrt(T)
    return S * n.cdf(d1) - K * torch.exp(-r * T) * n.cdf(d2)


def simulate_paths(S0, sigma, r, T, z):
    """GBM by exact log-Euler steps; z is (paths, steps) standard normal."""
    dt = T / z.shape[1]
    increments = (r - 0.5 * sigma**2) * dt + sigma * torch.sqrt(dt) * z
    log_paths = torch.log(S0) + torch.cumsum(increments, dim=1)
    return torch.exp(log_paths)


z = torch.randn(N_PATHS // 2, N_STEPS, dtype=torch.float64)
z = torch.cat([z, -z])  # antithetic variates
paths = simulate_paths(S0, sigma, r, T, z)
discount = torch.exp(-r * T)

euro = discount * torch.clamp(paths[:, -1] - K, min=0.0)
price = euro.mean()
std_error = (euro.std() / N_PATHS**0.5).item()
price.backward(retain_graph=True)
mc_greeks = [S0.grad.item(), sigma.grad.item(), r.grad.item(), -T.grad.item()]

bs = black_scholes_call(S0, K, T, r, sigma)
bs_greeks = torch.autograd.grad(bs, (S0, sigma, r, T), create_graph=True)
bs_first = bs_greeks
bs_greeks = [bs_greeks[0].item(), bs_greeks[1].item(), bs_greeks[2].item(), -bs_greeks[3].item()]
mc_price, bs_price = price.item(), bs.item()

# gamma: the second derivative needs a smooth payoff (softplus with a small width)
smooth = discount * torch.nn.functional.softplus(paths[:, -1] - K, beta=2.0)
(delta,) = torch.autograd.grad(smooth.mean(), S0, create_graph=True)
(gamma,) = torch.autograd.grad(delta, S0, retain_graph=True)
bs_gamma = torch.autograd.grad(bs_first[0], S0)[0].item()
smooth_delta, smooth_gamma = delta.item(), gamma.item()

# an arithmetic Asian call and a smoothed down-and-out barrier call
for p in (S0, sigma, r, T):
    p.grad = None
asian = (discount * torch.relu(paths.mean(dim=1) - K)).mean()
barrier_level = 85.0
survive = torch.sigmoid((paths.min(dim=1).values - barrier_level) * 2.0)
barrier = (discount * torch.relu(paths[:, -1] - K) * survive).mean()
(asian + barrier).backward()
exotic = [asian.item(), barrier.item(), S0.grad.item(), sigma.grad.item()]

# float32 pricing as users often run it: same draws, single precision
paths32 = simulate_paths(
    S0.detach().float(), sigma.detach().float(), 0.03, T.detach().float(), z.float()
)
price32 = (torch.exp(torch.tensor(-0.03)) * (paths32[:, -1] - K).clamp_min(0)).mean().item()
knocked_out = int((paths.min(dim=1).values < barrier_level).sum())
