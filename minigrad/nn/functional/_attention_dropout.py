"""Dropout on attention weights, drawn so that any block of query rows can be made alone."""

from __future__ import annotations

import math


class AttentionDropout:
    """The dropout mask of attention weights of shape (batch..., L, S), from one generator.

    Weight ``(b, i, j)`` is kept, and scaled by ``1/(1-p)``, where uniform number
    ``(b·L + i)·S + j`` drawn from the generator's state at construction is ≥ p: the mask one
    ``uniform(shape)`` draw gives, and the generator moves past all of them. The dense kernel
    draws it whole (:meth:`mask`); the block-wise kernel draws one block of query rows at a time
    (:meth:`rows`), in forward and again in backward, so that no (L, S) array is kept and both
    kernels drop the same weights for the same seed. A generator that cannot draw at an offset
    (a backend registered from outside) has its mask drawn at once and kept.
    """

    def __init__(self, p: float, generator, shape: tuple, dtype):
        self.p, self.shape, self.dtype = p, tuple(shape), dtype
        self.scale = 1.0 / (1.0 - p) if p < 1.0 else 0.0
        self.generator = generator
        self.state = generator.get_state()
        self._whole = None
        if generator.draws_at_offsets:
            generator.skip(math.prod(self.shape))
        else:
            self._whole = generator.uniform(self.shape, dtype) >= p

    def mask(self):
        """The whole (batch..., L, S) keep-mask (bool)."""
        if self._whole is not None:
            return self._whole
        return self.generator.uniform_at(self.state, 0, self.shape, self.dtype) >= self.p

    def rows(self, xp, start: int, stop: int):
        """The keep-mask of query rows ``start:stop``: (batch..., stop - start, S), bool."""
        if self._whole is not None:
            return self._whole[..., start:stop, :]
        *batch, length, source = self.shape
        if start == 0 and stop == length:
            return self.mask()
        out = xp.empty((math.prod(batch), stop - start, source), dtype=bool)
        for b in range(out.shape[0]):  # one contiguous run of draws per batch element
            offset = (b * length + start) * source
            u = self.generator.uniform_at(self.state, offset, out.shape[1:], self.dtype)
            xp.greater_equal(u, self.p, out=out[b])
        return out.reshape(tuple(batch) + out.shape[1:])
