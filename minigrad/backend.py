"""The one place that knows NumPy and CuPy: devices, array modules, transfers, RNG.

Every tensor lives on a :class:`Device`. A device names an :class:`ArrayBackend`, which owns the
array module (``xp``) that ops call, moves arrays to and from host memory, and keeps the random
generators of that device. CuPy is imported only when a ``cuda`` device is first used, so the
CPU path never needs it. Tests register a stand-in backend with :func:`register_backend`.
"""

from __future__ import annotations

import contextlib
import math
import zlib

import numpy as np

from . import dtypes


class ArrayBackend:
    """What minigrad needs from an array library; one instance per device type."""

    name = "?"

    @property
    def xp(self):
        """The NumPy-compatible array module."""
        raise NotImplementedError

    def is_available(self) -> bool:
        return True

    def device_count(self) -> int:
        return 1

    def from_host(self, array: np.ndarray, index: int):
        """Copy a NumPy array onto device ``index`` of this backend."""
        raise NotImplementedError

    def to_host(self, array) -> np.ndarray:
        """Copy an array of this backend into host memory (a NumPy array)."""
        raise NotImplementedError

    def is_array(self, obj) -> bool:
        """True if ``obj`` is an array of this backend."""
        raise NotImplementedError

    def new_generator(self, seed: int, index: int) -> Generator:
        raise NotImplementedError

    def erf(self, x):
        """The error function, elementwise (NumPy itself has none)."""
        raise NotImplementedError

    def scatter_add(self, target, key, values) -> None:
        """``target[key] += values`` where repeated indices in ``key`` all add (unbuffered)."""
        self.xp.add.at(target, key, values)

    def has_cudnn(self) -> bool:
        """Whether cuDNN can be used on this backend's devices (only CuPy's may have it)."""
        return False

    def synchronize(self) -> None:
        """Wait for queued device work (a no-op on the CPU)."""

    def using(self, index: int):
        """A context in which new arrays and kernels go to device ``index`` of this backend."""
        return contextlib.nullcontext()


class Generator:
    """Random numbers on one device, from a seedable generator of its backend."""

    def __init__(self, backend: ArrayBackend, seed: int, index: int):
        self.backend, self.index = backend, index
        self.manual_seed(seed)

    def manual_seed(self, seed: int) -> Generator:
        self.initial_seed = int(seed)
        self._gen = self.backend.new_generator(self.initial_seed, self.index)
        return self

    def uniform(self, shape, dtype: np.dtype, low=0.0, high=1.0):
        return self._gen.uniform(low, high, shape).astype(dtype, copy=False)

    def normal(self, shape, dtype: np.dtype, mean=0.0, std=1.0):
        return self._gen.normal(mean, std, shape).astype(dtype, copy=False)

    def integers(self, low: int, high: int, shape, dtype: np.dtype):
        return self._gen.integers(low, high, shape).astype(dtype, copy=False)

    def permutation(self, n: int):
        return self._gen.permutation(n)

    def get_state(self):
        return self._gen.bit_generator.state

    def set_state(self, state) -> None:
        self._gen.bit_generator.state = state


class NumpyBackend(ArrayBackend):
    """The CPU: NumPy arrays in host memory."""

    name = "cpu"

    @property
    def xp(self):
        return np

    def from_host(self, array, index):
        return array

    def to_host(self, array):
        return array

    def is_array(self, obj):
        return isinstance(obj, np.ndarray)

    def new_generator(self, seed, index):
        return np.random.default_rng(seed)

    def erf(self, x):
        if x.dtype.itemsize <= 4:
            return erf_single_precision(np, x)
        try:
            from scipy.special import erf
        except ImportError:  # exact but slower: math.erf element by element
            return np.asarray(_math_erf(x), dtype=x.dtype)
        return erf(x)


_math_erf = np.frompyfunc(math.erf, 1, 1)

# Abramowitz & Stegun 7.1.26: |error| < 1.5e-7, about one float32 ulp near ±1, and five times
# faster than scipy.special.erf on float32 (which computes in double precision).
_ERF_P = 0.3275911
_ERF_A = (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)


def erf_single_precision(xp, x):
    """erf for float16/float32 arrays, to float32 accuracy, with few temporaries."""
    a = xp.abs(x, out=xp.empty_like(x))  # out=: arrays even for 0-d input, so in-place works
    t = xp.multiply(a, _ERF_P, out=xp.empty_like(x))
    t += 1.0
    xp.reciprocal(t, out=t)
    poly = xp.multiply(t, _ERF_A[0], out=xp.empty_like(x))
    for coefficient in _ERF_A[1:]:
        poly += coefficient
        poly *= t
    xp.multiply(a, a, out=a)
    xp.negative(a, out=a)
    xp.exp(a, out=a)
    poly *= a
    xp.subtract(1.0, poly, out=poly)
    return xp.copysign(poly, x, out=poly)


class CupyBackend(ArrayBackend):
    """NVIDIA GPUs through CuPy, imported on first use."""

    name = "cuda"
    _cupy = None

    @property
    def xp(self):
        if self._cupy is None:
            try:
                import cupy
            except Exception as e:  # ImportError, or a build that cannot load its libraries
                raise RuntimeError(
                    "device 'cuda' needs CuPy: pip install 'minigrad[cuda]' (CuPy for CUDA 12)"
                ) from e
            CupyBackend._cupy = cupy
        return self._cupy

    def is_available(self):
        try:
            return self.xp.cuda.runtime.getDeviceCount() > 0
        except Exception:  # no CuPy, no driver or no device: all mean "not available"
            return False

    def device_count(self):
        return self.xp.cuda.runtime.getDeviceCount() if self.is_available() else 0

    def from_host(self, array, index):
        with self.xp.cuda.Device(index):
            return self.xp.asarray(array)

    def to_host(self, array):
        return self.xp.asnumpy(array)

    def is_array(self, obj):
        return self._cupy is not None and isinstance(obj, self._cupy.ndarray)

    def new_generator(self, seed, index):
        with self.xp.cuda.Device(index):
            return _CupyRandom(self.xp.random.RandomState(seed))

    def erf(self, x):
        from cupyx.scipy.special import erf

        return erf(x)

    def scatter_add(self, target, key, values):
        import cupyx

        cupyx.scatter_add(target, key, values)

    def synchronize(self):
        self.xp.cuda.Stream.null.synchronize()

    def using(self, index):
        return self.xp.cuda.Device(index)

    def has_cudnn(self) -> bool:
        if not self.is_available():
            return False
        try:
            import cupy.cuda.cudnn  # noqa: F401
        except ImportError:
            return False
        return True

    def cudnn_version(self) -> int:
        import cupy.cuda.cudnn

        return int(cupy.cuda.cudnn.getVersion())

    def describe(self) -> dict:
        """CuPy's version, the CUDA runtime and driver versions, and each GPU (for ``minigrad info``)."""
        try:
            cupy = self.xp
        except RuntimeError as e:  # no CuPy, or a build that cannot load its libraries
            return {"status": f"not installed ({type(e.__cause__).__name__})", "devices": []}
        try:
            runtime = cupy.cuda.runtime
            status = (
                f"CuPy {cupy.__version__}, CUDA runtime {_cuda_version(runtime.runtimeGetVersion())}, "
                f"driver {_cuda_version(runtime.driverGetVersion())}"
            )
            gpus = [_describe_gpu(runtime, i) for i in range(runtime.getDeviceCount())]
            return {"status": status, "devices": gpus}
        except Exception as e:  # CuPy present but no driver or no device
            return {"status": f"CuPy {cupy.__version__}, no usable GPU ({e})", "devices": []}


def _cuda_version(v: int) -> str:
    return f"{v // 1000}.{v % 1000 // 10}"


def _describe_gpu(runtime, index: int) -> str:
    props = runtime.getDeviceProperties(index)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    memory = props["totalGlobalMem"] / 2**30
    return f"cuda:{index}  {name}, {memory:.0f} GiB, compute {props['major']}.{props['minor']}"


class _CupyRandom:
    """CuPy's RandomState behind the few Generator methods that :class:`Generator` calls."""

    def __init__(self, state):
        self._state = state
        self.bit_generator = self

    def uniform(self, low, high, shape):
        return self._state.uniform(low, high, shape)

    def normal(self, mean, std, shape):
        return self._state.normal(mean, std, shape)

    def integers(self, low, high, shape):
        return self._state.randint(low, high, shape)

    def permutation(self, n):
        return self._state.permutation(n)

    @property
    def state(self):
        raise NotImplementedError("saving the state of a CUDA generator is not supported")


_BACKENDS: dict[str, ArrayBackend] = {"cpu": NumpyBackend(), "cuda": CupyBackend()}


def register_backend(backend: ArrayBackend) -> None:
    """Make ``backend.name`` usable as a device type (tests register a CuPy stand-in)."""
    _BACKENDS[backend.name] = backend


def get_backend(name: str) -> ArrayBackend:
    try:
        return _BACKENDS[name]
    except KeyError:
        valid = ", ".join(repr(n) for n in _BACKENDS)
        raise RuntimeError(f"unknown device type {name!r}; valid types: {valid}") from None


class Device:
    """Where a tensor's data lives: ``cpu``, ``cuda:0``, ... One object per device, so ``is`` works."""

    __slots__ = ("type", "index", "backend", "xp_cache")

    def __init__(self, type: str, index: int | None):
        self.type, self.index = type, index
        self.backend = get_backend(type)
        self.xp_cache = None

    @property
    def xp(self):
        """The array module of this device (numpy or cupy)."""
        if self.xp_cache is None:
            self.xp_cache = self.backend.xp
        return self.xp_cache

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + (
            f", index={self.index})" if self.index is not None else ")"
        )

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, ValueError):
                return False
        return isinstance(other, Device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))


_DEVICES: dict = {}


def device(spec="cpu", index: int | None = None) -> Device:
    """Parse ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a Device. ``cuda`` means ``cuda:0``, as tensors report it."""
    key = (spec, index)
    found = _DEVICES.get(key) if isinstance(spec, (str, Device)) else None
    if found is not None:
        return found
    if isinstance(spec, Device):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"device must be a string like 'cpu' or 'cuda:0', got {spec!r}")
    type_, _, idx = spec.partition(":")
    if idx:
        if index is not None or not idx.isdigit():
            raise ValueError(f"invalid device string {spec!r}; expected e.g. 'cpu' or 'cuda:0'")
        index = int(idx)
    if type_ == "cpu":
        index = None
    elif index is None:
        index = 0
    canonical = (type_ if index is None else f"{type_}:{index}", None)
    found = _DEVICES.get(canonical) or Device(type_, index)
    _DEVICES[canonical] = _DEVICES[key] = found
    return found


CPU = device("cpu")


def on(dev: Device):
    """A context that makes ``dev`` current, so new arrays are allocated on it (``cuda:1``)."""
    return dev.backend.using(dev.index) if dev.index else contextlib.nullcontext()


def device_of(array) -> Device:
    """The device holding ``array`` (a NumPy, CuPy or registered backend array)."""
    if isinstance(array, np.ndarray):
        return CPU
    for name, backend in _BACKENDS.items():
        if name != "cpu" and backend.is_array(array):
            return device(name, getattr(getattr(array, "device", None), "id", 0))
    raise TypeError(f"not an array of any minigrad backend: {type(array).__name__}")


def to_device(array, src: Device, dst: Device):
    """Move ``array`` from device ``src`` to ``dst`` (a no-op when they are the same)."""
    if src is dst:
        return array
    return dst.backend.from_host(src.backend.to_host(array), dst.index)


def as_array(data, dtype: dtypes.dtype | None, dev: Device):
    """Turn host data (nested lists, scalars, NumPy arrays) into an array on ``dev``.

    Without ``dtype``, Python floats become the default dtype (float32), ints int64 and bools
    bool, as ``torch.tensor`` does; NumPy arrays keep their dtype.
    """
    if dev.backend.is_array(data):
        return data if dtype is None else data.astype(dtype.numpy, copy=False)
    for other in _BACKENDS.values():
        if other is not dev.backend and other.name != "cpu" and other.is_array(data):
            data = other.to_host(data)
    if isinstance(data, np.ndarray):
        host = data
        if dtype is None:
            dtype = dtypes.from_numpy(host.dtype)  # also rejects object/string arrays
    else:  # Python data: PyTorch's dtype inference and overflow checks
        host, dtype = dtypes.host_array(data, dtype)
    host = host.astype(dtype.numpy, copy=False)
    return dev.backend.from_host(host, dev.index)


_generators: dict[Device, Generator] = {}
_seed = 0


def default_generator(dev: Device) -> Generator:
    """The generator used by random functions on ``dev`` (created on first use)."""
    gen = _generators.get(dev)
    if gen is None:
        gen = _generators[dev] = Generator(dev.backend, _seed_for(dev), dev.index or 0)
    return gen


def _seed_for(dev: Device) -> int:
    # Each device gets its own stream derived from the global seed.
    return _seed if dev.type == "cpu" else _seed * 1_000_003 + zlib.crc32(str(dev).encode()) % 997


def manual_seed(seed: int) -> None:
    """Seed the generators of every device (CPU and GPUs), as ``torch.manual_seed``."""
    global _seed
    _seed = int(seed)
    for dev, gen in _generators.items():
        gen.manual_seed(_seed_for(dev))


def initial_seed() -> int:
    return _seed
