"""``minigrad.Stream`` and ``minigrad.Event``, as ``torch.Stream`` / ``torch.Event``: a stream
and an event of the current accelerator (CUDA through :mod:`minigrad.cuda`), or of the CPU
when there is none, for device-agnostic code such as ``torch.accelerator``'s examples.

The CPU runs each op as it is called: its one stream is always done and has nothing to wait
for, and it has no events to record (PyTorch's ``RuntimeError``, "cpu backend doesn't support
events.").
"""

from __future__ import annotations

from . import _public_name, accelerator, backend, cuda

_NO_CPU_EVENTS = "cpu backend doesn't support events."


def _device(device) -> backend.Device:
    """``device``, or the current accelerator (the CPU without one)."""
    if device is None:
        return accelerator.current_accelerator() or backend.CPU
    return backend.device(device)


class Stream:
    """A stream of ``device`` (default: the current accelerator's, else the CPU's); a context
    manager that makes it current."""

    def __init__(self, device=None, *, priority: int = 0) -> None:
        self.device = _device(device)
        self._cuda = cuda.Stream(self.device, priority) if self.device.type == "cuda" else None

    @property
    def device_type(self) -> str:
        return self.device.type

    @property
    def device_index(self) -> int:
        return -1 if self._cuda is None else self.device.index

    @property
    def stream_id(self) -> int:
        return 0 if self._cuda is None else int(self._cuda._stream.ptr)

    def query(self) -> bool:
        """True when all its work is done (always, on the CPU)."""
        return True if self._cuda is None else bool(self._cuda._stream.done)

    def synchronize(self) -> None:
        """Wait for its work (nothing to wait for on the CPU)."""
        if self._cuda is not None:
            self._cuda.synchronize()

    def is_capturing(self) -> bool:
        """True while the stream is capturing a CUDA graph: never in minigrad, which has no
        graph capture (:class:`minigrad.accelerator.Graph` refuses it)."""
        return False

    def wait_event(self, event: Event) -> None:
        """Make later work on this stream wait for ``event`` (a CPU event is never recorded:
        nothing to wait for)."""
        if self._cuda is not None and event._cuda is not None:
            self._cuda._stream.wait_event(event._cuda._event)

    def wait_stream(self, stream: Stream) -> None:
        """Make later work on this stream wait for the work queued on ``stream`` so far (an
        event recorded there: PyTorch's ``RuntimeError`` on the CPU)."""
        self.wait_event(stream.record_event())

    def record_event(self, event: Event | None = None) -> Event:
        """Record ``event`` (a new one if None) on this stream and return it."""
        if self._cuda is None:
            raise RuntimeError(_NO_CPU_EVENTS)
        event = Event(self.device) if event is None else event
        event.record(self)
        return event

    def __enter__(self):
        if self._cuda is not None:
            self._cuda.__enter__()
        return self

    def __exit__(self, *exc):
        return None if self._cuda is None else self._cuda.__exit__(*exc)

    def __repr__(self) -> str:
        return (
            f"{_public_name.shown()}.Stream device_type={self.device_type}, "
            f"device_index={self.device_index}, stream_id={self.stream_id}"
        )


class Event:
    """An event of ``device`` (default: the current accelerator's, else the CPU's) for
    synchronising streams and timing work (``enable_timing=True``)."""

    def __init__(
        self, device=None, *, enable_timing=False, blocking=False, interprocess=False
    ) -> None:
        self.device = _device(device)
        self._timing = bool(enable_timing)
        self._cuda = None
        if self.device.type == "cuda":
            self._cuda = cuda.Event(enable_timing, blocking, interprocess, device=self.device)

    def record(self, stream: Stream | None = None) -> None:
        """Record the event on ``stream`` (default: the current stream)."""
        if self._cuda is None:
            raise RuntimeError(_NO_CPU_EVENTS)
        self._cuda.record(None if stream is None else stream._cuda)

    def wait(self, stream: Stream | None = None) -> None:
        """Make later work on ``stream`` (default: the current one) wait for this event (a
        CPU event is never recorded: nothing to wait for)."""
        if self._cuda is not None:
            target = stream._cuda._stream if stream is not None and stream._cuda else None
            target = target or self._cuda._backend.xp.cuda.get_current_stream()
            target.wait_event(self._cuda._event)

    def query(self) -> bool:
        """True when the work before it is done (always, on the CPU)."""
        return True if self._cuda is None else self._cuda.query()

    def synchronize(self) -> None:
        """Wait for the work before it (nothing to wait for on the CPU)."""
        if self._cuda is not None:
            self._cuda.synchronize()

    def elapsed_time(self, end_event: Event) -> float:
        """Milliseconds from this event to ``end_event``; both made with
        ``enable_timing=True`` and recorded."""
        if not (self._timing and end_event._timing):
            raise ValueError("Both events must be created with argument 'enable_timing=True'.")
        if self._cuda is None or end_event._cuda is None:
            raise ValueError("Both events must be recorded before calculating elapsed time.")
        return self._cuda.elapsed_time(end_event._cuda)

    def __repr__(self) -> str:
        index = -1 if self._cuda is None else self.device.index
        event_id = 0 if self._cuda is None else int(self._cuda._event.ptr)
        return (
            f"{_public_name.shown()}.Event device_type={self.device.type}, "
            f"device_index={index}, event_flag={int(self._timing)}, event_id={event_id}"
        )
