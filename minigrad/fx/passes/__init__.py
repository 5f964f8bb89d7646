"""Passes over FX graphs (``minigrad.fx.passes``): analyses and rewrites built on the Interpreter."""

from . import shape_prop, split_module

__all__ = ["shape_prop", "split_module"]
