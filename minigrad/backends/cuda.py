"""``minigrad.backends.cuda``: ``matmul.allow_tf32`` and friends, kept for PyTorch programs.

CuPy chooses TF32 for float32 matrix products when it starts (the ``CUPY_TF32=1`` environment
variable), not per call, so setting these flags has no effect on minigrad's results.
"""

from __future__ import annotations

from .._warnings import warn_user


class _MatmulFlags:
    """``torch.backends.cuda.matmul``: flags PyTorch programs set; no effect here (see above).

    ``allow_tf32`` is tied to :func:`set_float32_matmul_precision` as in PyTorch: True reads
    as precision ``'high'``, and ``'high'``/``'medium'`` read as ``allow_tf32 = True``.
    """

    def __init__(self):
        self.float32_precision = "highest"
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True

    @property
    def allow_tf32(self) -> bool:
        return self.float32_precision != "highest"

    @allow_tf32.setter
    def allow_tf32(self, value: bool) -> None:
        self.float32_precision = "high" if value else "highest"


matmul = _MatmulFlags()

_PRECISIONS = ("highest", "high", "medium")


def set_float32_matmul_precision(precision: str) -> None:
    """``torch.set_float32_matmul_precision``: ``'highest'``, ``'high'`` or ``'medium'``, the
    precision float32 matrix products may drop to (TF32, bfloat16 passes). Recorded for
    :func:`get_float32_matmul_precision` and ``matmul.allow_tf32``; minigrad's products keep
    full float32 precision whatever it says (allowed by every setting). Another value warns
    and changes nothing, as in PyTorch."""
    if precision not in _PRECISIONS:
        warn_user(
            f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
            "set_float32_matmul_precision call has no effect.",
            UserWarning,
        )
        return
    matmul.float32_precision = precision


def get_float32_matmul_precision() -> str:
    """The setting of :func:`set_float32_matmul_precision` (``'highest'`` at first)."""
    return matmul.float32_precision


def is_built() -> bool:
    """True: minigrad's CUDA support (through CuPy) is part of every install."""
    return True
