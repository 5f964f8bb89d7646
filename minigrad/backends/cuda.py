"""``minigrad.backends.cuda``: ``matmul.allow_tf32`` and friends, kept for PyTorch programs.

CuPy chooses TF32 for float32 matrix products when it starts (the ``CUPY_TF32=1`` environment
variable), not per call, so setting these flags has no effect on minigrad's results.
"""

from __future__ import annotations


class _MatmulFlags:
    """``torch.backends.cuda.matmul``: flags PyTorch programs set; no effect here (see above)."""

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


matmul = _MatmulFlags()


def is_built() -> bool:
    """True: minigrad's CUDA support (through CuPy) is part of every install."""
    return True
