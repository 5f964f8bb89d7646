"""Dropout on attention weights: one keep-mask, drawn when attention is called."""

from __future__ import annotations

from ..._torch_samplers import dropout_scale


class AttentionDropout:
    """The dropout mask of attention weights of shape (batch..., L, S): weight ``(b, i, j)`` is
    kept, and scaled by ``1/(1-p)``, where the device's generator's ``bernoulli(shape, 1 - p)``
    draw (in the order of the weights) is True, as PyTorch's ``bernoulli_(1 - p)``.

    Both kernels use the same mask, so they drop the same weights for the same seed. It is kept
    as bool, one byte per weight, until backward: the block-wise kernel's memory is O(L·S) bytes
    with dropout (4-8x less than the dense kernel's weights). Drawing it again by blocks in
    backward would make it O(L + S), but a redraw is not something ``minigrad.compile`` replays
    or ``vmap``'s randomness modes see, so the mask is drawn once, as any random op's is.
    """

    def __init__(self, p: float, generator, shape: tuple, dtype):
        self.p, self.shape = p, tuple(shape)
        self.scale = float(dropout_scale(dtype, p)) if p < 1.0 else 0.0  # PyTorch's rounding
        self.keep = generator.bernoulli(self.shape, 1.0 - p)  # PyTorch's bernoulli_(1 - p)

    def mask(self):
        """The whole (batch..., L, S) keep-mask (bool)."""
        return self.keep

    def rows(self, start: int, stop: int):
        """The keep-mask of query rows ``start:stop``: (batch..., stop - start, S), bool."""
        return self.keep[..., start:stop, :]
