"""Key entries of pytree paths (``[0]``, ``['a']``, ``.x``) as ``torch.utils._pytree`` has them."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class SequenceKey:
    """The position of a child in a tuple, list or deque."""

    idx: int

    def __str__(self) -> str:
        return f"[{self.idx!r}]"

    def get(self, sequence):
        """The child of ``sequence`` this key names."""
        return sequence[self.idx]


@dataclasses.dataclass(frozen=True)
class MappingKey:
    """The key of a child in a dict."""

    key: Any

    def __str__(self) -> str:
        return f"[{self.key!r}]"

    def get(self, mapping):
        """The child of ``mapping`` this key names."""
        return mapping[self.key]


@dataclasses.dataclass(frozen=True)
class GetAttrKey:
    """The attribute name of a child (namedtuple fields, dataclass fields)."""

    name: str

    def __str__(self) -> str:
        return f".{self.name}"

    def get(self, obj):
        """The child of ``obj`` this key names."""
        return getattr(obj, self.name)


def keystr(kp: tuple) -> str:
    """A key path as the Python expression that reaches the leaf (``['a'][1].y``)."""
    return "".join(str(k) for k in kp)


def key_get(obj, kp: tuple):
    """The subtree of ``obj`` at key path ``kp``."""
    for k in kp:
        obj = k.get(obj)
    return obj
