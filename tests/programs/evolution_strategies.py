"""Evolution strategies (Salimans et al. 2017) as their PyTorch re-implementations write them:
the policy's weights flattened with ``torch.nn.utils.parameters_to_vector``, antithetic
Gaussian perturbations, each candidate written back with ``vector_to_parameters`` and scored
under ``torch.no_grad()``, centred-rank fitness shaping with ``argsort`` twice, and the
estimated gradient handed to a torch optimizer by setting ``p.grad`` from the flat vector
(``vector_to_parameters`` onto the grads) so that Adam with weight decay does the update.
The task is a linear-quadratic regulator written with tensors."""

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy, randn
from torch.nn.utils import parameters_to_vector, vector_to_parameters

POP, SIGMA, HORIZON = 16, 0.1, 12
A = torch.tensor([[1.0, 0.1], [0.0, 1.0]])
B = torch.tensor([[0.0], [0.1]])


def episode_return(policy, starts):
    """Negative LQR cost of the policy from a batch of start states."""
    x, total = starts, torch.zeros(len(starts))
    for _ in range(HORIZON):
        u = policy(x).clamp(-3, 3)
        total -= (x**2).sum(1) + 0.1 * (u**2).sum(1)
        x = x @ A.T + u @ B.T
    return total.mean()


def centered_ranks(fitness):
    ranks = torch.empty_like(fitness)
    ranks[fitness.argsort()] = torch.arange(len(fitness), dtype=fitness.dtype)
    return ranks / (len(fitness) - 1) - 0.5


rng = np.random.default_rng(0)
policy = init_from_numpy(nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1)), seed=1)
for p in policy.parameters():
    p.requires_grad_(False)
optimizer = torch.optim.Adam(policy.parameters(), lr=0.03, weight_decay=1e-3)
theta = parameters_to_vector(policy.parameters())
num_params = theta.numel()
starts = randn(rng, 32, 2)
returns, grad_norms = [], []
with torch.no_grad():
    for generation in range(20):
        theta = parameters_to_vector(policy.parameters())
        half = randn(rng, POP // 2, num_params)
        noise = torch.cat([half, -half])
        fitness = torch.empty(POP)
        for i in range(POP):
            vector_to_parameters(theta + SIGMA * noise[i], policy.parameters())
            fitness[i] = episode_return(policy, starts)
        vector_to_parameters(theta, policy.parameters())
        weights = centered_ranks(fitness)
        grad = -(weights @ noise) / (POP * SIGMA)
        grads = [torch.zeros_like(p) for p in policy.parameters()]
        vector_to_parameters(grad, grads)
        for p, g in zip(policy.parameters(), grads):
            p.grad = g
        optimizer.step()
        grad_norms.append(grad.norm().item())
        returns.append(episode_return(policy, starts).item())

ranks_example = centered_ranks(torch.tensor([3.0, -1.0, 7.0, 0.5])).tolist()
vector_shape = tuple(parameters_to_vector(policy.parameters()).shape)
state_keys = sorted(optimizer.state_dict()["state"][0].keys())
try:
    vector_to_parameters(torch.zeros(num_params), policy.parameters())
    vector_to_parameters([0.0] * num_params, policy.parameters())
    type_error = None
except TypeError as exc:
    type_error = str(exc)
