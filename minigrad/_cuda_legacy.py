"""``minigrad.cuda.FloatTensor`` and the other legacy typed constructors of GPU tensors:
``isinstance(t, minigrad.cuda.FloatTensor)`` asks whether ``t`` is a float32 tensor on a
GPU; calling one makes a tensor on the current GPU (a TypeError without one, as in
PyTorch's CPU build)."""

from __future__ import annotations

from . import _legacy, backend
from ._cuda_common import CudaUnavailableError, require


class CudaLegacyType(_legacy.LegacyType):
    """The metaclass of ``minigrad.cuda``'s typed constructors."""

    def __call__(cls, *args, device=None):  # noqa: N805 - a metaclass
        try:
            require(cls.__name__)
        except CudaUnavailableError as e:
            raise TypeError(f"type minigrad.cuda.{cls.__name__} not available: {e}") from None
        dev = backend.device(
            device if device is not None else f"cuda:{backend.get_backend('cuda').current}"
        )
        return super().__call__(*args, device=dev)

    def __instancecheck__(cls, obj) -> bool:  # noqa: N805
        return (
            isinstance(obj, _legacy.graph.Tensor)
            and obj.dtype is cls.dtype
            and obj.device.type == "cuda"
        )

    def __repr__(cls) -> str:  # noqa: N805
        return f"<class 'minigrad.cuda.{cls.__name__}'>"


def _typed(cpu_type) -> CudaLegacyType:
    name = cpu_type.__name__
    return CudaLegacyType(
        name,
        (),
        {
            "dtype": cpu_type.dtype,
            "__module__": "minigrad.cuda",
            "__doc__": f"``{name}(*sizes)`` or ``{name}(data)``: a {cpu_type.dtype.name} tensor "
            "on the current GPU.",
        },
    )


_NAMES = (
    "FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor",
    "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor",
)  # fmt: skip
TYPES = {name: _typed(getattr(_legacy, name)) for name in _NAMES}
