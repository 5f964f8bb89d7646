"""Test support shipped with the package: the op table and the CuPy stand-in device."""

from ._comparison import assert_close

__all__ = ["assert_close"]
