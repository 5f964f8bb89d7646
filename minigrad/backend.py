"""The one place that knows NumPy and CuPy: devices, array modules, transfers, RNG.

Every tensor lives on a :class:`Device`. A device names an :class:`ArrayBackend`, which owns the
array module (``xp``) that ops call, moves arrays to and from host memory, and keeps the random
generators of that device. CuPy is imported only when a ``cuda`` device is first used, so the
CPU path never needs it. Tests register a stand-in backend with :func:`register_backend`.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import threading
import zlib

import numpy as np

from . import _dtype_limits, _fused, dtypes
from . import _torch_samplers as _samplers
from ._torch_random import TorchRandom


class IndexOutOfRangeError(IndexError, RuntimeError):
    """An index outside its dimension. An ``IndexError`` (as tensor indexing raises in PyTorch)
    and a ``RuntimeError`` (as PyTorch's ``gather``, ``scatter_add`` and ``index_select``
    raise), so code written for either catches it."""


class DimensionError(IndexError, RuntimeError):
    """A tensor with the wrong number of dimensions for an op (a 0-d input where an op wants
    (N, C), a 3-D matrix). PyTorch's type for it depends on where each op notices: an
    ``IndexError`` where it reads a missing dim first ("Dimension specified as 1 but tensor has
    no dimensions"), a ``RuntimeError`` where its kernel checks the rank; this is both, so code
    written for either catches it (as :class:`IndexOutOfRangeError`)."""


class AssertedArgumentError(AssertionError, ValueError, RuntimeError):
    """A bad argument or input that PyTorch reports with an ``assert`` (an ``AssertionError``:
    an Embedding's padding_idx, the sizes of a TensorDataset, a MultiheadAttention key). Also a
    ``ValueError`` and a ``RuntimeError``, as minigrad's own checks for these raise, so code
    written for any of them catches it."""


class OutOfMemoryError(RuntimeError, MemoryError):
    """An op could not allocate its result, as ``torch.OutOfMemoryError`` (also
    ``minigrad.cuda.OutOfMemoryError``). A ``RuntimeError`` as PyTorch's, and a
    ``MemoryError`` as the NumPy and CuPy failures it restates, so code written for either
    catches it; its message says "out of memory" as PyTorch's."""

    @classmethod
    def restating(cls, what: str, device, error: MemoryError) -> OutOfMemoryError:
        """The error for ``what`` (an op or factory name) failing to allocate on ``device``."""
        detail = str(error) or "the allocation failed"  # (NumPy's object arrays say nothing)
        return cls(f"{what}: out of memory on {device}: {detail}")


# NumPy's ValueErrors for a size past what an array can address (a failed allocation too)
_TOO_BIG = ("array is too big", "Maximum allowed size exceeded", "Maximum allowed dimension")


def allocating(what: str, device) -> _Allocating:
    """Within: NumPy's and CuPy's allocation failures (``MemoryError``, and NumPy's "array is
    too big" ``ValueError``) raise :class:`OutOfMemoryError` naming ``what`` and ``device``, the
    one place where factories (filled, range and random ones, ``tensor``) restate them.

    Example:
        >>> with backend.allocating("randn", dev):
        ...     array = dev.xp.empty(shape)
    """
    return _Allocating(what, device)


class _Allocating:
    """The context of :func:`allocating` (a class, not a generator: every factory enters one)."""

    __slots__ = ("what", "device")

    def __init__(self, what: str, device):
        self.what, self.device = what, device

    def __enter__(self):
        return None

    def __exit__(self, kind, error, traceback):
        if kind is None or issubclass(kind, OutOfMemoryError):
            return False
        if issubclass(kind, MemoryError) or (issubclass(kind, ValueError) and too_big(error)):
            raise OutOfMemoryError.restating(self.what, self.device, error) from error
        return False


def too_big(error: ValueError) -> bool:
    """Whether ``error`` is NumPy's refusal of a size past what an array can address."""
    return str(error).startswith(_TOO_BIG)


class ArrayBackend:
    """What minigrad needs from an array library; one instance per device type."""

    name = "?"
    current: int | None = None  # the device index that kernels run on unless switched
    # The fused kernels of this backend (a minigrad._fused.FusedKit), or None: the CPU has none
    fused = None

    def make_fused_kit(self):
        """A new :class:`~minigrad._fused.FusedKit` for this backend's arrays, or None."""
        return None

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

    def check_dtype(self, np_dtype) -> None:
        """Raise if this backend cannot hold arrays of ``np_dtype`` (NumPy holds them all)."""

    def new_generator(self, seed: int, index: int):
        raise NotImplementedError

    def erf(self, x):
        """The error function, elementwise (NumPy itself has none)."""
        raise NotImplementedError

    def special(self, name: str, x, *args):
        """``scipy.special.<name>(*args, x)`` elementwise on a floating array, in its dtype.

        ``name`` is one of :data:`SPECIAL_FUNCTIONS` (SciPy's names: ``gammaln`` for lgamma);
        ``args`` come first, as SciPy orders them (``polygamma(n, x)``).
        """
        raise NotImplementedError

    def scatter_add(self, target, key, values) -> None:
        """``target[key] += values`` where repeated indices in ``key`` all add (unbuffered)."""
        self.xp.add.at(target, key, values)

    def has_cudnn(self) -> bool:
        """Whether cuDNN can be used on this backend's devices (only CuPy's may have it)."""
        return False

    def synchronize(self, index: int | None = None) -> None:
        """Wait for queued device work (a no-op on the CPU)."""

    def using(self, index: int):
        """A context in which new arrays and kernels go to device ``index`` of this backend."""
        return contextlib.nullcontext()

    def check_indices(self, bad, index, message: str, index_device: int | None, error=None) -> None:
        """Raise ``error`` (default :class:`IndexOutOfRangeError`) if any element of the boolean
        array ``bad`` is set.

        ``message`` has one ``{}`` for the first offending element of ``index``. The CPU raises
        at once; a GPU backend records a device-side flag instead and raises at the next host
        synchronisation (:meth:`raise_deferred`), so that checking costs no round trip per op.
        Other checks of values on the device (``multinomial``'s probabilities) pass their own
        ``error`` class.
        """
        if bad.any():
            raise (error or IndexOutOfRangeError)(message.format(int(index[bad].reshape(-1)[0])))

    def raise_deferred(self) -> None:
        """Raise the first index error recorded on this backend's devices since the last sync."""


class Generator:
    """Random numbers on one device, from a seedable generator of its backend.

    As ``torch.Generator``: ``Generator(device="cpu")`` (``minigrad.Generator``) makes one,
    ``manual_seed(n)`` returns the generator itself (so ``Generator().manual_seed(42)`` can be
    passed as ``generator=``), ``initial_seed()`` and ``seed()`` are methods, ``.device`` is
    its device, and the default generators are instances too.
    """

    def __init__(self, device="cpu", seed: int = 67280421310721):
        # (PyTorch's default seed of a new generator: an unseeded one draws PyTorch's numbers)
        dev = _as_device(device)
        self.device = dev
        self.backend, self.index = dev.backend, dev.index or 0
        self.manual_seed(seed)

    def __repr__(self) -> str:  # PyTorch's, whose Generator class lives in torch._C
        return f"<minigrad._C.Generator object at {id(self):#x}>"

    def manual_seed(self, seed: int) -> Generator:
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            kind = type(seed)  # (torch.manual_seed takes what int() takes; this only integers)
            name = kind.__name__ if kind.__module__ == "builtins" else kind.__qualname__
            name = f"numpy.{name}" if kind.__module__ == "numpy" else name
            raise RuntimeError(f"manual_seed expected a long, but got {name}")
        self._initial_seed = check_seed(seed)
        self._gen = self.backend.new_generator(self._initial_seed, self.index)
        return self

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with (from 0 to 2**64 - 1: a negative seed
        counts from 2**64, as in PyTorch)."""
        return self._initial_seed

    def seed(self) -> int:
        """Seed with a fresh non-deterministic number and return it."""
        fresh = int.from_bytes(os.urandom(8), "little") >> 1
        self.manual_seed(fresh)
        return fresh

    def _here(self):
        """Draws run on this generator's device (``cuda:1`` and up), wherever they are asked for."""
        backend = self.backend
        if backend.current is None or self.index == backend.current:
            return contextlib.nullcontext()
        return backend.using(self.index)

    def uniform(self, shape, dtype: np.dtype, low=0.0, high=1.0):
        """U(low, high) draws; for a complex dtype, of the real and imaginary parts alike."""
        _check_draw()
        dtype = np.dtype(dtype)
        with self._here():
            if dtype.kind == "c":
                parts = self._gen.uniform(tuple(shape) + (2,), _part_dtype(dtype), low, high)
                return _as_complex_pairs(parts, dtype)
            return self._gen.uniform(tuple(shape), dtype, low, high)

    def normal(self, shape, dtype: np.dtype, mean=0.0, std=1.0, *, filled=None):
        """N(mean, std²) draws; for a complex dtype, the variance is split between the parts
        (each N(mean, std²/2)), as PyTorch's ``randn``/``normal_`` of complex tensors. On the
        CPU ``filled=False`` draws pair by pair, as PyTorch for a non-contiguous tensor."""
        _check_draw()
        dtype = np.dtype(dtype)
        options = self._cpu_options(filled=filled)
        with self._here():
            if dtype.kind == "c":
                part_std = std / math.sqrt(2)  # PyTorch's rounding of the scale
                parts = self._gen.normal(
                    tuple(shape) + (2,), _part_dtype(dtype), mean, part_std, **options
                )
                return _as_complex_pairs(parts, dtype)
            return self._gen.normal(tuple(shape), dtype, mean, std, **options)

    def integers(self, low: int, high: int, shape, dtype: np.dtype, *, full_range=False):
        """Integers in [low, high); ``full_range`` for ``random_()`` without bounds (PyTorch
        takes 64-bit draws for it only from a range of ``2**32``, else from ``2**28``)."""
        _check_draw()
        options = self._cpu_options(wide_from=2**32) if full_range else {}
        with self._here():
            return self._gen.integers(int(low), int(high), tuple(shape), np.dtype(dtype), **options)

    def permutation(self, n: int):
        _check_draw()
        with self._here():
            return self._gen.permutation(int(n))

    def _cpu_options(self, **options) -> dict:
        """Keyword arguments only the CPU's generator takes (None values left out)."""
        if not isinstance(self._gen, TorchRandom):
            return {}
        return {k: v for k, v in options.items() if v is not None}

    # -- PyTorch's CPU samplers (minigrad._torch_samplers); other devices: the same
    # distributions from this generator's uniform and normal numbers
    def _torch(self):
        return self._gen if isinstance(self._gen, TorchRandom) else None

    def bernoulli(self, shape, p: float):
        """A bool mask of ``shape``, True with probability ``p`` (``bernoulli_(p)``)."""
        _check_draw()
        if self._torch() is not None:
            return _samplers.bernoulli_scalar(self._gen, tuple(shape), p)
        return self.uniform(shape, np.dtype("float64")) < p

    def bernoulli_probs(self, probs):
        """A bool mask, True with probability ``probs`` elementwise (a backend array)."""
        _check_draw()
        if self._torch() is not None:
            return _samplers.bernoulli_tensor(self._gen, np.asarray(probs))
        return self.uniform(probs.shape, np.dtype("float64")) < probs

    def exponential(self, shape, dtype, lambd=1.0):
        """Exponential(lambd) draws of ``dtype``."""
        return self._transformed("exponential", shape, dtype, lambd)

    def geometric(self, shape, dtype, p):
        """Geometric(p) trial counts 1, 2, ... as ``dtype``."""
        return self._transformed("geometric", shape, dtype, p)

    def cauchy(self, shape, dtype, median=0.0, sigma=1.0):
        """Cauchy(median, sigma) draws of ``dtype``."""
        return self._transformed("cauchy", shape, dtype, median, sigma)

    def log_normal(self, shape, dtype, mean=1.0, std=2.0):
        """exp(N(mean, std²)) draws of ``dtype``."""
        return self._transformed("log_normal", shape, dtype, mean, std)

    def uniform_doubles(self, shape, dtype, low, high):
        """U(low, high) draws of ``dtype`` made from double uniforms (``rrelu``'s slopes)."""
        _check_draw()
        if self._torch() is not None:
            n = math.prod(shape)
            return _samplers.uniform_doubles(self._gen, n, dtype, low, high).reshape(shape)
        return self.uniform(shape, dtype, low, high)

    def multinomial(self, rows, num_samples: int, replacement: bool):
        """Category indices (int64, (rows, num_samples)) from 2-D non-negative ``rows``."""
        _check_draw()
        if self._torch() is not None:
            return _samplers.multinomial(self._gen, rows, int(num_samples), replacement)
        return None  # the caller draws with its device formulas

    def standard_gamma(self, alphas):
        """Gamma(alpha, 1) draws for the float32/float64 array ``alphas`` on the CPU, as
        PyTorch's ``_standard_gamma``; None elsewhere (the caller draws with its formulas)."""
        _check_draw()
        return _samplers.standard_gamma(self._gen, alphas) if self._torch() is not None else None

    def poisson(self, rates):
        """Poisson counts (float64) of ``rates`` on the CPU, as PyTorch's; None elsewhere."""
        _check_draw()
        return _samplers.poisson(self._gen, rates) if self._torch() is not None else None

    def binomial(self, counts, probs):
        """Binomial counts (float64) on the CPU, as PyTorch's; None elsewhere."""
        _check_draw()
        if self._torch() is None:
            return None
        return _samplers.binomial(self._gen, counts, probs)

    def dirichlet(self, alphas):
        """``(float64 gammas, samples)`` of ``_sample_dirichlet`` on the CPU; None elsewhere."""
        _check_draw()
        return _samplers.dirichlet(self._gen, alphas) if self._torch() is not None else None

    def _transformed(self, name, shape, dtype, *args):
        _check_draw()
        shape, dtype = tuple(shape), np.dtype(dtype)
        if self._torch() is not None:
            draw = getattr(_samplers, name)
            return draw(self._gen, math.prod(shape), *args).astype(dtype).reshape(shape)
        with self._here():
            xp = self.backend.xp
            if name == "log_normal":
                return xp.exp(self.normal(shape, np.dtype("float64"), *args)).astype(dtype)
            u = self.uniform(shape, np.dtype("float64"))
            return _from_uniform(xp, name, u, *args).astype(dtype)

    def get_state(self):
        """The generator's state (pass it to :meth:`set_state` to replay the same draws): on the
        CPU a uint8 tensor in PyTorch's layout (``torch.Generator().get_state()``), so a state
        saved by either library loads into the other."""
        state = self._gen.get_state()
        if isinstance(self._gen, TorchRandom):
            from .tensor import Tensor

            return Tensor._make(state, CPU)
        return state

    def clone_state(self) -> Generator:
        """A new generator on the same device in this one's state and with its initial seed:
        both draw the same numbers from here on (``torch.Generator.clone_state``)."""
        return type(self)(self.device, self._initial_seed).set_state(self.get_state())

    def graphsafe_get_state(self):
        """PyTorch's state for CUDA-graph capture: minigrad has no graph capture (PyTorch's
        CPU generators raise the same)."""
        raise NotImplementedError("graphsafe_get_state is not supported in this Generator")

    def graphsafe_set_state(self, state) -> None:
        """See :meth:`graphsafe_get_state`: not supported."""
        raise NotImplementedError("graphsafe_set_state is not supported in this Generator")

    def set_state(self, state) -> Generator:
        """Restore a state of :meth:`get_state` (on the CPU also one saved by PyTorch, whose
        seed becomes :meth:`initial_seed`); returns the generator, as PyTorch's."""
        if isinstance(self._gen, TorchRandom) and not isinstance(state, dict):
            self._gen.set_state(_state_bytes(state))
            self._initial_seed = self._gen.seed
        else:
            self._gen.set_state(state)
        return self


def _state_bytes(state) -> np.ndarray:
    """A CPU generator state as a NumPy uint8 array, from a uint8 tensor or array."""
    data = getattr(state, "_data", state)
    if not isinstance(data, np.ndarray):  # a tensor on another device
        data = state.cpu()._data if hasattr(state, "cpu") else np.asarray(data)
    if data.dtype != np.uint8 or data.ndim != 1:
        raise TypeError(
            f"set_state: expected a 1-D uint8 tensor (a state from get_state()), got "
            f"{getattr(state, 'dtype', type(state).__name__)} of shape {tuple(data.shape)}"
        )
    return data


def check_seed(seed) -> int:
    """A seed as PyTorch takes it: an integer from -2**63 to 2**64 - 1, negative ones counted
    from 2**64."""
    value = int(seed)
    if not -(2**63) <= value < 2**64:
        raise ValueError(
            f"manual_seed: seed {value} out of range: it must be from -2**63 to 2**64 - 1"
        )
    return value % 2**64


def _from_uniform(xp, name, u, *args):
    """The inverse-CDF formulas of the other devices' exponential, geometric and Cauchy."""
    if name == "exponential":
        return -xp.log1p(-u) / args[0]
    if name == "geometric":
        return xp.maximum(xp.ceil(xp.log1p(-u) / math.log1p(-args[0])), 1)
    return args[0] + args[1] * xp.tan(math.pi * (u - 0.5))


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

    def scatter_add(self, target, key, values):
        """``np.add.at`` on one flat index where ``key`` is one integer array per dim: NumPy's
        fast path for a 1-D index, some 25x faster than a tuple key (gather's and grid_sample's
        backward) with the same additions in the same order, so bit-identical."""
        flat = _flat_positions(target, key)
        if flat is None:
            np.add.at(target, key, values)
            return
        values = np.broadcast_to(values, flat.shape)
        np.add.at(target.reshape(-1), flat.reshape(-1), values.reshape(-1))

    def is_array(self, obj):
        return isinstance(obj, np.ndarray)

    def new_generator(self, seed, index):
        return TorchRandom(seed)

    def erf(self, x):
        if x.dtype.itemsize <= 4:
            return erf_single_precision(np, x)
        try:
            from scipy.special import erf
        except ImportError:  # exact but slower: math.erf element by element
            return np.asarray(_math_erf(x), dtype=x.dtype)
        return erf(x)

    def special(self, name, x, *args):
        from . import _special_math

        kernel = getattr(_special_math, _SPECIAL_KERNELS[name])
        return kernel(*args, x.astype(np.float64, copy=False)).astype(x.dtype, copy=False)


_math_erf = np.frompyfunc(math.erf, 1, 1)

# scipy.special's name -> minigrad._special_math's kernel (NumPy has none of them)
_SPECIAL_KERNELS = {"gammaln": "lgamma", "digamma": "digamma", "polygamma": "polygamma",
                    "erfinv": "erfinv", "erfc": "erfc", "erfcx": "erfcx", "ndtr": "ndtr",
                    "ndtri": "ndtri", "log_ndtr": "log_ndtr", "i0": "i0", "i0e": "i0e",
                    "i1": "i1", "i1e": "i1e"}  # fmt: skip
SPECIAL_FUNCTIONS = frozenset(_SPECIAL_KERNELS)

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


# dtypes whose atomicAdd CuPy's scatter_add has (CuPy 14); others take an exact sorted path.
_ATOMIC_ADD_DTYPES = frozenset(
    ["float16", "float32", "float64", "int32", "uint32", "uint64", "complex64", "complex128"]
)


class CupyBackend(ArrayBackend):
    """NVIDIA GPUs through CuPy, imported on first use.

    Everything CuPy-specific goes through ``self.xp`` (the ``cupy`` module) and ``self.cupyx``,
    so the test stand-in (:mod:`minigrad.testing.fake_device`) runs this very class on a
    NumPy-backed imitation of CuPy.
    """

    name = "cuda"
    current = 0
    _cupy = None

    def __init__(self):
        self._deferred: dict = {}  # (device, message) -> (flag, first bad index), on the device

    @property
    def xp(self):
        if self._cupy is None:
            cupy = _import_cupy()
            try:
                count = cupy.cuda.runtime.getDeviceCount()
            except Exception as e:  # CuPy installed, but no driver or no device
                raise RuntimeError(
                    f"device 'cuda' is not usable: CuPy {cupy.__version__} is installed but "
                    f"finds no GPU ({e}); minigrad.cuda.is_available() is False, use "
                    f"device='cpu'"
                ) from e
            if count == 0:
                raise RuntimeError(
                    "device 'cuda' is not usable: CuPy finds no GPU; "
                    "minigrad.cuda.is_available() is False, use device='cpu'"
                )
            CupyBackend._cupy = cupy
        return self._cupy

    @property
    def cupyx(self):
        import cupyx
        import cupyx.scipy.special

        return cupyx

    def is_available(self):
        try:
            return self.xp.cuda.runtime.getDeviceCount() > 0
        except Exception:  # no CuPy, no driver or no device: all mean "not available"
            return False

    def device_count(self):
        return self.xp.cuda.runtime.getDeviceCount() if self.is_available() else 0

    def from_host(self, array, index):
        self.check_dtype(array.dtype)
        with self.xp.cuda.Device(index):
            return self.xp.asarray(array)

    def check_dtype(self, np_dtype) -> None:
        if np_dtype.name == "bfloat16" or np_dtype.name.startswith("float8"):
            raise TypeError(
                f"{np_dtype.name} tensors cannot be put on a CUDA device: CuPy has no "
                f"{np_dtype.name} dtype. Keep them on the CPU, or convert them with .float() or "
                ".half() first"
            )

    def to_host(self, array):
        self.raise_deferred()
        return self.xp.asnumpy(array)

    def is_array(self, obj):
        return self._cupy is not None and isinstance(obj, self._cupy.ndarray)

    def new_generator(self, seed, index):
        return CounterRandom(self.xp, seed)

    def erf(self, x):
        return self.cupyx.scipy.special.erf(x)

    def special(self, name, x, *args):
        if name not in SPECIAL_FUNCTIONS:
            raise ValueError(f"special: unknown function {name!r}")
        return getattr(self.cupyx.scipy.special, name)(*args, x).astype(x.dtype, copy=False)

    def scatter_add(self, target, key, values):
        if target.dtype.name in _ATOMIC_ADD_DTYPES and not DETERMINISM.enabled:
            self.cupyx.scatter_add(target, key, values)
        else:  # no atomicAdd in CuPy for int8/16, uint8/16, bool, int64; and atomic float sums
            scatter_add_sorted(self.xp, target, key, values)  # vary in order: deterministic mode

    def synchronize(self, index=None):
        cuda = self.xp.cuda
        for i in range(self.device_count()) if index is None else (index,):
            cuda.Device(i).synchronize()
        self.raise_deferred()

    def using(self, index):
        return self.xp.cuda.Device(index)

    def check_indices(self, bad, index, message, index_device, error=None):
        xp = self.xp
        flag = bad.any()
        first = index.reshape(-1)[bad.reshape(-1).argmax()]  # the first bad one, if any
        key = (index_device, message, error or IndexOutOfRangeError)
        old = self._deferred.get(key)
        if old is not None:  # one record per (device, message): memory stays bounded
            first = xp.where(old[0], old[1], first)
            flag = xp.logical_or(old[0], flag)
        self._deferred[key] = (flag, first)

    def raise_deferred(self):
        if not self._deferred:
            return
        records, self._deferred = self._deferred, {}
        by_device: dict = {}
        for (index, message, error), (flag, first) in records.items():
            by_device.setdefault(index, []).append((message, error, flag, first))
        xp = self.xp
        for index, found in by_device.items():
            with xp.cuda.Device(index):  # one small read per device for all its checks
                flags = xp.asnumpy(xp.stack([flag for _, _, flag, _ in found]))
                for (message, error, _, first), bad in zip(found, flags):
                    if bad:
                        value = int(xp.asnumpy(first))
                        what = "an index on" if error is IndexOutOfRangeError else "on"
                        raise error(
                            message.format(value)
                            + f" ({what} {self.name}:{index}, found at the next host "
                            "synchronisation; results computed from it are invalid)"
                        )

    @property
    def fused(self):
        """The fused CUDA kernels (None while switched off by ``minigrad._fused.disabled()``)."""
        return _fused.kit(self)

    def make_fused_kit(self):
        from ._fused.cuda import CudaKit

        return CudaKit(self.xp)

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
        except RuntimeError as e:  # no CuPy, a build that cannot load its libraries, no GPU
            try:
                cupy = _import_cupy()
            except RuntimeError as missing:
                return {
                    "status": f"not installed ({type(missing.__cause__).__name__})",
                    "devices": [],
                }
            return {
                "status": f"CuPy {cupy.__version__}, no usable GPU ({e.__cause__ or e})",
                "devices": [],
            }
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


def _import_cupy():
    """The ``cupy`` module, or a RuntimeError saying how to install it."""
    try:
        import cupy
    except Exception as e:  # ImportError, or a build that cannot load its libraries
        raise RuntimeError(
            "device 'cuda' needs CuPy: pip install 'minigrad[cuda]' (CuPy for CUDA 12)"
        ) from e
    return cupy


def _flat_positions(target, key):
    """The flat positions ``key`` (one integer array per dim of a C-contiguous ``target``)
    addresses, or None where it is anything else or out of range (``np.add.at`` then takes the
    key as it is, and raises as it does)."""
    if not (isinstance(key, tuple) and len(key) == target.ndim and target.flags.c_contiguous):
        return None
    if not all(isinstance(k, np.ndarray) and k.dtype.kind in "iu" for k in key):
        return None
    flat, step = 0, 1
    for k, n in zip(reversed(key), reversed(target.shape)):
        if k.size:
            low, high = k.min(), k.max()
            if low < -n or high >= n:
                return None
            if low < 0:
                k = np.where(k < 0, k + n, k)
        flat = k.astype(np.intp, copy=False) * step + flat  # broadcasts the open grid
        step *= n
    return np.broadcast_to(flat, np.broadcast_shapes(*(k.shape for k in key)))


def scatter_add_sorted(xp, target, key, values) -> None:
    """``target[key] += values`` with repeats adding, exactly, without atomics or host sync.

    Sorts the target positions, sums each run of equal positions in int64 (wrapping as the
    target dtype wraps; ``or`` for bool) and writes every run once. Used for the dtypes that
    CuPy's atomic scatter-add lacks.
    """
    positions = xp.arange(target.size).reshape(target.shape)[key]
    values = xp.broadcast_to(values, positions.shape).reshape(-1)
    positions = positions.reshape(-1)
    if positions.size == 0:
        return
    order = xp.argsort(positions)
    positions, values = positions[order], values[order].astype(np.int64)
    total = xp.cumsum(values)
    start = xp.searchsorted(positions, positions)  # where each run of equal positions starts
    run_sum = total - (total - values)[start]
    last = xp.ones(positions.shape, dtype=bool)
    last[:-1] = positions[1:] != positions[:-1]
    # Each run is written once, at its position; the other elements go to a spare slot.
    out = xp.zeros(target.size + 1, dtype=np.int64)
    out[:-1] = target.reshape(-1)
    destination = xp.where(last, positions, target.size)
    out[destination] = out[destination] + run_sum
    result = out[:-1].reshape(target.shape)
    target[...] = (result != 0) if target.dtype == bool else result.astype(target.dtype)


def _cuda_version(v: int) -> str:
    return f"{v // 1000}.{v % 1000 // 10}"


def _describe_gpu(runtime, index: int) -> str:
    props = runtime.getDeviceProperties(index)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    memory = props["totalGlobalMem"] / 2**30
    return f"cuda:{index}  {name}, {memory:.0f} GiB, compute {props['major']}.{props['minor']}"


class CounterRandom:
    """A counter-based generator (SplitMix64) that runs on any array module.

    Draw ``k`` of a generator seeded ``s`` is ``mix(s + k * golden)``: its whole state is
    ``(seed, offset)``, as for PyTorch's CUDA (Philox) generator, so it is saved and restored
    exactly; each draw is a few elementwise kernels in the requested dtype (24 random bits for
    float32, 53 for float64), never a float64 draw cast down. Used on GPUs instead of CuPy's
    ``Generator``, whose cuRAND state lives in an opaque device buffer that cannot be saved.
    """

    _GOLDEN = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self, xp, seed: int):
        self.xp, self.seed, self.offset = xp, int(seed) % 2**64, 0

    def _bits(self, n: int):
        """``n`` random uint64 words, advancing the offset by ``n``."""
        z = self.xp.arange(self.offset + 1, self.offset + 1 + n, dtype=np.uint64)
        self.offset += n
        z *= self._GOLDEN
        z += np.uint64(self.seed)
        z ^= z >> np.uint64(30)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
        return z

    def _unit(self, n: int, dtype):
        """``n`` uniform samples in [0, 1) with every bit of ``dtype``'s mantissa random."""
        bits = 53 if dtype == np.float64 else 24
        z = self._bits(n) >> np.uint64(64 - bits)
        return z.astype(dtype) * dtype.type(2.0**-bits)

    def uniform(self, shape, dtype, low, high):
        compute = np.dtype(np.float64 if dtype == np.float64 else np.float32)
        u = self._unit(math.prod(shape), compute).reshape(shape)
        if (low, high) != (0.0, 1.0):
            u = u * compute.type(high - low) + compute.type(low)
        return u.astype(dtype, copy=False)

    def normal(self, shape, dtype, mean, std):
        xp = self.xp
        compute = np.dtype(np.float64 if dtype == np.float64 else np.float32)
        n = math.prod(shape)
        half = (n + 1) // 2
        u = self._unit(2 * half, compute)
        radius = xp.sqrt(compute.type(-2.0) * xp.log1p(-u[:half]))  # Box-Muller; 1 - u > 0
        angle = compute.type(2 * math.pi) * u[half:]
        z = xp.concatenate([radius * xp.cos(angle), radius * xp.sin(angle)])[:n].reshape(shape)
        if (mean, std) != (0.0, 1.0):
            z = z * compute.type(std) + compute.type(mean)
        return z.astype(dtype, copy=False)

    def integers(self, low, high, shape, dtype):
        if high <= low:
            raise ValueError(f"random_ expects 'from' < 'to', got from={low} >= to={high}")
        span = high - low
        z = self._bits(math.prod(shape))
        if span < 2**32:  # multiply-shift: no modulo, bias below 2**-32
            z = ((z >> np.uint64(32)) * np.uint64(span)) >> np.uint64(32)
        else:
            z = z % np.uint64(span)
        return (z.astype(np.int64) + low).astype(dtype, copy=False).reshape(shape)

    def permutation(self, n):
        return self.xp.argsort(self._bits(n))  # distinct 64-bit keys (a tie has odds ~n²/2**65)

    def get_state(self):
        return {"bit_generator": "SplitMix64", "seed": self.seed, "offset": self.offset}

    def set_state(self, state):
        if not isinstance(state, dict) or state.get("bit_generator") != "SplitMix64":
            raise ValueError(f"not the state of a CUDA generator: {state!r}")
        self.seed, self.offset = int(state["seed"]) % 2**64, int(state["offset"])


_BACKENDS: dict[str, ArrayBackend] = {"cpu": NumpyBackend(), "cuda": CupyBackend()}


def register_backend(backend: ArrayBackend) -> None:
    """Make ``backend.name`` usable as a device type (tests register a CuPy stand-in)."""
    _BACKENDS[backend.name] = backend


# PyTorch's other device types: minigrad has no backend for them ("meta": minigrad._meta_device)
_TORCH_ONLY_DEVICES = ("mps", "xpu", "xla", "hpu", "mtia", "ipu", "vulkan")


def get_backend(name: str) -> ArrayBackend:
    try:
        return _BACKENDS[name]
    except KeyError:
        if name in _TORCH_ONLY_DEVICES:
            raise NotImplementedError(
                f"the {name!r} device is not implemented in minigrad; devices: "
                f"{', '.join(repr(n) for n in _BACKENDS)}"
            ) from None
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
        if other is self:  # one object per device: the common case
            return True
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, ValueError):
                return False
        return isinstance(other, Device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (DeviceType, (str(self),))  # (keeps a CPU's index, as minigrad.device does)

    def __enter__(self) -> Device:
        """``with minigrad.device("cuda"):`` makes this the default device of factory
        functions until the block ends (this thread only), as in PyTorch."""
        stack = _DEFAULT.__dict__.setdefault("stack", [])
        stack.append(get_default_device())
        set_default_device(self)
        return self

    def __exit__(self, *exc) -> None:
        set_default_device(_DEFAULT.stack.pop())


_DEVICES: dict = {}
_DEFAULT = threading.local()  # per thread, as PyTorch keeps it: .device, .stack (of with-blocks)


def get_default_device() -> Device:
    """The device factory functions (``zeros``, ``randn``, ``tensor``, layers' parameters, ...)
    use when called without ``device=``: ``cpu`` until :func:`set_default_device` changes it.

    Example: ``minigrad.get_default_device()`` gives ``device(type='cpu')``.
    """
    return _DEFAULT.__dict__.get("device", CPU)  # (getattr's miss costs microseconds)


def set_default_device(device) -> None:
    """Make ``device`` (a Device, ``"cpu"``, ``"cuda:1"``, ...; None for ``cpu``) the device
    that factory functions called without ``device=`` allocate on, in this thread, as
    ``torch.set_default_device``. An explicit ``device=`` still wins; functions that share the
    input's memory (``from_numpy``) and ``*_like`` functions (the input's device) ignore it.

    Example: ``minigrad.set_default_device("cuda")`` then ``minigrad.zeros(3).device`` is
    ``cuda:0``.
    """
    _DEFAULT.device = CPU if device is None else _parse(device)


def device(spec="cpu", index: int | None = None) -> Device:
    """Parse ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a Device. ``cuda`` means ``cuda:0``, as tensors report it."""
    key = (spec, index)
    found = _DEVICES.get(key) if isinstance(spec, (str, Device)) else None
    if found is not None:
        return found
    if isinstance(spec, Device):
        return spec
    if isinstance(spec, int) and not isinstance(spec, bool) and index is None:
        return _accelerator_index(spec)
    if not isinstance(spec, str):
        raise TypeError(f"device must be a string like 'cpu' or 'cuda:0', got {spec!r}")
    type_, _, idx = spec.partition(":")
    if idx:
        if index is not None or not idx.isdigit() or idx != str(int(idx)):
            raise RuntimeError(f"Invalid device string: {spec!r}")  # (PyTorch's words)
        index = int(idx)
    if type_ in ("cpu", "meta"):  # (PyTorch's meta device has no index)
        index = None
    elif index is None:
        index = 0
    canonical = (type_ if index is None else f"{type_}:{index}", None)
    found = _DEVICES.get(canonical) or Device(type_, index)
    _DEVICES[canonical] = _DEVICES[key] = found
    return found


class _DeviceType(type):
    """The metaclass of :class:`DeviceType`: calling it is :func:`device` (the one cached
    Device per device), and every Device is an instance of it."""

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Device)

    def __subclasscheck__(cls, sub) -> bool:
        return issubclass(sub, Device)

    def __call__(cls, spec="cpu", index: int | None = None) -> Device:
        return _named_device(spec, index)


class DeviceType(metaclass=_DeviceType):
    """``torch.device`` as a type: ``minigrad.device("cuda:1")`` parses as :func:`device`, and
    ``isinstance(d, minigrad.device)`` (or ``Union[str, torch.device]`` in a hint) holds for
    every Device, as libraries check (Lightning's strategies)."""


def _named_device(spec, index: int | None) -> Device:
    """``minigrad.device(...)``: :func:`device`, except that a CPU named with an index
    (``"cpu:0"``, ``("cpu", 0)``) keeps it, as PyTorch's does (``device(type='cpu', index=0)``,
    unequal to ``device("cpu")``). Tensors are never placed on it: :func:`device` reads it as
    the CPU, so ``zeros(2, device="cpu:0").device`` is ``cpu``, as in PyTorch."""
    if isinstance(spec, str) and spec.startswith("cpu:") and index is None:
        spec, index = "cpu", device(spec) and int(spec[4:])  # (device() checks the string)
    if spec != "cpu" or index is None:
        return device(spec, index)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise RuntimeError(f"Device index must not be negative, got {index}")
    key = ("cpu", index)
    found = _DEVICES.get(key)
    if found is None:
        found = _DEVICES[key] = Device("cpu", index)
        _DEVICES[(found, None)] = CPU  # where tensors asked to go there are placed
    return found


def _accelerator_index(index: int) -> Device:
    """A bare device index, as PyTorch reads it: that GPU (``0`` is ``cuda:0``); without one,
    PyTorch's ``RuntimeError``."""
    if not get_backend("cuda").is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")
    if index < 0:
        raise RuntimeError(f"Device index must not be negative, got {index}")
    return device("cuda", index)


CPU = device("cpu")
_parse = device  # set_default_device's own argument is named ``device``


def _as_device(spec) -> Device:
    """``spec`` as a Device (for callers whose own argument is named ``device``)."""
    return device(spec)


def on(dev: Device):
    """A context that makes ``dev`` current, so new arrays are allocated on it (``cuda:1``)."""
    backend = dev.backend
    return backend.using(dev.index) if dev.index != backend.current else contextlib.nullcontext()


def to_device(array, src: Device, dst: Device):
    """Move ``array`` from device ``src`` to ``dst`` (a no-op when they are the same)."""
    if src is dst:
        return array
    if src.backend is dst.backend and src.type != "cpu":  # GPU to GPU: no trip through the host
        with dst.backend.using(dst.index):
            return array.copy()  # CuPy copies onto the current device
    return dst.backend.from_host(src.backend.to_host(array), dst.index)


def as_array(data, dtype: dtypes.dtype | None, dev: Device):
    """Turn host data (nested lists, scalars, NumPy arrays) into an array on ``dev``.

    Without ``dtype``, Python floats become the default dtype (float32), ints int64 and bools
    bool, as ``torch.tensor`` does; NumPy arrays keep their dtype.
    """
    if dev.backend.is_array(data):
        return data if dtype is None else _dtype_limits.astype(data, dtype.numpy)
    for other in _BACKENDS.values():
        if other is not dev.backend and other.name != "cpu" and other.is_array(data):
            data = other.to_host(data)
    if isinstance(data, np.ndarray):
        host = data
        if dtype is None:
            dtype = dtypes.from_numpy(host.dtype)  # also rejects object/string arrays
    else:  # Python data: PyTorch's dtype inference and overflow checks
        host, dtype = dtypes.host_array(data, dtype)
    host = _dtype_limits.astype(host, dtype.numpy)  # (float8: PyTorch's rounding)
    return dev.backend.from_host(host, dev.index)


def shape_constant(host: np.ndarray, dtype: dtypes.dtype, dev: Device):
    """:func:`as_array` for a host array computed from shapes and Python arguments alone
    (index maps, interpolation weights), never from tensor values: ``minigrad.compile`` keeps
    it in a trace as a constant, where other host data inside a step ends the capture."""
    return as_array(host, dtype, dev)


def array_kernel(func, *args, **kwargs):
    """``func(*args, **kwargs)``: a host-side computation on arrays, of many NumPy calls and
    Python control flow on their values (the tie order of a sort). ``minigrad.compile`` records
    it as one call, rerun on the new arrays in every replay, where recording the calls inside
    would bake in the branches one trace took."""
    return func(*args, **kwargs)


_generators: dict[Device, Generator] = {}
_seed = 0


# ``minigrad.func.vmap`` installs an object here while it runs, which random draws consult:
# ``check()`` raises where the vmaps of this thread forbid a draw (randomness="error"), and
# ``draw(make, shape)`` makes per-sample draws for randomness="different". None otherwise.
random_hook = None


def _check_draw() -> None:
    hook = random_hook
    if hook is not None:
        hook.check()


def check_draw_from(*tensors) -> None:
    """Raise where a draw whose numbers depend on these tensors' values (``bernoulli``'s
    probabilities, ``multinomial``'s weights, ``poisson``'s rates) may not happen: under
    ``vmap(randomness="same")`` from a tensor batched at that vmap, as PyTorch."""
    hook = random_hook
    if hook is not None:
        hook.check_inputs(tensors)


def per_sample_draw(make, shape):
    """``make(shape)``: a tensor of fresh random numbers of ``shape``. Under ``vmap(...,
    randomness="different")`` ``make`` is given the batch sizes in front of ``shape`` and the
    result is batched, so that each sample gets numbers of its own."""
    hook = random_hook
    return make(tuple(shape)) if hook is None else hook.draw(make, tuple(shape))


def default_generator(dev: Device) -> Generator:
    """The generator used by random functions on ``dev`` (created on first use)."""
    gen = _generators.get(dev)
    if gen is None:
        gen = _generators[dev] = Generator(dev, _seed_for(dev))
    return gen


def generator_or_default(generator, dev: Device, op: str) -> Generator:
    """``generator``, or ``dev``'s default one when it is None; anything else (``poisson(x,
    0)``: a misplaced argument read as "no generator") raises PyTorch's TypeError."""
    if generator is None:
        return default_generator(dev)
    if not isinstance(generator, Generator):
        raise TypeError(
            f"{op}(): argument 'generator' must be torch.Generator, not {type(generator).__name__}"
        )
    return generator


def default_generators() -> list:
    """The default generators made so far (one per device that has drawn random numbers)."""
    return list(_generators.values())


def _seed_for(dev: Device) -> int:
    # Each device gets its own stream derived from the global seed.
    # mod 2**64: every seed the CPU takes works on a GPU (CuPy rejected seeds past 2**64)
    if dev.type == "cpu":
        return _seed
    return (_seed * 1_000_003 + zlib.crc32(str(dev).encode()) % 997) % 2**64


def manual_seed(seed: int) -> Generator:
    """Seed the generators of every device (CPU and GPUs), as ``torch.manual_seed``.

    Returns the CPU's default generator, as PyTorch does (``g = torch.manual_seed(0)``).
    """
    global _seed
    _seed = check_seed(seed)
    for dev, gen in _generators.items():
        gen.manual_seed(_seed_for(dev))
    return default_generator(CPU)


def initial_seed() -> int:
    """The CPU generator's seed (from 0 to 2**64 - 1), as ``torch.initial_seed``."""
    return default_generator(CPU).initial_seed()


def seed() -> int:
    """Seed every generator with a fresh non-deterministic number and return it, as
    ``torch.seed``."""
    fresh = int.from_bytes(os.urandom(8), "little") >> 1
    manual_seed(fresh)
    return fresh


class _Determinism:
    """``use_deterministic_algorithms``: minigrad's CPU ops are deterministic already; on CuPy
    the mode makes float ``scatter_add`` (index_add, embedding and gather backward, ...) sum
    in a fixed order instead of with atomic adds, so that repeated runs agree bit for bit."""

    enabled = False
    warn_only = False
    fill_uninitialized_memory = True  # torch.utils.deterministic.fill_uninitialized_memory


DETERMINISM = _Determinism()


def uninitialized_value(np_dtype):
    """What ``empty`` and its kin fill a new tensor with: zeros, or PyTorch's known values
    while ``use_deterministic_algorithms(True)`` and ``fill_uninitialized_memory`` are on (NaN
    for floating and complex dtypes, the largest value for integers, True for bool)."""
    if not (DETERMINISM.enabled and DETERMINISM.fill_uninitialized_memory):
        return 0
    kind = np.dtype(np_dtype).kind
    if kind == "b":
        return True
    if kind in "iu":
        return np.iinfo(np_dtype).max
    return float("nan")


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Make ops choose deterministic implementations (see :class:`_Determinism`)."""
    for name, value in (("mode", mode), ("warn_only", warn_only)):
        if not isinstance(value, bool):  # PyTorch's words (its binding's argument check)
            where = " (position 1)" if name == "mode" else ""
            raise TypeError(
                f"_set_deterministic_algorithms(): argument '{name}'{where} must be bool, not "
                f"{type(value).__name__}"
            )
    DETERMINISM.enabled, DETERMINISM.warn_only = mode, warn_only


def are_deterministic_algorithms_enabled() -> bool:
    return DETERMINISM.enabled


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return DETERMINISM.warn_only


def _part_dtype(complex_dtype: np.dtype) -> np.dtype:
    """The real dtype of a complex dtype's parts (complex64 -> float32)."""
    return np.dtype(np.float32 if complex_dtype == np.complex64 else np.float64)


def _as_complex_pairs(parts, complex_dtype: np.dtype):
    """Complex numbers from an array whose last dim (of 2) holds the real and imaginary parts."""
    return parts.view(complex_dtype).reshape(parts.shape[:-1])
