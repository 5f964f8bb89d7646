"""``minigrad.profiler``, as ``torch.profiler``: where the time of a program goes, op by op.

While a :class:`profile` records, every op that runs (forward: ``Mul``, ``LinearOp``, ...), every
backward node the engine runs (``MulBackward``, ...) and every :class:`record_function` range is
one event with its start and end (``time.perf_counter_ns``), its thread, its nesting and, with
``record_shapes=True``, its input shapes; with ``profile_memory=True``, the bytes of the new
arrays the op returned (an output that is a view of an input counts nothing; frees are not
tracked, so no row is negative as some of PyTorch's are). ``key_averages()`` sums them by name (self time: the
event's own time, less the events nested in it), ``table()`` prints them as PyTorch does,
``export_chrome_trace(path)`` writes them for ``chrome://tracing`` / Perfetto.

Only the CPU is timed: ``ProfilerActivity.CUDA`` is accepted, and a GPU op's time is the time
its launch took on the host (CuPy runs kernels asynchronously; synchronize to see them whole).

Example:
    >>> from minigrad.profiler import profile, record_function, ProfilerActivity
    >>> with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
    ...     with record_function("model_inference"):
    ...         model(inputs)
    >>> print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))
"""

from __future__ import annotations

import enum
import functools
import json
import os
import threading
import time

from ..autograd import engine
from ..func import _dispatch
from ..tensor import Tensor

__all__ = [
    "ProfilerAction",
    "ProfilerActivity",
    "kineto_available",
    "profile",
    "record_function",
    "schedule",
    "tensorboard_trace_handler",
]


class ProfilerActivity(enum.Enum):
    CPU = 0
    CUDA = 1


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def kineto_available() -> bool:
    """False: minigrad's profiler records its own events, without PyTorch's Kineto library."""
    return False


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0):
    """The action of each ``prof.step()``, as ``torch.profiler.schedule``: ``skip_first`` steps,
    then cycles of ``wait`` idle, ``warmup`` and ``active`` recorded steps (the last of them
    hands the trace to ``on_trace_ready``), ``repeat`` cycles (0: forever)."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise ValueError("Invalid profiler schedule arguments")

    def action(step: int) -> ProfilerAction:
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        cycle = wait + warmup + active
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        at = step % cycle
        if at < wait:
            return ProfilerAction.NONE
        if at < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if at < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return action


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None, use_gzip=False):
    """An ``on_trace_ready`` that writes each trace as ``<dir>/<worker>.<ms>.pt.trace.json``,
    where TensorBoard's profiler plugin looks for them."""
    if use_gzip:
        raise NotImplementedError("tensorboard_trace_handler: use_gzip=True is not supported")

    def handler(prof) -> None:
        import socket  # (only here: the host name of the default worker name)

        os.makedirs(dir_name, exist_ok=True)
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        prof.export_chrome_trace(
            os.path.join(dir_name, f"{worker}.{time.time_ns() // 1_000_000}.pt.trace.json")
        )

    return handler


# -- recording ---------------------------------------------------------------------------------
class _Event:
    __slots__ = ("name", "start", "end", "thread", "shapes", "children", "memory", "child_memory")

    def __init__(self, name, start, thread, shapes):
        self.name, self.start, self.end = name, start, start
        self.thread, self.shapes, self.children = thread, shapes, 0
        self.memory = self.child_memory = 0  # bytes allocated by the event itself, and inside


class _Recording(threading.local):
    def __init__(self):
        self.open = []  # this thread's events not yet ended, outermost first
        self.passing = set()  # ids of ops being re-dispatched past the hook (see _op_hook)


_recording = _Recording()
_active: list = []  # the profiles recording now (the innermost last)
_lock = threading.Lock()


def _begin(name: str, shapes=None) -> _Event:
    event = _Event(name, time.perf_counter_ns(), threading.get_ident(), shapes)
    _recording.open.append(event)
    return event


def _end(event: _Event) -> None:
    event.end = time.perf_counter_ns()
    opened = _recording.open
    opened.pop()
    if opened:
        opened[-1].children += event.end - event.start
        opened[-1].child_memory += event.memory + event.child_memory
    for prof in _active:
        prof._events.append(event)


def _shapes(args) -> list:
    return [list(a.shape) if isinstance(a, Tensor) else [] for a in args]


def _op_hook(op, args):
    """The op interposer: time the op by running it again past this hook (its other hooks,
    vmap's rules or autocast's casts, run inside the timed range)."""
    key = id(op)
    if key in _recording.passing:
        _recording.passing.discard(key)
        return False, args
    record_shapes = any(p._record_shapes for p in _active)
    event = _begin(type(op).label(), _shapes(args) if record_shapes else None)
    _recording.passing.add(key)
    try:
        out = op(*args)
        if any(p._profile_memory for p in _active):
            event.memory = _new_bytes(out, args)
        return True, out
    finally:
        _recording.passing.discard(key)
        _end(event)


def _root(array):
    while getattr(array, "base", None) is not None:
        array = array.base
    return array


def _new_bytes(out, args) -> int:
    """The bytes of the arrays in ``out`` that are not views of the inputs' arrays."""
    outs = out if isinstance(out, (tuple, list)) else (out,)
    inputs = {id(_root(a._data)) for a in args if isinstance(a, Tensor)}
    return sum(
        o._data.nbytes for o in outs if isinstance(o, Tensor) and id(_root(o._data)) not in inputs
    )


def _node_hook(node, grads):
    """The engine's node hook: one event per backward node, named as PyTorch names them."""
    event = _begin(node.name())
    try:
        return node.apply(grads)
    finally:
        _end(event)


def _install() -> None:
    _dispatch.set_hook("profiler", _op_hook)
    engine.node_hook = _node_hook


def _uninstall() -> None:
    _dispatch.set_hook("profiler", None)
    engine.node_hook = None


class record_function:  # noqa: N801 - PyTorch spells it in lower case
    """A named range in the profile (a context manager, or a decorator); nothing when no
    profile records."""

    def __init__(self, name: str, args: str | None = None):
        self.name = name
        self._event = None

    def __enter__(self):
        if _active:
            self._event = _begin(self.name)
        return self

    def __exit__(self, *exc) -> None:
        if self._event is not None:
            _end(self._event)
            self._event = None

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with record_function(self.name):
                return fn(*args, **kwargs)

        return wrapped


# -- the profile ---------------------------------------------------------------------------------
class profile:  # noqa: N801 - PyTorch spells it in lower case
    """Record the ops, backward nodes and ``record_function`` ranges run inside it.

    Args:
        activities: ``ProfilerActivity`` values (CPU is what is timed; see the module).
        schedule: a :func:`schedule`; with it, only the steps it marks record (``prof.step()``
            after each step), and ``on_trace_ready(prof)`` runs at the end of each cycle.
        on_trace_ready: e.g. :func:`tensorboard_trace_handler`.
        record_shapes: keep each op's input shapes (``key_averages(group_by_input_shape=True)``).
        profile_memory: keep the bytes each op allocated (the ``CPU Mem``/``Self CPU Mem``
            columns; ``sort_by="self_cpu_memory_usage"``).
        with_stack, with_flops, with_modules: accepted; not recorded.
    """

    def __init__(self, activities=None, *, schedule=None, on_trace_ready=None,
                 record_shapes=False, profile_memory=False, with_stack=False,
                 with_flops=False, with_modules=False, experimental_config=None,
                 use_cuda=None):  # fmt: skip
        self.activities = set(activities or (ProfilerActivity.CPU,))
        self._schedule, self._on_trace_ready = schedule, on_trace_ready
        self._record_shapes = record_shapes
        self._profile_memory = profile_memory
        self._events: list = []
        self._step = 0
        self._recording = False

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self._step, self._events = 0, []
        recording = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)
        self._set_recording(self._action() in recording)

    def stop(self) -> None:
        """Stop recording; a trace being recorded goes to ``on_trace_ready``."""
        was_recording = self._recording
        self._set_recording(False)
        if was_recording and self._on_trace_ready is not None:
            self._on_trace_ready(self)

    def step(self) -> None:
        """Mark the end of a training step (with a schedule: move to the next action)."""
        finished = self._action()
        self._step += 1
        if finished is ProfilerAction.RECORD_AND_SAVE:
            self._set_recording(False)
            if self._on_trace_ready is not None:
                self._on_trace_ready(self)
        following = self._action()
        if following in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE):
            if not self._recording:
                self._events = []
            self._set_recording(True)

    @property
    def step_num(self) -> int:
        """How many times :meth:`step` has been called."""
        return self._step

    def _action(self) -> ProfilerAction:
        if self._schedule is None:
            return ProfilerAction.RECORD
        return self._schedule(self._step)

    def _set_recording(self, on: bool) -> None:
        with _lock:
            if on and not self._recording:
                _active.append(self)
                if len(_active) == 1:
                    _install()
            elif not on and self._recording:
                _active.remove(self)
                if not _active:
                    _uninstall()
        self._recording = on

    # -- results ---------------------------------------------------------------------------------
    def events(self) -> list:
        """The recorded events, in the order they ended."""
        return list(self._events)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0):
        """The events summed by name (and input shapes): an :class:`EventList`."""
        groups: dict = {}
        for e in self._events:
            key = (e.name, str(e.shapes) if group_by_input_shape else None)
            avg = groups.get(key)
            if avg is None:
                avg = groups[key] = FunctionEventAvg(
                    e.name, e.shapes if group_by_input_shape else None
                )
            avg.count += 1
            avg.cpu_time_total += (e.end - e.start) / 1e3
            avg.self_cpu_time_total += (e.end - e.start - e.children) / 1e3
            avg.self_cpu_memory_usage += e.memory
            avg.cpu_memory_usage += e.memory + e.child_memory
        return EventList(groups.values(), memory=self._profile_memory)

    def export_chrome_trace(self, path: str) -> None:
        """Write the events in the Chrome trace format (``chrome://tracing``, Perfetto)."""
        pid = os.getpid()
        trace = []
        for e in sorted(self._events, key=lambda e: e.start):
            item = {"ph": "X", "cat": "cpu_op", "name": e.name, "pid": pid, "tid": e.thread,
                    "ts": e.start / 1e3, "dur": (e.end - e.start) / 1e3}  # fmt: skip
            if e.shapes is not None:
                item["args"] = {"Input Dims": e.shapes}
            trace.append(item)
        with open(path, "w") as f:
            json.dump({"traceEvents": trace, "displayTimeUnit": "ms"}, f)


class FunctionEventAvg:
    """The events of one name (and input shapes): times in microseconds, as PyTorch's."""

    def __init__(self, key: str, input_shapes=None):
        self.key, self.input_shapes = key, input_shapes
        self.count = 0
        self.cpu_time_total = self.self_cpu_time_total = 0.0
        self.device_time_total = self.self_device_time_total = 0.0
        self.cuda_time_total = self.self_cuda_time_total = 0.0
        self.cpu_memory_usage = self.self_cpu_memory_usage = 0  # bytes
        self.device_memory_usage = self.self_device_memory_usage = 0
        self.cuda_memory_usage = self.self_cuda_memory_usage = 0

    @property
    def cpu_time(self) -> float:
        """The average time of one call (µs)."""
        return self.cpu_time_total / max(self.count, 1)

    def __repr__(self) -> str:
        return (
            f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total:.3f}us "
            f"cpu_time={self.cpu_time:.3f}us count={self.count}>"
        )


class EventList(list):
    """A list of :class:`FunctionEventAvg` that prints as PyTorch's table (with memory columns
    when the profile recorded memory)."""

    def __init__(self, rows=(), memory: bool = False):
        super().__init__(rows)
        self.memory = memory

    def table(self, sort_by: str | None = None, row_limit: int = 100, **_) -> str:
        """The rows sorted by ``sort_by`` (an attribute: ``"cpu_time_total"``,
        ``"self_cpu_time_total"``, ``"count"``, ...; descending), at most ``row_limit``."""
        rows = list(self)
        if sort_by is not None:
            if not hasattr(FunctionEventAvg("", None), sort_by):
                raise AttributeError(f"table(): unknown sort_by {sort_by!r}")
            rows.sort(key=lambda r: getattr(r, sort_by), reverse=True)
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        self_total = sum(r.self_cpu_time_total for r in self) or 1.0
        shapes = any(r.input_shapes is not None for r in rows)
        memory = getattr(self, "memory", False)
        head = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
        head += (["CPU Mem", "Self CPU Mem"] if memory else []) + ["# of Calls"]
        head += ["Input Shapes"] if shapes else []
        body = [
            [r.key, f"{100 * r.self_cpu_time_total / self_total:.2f}%",
             _us(r.self_cpu_time_total), f"{100 * r.cpu_time_total / self_total:.2f}%",
             _us(r.cpu_time_total), _us(r.cpu_time)]
            + ([_bytes(r.cpu_memory_usage), _bytes(r.self_cpu_memory_usage)] if memory else [])
            + [str(r.count)]
            + ([str(r.input_shapes if r.input_shapes is not None else [])] if shapes else [])
            for r in rows
        ]  # fmt: skip
        widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h)
                  for i, h in enumerate(head)]  # fmt: skip
        line = "-" * (sum(widths) + 2 * (len(widths) - 1))

        def fmt(cells):
            return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(cells, widths)))  # fmt: skip

        out = [line, fmt(head), line, *(fmt(b) for b in body), line]
        out.append(f"Self CPU time total: {_us(self_total)}")
        return "\n".join(out) + "\n"

    def __str__(self) -> str:
        return self.table()


def _us(value: float) -> str:
    """A time given in microseconds, as PyTorch's table prints it."""
    if value >= 1e6:
        return f"{value / 1e6:.3f}s"
    if value >= 1e3:
        return f"{value / 1e3:.3f}ms"
    return f"{value:.3f}us"


def _bytes(n: int) -> str:
    """A byte count as PyTorch's table prints it (``480.00 KB``, ``0 B``)."""
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} B"


def _register_autograd_path() -> None:
    """``minigrad.autograd.profiler``, torch.autograd.profiler's path (registered from here,
    above autograd, as minigrad.func registers ``minigrad.autograd.functional``)."""
    import sys

    from .. import autograd
    from . import legacy

    sys.modules["minigrad.autograd.profiler"] = legacy
    autograd.profiler = legacy


_register_autograd_path()
