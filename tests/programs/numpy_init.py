"""Weights and data drawn with NumPy instead of torch's generator, as ports from NumPy or JAX code
often do: a program that uses them computes the same numbers under PyTorch and under minigrad,
so the tests can compare the two runs value by value."""

import math

import numpy as np
import torch


def init_from_numpy(model, seed=0):
    """Matrices and kernels get U(-1/sqrt(fan_in), 1/sqrt(fan_in)), biases U(-0.1, 0.1); other
    vectors (norm layers' weights, PReLU slopes) keep their deterministic default values."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() > 1:
                bound = 1.0 / math.sqrt(p[0].numel())
            elif name.rsplit(".", 1)[-1].startswith("bias"):
                bound = 0.1
            else:
                continue
            p.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(p.shape)).astype("float32")))
    return model


def randn(rng, *shape):
    """A float32 tensor of standard normal draws from the NumPy generator ``rng``."""
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


def rand(rng, *shape):
    """A float32 tensor of U(0, 1) draws from the NumPy generator ``rng``."""
    return torch.from_numpy(rng.random(shape).astype(np.float32))
