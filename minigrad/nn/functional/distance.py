"""Distances between batches of vectors: ``cosine_similarity``, ``pairwise_distance``, ``pdist``."""

from __future__ import annotations

import math

from ... import dtypes, ops
from ...autograd.graph import named_as, names_node
from ...creation import shape_constant
from ...ops.base import first_order_only
from ...ops.complex import real_only
from ...ops.matrix import distance_inf


@real_only
def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8):
    """x1·x2 / (max(‖x1‖, eps)·max(‖x2‖, eps)) along ``dim`` (inputs broadcast), as PyTorch.

    Example:
        >>> F.cosine_similarity(minigrad.randn(4, 3), minigrad.randn(4, 3)).shape
        minigrad.Size([4])
    """
    x1, x2 = ops.broadcast_tensors(x1, x2)
    common = dtypes.result_type(x1, x2)  # (after broadcasting: a 0-d operand widens too)
    if not (common.is_floating_point or common.is_complex):
        raise RuntimeError(
            f"cosine_similarity: expected common dtype to be floating point, yet common dtype "
            f"is {dtypes.scalar_type_name(common)}"
        )
    # (integer and bool operands in the common float dtype; a float one keeps its own for its
    # norm, as PyTorch's)
    x1, x2 = (
        x if x.dtype.is_floating_point or x.dtype.is_complex else x.to(common) for x in (x1, x2)
    )
    # the 2-norm op, whose gradient at a zero vector is 0 as PyTorch's (sqrt of the summed
    # squares would give 0 · inf = NaN there, where the clamp has already cut the path)
    n1 = ops.norm(x1, 2, dim, True).clamp(min=eps)
    n2 = ops.norm(x2, 2, dim, True).clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
    """‖x1 - x2 + eps‖_p over the last dim (``eps`` keeps the norm differentiable at 0).

    Example:
        >>> F.pairwise_distance(minigrad.randn(4, 3), minigrad.randn(4, 3)).shape
        minigrad.Size([4])
    """
    return named_as(ops.norm(x1 - x2 + eps, p, -1, keepdim), "NormBackward1")  # (PyTorch: norm)


@real_only
@names_node("PdistBackward0")
def pdist(input, p: float = 2.0):
    """The p-norm distances between the rows of an (N, M) input, for every pair i < j in
    row-major order: a vector of N·(N-1)/2, as ``torch.nn.functional.pdist``. Its gradient is
    not differentiable, as in PyTorch (``the derivative for '_pdist_backward' is not
    implemented.``).

    Example:
        >>> F.pdist(minigrad.randn(4, 3)).shape
        minigrad.Size([6])
    """
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if p < 0:
        raise RuntimeError(f"pdist only supports non-negative p values, got p={p}")
    if input.dtype in (dtypes.float16, dtypes.bfloat16):  # (PyTorch's CPU kernel has neither)
        raise NotImplementedError(
            f"\"pdist\" not implemented for '{dtypes.scalar_type_name(input.dtype)}'"
        )
    input = first_order_only(input, "_pdist_backward", "PdistBackwardBackward0")
    n = input.shape[0]
    first = [i for i in range(n) for _ in range(i + 1, n)]
    second = [j for i in range(n) for j in range(i + 1, n)]
    rows = shape_constant(first, dtypes.int64, input.device)
    cols = shape_constant(second, dtypes.int64, input.device)
    diff = input.index_select(0, rows) - input.index_select(0, cols)
    return distance_inf(diff) if p == math.inf else ops.norm(diff, p, -1)
