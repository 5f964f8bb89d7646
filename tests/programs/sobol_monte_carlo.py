"""Quasi-Monte Carlo integration with ``torch.quasirandom.SobolEngine`` (as in BoTorch-style
code): estimate integrals over the unit cube with scrambled and unscrambled Sobol points versus
the exact value, ``draw``/``fast_forward``/``reset`` bookkeeping, and ``draw_base2``."""

import math

import torch
from torch.quasirandom import SobolEngine


def integrand(x):
    return torch.prod(1 + 0.5 * (x - 0.5) * math.pi * torch.sin(math.pi * x), dim=-1)


def exact(dim):
    return 1.0  # each factor integrates to 1 over [0, 1]


engine = SobolEngine(dimension=4)
first = engine.draw(8).tolist()
errors = []
for m in (4, 6, 8, 10):
    points = SobolEngine(dimension=4).draw(2**m, dtype=torch.float64)
    errors.append(abs(integrand(points).mean().item() - exact(4)))
engine.reset()
a = engine.draw(5)
engine.reset()
engine.fast_forward(3)
b = engine.draw(2)
fast_forward_ok = torch.equal(a[3:], b)
num_generated = engine.num_generated
base2 = SobolEngine(dimension=2).draw_base2(3).tolist()
scrambled = SobolEngine(dimension=3, scramble=True, seed=7).draw(64, dtype=torch.float64)
in_cube = bool(((scrambled >= 0) & (scrambled < 1)).all())
scrambled_mean = scrambled.mean(0)
disk = SobolEngine(dimension=2).draw(1024, dtype=torch.float64)
pi_estimate = 4 * (disk.pow(2).sum(1) <= 1).double().mean().item()
