"""``skip_init``, as ``torch.nn.utils.skip_init``."""

from __future__ import annotations

import inspect

from ..modules.module import Module


def skip_init(module_cls, *args, **kwargs):
    """Make ``module_cls(*args, **kwargs)``, whose parameters are to be treated as uninitialized.

    As PyTorch, the module is built on the ``meta`` device (no memory, the initializers do
    nothing) and then given uninitialized storage on ``device=`` (default ``cpu``) by
    ``to_empty``; the caller must set every parameter and buffer before use.

    Raises:
        RuntimeError: ``module_cls`` is not a Module subclass or takes no ``device`` argument.

    Example:
        >>> m = skip_init(nn.Linear, 5, 1)
    """
    if not (inspect.isclass(module_cls) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    final_device = kwargs.pop("device", "cpu")
    kwargs["device"] = "meta"
    return module_cls(*args, **kwargs).to_empty(device=final_device)
