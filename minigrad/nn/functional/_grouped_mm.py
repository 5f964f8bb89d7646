"""``F.grouped_mm`` (one matrix product per group, groups given by offsets, as mixture-of-experts
layers use), ``F.conv_tbc``, and ``F.scaled_mm``/``F.scaled_grouped_mm`` (float8 only: not
available in minigrad)."""

from __future__ import annotations

import enum

from ... import dtypes
from ...creation import zeros
from ...ops import cat, stack

__all__ = ["ScalingType", "SwizzleType", "conv_tbc", "grouped_mm", "scaled_grouped_mm", "scaled_mm"]


def grouped_mm(mat_a, mat_b, *, offs=None, bias=None, out_dtype=None):
    """Matrix products of groups of ``mat_a`` and ``mat_b``, as PyTorch's ``F.grouped_mm``.

    ``offs`` (G,) int32 holds the cumulative end of each group along the grouped dim:

    - (M, K) × (G, K, N) with offs over M: rows ``offs[g-1]:offs[g]`` use ``mat_b[g]``; (M, N).
    - (G, M, K) × (K, N) with offs over N: columns of group g use ``mat_a[g]``; (M, N).
    - (M, K) × (K, N) with offs over K: (G, M, N), group g summing its slice of K.
    - (G, M, K) × (G, K, N) without offs: the batched product, (G, M, N).

    Rows/columns after the last offset are zeros (PyTorch leaves them unset). Differentiable in
    both matrices (PyTorch has no CPU backward). float64 is accepted too (PyTorch: 32/16-bit).

    Example:
        >>> out = F.grouped_mm(tokens, expert_weights, offs=minigrad.tensor([3, 5], dtype=minigrad.int32))
    """
    if bias is not None:
        raise RuntimeError("grouped_mm: bias not supported yet (as PyTorch)")
    if out_dtype is not None and out_dtype is not mat_a.dtype:
        raise RuntimeError("grouped_mm: output dtype must match `mat_a` dtype")
    if not mat_a.dtype.is_floating_point or mat_a.dtype is not mat_b.dtype:
        raise RuntimeError(
            f"grouped_mm: expected floating mat_a and mat_b of one dtype, got {mat_a.dtype} and "
            f"{mat_b.dtype}"
        )
    dims = (mat_a.ndim, mat_b.ndim)
    if dims not in ((2, 2), (2, 3), (3, 2), (3, 3)):
        raise RuntimeError(f"grouped_mm: mat_a and mat_b must be 2-D or 3-D, got {dims}")
    if (offs is None) != (dims == (3, 3)):
        raise RuntimeError(
            "grouped_mm: have to provide offsets if there is a 2d matrix, or no offset if both "
            "matrices are 3d"
        )
    if dims == (3, 3):
        return mat_a @ mat_b
    if offs.dtype is not dtypes.int32 or offs.ndim != 1:
        raise RuntimeError(f"grouped_mm: offsets have to be a 1-D int32 tensor, got {offs.dtype}")
    bounds = _bounds(offs.tolist(), dims, mat_a, mat_b)
    if dims == (2, 3):
        parts = [mat_a[s:e] @ mat_b[g] for g, (s, e) in enumerate(bounds)]
        return _pad(cat(parts, 0), 0, mat_a.shape[0])
    if dims == (3, 2):
        parts = [mat_a[g] @ mat_b[:, s:e] for g, (s, e) in enumerate(bounds)]
        return _pad(cat(parts, 1), 1, mat_b.shape[1])
    return stack([mat_a[:, s:e] @ mat_b[s:e] for s, e in bounds], 0)


def _bounds(ends: list, dims: tuple, a, b) -> list:
    """(start, end) per group, checked against the grouped dim's size and the group count."""
    size = {(2, 3): a.shape[0], (3, 2): b.shape[1], (2, 2): a.shape[1]}[dims]
    groups = {(2, 3): b.shape[0], (3, 2): a.shape[0], (2, 2): len(ends)}[dims]
    if len(ends) != groups:
        raise RuntimeError(f"grouped_mm: offs has {len(ends)} groups, the matrices {groups}")
    starts = [0, *ends[:-1]]
    if any(e < s for s, e in zip(starts, ends, strict=True)) or (ends and ends[-1] > size):
        raise RuntimeError(
            f"grouped_mm: offs must be non-decreasing and at most {size}, got {ends}"
        )
    return list(zip(starts, ends, strict=True))


def _pad(out, dim: int, size: int):
    """``out`` with zeros appended along ``dim`` up to ``size`` (past the last offset)."""
    missing = size - out.shape[dim]
    if missing == 0:
        return out
    shape = list(out.shape)
    shape[dim] = missing
    return cat([out, zeros(*shape, dtype=out.dtype, device=out.device)], dim)


def conv_tbc(input, weight, bias, pad: int = 0):
    """1-D convolution of (time, batch, channels) input with a (kernel, in, out) weight; as
    ``minigrad.conv_tbc``."""
    from ... import _aten_aliases  # above nn in the import graph: imported when called

    return _aten_aliases.conv_tbc(input, weight, bias, pad)


class ScalingType(enum.IntEnum):
    """How ``scaled_mm`` scales its float8 operands (PyTorch's names)."""

    TensorWise = 0
    RowWise = 1
    BlockWise1x16 = 2
    BlockWise1x32 = 3
    BlockWise1x128 = 4
    BlockWise128x128 = 5


class SwizzleType(enum.IntEnum):
    """The memory layout of ``scaled_mm``'s scales (PyTorch's names)."""

    NO_SWIZZLE = 0
    SWIZZLE_32_4_4 = 1


def scaled_mm(mat_a, mat_b, scale_a, scale_recipe_a, scale_b, scale_recipe_b, *args, **kwargs):
    """Raises: PyTorch's ``scaled_mm`` multiplies float8 matrices, a dtype minigrad lacks."""
    raise NotImplementedError(
        "scaled_mm: needs float8 (float8_e4m3fn/e5m2) operands, and minigrad has no float8 "
        "dtypes; dequantize and use mat_a @ mat_b"
    )


def scaled_grouped_mm(mat_a, mat_b, scale_a, scale_recipe_a, scale_b, scale_recipe_b, *a, **k):
    """Raises: float8 grouped products (PyTorch runs them on CUDA only; minigrad has no float8)."""
    raise NotImplementedError(
        "scaled_grouped_mm: needs float8 operands (PyTorch runs it on CUDA only) and minigrad has "
        "no float8 dtypes; dequantize and use F.grouped_mm"
    )
