"""The vocabulary of the op table: sample specs, rows, and how specs become arrays."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

KINKS = (0.0,)
INTEGERS = tuple(float(k) / 2 for k in range(-6, 7))  # integers and halves in [-3, 3]


@dataclass(frozen=True)
class T:
    """A random float tensor of ``shape`` with values in [low, high).

    ``transposed`` makes it a non-contiguous view; ``away`` lists points (kinks, jumps) the
    values keep at least 0.1 from, so finite differences stay on one side.
    """

    shape: tuple
    low: float = -2.0
    high: float = 2.0
    grad: bool = True
    transposed: bool = False
    away: tuple = ()


@dataclass(frozen=True)
class C:
    """A random complex tensor of ``shape`` whose real and imaginary parts lie in [low, high)."""

    shape: tuple
    low: float = -2.0
    high: float = 2.0
    grad: bool = True


@dataclass(frozen=True)
class V:
    """A float tensor with fixed values (for ties, zeros and other edge cases)."""

    values: object
    grad: bool = True


@dataclass(frozen=True)
class Index:
    """An int64 tensor of fixed indices (never requires grad)."""

    values: object


@dataclass(frozen=True)
class Mask:
    """A bool tensor with fixed values."""

    values: object


@dataclass(frozen=True)
class Typed:
    """A tensor of fixed ``values`` and a fixed ``dtype`` name (``"uint8"``, ``"float16"``):
    never cast to the test's float dtype and never requiring grad, so that forward rows can
    pin integer, bool and float16 semantics (division by zero, overflow, accumulation)."""

    values: object
    dtype: str


@dataclass
class Sample:
    args: tuple
    kwargs: dict = field(default_factory=dict)

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


@dataclass
class OpInfo:
    """One row: a name, a function of (module, *args), and its samples.

    ``grad=False`` rows are compared with PyTorch on their forward only (comparisons, argmax).
    ``raises`` names the exception both frameworks must raise for every sample of the row.
    ``gradgrad=False`` skips the second-order check (say why in ``note``).
    """

    name: str
    fn: object
    samples: list
    grad: bool = True
    gradgrad: bool = True
    torch: bool = True
    float32_tol: tuple = (1e-4, 1e-5)
    note: str = ""
    raises: type | None = None

    def sample_id(self, i: int) -> str:
        return f"{self.name}-{i}"


def make_arrays(op: OpInfo, index: int) -> list:
    """The sample's arguments as NumPy arrays / Python values, the same on every call."""
    rng = np.random.default_rng(zlib.crc32(f"{op.name}/{index}".encode()))
    return [_array(spec, rng) for spec in op.samples[index].args]


def _array(spec, rng):
    if isinstance(spec, T):
        shape = tuple(reversed(spec.shape)) if spec.transposed else spec.shape
        a = rng.uniform(spec.low, spec.high, shape)
        for k in spec.away:
            near = np.abs(a - k) < 0.1
            a = np.where(near, k + np.where(a >= k, 0.1, -0.1) + (a - k), a)
        return a.T if spec.transposed else a
    if isinstance(spec, C):
        return rng.uniform(spec.low, spec.high, spec.shape) + 1j * rng.uniform(
            spec.low, spec.high, spec.shape
        )
    if isinstance(spec, V):
        return np.asarray(spec.values, dtype=np.float64)
    if isinstance(spec, Index):
        return np.asarray(spec.values, dtype=np.int64)
    if isinstance(spec, Mask):
        return np.asarray(spec.values, dtype=bool)
    if isinstance(spec, Typed):
        return np.asarray(spec.values, dtype=spec.dtype)
    return spec


def wants_grad(spec) -> bool:
    return isinstance(spec, (T, V, C)) and spec.grad


def F(m):  # noqa: N802 - reads like torch's ``F``
    """``m.nn.functional`` where it exists; minigrad's ops module until then."""
    nn = getattr(m, "nn", None)
    functional = getattr(nn, "functional", None) if nn is not None else None
    if functional is not None:
        return functional
    from minigrad import ops

    return ops
