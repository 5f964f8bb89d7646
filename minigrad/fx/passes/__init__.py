"""Passes over FX graphs (``minigrad.fx.passes``): analyses and rewrites built on the Interpreter."""

from . import shape_prop

__all__ = ["shape_prop"]
