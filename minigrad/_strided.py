"""Strides and storage: ``as_strided`` (and its in-place, scatter and copy forms),
``empty_strided``, a minimal storage object (``Tensor.untyped_storage()``/``storage()``),
``Tensor.set_``, ``resize``, ``new_empty_strided``, ``as_subclass`` and ``chalf``.

minigrad's ``as_strided`` is a view of the input's elements, as PyTorch's (differentiable;
overlapping windows sum their gradients). It reads only the input's own elements, so the input
must be contiguous; PyTorch programs that restride a transpose or reach outside the tensor
into the rest of its base get a clear error.
"""

from __future__ import annotations

import math
import weakref

import numpy as np  # flat positions are computed on the host (shapes, not tensor data)

from . import _torch_function as _tf
from . import backend, dtypes
from ._out import with_out
from ._tensor_meta import storage_offset
from ._warnings import warn_user, warn_user_once
from .autograd.graph import names_node, version_counter
from .ops.strided import AsStrided
from .storage import TypedStorage, UntypedStorage
from .tensor import Tensor, _new

# -- as_strided ----------------------------------------------------------------------------------


def _check_geometry(op: str, size, stride, storage_offset) -> tuple:
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(
            f"{op}: mismatch in length of strides and shape: size {list(size)} has "
            f"{len(size)} dims, stride {list(stride)} has {len(stride)}"
        )
    if any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise RuntimeError(
            f"{op}: sizes and strides must be non-negative, got size {list(size)} and stride "
            f"{list(stride)}"
        )
    if storage_offset is not None and storage_offset < 0:
        raise RuntimeError(f"{op}: Tensor: invalid storage offset {storage_offset}")
    return size, stride


def _flat_positions(op: str, input, size, stride, storage_offset) -> np.ndarray:
    """The positions in ``input``'s flattened elements (row-major) that the strided window
    reads: the storage positions ``storage_offset + Σ i_k·stride_k``, each of which must hold
    one of ``input``'s own elements (minigrad reads only those)."""
    size, stride = _check_geometry(op, size, stride, storage_offset)
    input._data.strides  # noqa: B018 - under vmap this raises NotImplementedError: no rule
    own = input.storage_offset()
    start = own if storage_offset is None else int(storage_offset)
    wanted = _storage_positions(size, stride, start - own)  # relative to input's first element
    if input.is_contiguous():
        positions = wanted
        inside = not positions.size or (positions.min() >= 0 and positions.max() < input.numel())
    else:
        positions, inside = _own_elements_at(op, input, wanted)
    if not inside:
        need = start + 1 + sum((n - 1) * s for n, s in zip(size, stride))
        raise RuntimeError(
            f"{op}: sizes {list(size)}, strides {list(stride)} and storage offset {start} reach "
            f"elements [{start}, {need}) of the storage, outside the tensor's own elements "
            f"(minigrad reads only those)"
        )
    return positions


def _storage_positions(size, stride, offset: int) -> np.ndarray:
    """``offset + Σ i_k·stride_k`` for every index ``i`` of ``size``."""
    positions = np.full(size, offset, dtype=np.int64)
    for dim, (n, step) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[dim] = n
        positions = positions + (np.arange(n, dtype=np.int64) * step).reshape(shape)
    return positions


def _own_elements_at(op: str, input, wanted: np.ndarray) -> tuple:
    """For a non-contiguous ``input`` (a transposed or sliced view, as Longformer's chunks):
    the row-major index of the element of ``input`` at each storage position of ``wanted``
    (relative to its first element), and whether every one holds such an element."""
    strides = input.stride()
    if any(s < 0 for s in strides):
        raise NotImplementedError(f"{op}: a tensor with negative strides is not supported")
    mine = _storage_positions(tuple(input.shape), strides, 0).reshape(-1)
    order = np.argsort(mine, kind="stable")
    ranked = mine[order]
    if ranked.size > 1 and (ranked[1:] == ranked[:-1]).any():
        raise NotImplementedError(
            f"{op}: a tensor whose elements share memory (an expanded tensor) is not supported; "
            "call .contiguous() first"
        )
    slot = np.searchsorted(ranked, wanted).clip(0, max(ranked.size - 1, 0))
    inside = bool(ranked.size) and bool((ranked[slot] == wanted).all()) or not wanted.size
    return order[slot], inside


def _index(input, positions: np.ndarray):
    with backend.on(input.device):
        return Tensor._make(input.device.xp.asarray(positions), input.device)


def as_strided(input, size, stride, storage_offset=None) -> Tensor:
    """The window of ``input``'s memory at storage positions ``storage_offset + Σ
    i_k·stride_k``, arranged in ``size``: a view sharing ``input``'s memory, as PyTorch's
    (gradients of overlapping windows add up; an in-place write through a window that reads an
    element twice is refused). Every position read must hold one of ``input``'s own elements.

    Example:
        >>> minigrad.arange(6.0).as_strided((2, 3), (1, 2))
        tensor([[0., 2., 4.],
                [1., 3., 5.]])
    """
    positions = _flat_positions("as_strided", input, size, stride, storage_offset)
    size, stride = _check_geometry("as_strided", size, stride, storage_offset)
    return AsStrided(positions, size, stride)(input)


@with_out
@names_node("AsStridedBackward0_copy")
def as_strided_copy(input, size, stride, storage_offset=None) -> Tensor:
    """A copy of :func:`as_strided`'s window."""
    return as_strided(input, size, stride, storage_offset).clone()


@with_out
def as_strided_scatter(input, src, size, stride, storage_offset=None) -> Tensor:
    """A copy of ``input`` with the strided window of :func:`as_strided` replaced by ``src``
    (differentiable in both)."""
    positions = _flat_positions("as_strided_scatter", input, size, stride, storage_offset)
    if tuple(src.shape) != tuple(positions.shape):
        raise RuntimeError(
            "as_strided_scatter: expected src to have a size equal to the slice of self. src "
            f"size = {list(src.shape)}, slice size = {list(positions.shape)}"
        )
    flat = input.reshape(-1)
    index = _index(input, positions.reshape(-1))
    return flat.scatter(0, index, src.reshape(-1).to(input.dtype)).reshape(input.shape)


def as_strided_(input, size, stride, storage_offset=None) -> Tensor:
    """Make ``input`` itself the strided window over its memory (shared, as PyTorch's), for
    tensors outside autograd (no grad required)."""
    if input.requires_grad:
        raise RuntimeError(
            "as_strided_: minigrad restrides in place only tensors that do not require grad; "
            "use as_strided (out of place) in differentiable code"
        )
    positions = _flat_positions("as_strided_", input, size, stride, storage_offset)
    size, stride = _check_geometry("as_strided_", size, stride, storage_offset)
    data = input._data.reshape(-1)
    start = int(positions.flat[0]) if positions.size else 0
    item = data.itemsize
    xp = input.device.xp
    input._data = xp.lib.stride_tricks.as_strided(
        data[start:], shape=size, strides=tuple(s * item for s in stride)
    )
    version_counter(input).value += 1
    return input


# -- strided allocation and storage --------------------------------------------------------------


def strided_zeros(size, stride, dtype=None, device=None, op="empty_strided") -> Tensor:
    """Zeros of ``size`` laid out with ``stride`` over a fresh buffer just large enough."""
    size, stride = _check_geometry(op, size, stride, 0)
    dev = backend.device(device) if device is not None else backend.get_default_device()
    dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    count = 0 if 0 in size else 1 + sum((n - 1) * s for n, s in zip(size, stride))
    with backend.on(dev):
        fill = backend.uninitialized_value(dtype.numpy) if op.endswith("empty_strided") else 0
        buffer = dev.xp.full(max(count, 1), fill, dtype=dtype.numpy)
        item = buffer.itemsize
        array = dev.xp.lib.stride_tricks.as_strided(
            buffer, shape=size, strides=tuple(s * item for s in stride)
        )
    return Tensor._make(array, dev)


def new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False):
    """:func:`minigrad.empty_strided` with this tensor's dtype and device unless given."""
    out = strided_zeros(
        size, stride, dtype or self.dtype, device or self.device, op="new_empty_strided"
    )
    return out.requires_grad_(requires_grad)


# Windows of a flat storage made by set_ and torch.load: id(window array) -> (the flat storage
# array, the window's offset in it). A window's tensor has no base, yet PyTorch reports its
# storage (the whole flat memory, shared) and its offset in it; an entry lives as the window does.
_windows: dict[int, tuple] = {}


def _remember_window(window, flat, offset: int) -> None:
    try:
        weakref.finalize(window, _windows.pop, id(window), None)
    except TypeError:  # an array type without weak references: its storage is its own
        return
    _windows[id(window)] = (flat, offset)


def detached_array(tensor):
    """The array for ``tensor.detach()``/``.data`` of the view ``tensor``: a new view object of
    the same memory remembered as a window at ``tensor``'s storage offset, since PyTorch's
    detached tensor (no view of anything) keeps its storage and offset; ``tensor``'s own array
    where that offset is 0 or its storage cannot be described."""
    if type(tensor._data).__name__ != "ndarray":  # (NumPy's or CuPy's; not meta or vmap records)
        return tensor._data
    offset = storage_offset(tensor)
    if not offset:
        return tensor._data
    try:
        flat = _root_array(tensor)
    except NotImplementedError:
        return tensor._data
    window = tensor._data.view()
    _remember_window(window, flat, offset)
    return window


def window_offset(tensor) -> int:
    """Where the memory of ``tensor`` (or of its base) starts in the flat storage it is a
    window of (0 when it is no window)."""
    found = _windows.get(id(tensor._data))
    return 0 if found is None else found[1]


def _root_array(tensor):
    """The array of the tensor that owns ``tensor``'s memory (its base, or itself), or the
    whole flat storage that array is a window of."""
    root = tensor._base if tensor._base is not None else tensor
    found = _windows.get(id(root._data))
    if found is not None:
        return found[0]
    data = root._data
    if not data.flags.c_contiguous:
        raise NotImplementedError(
            "storage: this tensor's memory is a strided window of an array minigrad did not "
            "allocate; its storage cannot be described. Call .contiguous() first"
        )
    return data


def untyped_storage(self) -> UntypedStorage:
    """This tensor's memory as bytes (shared)."""
    return UntypedStorage._wrap(_root_array(self), self.device)


def storage(self) -> TypedStorage:
    """Deprecated: this tensor's memory in elements of its dtype (shared)."""
    warn_user_once(  # PyTorch warns once a process (a loop over .storage() says it once)
        "TypedStorage",
        "TypedStorage is deprecated. It will be removed in the future and UntypedStorage "
        "will be the only storage class. This should only matter to you if you are using "
        "storages directly.  To access UntypedStorage directly, use "
        "tensor.untyped_storage() instead of tensor.storage()",
    )
    return TypedStorage._wrap(_root_array(self), self.device)


def set_(self, source=None, storage_offset=0, size=None, stride=None):
    """Make this tensor use ``source``'s memory: another tensor's (same shape, shared), a
    storage's (viewed with ``size``/``stride`` from ``storage_offset`` elements), or, with no
    source, an empty one."""
    if self.requires_grad and self.grad_fn is None:
        raise RuntimeError(
            "set_: a leaf Variable that requires grad is being used in an in-place operation."
        )
    if source is None:
        array = self.device.xp.zeros((0,), dtype=self._data.dtype)
    elif isinstance(source, Tensor):
        if size is not None:
            return set_(self, source.untyped_storage(), storage_offset, size, stride)
        if source.dtype is not self.dtype:
            raise RuntimeError(
                f"set_: could not set a tensor of type {self.dtype.name} to a tensor of type "
                f"{source.dtype.name}"
            )
        array, self.device = source._data, source.device
    elif isinstance(source, (UntypedStorage, TypedStorage)):
        flat = source._array.reshape(-1).view(self._data.dtype)
        size = (flat.size - storage_offset,) if size is None else tuple(size)
        if stride is None:
            stride = tuple(int(math.prod(size[k + 1 :])) for k in range(len(size)))
        array = _window(flat, size, stride, storage_offset, source.device.xp)
        self.device = source.device
    else:
        raise TypeError(f"set_(): expected a Tensor or a storage, got {type(source).__name__}")
    self._data = array
    version_counter(self).value += 1
    return self


def _window(flat, size, stride, offset, xp):
    """A strided window over a flat array, bounds checked as PyTorch's ``setStorage``."""
    size, stride = _check_geometry("set_", size, stride, offset)
    need = 0 if 0 in size else offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if need > flat.size:
        raise RuntimeError(
            f"set_: sizes {list(size)}, strides {list(stride)} and storage offset {offset} "
            f"need a storage of {need} elements, but it has {flat.size}"
        )
    item = flat.itemsize
    strides = tuple(s * item for s in stride)
    try:
        window = xp.lib.stride_tricks.as_strided(flat[offset:], shape=size, strides=strides)
    except TypeError:  # ml_dtypes' types (float8, bfloat16): the array interface cannot name
        raw = flat.view(f"V{item}")  # them, so the window is taken of the raw bytes
        window = xp.lib.stride_tricks.as_strided(raw[offset:], shape=size, strides=strides)
        window = window.view(flat.dtype)
    _remember_window(window, flat, offset)
    return window


def resize(self, *sizes):
    """Deprecated in PyTorch: a copy of this tensor resized (see :meth:`Tensor.resize_`)."""
    warn_user("non-inplace resize is deprecated", UserWarning)
    return _resized_copy(self, sizes)


def _resized_copy(self, sizes):
    """A copy of ``self`` resized to ``sizes``, which must keep its element count (PyTorch's
    deprecated ``resize``/``resize_as``, unlike ``resize_``)."""
    out = self.detach().clone().resize_(*sizes)
    if out.numel() != self.numel():  # (PyTorch's autograd resize keeps the element count)
        raise RuntimeError(
            f"requested resize to {'x'.join(map(str, out.shape))} ({out.numel()} elements in "
            f"total), but the given tensor has a size of {'x'.join(map(str, self.shape))} "
            f"({self.numel()} elements). autograd's resize can only change the shape of a given "
            "tensor, while preserving the number of elements."
        )
    return out


def resize_as(self, other):
    """Deprecated in PyTorch: a copy of this tensor resized to ``other``'s shape."""
    warn_user("non-inplace resize_as is deprecated", UserWarning)
    return _resized_copy(self, (other.shape,))


def chalf(self, memory_format=None):
    """Refused: minigrad has no complex32 dtype."""
    raise NotImplementedError(
        "chalf: minigrad has no complex32 (chalf) dtype; use cfloat() for complex64"
    )


def as_subclass(self, cls):
    """This tensor as an instance of the Tensor subclass ``cls``: shares its memory and stays
    in the autograd graph (an alias)."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError(f"as_subclass: cls must be a subclass of Tensor, got {cls!r}")
    _tf.refuse_dispatching(cls)
    # AliasBackward0, as PyTorch; a view's alias stays a view of its base (storage_offset)
    alias = self[...] if self.requires_grad or self._base is not None else self.detach()
    out = _new(cls)
    for slot in Tensor.__slots__:
        if slot != "__weakref__":
            object.__setattr__(out, slot, object.__getattribute__(alias, slot))
    return out


def install() -> None:
    """Attach the methods above to :class:`Tensor`."""
    for name in (
        "as_strided",
        "as_strided_",
        "as_strided_scatter",
        "new_empty_strided",
        "untyped_storage",
        "storage",
        "set_",
        "resize",
        "resize_as",
        "chalf",
        "as_subclass",
    ):
        setattr(Tensor, name, globals()[name])
