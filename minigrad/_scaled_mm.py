"""``torch._scaled_mm``, the float8 matrix product the float8 training recipes (torchao's
``Float8Linear``, the "float8 training" blog posts) call inside their own autograd Functions:
``(a · scale_a) @ (b · scale_b) + bias`` for float8 ``a`` and ``b``, with tensorwise scales
(one-element float32 tensors) or rowwise ones (``(M, 1)`` for ``a``, ``(1, N)`` for ``b``),
accumulated in float32 and rounded once to ``out_dtype``. As on PyTorch's CPU, the layouts of
``a`` and ``b`` are not constrained. It records no gradient: inputs that require one raise."""

from __future__ import annotations

from . import dtypes
from .tensor import Tensor

__all__ = ["_scaled_mm"]

_FLOAT8 = ("float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz")


def _scaled_mm(
    self, mat2, scale_a, scale_b, bias=None, scale_result=None, out_dtype=None,
    use_fast_accum=False,
):  # fmt: skip
    """``self @ mat2`` of float8 matrices with their scales, as ``torch._scaled_mm``.

    Args:
        self: (M, K) float8 matrix.
        mat2: (K, N) float8 matrix.
        scale_a: float32 scale of ``self``: one element, or (M, 1) per row.
        scale_b: float32 scale of ``mat2``: one element, or (1, N) per column.
        bias: optional (N,) bias in ``out_dtype``, added before the final rounding.
        scale_result: not supported (PyTorch uses it for float8 outputs on some GPUs).
        out_dtype: the result's dtype (default ``self``'s).
        use_fast_accum: accepted; minigrad always accumulates in float32.

    Example:
        >>> a8, b8 = (x / sa).to(minigrad.float8_e4m3fn), (w / sb).to(minigrad.float8_e4m3fn)
        >>> y = minigrad._scaled_mm(a8, b8.t(), scale_a=sa, scale_b=sb, out_dtype=minigrad.float32)
    """
    _check(self, mat2, scale_a, scale_b, scale_result)
    if any(isinstance(t, Tensor) and t.requires_grad for t in (self, mat2, bias)):
        raise NotImplementedError(
            "_scaled_mm: minigrad records no gradient for it (float8 recipes call it inside "
            "their own autograd.Function); pass detached tensors"
        )
    out = (self.float() @ mat2.float()) * (scale_a.float() * scale_b.float())
    if bias is not None:
        out = out + bias.float()
    return out.to(out_dtype or self.dtype)


def _check(a, b, scale_a, scale_b, scale_result) -> None:
    for name, t in (("self", a), ("mat2", b)):
        if not isinstance(t, Tensor) or t.dtype.name not in _FLOAT8 or t.ndim != 2:
            raise RuntimeError(
                f"_scaled_mm: expected {name} to be a 2-D float8 tensor "
                f"({', '.join(_FLOAT8)}), got {getattr(t, 'dtype', type(t).__name__)}"
            )
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"_scaled_mm: mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} "
            f"and {b.shape[0]}x{b.shape[1]})"
        )
    m, n = a.shape[0], b.shape[1]
    tensorwise = scale_a.numel() == 1 and scale_b.numel() == 1
    rowwise = tuple(scale_a.shape) == (m, 1) and tuple(scale_b.shape) == (1, n)
    if scale_a.dtype is not dtypes.float32 or scale_b.dtype is not dtypes.float32:
        tensorwise = rowwise = False
    if not (tensorwise or rowwise):
        raise RuntimeError(
            "_scaled_mm: invalid scaling configuration: tensorwise scales are one-element "
            f"float32 tensors, rowwise scales float32 of shapes ({m}, 1) and (1, {n}); got "
            f"{tuple(scale_a.shape)} {scale_a.dtype} and {tuple(scale_b.shape)} {scale_b.dtype}"
        )
    if scale_result is not None:
        raise NotImplementedError("_scaled_mm: scale_result is not supported in minigrad")
