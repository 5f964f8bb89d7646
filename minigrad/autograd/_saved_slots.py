"""``grad_fn._saved_<name>`` and ``grad_fn._raw_saved_<name>``: PyTorch's node attributes for
what a node saved (``MulBackward0._saved_other``), as descriptors on :class:`~.graph.Node`.

They are descriptors, declared for every name an op class gives its inputs (``input_names``)
and ``result``, rather than a ``Node.__getattr__``: CPython 3.11 specializes no attribute read
on instances of a class that defines ``__getattr__``, so that hook made every ``self.edges``,
``self.xp``, ``node.backward`` of every op and every backward step take the slow path (about
5% of the per-op cost of a chain of small ops).
"""

from __future__ import annotations

SAVED, RAW = "_saved_", "_raw_saved_"


class SavedSlot:
    """``node._saved_<name>`` (the saved tensor) or ``node._raw_saved_<name>`` (a
    ``RawSavedTensor`` for hooks); AttributeError, as for any missing attribute, on a node
    that saved nothing under that name."""

    __slots__ = ("name", "raw", "attr")

    def __init__(self, name: str, raw: bool):
        self.name, self.raw = name, raw
        self.attr = (RAW if raw else SAVED) + name

    def __get__(self, node, owner=None):
        if node is None:
            return self
        names = node.saved_slot_names()
        if self.name not in names:
            raise AttributeError(f"'{type(node).__name__}' object has no attribute '{self.attr}'")
        index = names.index(self.name)
        if self.raw:
            from .graph import RawSavedTensor

            return RawSavedTensor(node, index)
        return node._unpack_saved_at(index)  # (that entry alone, as PyTorch's)


def declare(cls, names) -> None:
    """Give ``cls`` (Node) the two attributes of each saved-tensor name in ``names``."""
    for name in names:
        for raw in (False, True):
            slot = SavedSlot(name, raw)
            if slot.attr not in cls.__dict__:
                setattr(cls, slot.attr, slot)


def public_dir(cls, attrs, names) -> list:
    """``attrs`` (``object.__dir__`` of a node of class ``cls``) without the declared slots,
    then the two attributes of each name the node saved (``names``), as PyTorch lists them."""
    kept = [a for a in attrs if not isinstance(_class_attr(cls, a), SavedSlot)]
    return kept + [SAVED + n for n in names] + [RAW + n for n in names]


def _class_attr(cls, attr: str):
    for klass in cls.__mro__:
        if attr in klass.__dict__:
            return klass.__dict__[attr]
    return None
