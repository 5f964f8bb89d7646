"""A logistic-normal model of compositional data (proportions that sum to 1) as people write
it for PyTorch: TransformedDistribution(Independent(Normal), [StickBreakingTransform()])
fit by maximum likelihood to Dirichlet draws, its scale kept positive through
transform_to(constraints.positive). For a bijection onto the simplex the fit has a closed form:
the mean and standard deviation of the data mapped back through the transform's inverse,
which the program checks; then a flow of several transforms (affine with event_dim=1, tanh,
affine) fit to bounded 2-D data, with log-likelihoods compared to the base density computed by
hand."""

import math

import torch
from torch.distributions import (
    Dirichlet,
    Independent,
    Normal,
    TransformedDistribution,
    constraints,
    transform_to,
)
from torch.distributions.transforms import AffineTransform, StickBreakingTransform, TanhTransform

torch.manual_seed(0)

# -- logistic-normal on the 3-simplex
data = Dirichlet(torch.tensor([4.0, 2.0, 3.0])).sample((500,))
loc = torch.zeros(2, requires_grad=True)
raw_scale = torch.zeros(2, requires_grad=True)
positive = transform_to(constraints.positive)
optimizer = torch.optim.Adam([loc, raw_scale], lr=0.05)


def model():
    base = Independent(Normal(loc, positive(raw_scale)), 1)
    return TransformedDistribution(base, [StickBreakingTransform()])


nll_history = []
for step in range(200):
    nll = -model().log_prob(data).mean()
    optimizer.zero_grad()
    nll.backward()
    optimizer.step()
    nll_history.append(nll.item())
    if step % 100 == 0:
        print(f"step {step} nll {nll.item():.4f}")

with torch.no_grad():
    unconstrained = StickBreakingTransform().inv(data)
    mle_loc = unconstrained.mean(0)
    mle_scale = unconstrained.std(0, unbiased=False)
    loc_error = (loc - mle_loc).abs().max().item()
    scale_error = (positive(raw_scale) - mle_scale).abs().max().item()
    draws = model().sample((1000,))
    on_simplex = bool(((draws >= 0).all() and (draws.sum(-1) - 1).abs().max() < 1e-5).item())
    draw_mean = draws.mean(0)
print(f"loc error {loc_error:.4f} scale error {scale_error:.4f} draw mean {draw_mean.tolist()}")

# -- a flow with a vector event: affine (event_dim=1), tanh, then affine onto (-2, 2)^2
points = torch.stack([torch.randn(400) * 0.3 + 0.5, torch.randn(400) * 0.6 - 0.2], -1)
points = 2.0 * torch.tanh(points)
shift = torch.zeros(2, requires_grad=True)
log_scale = torch.zeros(2, requires_grad=True)
flow_opt = torch.optim.Adam([shift, log_scale], lr=0.05)
base = Independent(Normal(torch.zeros(2), torch.ones(2)), 1)


def flow():
    return TransformedDistribution(
        base,
        [
            AffineTransform(shift, log_scale.exp(), event_dim=1),
            TanhTransform(),
            AffineTransform(0.0, 2.0),
        ],
    )


for step in range(200):
    loss = -flow().log_prob(points).mean()
    flow_opt.zero_grad()
    loss.backward()
    flow_opt.step()

with torch.no_grad():
    u = torch.atanh(points / 2.0)
    z = (u - shift) / log_scale.exp()
    by_hand = (
        -0.5 * (z**2).sum(-1)
        - math.log(2 * math.pi)
        - log_scale.sum()
        - torch.log(2.0 * (1 - torch.tanh(u) ** 2)).sum(-1)
    )
    flow_gap = (flow().log_prob(points) - by_hand).abs().max().item()
    fitted_shift, fitted_scale = shift.clone(), log_scale.exp()
print(f"flow gap {flow_gap:.2e} shift {fitted_shift.tolist()} scale {fitted_scale.tolist()}")
