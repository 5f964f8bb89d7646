"""``minigrad.signal.windows``, as ``torch.signal.windows``: window functions with SciPy-style
``M`` / ``sym`` arguments (the functions live in ``windows.windows``, as in PyTorch)."""

from . import windows
from .windows import *  # noqa: F403 - the module's __all__

__all__ = list(windows.__all__)
