"""``minigrad.backends.cuda``: ``matmul.allow_tf32`` and friends, kept for PyTorch programs.

CuPy chooses TF32 for float32 matrix products when it starts (the ``CUPY_TF32=1`` environment
variable), not per call, so setting these flags has no effect on minigrad's results.
"""

from __future__ import annotations

import contextlib

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


# -- the attention kernel switches (PyTorch's names; they select minigrad's kernels: MATH is
# the dense kernel, flash and memory-efficient both the block-wise one; no cuDNN kernel here)
def _select():
    from ..nn.functional import _attention_select  # above this module: imported on use

    return _attention_select


def _switch(name: str):
    def enabled() -> bool:
        select = _select()
        return select.is_enabled(select.SDPBackend[name])

    def enable(flag: bool) -> None:
        select = _select()
        select.set_enabled(select.SDPBackend[name], bool(flag))

    return enabled, enable


flash_sdp_enabled, enable_flash_sdp = _switch("FLASH_ATTENTION")
mem_efficient_sdp_enabled, enable_mem_efficient_sdp = _switch("EFFICIENT_ATTENTION")
math_sdp_enabled, enable_math_sdp = _switch("MATH")
cudnn_sdp_enabled, enable_cudnn_sdp = _switch("CUDNN_ATTENTION")


@contextlib.contextmanager
def sdp_kernel(
    enable_flash: bool = True,
    enable_math: bool = True,
    enable_mem_efficient: bool = True,
    enable_cudnn: bool = True,
):
    """The deprecated form of :func:`minigrad.nn.attention.sdpa_kernel`: only the enabled
    kernels may run inside the block (PyTorch 2.0-2.2 programs use it)."""
    warn_user(
        "`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this context manager "
        "will be removed. Please see `torch.nn.attention.sdpa_kernel()` for the new context "
        "manager, with updated signature.",
        FutureWarning,
    )
    select = _select()
    names = {
        "FLASH_ATTENTION": enable_flash,
        "MATH": enable_math,
        "EFFICIENT_ATTENTION": enable_mem_efficient,
        "CUDNN_ATTENTION": enable_cudnn,
    }
    backends = [select.SDPBackend[name] for name, on in names.items() if on]
    with select.sdpa_kernel(backends):
        yield
