"""The CUDA backend against the real CuPy module (importable without a GPU).

Every name minigrad calls on ``xp`` (``cupy``), ``cupyx`` and ``cupy.cuda`` exists in the
installed CuPy, and the stand-in (``fakegpu``) offers no name, array method or flag that CuPy
lacks, so what passes on the stand-in cannot fail on a GPU for a missing name.

The stand-in's name lists (``minigrad/testing/_cupy_names.py``) are CuPy's names that NumPy
also has; after raising the minimum CuPy, regenerate them from ``dir(cupy)``,
``dir(cupy.ndarray)``, ``dir(cupy.linalg)`` and ``dir(cupy.fft)`` intersected with NumPy's.
"""

import pathlib
import re

import pytest

from minigrad import backend
from minigrad.testing import _cupy_names, fake_device

cupy = pytest.importorskip("cupy")
cupyx = pytest.importorskip("cupyx")

ROOT = pathlib.Path(__file__).resolve().parents[1]
FAKE = fake_device.FakeBackend().xp


def _resolve(obj, dotted: str):
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _public(obj) -> set:
    return {n for n in dir(obj) if not n.startswith("_")}


def _calls(pattern: str) -> set:
    """Dotted names after ``pattern`` in the project's sources (``xp.linalg.qr`` -> ``linalg.qr``)."""
    names = set()
    for folder in ("minigrad", "models", "examples", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            if "testing" in path.parts:
                continue
            for match in re.finditer(
                pattern + r"\.([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)", path.read_text()
            ):
                names.add(match.group(1))
    return names


def test_cupy_is_the_version_the_cuda_extra_requires():
    major = int(cupy.__version__.split(".")[0])
    assert major >= 14, (
        f"the [cuda] extra requires CuPy >= 14 (NumPy 2 promotion), got {cupy.__version__}"
    )


def test_every_name_minigrad_calls_on_xp_exists_in_cupy():
    names = _calls(r"\bxp")
    assert {"zeros", "cuda.Device", "asnumpy", "take_along_axis"} <= names  # the scan works
    missing = []
    for name in sorted(names):
        try:
            _resolve(cupy, name)
        except AttributeError:
            missing.append(name)
    assert not missing, f"called on xp but absent from CuPy {cupy.__version__}: {missing}"


def test_every_cupyx_name_the_backend_calls_exists():
    names = _calls(r"\bcupyx")
    assert {"scatter_add", "scipy.special.erf"} <= names
    for name in names:
        _resolve(cupyx, name)


def test_stand_in_namespace_offers_only_cupys_names():
    extra = _public(FAKE) - _public(cupy)
    assert not extra, f"the stand-in offers names CuPy lacks: {sorted(extra)}"
    for names, module in (
        (_cupy_names.NAMESPACE, cupy),
        (_cupy_names.LINALG, cupy.linalg),
        (_cupy_names.FFT, cupy.fft),
    ):
        assert not names - _public(module), sorted(names - _public(module))
    for name in ("stride_tricks.as_strided", "stride_tricks.sliding_window_view"):
        _resolve(cupy.lib, name)
    with pytest.raises(AttributeError, match="module 'cupy' has no attribute 'frompyfunc'"):
        FAKE.frompyfunc  # NumPy has it, CuPy does not  # noqa: B018


def test_stand_in_array_offers_only_cupy_ndarray_attributes():
    array = FAKE.zeros(3)
    own = {n for n in vars(fake_device.FakeArray) if not n.startswith("_")}
    extra = (own | _cupy_names.NDARRAY) - _public(cupy.ndarray)
    assert not extra, f"the stand-in's arrays offer what cupy.ndarray lacks: {sorted(extra)}"
    for name in ("setflags", "to_device", "ctypes", "resize"):  # NumPy's, not CuPy's
        assert not hasattr(array, name)
    for operator in ("__add__", "__matmul__", "__iadd__", "__rtruediv__", "__getitem__"):
        assert hasattr(cupy.ndarray, operator)


def test_stand_in_flags_are_cupys_flags():
    real = _public(cupy._core.flags.Flags)
    fake = set(fake_device._Flags.__slots__)
    assert fake <= real and "writeable" not in real
    assert not hasattr(FAKE.zeros(2).flags, "writeable")


def test_stand_in_cuda_offers_only_cupy_cuda_names():
    cuda = fake_device._FakeCuda
    for name in _public(cuda) - {"current", "seen_current"}:
        assert hasattr(cupy.cuda, name), f"cupy.cuda has no {name}"
    for cls, real in (
        (cuda.Device, cupy.cuda.Device),
        (fake_device._Stream, cupy.cuda.Stream),
        (fake_device._Event, cupy.cuda.Event),
        (fake_device._MemoryPool, cupy.cuda.MemoryPool),
    ):
        extra = _public(cls) - _public(real) - {"non_blocking", "time", "pool"}
        assert not extra, f"{cls.__name__} offers what {real.__name__} lacks: {sorted(extra)}"
    for name in _public(cuda.runtime):
        assert hasattr(cupy.cuda.runtime, name)
    assert hasattr(cupy, "get_default_memory_pool")


def test_atomic_add_dtypes_match_cupys_scatter_add_kernel():
    # the stand-in rejects what the backend routes around; both come from one list
    assert backend._ATOMIC_ADD_DTYPES >= {"float32", "float64", "int32"}
    assert not backend._ATOMIC_ADD_DTYPES & {"bool", "int8", "int16", "uint8", "int64"}
