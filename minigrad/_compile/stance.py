"""The compiler's stance (``torch.compiler.set_stance``): whether compiled functions trace,
replay, or run eagerly. Process-wide, as PyTorch's."""

from __future__ import annotations

import functools

STANCES = (
    "default",
    "force_eager",
    "eager_on_recompile",
    "fail_on_recompile",
    "eager_then_compile",
    "aot_eager_then_compile",
)

_current = ["default", None]  # [stance, force_backend]


def current() -> tuple:
    """``(stance, force_backend)`` now in force."""
    return _current[0], _current[1]


def _set(stance: str, backend) -> tuple:
    from . import arrays

    if arrays.active is not None:
        raise RuntimeError("attempted to set_stance in a torch.compile region")
    prior = current()
    _current[0], _current[1] = stance, backend
    return prior


class set_stance:  # noqa: N801 - PyTorch's name: a function, context manager and decorator
    """Set the compiler's stance, as ``torch.compiler.set_stance``: called, it takes effect at
    once (``set_stance("default")`` sets it back); as a context manager or decorator it holds
    for the block or the function's calls and puts back the one before.

    Stances: ``"default"``; ``"force_eager"`` (compiled functions run their Python);
    ``"eager_on_recompile"`` (a trace already recorded for the call still replays, a call that
    would trace runs eagerly instead); ``"fail_on_recompile"`` (a call that would trace raises
    ``RuntimeError``); ``"eager_then_compile"`` / ``"aot_eager_then_compile"`` (a function's
    first call runs eagerly, later calls trace and replay). An unknown stance raises
    ``RuntimeError`` when a compiled function is called, as in PyTorch.

    Example:
        >>> with minigrad.compiler.set_stance("force_eager"):
        ...     out = compiled_model(x)   # runs model's Python
    """

    def __init__(
        self, stance: str = "default", *, skip_guard_eval_unsafe: bool = False, force_backend=None
    ) -> None:
        if force_backend is not None and stance != "default":
            raise RuntimeError("non-default stance cannot have force_backend set")
        self.stance, self.backend = stance, force_backend
        self.prev = _set(stance, force_backend)

    def __enter__(self) -> None:
        _set(self.stance, self.backend)

    def __exit__(self, *exc) -> None:
        _set(*self.prev)

    def __call__(self, fn):
        _set(*self.prev)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(self.stance, force_backend=self.backend):
                return fn(*args, **kwargs)

        return wrapper


def eager_now(compiled) -> bool:
    """Whether the stance makes this call of ``compiled`` (a ``CompiledFunction``) run eagerly
    before any cached trace is looked at."""
    stance, backend = _current
    if stance == "default":
        return backend == "eager"
    if stance == "force_eager":
        return True
    if stance in ("eager_then_compile", "aot_eager_then_compile"):
        first = not compiled._called_under_stance
        compiled._called_under_stance = True
        return first
    if stance not in STANCES:
        raise RuntimeError(f"invalid torch.compile stance {stance!r}")
    return False


def refuse_trace(fn) -> bool:
    """Called where ``fn`` would be traced again: True when the stance says to run it eagerly
    instead (``eager_on_recompile``); raises under ``fail_on_recompile``."""
    if _current[0] == "eager_on_recompile":
        return True
    if _current[0] == "fail_on_recompile":
        code = getattr(fn, "__code__", None) or getattr(type(fn).forward, "__code__", None)
        where = (
            f"filename: '{code.co_filename}', function name: '{code.co_name}', "
            f"line number: {code.co_firstlineno}"
            if code is not None
            else f"function: {fn!r}"
        )
        raise RuntimeError(
            "Detected recompile when torch.compile stance is 'fail_on_recompile'. " + where
        )
    return False
