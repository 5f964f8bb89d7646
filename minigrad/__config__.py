"""``torch.__config__``: how this build was made, as text.

PyTorch's :func:`show` lists its compilers, BLAS and ``Build settings: ... USE_MKL=ON, ...``;
libraries grep it (PyG reads ``'USE_MKL=OFF' in torch.__config__.show()`` to pick its sparse
formats). minigrad compiles nothing: its CPU math is NumPy's, so the text names NumPy and the
BLAS pools NumPy loaded, and the build settings say what minigrad itself uses (no MKL, no
MKL-DNN, no OpenMP of its own; CUDA through CuPy where it is installed)."""

from __future__ import annotations

import importlib.util

import numpy as np

from . import _runtime


def _blas_lines() -> list[str]:
    return [
        f"  - BLAS: {pool.get('internal_api', '?')} {pool.get('version') or ''}".rstrip()
        for pool in _runtime.blas_info()
    ]


def show() -> str:
    """A human-readable description of the build (``torch.__config__.show()``)."""
    from .as_torch import TORCH_API

    cuda = "ON (CuPy)" if importlib.util.find_spec("cupy") is not None else "OFF"
    settings = (
        f"TORCH_VERSION={TORCH_API}, USE_CUDA={cuda}, USE_CUDNN=OFF, USE_MKL=OFF, "
        "USE_MKLDNN=OFF, USE_OPENMP=OFF, USE_NCCL=OFF, USE_MPI=OFF, "
    )
    lines = ["minigrad built with:", f"  - NumPy {np.__version__}", *_blas_lines()]
    return "\n".join([*lines, f"  - Build settings: {settings}", ""])


def parallel_info() -> str:
    """The thread settings (``torch.__config__.parallel_info()``): minigrad's CPU threads are
    those of NumPy's BLAS."""
    lines = ["NumPy BLAS:", f"\tget_num_threads() : {_runtime.get_num_threads()}"]
    for pool in _runtime.blas_info():
        lines.append(f"\t{pool.get('internal_api', '?')} threads : {pool.get('num_threads')}")
    return "\n".join([*lines, ""])


def _cxx_flags() -> str:
    """The C++ compiler flags (``torch.__config__._cxx_flags()``): none, nothing is compiled."""
    return ""
