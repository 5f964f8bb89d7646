"""A stand-in for CuPy, so that device plumbing is tested on machines without a GPU.

``fakegpu`` arrays hold NumPy data but behave like CuPy arrays where it matters: they refuse
to mix with NumPy arrays (a buffer made with the wrong ``xp``, or a forgotten ``.to()``, raises
``TypeError``), reductions return 0-d arrays rather than host scalars, and every copy to host
memory (``to_host``, ``item()``, ``float()``, ``tolist()``) is counted, so a hidden host round
trip inside a training step can be caught by a test.
"""

from __future__ import annotations

import contextlib
import operator
import types

import numpy as np

from .. import backend


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
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


def _device_call(fn, allow_host=False):
    def call(*args, **kwargs):
        return _wrap(fn(*_unwrap(args, allow_host), **_unwrap(kwargs, allow_host)))

    return call


class FakeArray:
    """A device array of the stand-in backend (NumPy inside)."""

    __slots__ = ("_a",)
    __array_ufunc__ = None  # NumPy functions refuse it, as they refuse CuPy arrays

    def __init__(self, array: np.ndarray):
        self._a = array

    def __array__(self, *args, **kwargs):
        raise TypeError(
            "implicit conversion of a fakegpu array to NumPy (a hidden host transfer); "
            "use the backend's to_host()"
        )

    def __getattr__(self, name):
        if name.startswith("__"):  # no __array_interface__ & co: NumPy must not see the data
            raise AttributeError(name)
        value = getattr(self._a, name)
        return _device_call(value) if callable(value) else _wrap(value)

    def __getitem__(self, key):
        return _wrap(self._a[_unwrap(key)])

    def __setitem__(self, key, value):
        self._a[_unwrap(key)] = _unwrap(value)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (FakeArray(row) for row in self._a)

    def _to_host_scalar(self, convert):
        HostTransfers.count += 1
        return convert(self._a)

    def item(self):
        return self._to_host_scalar(lambda a: a.item())

    def tolist(self):
        return self._to_host_scalar(lambda a: a.tolist())

    def __float__(self):
        return self._to_host_scalar(float)

    def __int__(self):
        return self._to_host_scalar(int)

    def __bool__(self):
        return self._to_host_scalar(bool)

    def __repr__(self):
        return f"fakegpu.{self._a!r}"


def _binary(op):
    def method(self, other):
        return _wrap(op(self._a, _unwrap(other)))

    return method


def _reflected(op):
    def method(self, other):
        return _wrap(op(_unwrap(other), self._a))

    return method


def _inplace(op):
    def method(self, other):
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


class _FakeModule:
    """NumPy's namespace seen from the fake device: functions take and return fake arrays."""

    _host_inputs_allowed = {"asarray", "array", "ascontiguousarray"}  # uploads, as in CuPy

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        value = getattr(self._module, name)
        if isinstance(value, types.ModuleType):
            return _FakeModule(value)
        if isinstance(value, np.ufunc):
            return _FakeUfunc(value)
        if isinstance(value, type) or not callable(value):
            return value
        return _device_call(value, allow_host=name in self._host_inputs_allowed)


class _FakeUfunc:
    def __init__(self, ufunc):
        self._ufunc = ufunc

    def __call__(self, *args, **kwargs):
        out = kwargs.get("out")
        result = self._ufunc(*_unwrap(args), **_unwrap(kwargs))
        return out if isinstance(out, FakeArray) else _wrap(result)

    def __getattr__(self, name):
        value = getattr(self._ufunc, name)
        return _device_call(value) if callable(value) else value


class _FakeRandom:
    def __init__(self, seed):
        self._gen = np.random.default_rng(seed)
        self.bit_generator = self._gen.bit_generator

    def __getattr__(self, name):
        return _device_call(getattr(self._gen, name))


class FakeBackend(backend.ArrayBackend):
    """The ``fakegpu`` device type: register it with ``backend.register_backend(FakeBackend())``.

    ``fakegpu:N`` devices exist for any N; ``current`` records the device made current by
    :meth:`using`, as ``cupy.cuda.Device(N)`` would, so tests can check multi-GPU plumbing.
    """

    name = "fakegpu"
    _xp = _FakeModule(np)
    current = 0
    seen_current: set = set()

    @contextlib.contextmanager
    def using(self, index):
        previous, FakeBackend.current = FakeBackend.current, index
        FakeBackend.seen_current.add(index)
        try:
            yield
        finally:
            FakeBackend.current = previous

    @property
    def xp(self):
        return self._xp

    def from_host(self, array, index):
        return FakeArray(np.array(array, copy=True))

    def to_host(self, array):
        HostTransfers.count += 1
        return array._a.copy()

    def is_array(self, obj):
        return isinstance(obj, FakeArray)

    def new_generator(self, seed, index):
        return _FakeRandom(seed)

    def erf(self, x):
        return FakeArray(backend.get_backend("cpu").erf(x._a))

    def scatter_add(self, target, key, values):
        np.add.at(target._a, _unwrap(key), _unwrap(values))


def install() -> None:
    """Register the ``fakegpu`` device type (idempotent)."""
    backend.register_backend(FakeBackend())
