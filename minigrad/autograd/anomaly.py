"""Anomaly mode: record where each op was created, and stop at the first NaN gradient."""

from __future__ import annotations

import os
import threading
import traceback

from .._warnings import warn_user
from .grad_mode import decorate

# minigrad's own source folder: its frames are left out of creation stacks. Matching the real
# directory (not the text "/minigrad/") keeps user code in a folder named minigrad visible.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class _State(threading.local):
    """This thread's anomaly mode (off in every new thread, as in PyTorch)."""

    def __init__(self):
        self.enabled = False  # read on every recorded op
        self.check_nan = True  # whether backward also stops at a NaN gradient


_state = _State()


def __getattr__(name: str):
    # ``_enabled`` was a module-wide flag before the modes became per thread; code that still
    # reads it gets this thread's value (assigning to it has no effect: use the switches).
    if name == "_enabled":
        return _state.enabled
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()`` (in this thread)."""
    return _state.enabled


class detect_anomaly:  # noqa: N801 - PyTorch's name
    """Context manager (and decorator) that makes backward fail loudly, as PyTorch's.

    Per thread, as in PyTorch. While on, each recorded op keeps the stack of the forward code
    that created it; when a backward step fails, a warning shows that stack ("Error detected in
    SqrtBackward0. Traceback of forward call that caused the error: ..."). With ``check_nan``
    (the default) a backward step that returns a NaN gradient is such a failure (a
    ``RuntimeError``); infinities pass, as in PyTorch. Making one warns that the mode is on.

    Example:
        >>> with minigrad.autograd.detect_anomaly():
        ...     loss = model(x).sum(); loss.backward()
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan
        warn_user(
            "Anomaly Detection has been enabled. This mode will increase the runtime and should "
            "only be enabled for debugging."
        )

    def __enter__(self):
        self._previous = _state.enabled, _state.check_nan
        _state.enabled, _state.check_nan = True, bool(self.check_nan)
        return self

    def __exit__(self, *exc):
        _state.enabled, _state.check_nan = self._previous
        return False

    def __call__(self, fn):
        return decorate(lambda: detect_anomaly(self.check_nan), fn)


class set_detect_anomaly:  # noqa: N801 - PyTorch's name
    """Turn anomaly mode on or off for this thread, at once; used with ``with``, the previous
    setting comes back at the end of the block (as PyTorch's ``set_detect_anomaly``)."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self._previous = _state.enabled, _state.check_nan
        _state.enabled, _state.check_nan = bool(mode), bool(check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _state.enabled, _state.check_nan = self._previous
        return False


def creation_stack() -> list[str]:
    """The forward stack at the point an op is recorded (minus minigrad's own frames)."""
    frames = traceback.extract_stack()[:-1]
    user = [f for f in frames if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR)]
    return traceback.format_list(user)


def check_gradient(node, index: int, grad) -> None:
    """Raise if gradient ``index`` that ``node``'s backward returned holds a NaN (when the mode
    checks for them), in PyTorch's words."""
    if _state.check_nan and bool(grad.device.xp.isnan(grad._data).any()):
        raise RuntimeError(f"Function '{node.name()}' returned nan values in its {index}th output.")


def report_failure(node) -> None:
    """Warn, as PyTorch does when a node's backward fails in anomaly mode, with the forward
    stack that created the node."""
    where = "".join(node.trace) if node.trace else "  (created before anomaly mode was on)\n"
    warn_user(
        f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n"
        f"{where}"
    )
