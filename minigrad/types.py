"""``minigrad.types``: the type aliases PyTorch code annotates with (``torch.types``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import IO, Union

from ._memory_format import layout as _layout
from .backend import device as _device_fn
from .dtypes import dtype as _dtype
from .ops._size import Size
from .storage import TypedStorage, UntypedStorage
from .tensor import Tensor

__all__ = [
    "BoolLikeType", "Device", "FileLike", "FloatLikeType", "IntLikeType", "Number", "Storage",
]  # fmt: skip

_device = type(_device_fn("cpu"))  # minigrad's device class
_int, _float, _bool, _complex, _str, _bytes = int, float, bool, complex, str, bytes
_size = Union[Size, list[int], tuple[int, ...]]  # noqa: UP007 (as PyTorch spells it)
_symsize = _size  # minigrad has no symbolic sizes
_TensorOrTensors = Union[Tensor, Sequence[Tensor]]  # noqa: UP007
_TensorOrOptionalTensors = Union[Tensor, Sequence[Union[Tensor, None]]]  # noqa: UP007
_Number = Number = Union[int, float, bool]  # noqa: UP007
Device = Union[_device, str, int, None]  # noqa: UP007
IntLikeType, FloatLikeType, BoolLikeType = int, float, bool  # (no SymInt/SymFloat/SymBool)
Storage = Union[TypedStorage, UntypedStorage]  # noqa: UP007
FileLike = Union[str, os.PathLike, IO[bytes]]  # noqa: UP007
_dtype = _dtype
_layout = _layout
