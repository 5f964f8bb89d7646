"""``skip_init``, as ``torch.nn.utils.skip_init``."""

from __future__ import annotations

import inspect

from ..modules.module import Module


def skip_init(module_cls, *args, **kwargs):
    """Make ``module_cls(*args, **kwargs)``, whose parameters are to be treated as uninitialized.

    PyTorch builds the module on the ``meta`` device and allocates its tensors without
    running the initializers. minigrad has no meta device: the module is built normally
    (the initializers run, which costs the time PyTorch saves); as in PyTorch, the caller must
    set every parameter and buffer before use.

    Raises:
        RuntimeError: ``module_cls`` is not a Module subclass or takes no ``device`` argument.

    Example:
        >>> m = skip_init(nn.Linear, 5, 1)
    """
    if not (inspect.isclass(module_cls) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    return module_cls(*args, **kwargs)
