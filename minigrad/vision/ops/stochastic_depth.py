"""Stochastic depth (Huang et al. 2016, "Deep Networks with Stochastic Depth"): in training,
zero a residual branch with probability ``p`` (per sample, ``"row"``, or for the whole batch,
``"batch"``) and scale the survivors by ``1 / (1 - p)``. The mask is drawn as torchvision draws
it (``empty(size).bernoulli_(1 - p)``), so under the same seed the same branches drop."""

from __future__ import annotations

import minigrad
from minigrad import nn

__all__ = ["StochasticDepth", "stochastic_depth"]


def stochastic_depth(input, p: float, mode: str, training: bool = True):
    """``input`` with rows (``mode="row"``) or all of it (``"batch"``) zeroed with probability
    ``p`` and the rest scaled by ``1 / (1 - p)``; ``input`` itself when not training or p=0."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
    if mode not in ("batch", "row"):
        raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode}")
    if not training or p == 0.0:
        return input
    survival_rate = 1.0 - p
    size = [input.shape[0]] + [1] * (input.ndim - 1) if mode == "row" else [1] * input.ndim
    noise = minigrad.empty(size, dtype=input.dtype, device=input.device).bernoulli_(survival_rate)
    if survival_rate > 0.0:
        noise.div_(survival_rate)
    return input * noise


class StochasticDepth(nn.Module):
    """:func:`stochastic_depth` as a module: applies in ``train()`` mode only."""

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, input):
        return stochastic_depth(input, self.p, self.mode, self.training)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(p={self.p}, mode={self.mode})"
