"""Anomaly mode: record where each op was created, and stop at the first NaN or inf gradient."""

from __future__ import annotations

import os
import traceback

# minigrad's own source folder: its frames are left out of creation stacks. Matching the real
# directory (not the text "/minigrad/") keeps user code in a folder named minigrad visible.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep

_enabled = False


def is_anomaly_enabled() -> bool:
    return _enabled


class detect_anomaly:  # noqa: N801 - PyTorch's name
    """Context manager (and decorator) that makes backward fail loudly on NaN/inf.

    While on, each recorded op keeps the stack of the forward code that created it. When a
    backward step returns a gradient with NaN or inf, a ``RuntimeError`` names the op and
    shows that stack.

    Example:
        >>> with minigrad.autograd.detect_anomaly():
        ...     loss = model(x).sum(); loss.backward()
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        global _enabled
        self._previous, _enabled = _enabled, self.check_nan
        return self

    def __exit__(self, *exc):
        global _enabled
        _enabled = self._previous
        return False

    def __call__(self, fn):
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


def set_detect_anomaly(mode: bool) -> None:
    global _enabled
    _enabled = bool(mode)


def creation_stack() -> list[str]:
    """The forward stack at the point an op is recorded (minus minigrad's own frames)."""
    frames = traceback.extract_stack()[:-1]
    user = [f for f in frames if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR)]
    return traceback.format_list(user)


def check_gradients(node, grads) -> None:
    for i, grad in enumerate(grads):
        if grad is None:
            continue
        xp = grad.device.xp
        if not bool(xp.isfinite(grad._data).all()):
            where = (
                "".join(node.trace) if node.trace else "  (created before anomaly mode was on)\n"
            )
            raise RuntimeError(
                f"Function '{node.name()}' returned nan or inf values in its {i}th output "
                f"gradient.\nThe forward call that created it:\n{where}"
            )
