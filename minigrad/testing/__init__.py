"""Test support shipped with the package: the op table and the CuPy stand-in device."""

from ._comparison import assert_close
from ._creation import make_tensor

__all__ = ["assert_close", "make_tensor"]
