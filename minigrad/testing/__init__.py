"""Test support shipped with the package: the op table and the CuPy stand-in device."""
