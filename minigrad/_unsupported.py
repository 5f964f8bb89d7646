"""One exception for a name minigrad knows but cannot serve in a given place."""

from __future__ import annotations


class UnsupportedAttributeError(NotImplementedError, AttributeError):
    """A name minigrad knows but does not support here (an array function on the meta device,
    a packed nested tensor's array attribute, a MaskedTensor method, a torchvision name
    minigrad.vision lacks): a ``NotImplementedError`` whose message names what is missing, to
    the user; an ``AttributeError`` to code that probes with ``hasattr`` or ``getattr(...,
    default)``, and to ``Op.__call__``, which then runs the op's meta or nested rule."""
