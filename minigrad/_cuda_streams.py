"""``minigrad.cuda``'s streams and events: CuPy's, under ``torch.cuda``'s names.

A :class:`Stream` wraps a ``cupy.cuda.Stream``; :func:`current_stream` and
:func:`default_stream` wrap the one CuPy queues kernels on and its null stream, and
:class:`ExternalStream` one made outside (``cupy.cuda.ExternalStream``).
"""

from __future__ import annotations

from ._cuda_common import index_of, require


class Stream:
    """A CUDA stream (CuPy's): ``with minigrad.cuda.stream(s):`` queues kernels on it."""

    def __init__(self, device=None, priority: int = 0):
        b, index = require("Stream", device), index_of(device)
        with b.using(index):
            self._stream = b.xp.cuda.Stream(non_blocking=False)
        self._backend, self._index = b, index

    @classmethod
    def _wrap(cls, cupy_stream, b, index: int) -> Stream:
        """A Stream for an existing ``cupy.cuda.Stream``."""
        stream = cls.__new__(cls)
        stream._stream, stream._backend, stream._index = cupy_stream, b, index
        return stream

    @property
    def device(self):
        """The device the stream belongs to."""
        from . import backend

        return backend.device(f"{self._backend.name}:{self._index}")

    @property
    def cuda_stream(self) -> int:
        """The ``cudaStream_t`` pointer as an integer (0: the legacy default stream)."""
        return int(self._stream.ptr)

    def synchronize(self) -> None:
        """Wait for everything queued on this stream."""
        self._stream.synchronize()

    def query(self) -> bool:
        """Whether everything queued on this stream has finished."""
        return bool(self._stream.done)

    def wait_event(self, event: Event) -> None:
        """Make work queued after this call wait for ``event``."""
        self._stream.wait_event(event._event)

    def wait_stream(self, stream: Stream) -> None:
        """Make work queued after this call wait for what ``stream`` has queued now."""
        self.wait_event(stream.record_event())

    def record_event(self, event: Event | None = None) -> Event:
        """Record ``event`` (a new one when None) on this stream and return it."""
        event = Event(device=self.device) if event is None else event
        event.record(self)
        return event

    def __eq__(self, other) -> bool:
        if not isinstance(other, Stream):
            return NotImplemented
        return self.cuda_stream == other.cuda_stream and self.device == other.device

    def __hash__(self) -> int:
        return hash((self.cuda_stream, self._backend.name, self._index))

    def __repr__(self) -> str:
        return f"<minigrad.cuda.Stream device={self.device} cuda_stream={self.cuda_stream:#x}>"

    def __enter__(self):
        self._stream.__enter__()
        return self

    def __exit__(self, *exc):
        return self._stream.__exit__(*exc)


class ExternalStream(Stream):
    """A stream made outside minigrad (by its ``cudaStream_t`` pointer, e.g. another
    library's), as ``torch.cuda.ExternalStream``; minigrad neither owns nor destroys it."""

    def __init__(self, stream_ptr: int, device=None):
        b, index = require("ExternalStream", device), index_of(device)
        with b.using(index):
            self._stream = b.xp.cuda.ExternalStream(int(stream_ptr), index)
        self._backend, self._index = b, index


def current_stream(device=None) -> Stream:
    """The stream CuPy queues kernels on for ``device`` (None: the current GPU)."""
    b, index = require("current_stream", device), index_of(device)
    with b.using(index):
        return Stream._wrap(b.xp.cuda.get_current_stream(), b, index)


def default_stream(device=None) -> Stream:
    """``device``'s default (null) stream."""
    b, index = require("default_stream", device), index_of(device)
    return Stream._wrap(b.xp.cuda.Stream.null, b, index)


def set_stream(stream: Stream | None) -> None:
    """Make ``stream`` current on its device (None: no change, as PyTorch)."""
    if stream is None:
        return
    with stream._backend.using(stream._index):
        stream._stream.use()


def is_current_stream_capturing() -> bool:
    """Whether the current stream is capturing a CUDA graph (minigrad never starts one;
    CuPy code can)."""
    b = require("is_current_stream_capturing")
    return bool(b.xp.cuda.get_current_stream().is_capturing())


class StreamContext:
    """The context :func:`stream` returns: kernels queue on ``stream`` inside it (``None``:
    no change)."""

    def __init__(self, stream: Stream | None):
        self.stream = stream

    def __enter__(self) -> None:
        """Queue kernels on the stream; ``with cuda.stream(s) as x`` binds None, as PyTorch's."""
        if self.stream is not None:
            self.stream.__enter__()

    def __exit__(self, *exc):
        return self.stream.__exit__(*exc) if self.stream is not None else False


def stream(s: Stream | None) -> StreamContext:
    """A context that queues kernels on ``s`` (``None``: no change)."""
    return StreamContext(s)


class Event:
    """A CUDA event, for timing GPU work as ``torch.cuda.Event(enable_timing=True)``.

    Example:
        >>> start, end = cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)
        >>> start.record(); y = x @ x; end.record(); end.synchronize()
        >>> start.elapsed_time(end)  # milliseconds
    """

    def __init__(
        self, enable_timing: bool = False, blocking: bool = False, interprocess: bool = False,
        device=None,
    ):  # fmt: skip
        if interprocess:
            raise NotImplementedError("cuda.Event(interprocess=True) is not supported in minigrad")
        self._backend = require("Event", device)
        self._event = self._backend.xp.cuda.Event(block=blocking, disable_timing=not enable_timing)

    def record(self, stream: Stream | None = None) -> None:
        self._event.record(None if stream is None else stream._stream)

    def wait(self, stream: Stream | None = None) -> None:
        """Make work queued on ``stream`` (the current one when None) wait for this event."""
        target = (
            stream._stream if stream is not None else self._backend.xp.cuda.get_current_stream()
        )
        target.wait_event(self._event)

    def synchronize(self) -> None:
        self._event.synchronize()

    def query(self) -> bool:
        return bool(self._event.done)

    def elapsed_time(self, end_event: Event) -> float:
        """Milliseconds between this event and ``end_event`` (both recorded)."""
        return float(self._backend.xp.cuda.get_elapsed_time(self._event, end_event._event))
