"""``torch._dynamo``: the names libraries import from it to recognise what ``torch.compile``
returned. ``OptimizedModule`` is :func:`minigrad.compile`'s module wrapper (``_orig_mod`` is
the module it wraps); minigrad's compiler is not TorchDynamo, and the rest (``config``,
``mark_dynamic``, ``explain``, ...) is not here."""

from .._compile.module import OptimizedModule

__all__ = ["OptimizedModule"]
