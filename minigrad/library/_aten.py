"""``torch.ops.aten``: PyTorch's ATen operators by name (``aten.add.Tensor``,
``aten.clone.default``), as libraries reach them.

minigrad has no ATen layer below its Python functions, so an operator here is the function of
the same name with the same arguments: ``minigrad._aten_aliases``' ATen-signature forms first,
then ``minigrad.<name>``, then the method ``input.<name>`` (the in-place ``add_``), and a few
ATen-only operators written here (``slice``, ``index``, ``_to_copy``, ``alias``). Every overload
of a name (``.default``, ``.Tensor``, ``.Scalar``, ``.int``) calls that one function, whose
arguments cover them all. A name none of these has is still an operator object (libraries use
them as keys of ``__torch_dispatch__`` tables at import, as PyG does), and calling it raises
``NotImplementedError``."""

from __future__ import annotations


def _slice(input, dim=0, start=None, end=None, step=1):
    """``aten.slice.Tensor``: ``input[..., start:end:step, ...]`` along ``dim`` (a view)."""
    index = [slice(None)] * input.dim()
    index[dim] = slice(start, end, step)
    return input[tuple(index)]


def _index(input, indices):
    """``aten.index.Tensor``: advanced indexing with one index per leading dimension (None
    keeps a dimension whole)."""
    return input[tuple(slice(None) if i is None else i for i in indices)]


def _to_copy(
    input,
    *,
    dtype=None,
    layout=None,
    device=None,
    pin_memory=None,
    non_blocking=False,
    memory_format=None,
):
    """``aten._to_copy``: a new tensor converted to ``dtype``/``device`` (always a copy)."""
    kwargs = {} if memory_format is None else {"memory_format": memory_format}
    return input.to(device=device, dtype=dtype, non_blocking=non_blocking, copy=True, **kwargs)


def _alias(input):
    """``aten.alias``: a view of the whole tensor."""
    return input.view(input.shape)


def _pin_memory(input, device=None):
    """``aten._pin_memory``: ``input.pin_memory()``."""
    return input.pin_memory()


_ATEN_ONLY = {
    "slice": _slice,
    "index": _index,
    "_to_copy": _to_copy,
    "alias": _alias,
    "_pin_memory": _pin_memory,
}


def _function(name: str):
    """The callable that runs ATen's operator ``name`` here, or None."""
    import minigrad
    from minigrad import _aten_aliases

    if name in _ATEN_ONLY:
        return _ATEN_ONLY[name]
    for place in (_aten_aliases, minigrad):
        found = getattr(place, name, None) if not name.startswith("__") else None
        if callable(found) and not isinstance(found, type):
            return found
    if callable(getattr(minigrad.Tensor, name, None)):
        return lambda input, *args, **kwargs: getattr(input, name)(*args, **kwargs)
    return None


class OpOverload:
    """``aten.<name>.<overload>``: one overload of an ATen operator, callable."""

    def __init__(self, packet: OpOverloadPacket, overload: str):
        self.overloadpacket, self._overloadname = packet, overload
        self.__name__ = f"{packet._name}.{overload}"

    def name(self) -> str:
        return f"aten::{self.__name__}"

    def __call__(self, *args, **kwargs):
        return self.overloadpacket(*args, **kwargs)

    def __eq__(self, other):
        return isinstance(other, OpOverload) and other.__name__ == self.__name__

    def __hash__(self):
        return hash(self.__name__)

    def __repr__(self) -> str:
        return f"<OpOverload(op='aten.{self._name_only()}', overload='{self._overloadname}')>"

    def __str__(self) -> str:
        return f"aten.{self.__name__}"

    def _name_only(self) -> str:
        return self.overloadpacket._name


class OpOverloadPacket:
    """``aten.<name>``: the operator with all its overloads as attributes."""

    def __init__(self, name: str):
        self._name = self.__name__ = name

    def __getattr__(self, overload: str) -> OpOverload:
        if overload.startswith("_"):
            raise AttributeError(overload)
        return OpOverload(self, overload)

    def __call__(self, *args, **kwargs):
        function = _function(self._name)
        if function is None:
            raise NotImplementedError(
                f"aten.{self._name}: minigrad has no such operator (it has no ATen layer; its "
                "operators are its Python functions of the same name)"
            )
        return function(*args, **kwargs)

    def __eq__(self, other):
        return isinstance(other, OpOverloadPacket) and other._name == self._name

    def __hash__(self):
        return hash(("aten", self._name))

    def __repr__(self) -> str:
        return f"<OpOverloadPacket(op='aten.{self._name}')>"

    def __str__(self) -> str:
        return f"aten.{self._name}"


class _AtenNamespace:
    """``torch.ops.aten``: every operator name gives its :class:`OpOverloadPacket`."""

    name = "aten"

    def __getattr__(self, name: str) -> OpOverloadPacket:
        if name.startswith("__"):
            raise AttributeError(name)
        return OpOverloadPacket(name)

    def __repr__(self) -> str:
        return "<minigrad.ops namespace 'aten'>"


aten = _AtenNamespace()
