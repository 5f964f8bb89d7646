"""Transforms applied piecewise along a dim: ``CatTransform`` (one transform per run of
positions) and ``StackTransform`` (one transform per slice), as ``torch.distributions``."""

from __future__ import annotations

from .. import ops
from . import constraints
from ._transform_base import Transform, _sum_rightmost


def _check_transforms(tseq, who: str) -> list:
    tseq = list(tseq)
    for t in tseq:
        if not isinstance(t, Transform):
            raise TypeError(f"{who} expects Transforms, got {type(t).__name__}")
    return tseq


class CatTransform(Transform):
    """``tseq[i]`` applied to the ``i``-th run of ``lengths[i]`` positions (1 each by default)
    along ``dim``; the results concatenated.

    Example:
        >>> t = CatTransform([ExpTransform(), identity_transform], dim=-1, lengths=[2, 3])
        >>> y = t(x)  # x[..., :2] exponentiated, x[..., 2:] as is
    """

    def __init__(self, tseq, dim: int = 0, lengths=None, cache_size: int = 0):
        tseq = _check_transforms(tseq, "CatTransform")
        if cache_size:
            tseq = [t.with_cache(cache_size) for t in tseq]
        super().__init__(cache_size=cache_size)
        self.transforms = tseq
        self.lengths = [1] * len(tseq) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.transforms):
            raise ValueError(
                f"CatTransform: {len(self.transforms)} transforms but {len(self.lengths)} lengths"
            )
        self.dim = dim

    @property
    def event_dim(self) -> int:
        return max(t.event_dim for t in self.transforms)

    @property
    def length(self) -> int:
        return sum(self.lengths)

    def with_cache(self, cache_size: int = 1):
        if self._cache_size == cache_size:
            return self
        return CatTransform(self.transforms, self.dim, self.lengths, cache_size)

    def _pieces(self, x):
        if not -x.dim() <= self.dim < x.dim():
            raise ValueError(f"CatTransform: dim {self.dim} out of range for shape {x.shape}")
        if x.shape[self.dim] != self.length:
            raise ValueError(
                f"CatTransform: expected size {self.length} along dim {self.dim}, got "
                f"{x.shape[self.dim]} (shape {tuple(x.shape)})"
            )
        start = 0
        for t, length in zip(self.transforms, self.lengths):
            yield t, x.narrow(self.dim, start, length)
            start += length

    def _call(self, x):
        return ops.cat([t(piece) for t, piece in self._pieces(x)], self.dim)

    def _inverse(self, y):
        return ops.cat([t.inv(piece) for t, piece in self._pieces(y)], self.dim)

    def log_abs_det_jacobian(self, x, y):
        terms = []
        for (t, xs), (_, ys) in zip(self._pieces(x), self._pieces(y)):
            term = t.log_abs_det_jacobian(xs, ys)
            terms.append(_sum_rightmost(term, self.event_dim - t.event_dim))
        # the dim survives in the log-det only when it is a batch dim
        dim = (self.dim - x.dim() if self.dim >= 0 else self.dim) + self.event_dim
        if dim < 0:
            return ops.cat(terms, dim)
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return total

    @property
    def bijective(self):
        return all(t.bijective for t in self.transforms)

    @property
    def domain(self):
        return constraints.cat([t.domain for t in self.transforms], self.dim, self.lengths)

    @property
    def codomain(self):
        return constraints.cat([t.codomain for t in self.transforms], self.dim, self.lengths)


class StackTransform(Transform):
    """``tseq[i]`` applied to slice ``i`` of ``dim``; the results stacked back along it."""

    def __init__(self, tseq, dim: int = 0, cache_size: int = 0):
        tseq = _check_transforms(tseq, "StackTransform")
        if cache_size:
            tseq = [t.with_cache(cache_size) for t in tseq]
        super().__init__(cache_size=cache_size)
        self.transforms = tseq
        self.dim = dim

    def with_cache(self, cache_size: int = 1):
        if self._cache_size == cache_size:
            return self
        return StackTransform(self.transforms, self.dim, cache_size)

    def _slices(self, x):
        if not -x.dim() <= self.dim < x.dim():
            raise ValueError(f"StackTransform: dim {self.dim} out of range for shape {x.shape}")
        if x.shape[self.dim] != len(self.transforms):
            raise ValueError(
                f"StackTransform: {len(self.transforms)} transforms for size "
                f"{x.shape[self.dim]} along dim {self.dim}"
            )
        return x.unbind(self.dim)

    def _call(self, x):
        return ops.stack([t(s) for t, s in zip(self.transforms, self._slices(x))], self.dim)

    def _inverse(self, y):
        return ops.stack([t.inv(s) for t, s in zip(self.transforms, self._slices(y))], self.dim)

    def log_abs_det_jacobian(self, x, y):
        terms = [
            t.log_abs_det_jacobian(xs, ys)
            for t, xs, ys in zip(self.transforms, self._slices(x), self._slices(y))
        ]
        return ops.stack(terms, self.dim)

    @property
    def bijective(self):
        return all(t.bijective for t in self.transforms)

    @property
    def domain(self):
        return constraints.stack([t.domain for t in self.transforms], self.dim)

    @property
    def codomain(self):
        return constraints.stack([t.codomain for t in self.transforms], self.dim)
