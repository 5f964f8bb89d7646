"""Weak references keyed by identity, as ``torch.utils.weak``: ``WeakTensorKeyDictionary``
maps tensors to values without keeping them alive, and without calling ``Tensor.__eq__``
(which is elementwise) or ``__hash__`` of the values."""

from __future__ import annotations

import weakref
from collections.abc import MutableMapping

__all__ = [
    "TensorWeakRef",
    "WeakIdKeyDictionary",
    "WeakIdRef",
    "WeakTensorKeyDictionary",
]


class WeakIdRef(weakref.ref):
    """A weak reference that hashes and compares by the identity of its referent (kept after the
    referent dies, so that a dead key can still be found and removed)."""

    __slots__ = ("_id",)

    def __init__(self, key, callback=None) -> None:
        self._id = id(key)
        super().__init__(key, callback)

    def __hash__(self) -> int:
        return self._id

    def __eq__(self, other) -> bool:
        a, b = self(), other()
        if a is not None and b is not None:
            return a is b
        return self is other


class _StrongIdRef:
    """A lookup key with WeakIdRef's hash and equality that holds its object strongly."""

    __slots__ = ("_obj", "_id")

    def __init__(self, obj) -> None:
        self._obj, self._id = obj, id(obj)

    def __call__(self):
        return self._obj

    def __hash__(self) -> int:
        return self._id

    def __eq__(self, other) -> bool:
        return self._obj is other()


class WeakIdKeyDictionary(MutableMapping):
    """A dict whose keys are held weakly and matched by identity; an entry goes when its key
    is collected."""

    def __init__(self, dict=None) -> None:
        self.data: dict = {}
        self_ref = weakref.ref(self)

        def remove(k, selfref=self_ref):
            owner = selfref()
            if owner is not None:
                owner.data.pop(k, None)

        self._remove = remove
        if dict is not None:
            self.update(dict)

    def __getitem__(self, key):
        return self.data[_StrongIdRef(key)]

    def __setitem__(self, key, value) -> None:
        self.data[WeakIdRef(key, self._remove)] = value

    def __delitem__(self, key) -> None:
        del self.data[_StrongIdRef(key)]

    def __contains__(self, key) -> bool:
        try:
            return _StrongIdRef(key) in self.data
        except TypeError:
            return False

    def __iter__(self):
        for ref in list(self.data):
            obj = ref()
            if obj is not None:
                yield obj

    def __len__(self) -> int:
        return sum(1 for ref in list(self.data) if ref() is not None)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} at {hex(id(self))}>"

    def copy(self) -> WeakIdKeyDictionary:
        return type(self)(dict(self.items()))


WeakTensorKeyDictionary = WeakIdKeyDictionary


class TensorWeakRef:
    """A weak reference to a tensor: ``ref()`` is the tensor, or None once it is collected."""

    __slots__ = ("ref",)

    def __init__(self, tensor) -> None:
        self.ref = weakref.ref(tensor)

    def __call__(self):
        return self.ref()
