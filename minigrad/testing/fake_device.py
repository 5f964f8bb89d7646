"""A stand-in for CuPy, so that the CUDA backend is tested on machines without a GPU.

``fakegpu`` is minigrad's real :class:`~minigrad.backend.CupyBackend` running on an imitation
of the ``cupy`` module whose arrays hold NumPy data. The imitation offers only what CuPy 14
offers (its namespace, ``ndarray`` methods and ``flags`` are checked against the real CuPy in
``tests/test_cupy_conformance.py``) and fails where CuPy fails:

- arrays refuse to mix with NumPy arrays (a buffer made with the wrong ``xp``, or a forgotten
  ``.to()``, raises ``TypeError``) and refuse implicit conversion to NumPy;
- reductions return 0-d arrays rather than host scalars;
- out-of-range integer array indices wrap around instead of raising (indexing, assignment,
  ``take_along_axis``, ``cupyx.scatter_add``), as CuPy's kernels do;
- ``cupyx.scatter_add`` rejects the dtypes that have no atomicAdd in CuPy (bool, int8, int16,
  int64, uint8, uint16);
- ``flags`` has no ``writeable``;

and every copy to host memory (``asnumpy``, ``get()``, ``item()``, ``tolist()``, ``float()``)
is counted in :class:`HostTransfers`, so a hidden host round trip inside a training step can be
caught by a test. ``cuda.Device(i)`` records the current device, as CuPy does.
"""

from __future__ import annotations

import operator
import time
import types

import numpy as np

from .. import backend
from . import _cupy_names


class HostTransfers:
    """How many times data left the fake device."""

    count = 0


def _unwrap(x, allow_host: bool = False):
    if isinstance(x, FakeArray):
        return x._a
    if isinstance(x, np.ndarray) and not allow_host:
        raise TypeError(
            "a NumPy array was mixed with a fakegpu array (on a real GPU this is a CuPy error "
            "too): create buffers with the device's xp, or move data with .to(device)"
        )
    if isinstance(x, (tuple, list)):
        return type(x)(_unwrap(v, allow_host) for v in x)
    if isinstance(x, dict):
        return {k: _unwrap(v, allow_host) for k, v in x.items()}
    return x


def _wrap(x):
    if isinstance(x, np.ndarray):
        return FakeArray(x)
    if isinstance(x, np.generic):
        return FakeArray(np.asarray(x))  # CuPy reductions give 0-d device arrays
    if x is None or isinstance(x, (int, float, str, np.dtype)):
        return x
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


def _device_call(fn, allow_host=False):
    def call(*args, **kwargs):
        _on_current_device(*args, *kwargs.values())
        return _wrap(fn(*_unwrap(args, allow_host), **_unwrap(kwargs, allow_host)))

    return call


# ndarray methods that make a view (no kernel): they work from any current device, and the
# view lives on its array's device
_VIEWS = frozenset(["reshape", "view", "transpose", "swapaxes", "squeeze", "diagonal"])


def _on_device(x, device):
    if isinstance(x, FakeArray):
        x._device = device
    elif isinstance(x, (tuple, list)):
        for v in x:
            _on_device(v, device)
    return x


def _wrapped_key(shape, key):
    """``key`` (NumPy arrays inside) with integer array indices taken modulo their dimension,
    as CuPy's indexing kernels do instead of raising."""
    key = key if isinstance(key, tuple) else (key,)

    def is_mask(k):
        return isinstance(k, np.ndarray) and k.dtype == bool

    used = sum(k.ndim if is_mask(k) else 1 for k in key if k is not None and k is not Ellipsis)
    out, dim = [], 0
    for k in key:
        if k is Ellipsis:
            dim += len(shape) - used
        elif is_mask(k):
            dim += k.ndim
        elif isinstance(k, np.ndarray) and k.dtype.kind in "iu" and dim < len(shape):
            k = k % shape[dim] if shape[dim] else k
            dim += 1
        elif k is not None:
            dim += 1
        out.append(k)
    return tuple(out)


class _Flags:
    """``cupy.ndarray.flags``: contiguity and ownership only (no ``writeable``)."""

    __slots__ = _cupy_names.FLAGS

    def __init__(self, flags):
        for name in self.__slots__:
            setattr(self, name, bool(getattr(flags, name)))


class _Memory:
    """A block from the fake memory pool; returned to the pool when its array dies."""

    __slots__ = ("pool", "size", "device")

    def __init__(self, pool, size: int):
        self.pool, self.size, self.device = pool, size, _FakeCuda.current
        pool._used[self.device] = pool._used.get(self.device, 0) + size

    def __del__(self):
        self.pool._used[self.device] -= self.size


class FakeArray:
    """A device array of the stand-in backend (NumPy inside)."""

    __slots__ = ("_a", "_device", "_mem")
    __array_ufunc__ = None  # NumPy functions refuse it, as they refuse CuPy arrays

    def __init__(self, array: np.ndarray):
        self._a = array
        self._device = _FakeCuda.current
        self._mem = _allocate(array.nbytes) if array.base is None else None

    def __array__(self, *args, **kwargs):
        raise TypeError(
            "Implicit conversion to a NumPy array is not allowed (a hidden host transfer on "
            "the fakegpu stand-in, as on CuPy); use the backend's to_host()"
        )

    def __getattr__(self, name):
        if name not in _cupy_names.NDARRAY:  # also no __array_interface__: NumPy must not see it
            raise AttributeError(f"'cupy.ndarray' object has no attribute {name!r}")
        value = getattr(self._a, name)
        if not callable(value):
            return _on_device(_wrap(value), self._device)
        if name in _VIEWS:
            return lambda *a, **k: _on_device(_wrap(value(*a, **k)), self._device)
        if name == "copy":  # CuPy copies an array from any GPU onto the current one
            return lambda *a, **k: _wrap(value(*a, **k))
        call = _device_call(value)
        return lambda *a, **k: _method(self, call, a, k)

    # metadata read in every op: plain properties (no __getattr__, no wrapping)
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)

    @property
    def flags(self):
        return _Flags(self._a.flags)

    @property
    def device(self):
        return _FakeCuda.Device(self._device)

    def __getitem__(self, key):
        arrays = [
            k for k in (key if isinstance(key, tuple) else (key,)) if isinstance(k, FakeArray)
        ]
        if arrays:  # advanced indexing runs a kernel; basic indexing makes a view
            _on_current_device(self, *arrays)
        return _on_device(_wrap(self._a[_wrapped_key(self._a.shape, _unwrap(key))]), self._device)

    def __setitem__(self, key, value):
        keys = key if isinstance(key, tuple) else (key,)
        _on_current_device(self, value, *keys)
        self._a[_wrapped_key(self._a.shape, _unwrap(key))] = _unwrap(value)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (_on_device(FakeArray(row), self._device) for row in self._a)

    def _to_host(self, convert):
        HostTransfers.count += 1
        return convert(self._a)

    def get(self):
        return self._to_host(np.copy)

    def item(self):
        return self._to_host(lambda a: a.item())

    def tolist(self):
        return self._to_host(lambda a: a.tolist())

    def __float__(self):
        return self._to_host(float)

    def __int__(self):
        return self._to_host(int)

    def __bool__(self):
        return self._to_host(bool)

    def __repr__(self):
        return f"fakegpu.{self._a!r}"


def _method(array, call, args, kwargs):
    """An ndarray method that runs a kernel: the array must be on the current device."""
    _on_current_device(array)
    return call(*args, **kwargs)


def _on_current_device(*arrays):
    """CuPy's check before a kernel launch (where GPUs lack peer access): every operand must be
    on the current device."""
    for a in arrays:
        if isinstance(a, (tuple, list)):
            _on_current_device(*a)
        elif isinstance(a, FakeArray) and a._device != _FakeCuda.current:
            raise ValueError(
                f"The device where the array resides ({a._device}) is different from the "
                f"current device ({_FakeCuda.current}). Peer access is unavailable between "
                "these devices."
            )


def _binary(op):
    def method(self, other):
        _on_current_device(self, other)
        return _wrap(op(self._a, _unwrap(other)))

    return method


def _reflected(op):
    def method(self, other):
        _on_current_device(self, other)
        return _wrap(op(_unwrap(other), self._a))

    return method


def _inplace(op):
    def method(self, other):
        _on_current_device(self, other)
        self._a = op(self._a, _unwrap(other))
        return self

    return method


for _name in (
    "add",
    "sub",
    "mul",
    "truediv",
    "floordiv",
    "mod",
    "pow",
    "matmul",
    "and",
    "or",
    "xor",
    "lshift",
    "rshift",
):
    _op = getattr(operator, _name + "_" if _name in ("and", "or") else _name)
    setattr(FakeArray, f"__{_name}__", _binary(_op))
    setattr(FakeArray, f"__r{_name}__", _reflected(_op))
    setattr(FakeArray, f"__i{_name}__", _inplace(getattr(operator, f"i{_name}")))
for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    setattr(FakeArray, f"__{_name}__", _binary(getattr(operator, _name)))
for _name in ("neg", "pos", "abs", "invert"):
    setattr(
        FakeArray,
        f"__{_name}__",
        (lambda op: lambda self: _wrap(op(self._a)))(getattr(operator, _name)),
    )
FakeArray.__hash__ = None


class _FakeUfunc:
    def __init__(self, ufunc):
        self._ufunc = ufunc

    def __call__(self, *args, **kwargs):
        out = kwargs.get("out")
        _on_current_device(*args, out)
        result = self._ufunc(*_unwrap(args), **_unwrap(kwargs))
        return out if isinstance(out, FakeArray) else _wrap(result)

    def __getattr__(self, name):
        value = getattr(self._ufunc, name)
        return _device_call(value) if callable(value) else value


class _Namespace:
    """A NumPy module seen from the fake device, limited to the names CuPy has."""

    def __init__(self, module, names, label):
        self._module, self._names, self._label = module, names, label

    def __getattr__(self, name):
        if name not in self._names:
            raise AttributeError(f"module {self._label!r} has no attribute {name!r}")
        value = getattr(self._module, name)
        if isinstance(value, np.ufunc):
            return _FakeUfunc(value)
        if isinstance(value, type) or not callable(value):
            return value
        return _device_call(value)


def _take_along_axis(a, indices, axis):
    a, indices = _unwrap(a), _unwrap(indices)
    if axis is not None and a.shape[axis]:
        indices = indices % a.shape[axis]  # CuPy indexes with wrap-around
    return _wrap(np.take_along_axis(a, indices, axis))


def _broadcast_to(data, shape):
    """``cupy.broadcast_to``: a writable view, as CuPy's is (NumPy's is read-only)."""
    view = np.broadcast_to(data, shape)
    if data.flags.writeable:
        view = np.lib.stride_tricks.as_strided(data, view.shape, view.strides)
    return view


class _MemoryPool:
    """``cupy.get_default_memory_pool()``: bytes held by live arrays, per device."""

    def __init__(self):
        self._used: dict = {}
        self._limit: dict = {}

    def malloc(self, size):
        return _Memory(self, size)

    def used_bytes(self):
        return self._used.get(_FakeCuda.current, 0)

    def total_bytes(self):
        return self.used_bytes()  # the stand-in caches nothing

    def set_limit(self, size=None, fraction=None):
        total = _FakeCuda.runtime.getDeviceProperties(_FakeCuda.current)["totalGlobalMem"]
        self._limit[_FakeCuda.current] = int(size if fraction is None else fraction * total)

    def get_limit(self):
        return self._limit.get(_FakeCuda.current, 0)

    def free_all_blocks(self):
        pass


_POOL = _MemoryPool()
_allocator = [_POOL.malloc]


def _allocate(size):
    return _allocator[0](size)


class _Stream:
    _current: dict = {}  # device -> the stream made current with ``use()``

    def __init__(self, non_blocking=False, ptr=None):
        self.non_blocking = non_blocking
        self.device_id = _FakeCuda.current if ptr != 0 else -1
        self.ptr = id(self) if ptr is None else ptr

    def synchronize(self):
        pass

    @property
    def done(self):
        return True

    def wait_event(self, event):
        pass

    def use(self):
        _Stream._current[_FakeCuda.current] = self
        return self

    def is_capturing(self):
        return False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _Event:
    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self.time = None

    def record(self, stream=None):
        self.time = time.perf_counter()

    def synchronize(self):
        pass

    @property
    def done(self):
        return True


class _FakeCuda:
    """``cupy.cuda``: devices (two of them), streams, events, the runtime."""

    current = 0
    seen_current: set = set()
    Stream = _Stream
    Event = _Event

    class Device:
        def __init__(self, device=None):
            self.id = _FakeCuda.current if device is None else int(device)
            self._previous = []

        def __enter__(self):
            self._previous.append(_FakeCuda.current)
            _FakeCuda.current = self.id
            _FakeCuda.seen_current.add(self.id)
            return self

        def __exit__(self, *exc):
            _FakeCuda.current = self._previous.pop()
            return False

        def use(self):
            _FakeCuda.current = self.id

        def synchronize(self):
            pass

    class runtime:  # noqa: N801 - CuPy's name
        @staticmethod
        def getDeviceCount():  # noqa: N802 - CuPy's name
            return 2

        @staticmethod
        def getDevice():  # noqa: N802
            return _FakeCuda.current

        @staticmethod
        def setDevice(index):  # noqa: N802
            _FakeCuda.current = int(index)

        @staticmethod
        def getDeviceProperties(index):  # noqa: N802
            return {"name": b"minigrad fakegpu", "totalGlobalMem": 2**34, "major": 9, "minor": 0}

        @staticmethod
        def memGetInfo():  # noqa: N802
            total = _FakeCuda.runtime.getDeviceProperties(_FakeCuda.current)["totalGlobalMem"]
            return total - _POOL.used_bytes(), total

        @staticmethod
        def deviceCanAccessPeer(device, peer):  # noqa: N802
            return int(device != peer)

        @staticmethod
        def runtimeGetVersion():  # noqa: N802
            return 12080

        @staticmethod
        def driverGetVersion():  # noqa: N802
            return 12080

    @staticmethod
    def get_device_id():
        return _FakeCuda.current

    @staticmethod
    def get_current_stream(device_id=-1):
        return _Stream._current.get(_FakeCuda.current, _Stream.null)

    @staticmethod
    def ExternalStream(ptr, device_id=-1):  # noqa: N802 - CuPy's name
        return _Stream(ptr=ptr)

    @staticmethod
    def get_elapsed_time(start, end):
        return (end.time - start.time) * 1000.0

    @staticmethod
    def set_allocator(allocator=None):
        _allocator[0] = allocator or _POOL.malloc

    @staticmethod
    def get_allocator():
        return _allocator[0]


_Stream.null = _Stream(ptr=0)


def _upload(fn):
    """``cupy.asarray``/``array``: host data is copied into device memory, never shared."""

    def call(obj, *args, **kwargs):
        if isinstance(obj, FakeArray):
            out = fn(obj._a, *args, **kwargs)
            return obj if out is obj._a else _wrap(out)
        return FakeArray(np.array(fn(_unwrap(obj, allow_host=True), *args, **kwargs)))

    return call


def _asnumpy(a, stream=None, order="C", out=None):
    if not isinstance(a, FakeArray):
        return np.asarray(a)
    HostTransfers.count += 1
    return a._a.copy()


class _FakeCupy(_Namespace):
    """The ``cupy`` module of the stand-in."""

    __version__ = "14.2.0 (minigrad stand-in)"
    ndarray = FakeArray
    cuda = _FakeCuda
    asnumpy = staticmethod(_asnumpy)
    take_along_axis = staticmethod(_take_along_axis)
    broadcast_to = staticmethod(_device_call(_broadcast_to))
    asarray = staticmethod(_upload(np.asarray))
    array = staticmethod(_upload(np.array))
    ascontiguousarray = staticmethod(_upload(np.ascontiguousarray))

    def __init__(self):
        super().__init__(np, _cupy_names.NAMESPACE, "cupy")
        self.linalg = _Namespace(np.linalg, _cupy_names.LINALG, "cupy.linalg")
        self.fft = _Namespace(np.fft, _cupy_names.FFT, "cupy.fft")
        self.lib = types.SimpleNamespace(
            stride_tricks=_Namespace(
                np.lib.stride_tricks, {"as_strided", "sliding_window_view"}, "cupy.lib"
            )
        )

    @staticmethod
    def get_default_memory_pool():
        return _POOL


def _scatter_add(a, slices, value):
    """``cupyx.scatter_add``: unbuffered add with wrap-around, atomicAdd dtypes only."""
    target = _unwrap(a)
    if target.dtype.name not in backend._ATOMIC_ADD_DTYPES:
        raise TypeError(
            f"Wrong type ({target.dtype}) of arguments for cupy_scatter_add: CuPy's atomicAdd "
            "has no such type"
        )
    np.add.at(target, _wrapped_key(target.shape, _unwrap(slices)), _unwrap(value))


def _erf(x):
    return FakeArray(backend.get_backend("cpu").erf(_unwrap(x)))


def _special(name):
    """``cupyx.scipy.special.<name>``: the CPU kernel on the unwrapped array."""

    def function(*args):
        *head, x = args
        return FakeArray(backend.get_backend("cpu").special(name, _unwrap(x), *head))

    return function


_CUPYX = types.SimpleNamespace(
    scatter_add=_scatter_add,
    scipy=types.SimpleNamespace(
        special=types.SimpleNamespace(
            erf=_erf, **{name: _special(name) for name in backend.SPECIAL_FUNCTIONS}
        )
    ),
)


class FakeBackend(backend.CupyBackend):
    """The ``fakegpu`` device type: CuPy's backend on the stand-in module.

    Register it with ``backend.register_backend(FakeBackend())`` (or :func:`install`).
    ``fakegpu:0`` and ``fakegpu:1`` exist; ``seen_current`` records the devices made current
    (as ``cupy.cuda.Device(N)`` would), so tests can check multi-GPU plumbing.
    """

    name = "fakegpu"
    seen_current = _FakeCuda.seen_current
    _fake = _FakeCupy()

    @property
    def xp(self):
        return self._fake

    @property
    def cupyx(self):
        return _CUPYX

    def is_array(self, obj):
        return isinstance(obj, FakeArray)

    def has_cudnn(self):
        return False  # the stand-in has no cuDNN

    def make_fused_kit(self):
        """The fused kernels' NumPy twins, on the stand-in's arrays."""
        from .._fused.twins import TwinKit

        return TwinKit(_unwrap, _wrap)

    def is_available(self):  # its own, so tests that switch CUDA off keep the stand-in
        return True


def install() -> None:
    """Register the ``fakegpu`` device type (idempotent: one backend, one record of
    pending index checks)."""
    if not isinstance(backend._BACKENDS.get(FakeBackend.name), FakeBackend):
        backend.register_backend(FakeBackend())
