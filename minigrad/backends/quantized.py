"""``minigrad.backends.quantized``, as ``torch.backends.quantized``: the quantized engine that
static-quantization tutorials pick first (``torch.backends.quantized.engine = "x86"``).

minigrad's quantized kernels are NumPy/CuPy integer arithmetic whatever the engine; the
engine is kept, checked against :data:`supported_engines`, and names the backend a program
passes on to ``get_default_qconfig``.
"""

from __future__ import annotations

import sys
import types

supported_engines = ["qnnpack", "onednn", "x86", "fbgemm"]


class _QuantizedBackend(types.ModuleType):
    _engine = "x86"

    @property
    def engine(self) -> str:
        """The quantized engine's name (default ``"x86"``)."""
        return self._engine

    @engine.setter
    def engine(self, value: str) -> None:
        if value not in supported_engines:
            raise RuntimeError(
                f"backends.quantized.engine: {value!r} is not a valid value for quantized "
                f"engine; valid: {supported_engines}"
            )
        type(self)._engine = value


sys.modules[__name__].__class__ = _QuantizedBackend
