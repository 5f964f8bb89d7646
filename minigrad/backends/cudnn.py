"""``minigrad.backends.cudnn``: PyTorch's cuDNN switches. minigrad never calls cuDNN, so
``enabled``, ``benchmark``, ``deterministic`` and ``allow_tf32`` have no effect: results on
the GPU are deterministic for a given input whatever they say."""

from __future__ import annotations

import contextlib

from .. import backend

enabled = True
benchmark = False
benchmark_limit = None  # (PyTorch's value without a GPU)
deterministic = False
allow_tf32 = True
fp32_precision = "none"
depthwise_kernel = "auto"

_FLAGS = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32",
          "fp32_precision", "depthwise_kernel")  # fmt: skip


def set_flags(_enabled=None, _benchmark=None, _benchmark_limit=None, _deterministic=None,
              _allow_tf32=None, _fp32_precision="none", _depthwise_kernel=None) -> tuple:  # fmt: skip
    """Set the switches given (None leaves one as it is; ``_fp32_precision`` is always set, as
    PyTorch's) and return all of them as they were, in :func:`flags`' order."""
    before = tuple(globals()[name] for name in _FLAGS)
    given = (_enabled, _benchmark, _benchmark_limit, _deterministic, _allow_tf32,
             _fp32_precision, _depthwise_kernel)  # fmt: skip
    for name, value in zip(_FLAGS, given):
        if value is not None or name == "fp32_precision":
            globals()[name] = value
    return before


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
          allow_tf32=True, fp32_precision="none", depthwise_kernel="auto"):  # fmt: skip
    """The switches set for the ``with`` block and put back after, as
    ``torch.backends.cudnn.flags`` (Hugging Face's CTC loss runs under ``flags(enabled=False)``)."""
    before = set_flags(enabled, benchmark, benchmark_limit, deterministic, allow_tf32,
                       fp32_precision, depthwise_kernel)  # fmt: skip
    try:
        yield
    finally:
        globals().update(zip(_FLAGS, before))


def is_available() -> bool:
    """True if CuPy sees a GPU and ships its cuDNN bindings (what PyTorch reports)."""
    return backend.get_backend("cuda").has_cudnn()


def version():
    """cuDNN's version as an int, or None where it is not available."""
    return backend.get_backend("cuda").cudnn_version() if is_available() else None
