"""``minigrad.compile``: capture a training step's array calls once and replay them.

Layout: ``arrays`` (the recording ndarray subclass), ``recorder`` (the instruction list),
``capture`` (the hooks active while one call is traced), ``guards`` (the Python state a trace
depends on), ``program`` (a finished trace and its replay), ``joint`` (a call's backward
recorded with it, replayed through one autograd node), ``api`` (``compile`` itself).
"""

from .api import CompiledFunction, compile

__all__ = ["CompiledFunction", "compile"]
