"""``torch._dynamo.eval_frame``: where PyTorch defines ``OptimizedModule`` (libraries test
``isinstance(m, torch._dynamo.eval_frame.OptimizedModule)`` to unwrap compiled modules)."""

from .._compile.module import OptimizedModule

__all__ = ["OptimizedModule"]
