"""``torch.utils.deterministic``: ``fill_uninitialized_memory``, whether ``empty`` and its kin
fill new tensors with known values (NaN, the largest integer) while
``use_deterministic_algorithms(True)`` is on (default True, as PyTorch's)."""

from __future__ import annotations

import sys
import types

from .. import backend


class _Deterministic(types.ModuleType):
    """This module, with ``fill_uninitialized_memory`` read and set as a property."""

    @property
    def fill_uninitialized_memory(self) -> bool:
        return backend.DETERMINISM.fill_uninitialized_memory

    @fill_uninitialized_memory.setter
    def fill_uninitialized_memory(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"expected a bool, but got {type(mode).__name__}")
        backend.DETERMINISM.fill_uninitialized_memory = mode


sys.modules[__name__].__class__ = _Deterministic
