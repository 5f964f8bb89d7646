"""Distances between batches of vectors: ``cosine_similarity`` and ``pairwise_distance``."""

from __future__ import annotations

from ... import ops


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8):
    """x1·x2 / (max(‖x1‖, eps)·max(‖x2‖, eps)) along ``dim`` (inputs broadcast), as PyTorch.

    Example:
        >>> F.cosine_similarity(minigrad.randn(4, 3), minigrad.randn(4, 3)).shape
        minigrad.Size([4])
    """
    x1, x2 = ops.broadcast_tensors(x1, x2)
    n1 = (x1 * x1).sum(dim, keepdim=True).sqrt().clamp(min=eps)
    n2 = (x2 * x2).sum(dim, keepdim=True).sqrt().clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
    """‖x1 - x2 + eps‖_p over the last dim (``eps`` keeps the norm differentiable at 0).

    Example:
        >>> F.pairwise_distance(minigrad.randn(4, 3), minigrad.randn(4, 3)).shape
        minigrad.Size([4])
    """
    return ops.norm(x1 - x2 + eps, p, -1, keepdim)
