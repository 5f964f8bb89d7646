"""``minigrad.version``, as ``torch.version``: the package version and the CUDA version GPU
tensors run on (None without CuPy), for the environment reports programs print."""

from __future__ import annotations

from . import __version__

hip = None  # minigrad has no ROCm build
git_version = None


def __getattr__(name: str):
    """``cuda``: the CUDA runtime version of CuPy (``'12.4'``), or None when CuPy cannot be
    loaded; looked up on first use, so that importing minigrad does not import CuPy."""
    if name == "cuda":
        from .backend import _cuda_version, get_backend

        try:
            runtime = get_backend("cuda").xp.cuda.runtime
            return _cuda_version(runtime.runtimeGetVersion())
        except Exception:  # no CuPy, or one that cannot load its libraries
            return None
    raise AttributeError(f"module 'minigrad.version' has no attribute {name!r}")


__all__ = ["__version__", "git_version", "hip"]  # and cuda, through __getattr__
