"""A Sobol quasi-random hyperparameter search: log-uniform learning rate and weight decay and a
uniform momentum drawn from ``SobolEngine`` points scaled into the box, each setting training a
small regression model for a few epochs; the best setting is kept (Ax/BoTorch initialisation
style)."""

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy, randn
from torch.quasirandom import SobolEngine

rng = np.random.default_rng(4)
X = randn(rng, 64, 5)
w_true = randn(rng, 5, 1)
Y = X @ w_true + 0.1 * randn(rng, 64, 1)
bounds = torch.tensor([[-3.0, -6.0, 0.0], [-0.5, -2.0, 0.95]])
points = SobolEngine(dimension=3).draw(12)
settings = bounds[0] + (bounds[1] - bounds[0]) * points


def train(log_lr, log_wd, momentum):
    model = init_from_numpy(nn.Linear(5, 1), seed=4)
    opt = torch.optim.SGD(
        model.parameters(), lr=10**log_lr, weight_decay=10**log_wd, momentum=momentum
    )
    for _ in range(15):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(X), Y)
        loss.backward()
        opt.step()
    return nn.functional.mse_loss(model(X), Y).item()


results = [train(*s.tolist()) for s in settings]
best = int(torch.tensor(results).argmin())
best_setting = settings[best].tolist()
setting_values = settings.flatten().tolist()
