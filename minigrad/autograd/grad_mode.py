"""Grad mode: whether ops record the graph (``no_grad``, ``enable_grad``, ``set_grad_enabled``,
``inference_mode``).

The switches are per thread, as in PyTorch: a ``no_grad`` block or a ``backward()`` in one
thread never changes what another thread records. A new thread starts with grad mode on and
inference mode off, whatever the thread that started it had.
"""

from __future__ import annotations

import functools
import inspect
import threading


class _State(threading.local):
    """This thread's modes; ``__init__`` runs once in each thread that reads them."""

    def __init__(self):
        self.enabled = True  # read on every op
        self.inference = False
        self.grad_layout_enforced = True  # enforce_grad_layout_policy


_state = _State()


def __getattr__(name: str):
    # ``_enabled`` was a module-wide flag before the modes became per thread; code that still
    # reads it gets this thread's value (assigning to it has no effect: use the switches).
    if name == "_enabled":
        return _state.enabled
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_grad_enabled() -> bool:
    """True when ops record a backward graph for inputs that require grad (in this thread)."""
    return _state.enabled


def is_inference_mode_enabled() -> bool:
    """True inside an ``inference_mode()`` block (in this thread)."""
    return _state.inference


def _set(mode: bool) -> bool:
    state = _state
    previous, state.enabled = state.enabled, bool(mode)
    return previous


def wrap_generator(make_context, fn):
    """``fn`` (a generator function) with ``make_context()`` entered each time the generator
    runs and left each time it yields, so the mode applies inside the generator and not in the
    code that consumes it (PyTorch's ``_wrap_generator``)."""

    @functools.wraps(fn)
    def generator_context(*args, **kwargs):
        gen = fn(*args, **kwargs)
        try:
            with make_context():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with make_context():
                        gen.close()
                    raise
                except BaseException as error:
                    with make_context():
                        response = gen.throw(error)
                else:
                    with make_context():
                        response = gen.send(request)
        except StopIteration as e:
            return e.value

    return generator_context


def decorate(make_context, fn):
    """``fn`` run inside ``make_context()``; a generator function gets :func:`wrap_generator`."""
    if inspect.isgeneratorfunction(fn):
        return wrap_generator(make_context, fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with make_context():
            return fn(*args, **kwargs)

    return wrapper


class _GradModeContext:
    """Base of the grad-mode switches; each is a context manager and a decorator, with or
    without parentheses (``@no_grad()`` and ``@no_grad``, as PyTorch). Decorating a generator
    function applies the mode inside the generator only."""

    mode = True

    def __new__(cls, *args, **kwargs):
        if cls is not set_grad_enabled and len(args) == 1 and callable(args[0]) and not kwargs:
            return super().__new__(cls)(args[0])  # used bare as a decorator
        return super().__new__(cls)

    def __enter__(self):
        self._previous = _set(self.mode)
        return self

    def __exit__(self, *exc):
        _set(self._previous)
        return False

    def clone(self):
        """A fresh switch with the same setting (each ``with`` needs its own saved state)."""
        new = object.__new__(type(self))
        new.__dict__.update({k: v for k, v in self.__dict__.items() if k != "_previous"})
        return new

    def __call__(self, fn):
        return decorate(self.clone, fn)


class no_grad(_GradModeContext):  # noqa: N801 - PyTorch's name
    """Ops inside do not record the graph: results have ``requires_grad=False``.

    Example:
        >>> with minigrad.no_grad():
        ...     y = x * 2   # y.requires_grad is False
    """

    mode = False


class enable_grad(_GradModeContext):  # noqa: N801
    """Turn recording back on inside a ``no_grad`` block."""

    mode = True


class set_grad_enabled(_GradModeContext):  # noqa: N801
    """Set grad mode on or off; takes effect at once, and is undone when used with ``with``."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._previous = _set(self.mode)

    def __enter__(self):
        return self

    def clone(self):
        return _Switch(self.mode)

    def __call__(self, fn):
        _set(self._previous)  # used as a decorator: the switch applies only inside ``fn``
        return super().__call__(fn)


class enforce_grad_layout_policy:  # noqa: N801 - PyTorch's name
    """Whether a leaf's first gradient must follow the gradient layout contract (the default):
    ``.grad`` has the strides of its parameter when the parameter is dense and
    non-overlapping (a permuted or channels-last weight), else is row-major. With
    ``enable=False`` a gradient buffer of another layout becomes ``.grad`` as it is, without a
    copy. Takes effect at once (per thread), is undone on leaving a ``with``, and applies only
    inside a function it decorates, as PyTorch's.

    Example:
        >>> p = minigrad.empty(2, 3, 4).permute(2, 0, 1).requires_grad_()
        >>> with minigrad.autograd.enforce_grad_layout_policy(False):
        ...     (p * 2).sum().backward()
    """

    def __init__(self, enable: bool = True) -> None:
        self.prev = _state.grad_layout_enforced
        self.mode = bool(enable)
        _state.grad_layout_enforced = self.mode

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> bool:
        _state.grad_layout_enforced = self.prev
        return False

    def clone(self):
        """A fresh switch with the same setting."""
        return type(self)(self.mode)

    def __call__(self, fn):
        _state.grad_layout_enforced = self.prev  # as a decorator: only inside ``fn``
        return decorate(self.clone, fn)


def is_grad_layout_enforced() -> bool:
    """Whether the gradient layout contract is enforced (in this thread)."""
    return _state.grad_layout_enforced


class _Switch(_GradModeContext):
    """Grad mode set to ``mode`` on ``__enter__`` (what ``@set_grad_enabled(mode)`` enters)."""

    def __init__(self, mode: bool):
        self.mode = mode


# Inference tensors (PyTorch's): a tensor made while inference mode is on gets an
# InferenceCounter (minigrad.autograd.graph) as its version counter. Marking costs nothing
# while no thread is in inference mode: the Tensor class (layer 4) installs ``switch(active)``
# here, which swaps in a marking constructor while some ``inference_mode()`` block is open.
switch = None
_open = [0]  # inference_mode(True) blocks open over all threads
_open_lock = threading.Lock()


def _count_open(delta: int) -> None:
    with _open_lock:
        before = _open[0]
        _open[0] = before + delta
        if switch is not None and (before == 0) != (_open[0] == 0):
            switch(_open[0] > 0)


class inference_mode(_GradModeContext):  # noqa: N801
    """Grad mode off and :func:`is_inference_mode_enabled` true inside; ``inference_mode(False)``
    turns grad mode back on, as in PyTorch.

    Tensors made inside are inference tensors, as PyTorch's (``t.is_inference()``): outside
    inference mode they cannot be saved for backward, changed in place or set to require
    grad, and have no version counter; ``t.clone()`` gives an ordinary tensor. Ordinary
    tensors may be changed in place inside. (A few of minigrad's fused ops keep an input that
    PyTorch's would not: a linear layer keeps its weight even when only the weight needs a
    gradient, so a layer made in inference mode and trained later is refused a little more
    often than in PyTorch.)
    """

    mode, inference = False, True  # the bare ``@inference_mode`` decorator skips __init__

    def __init__(self, mode: bool = True):
        self.inference = bool(mode)
        self.mode = not mode

    def __enter__(self):
        state = _state
        self._previous = (state.enabled, state.inference)
        if self.inference:
            _count_open(1)
        state.enabled, state.inference = self.mode, self.inference
        return self

    def __exit__(self, *exc):
        _state.enabled, _state.inference = self._previous
        if self.inference:
            _count_open(-1)
        return False
