"""The public functions of ``minigrad.nested`` (construction, conversion, ``narrow``) and the
nested forms of the Tensor methods whose dense forms do arithmetic on the shape (reshape,
view, flatten, unflatten, squeeze, unsqueeze, mean, unbind, split, chunk)."""

from __future__ import annotations

import math

import numpy as np

from .. import dtypes
from .._memory_format import strided
from .._nested_record import NestedMeta, NestedRecord, RaggedDim, is_nested, jagged
from ..autograd import grad_mode
from ..backend import DimensionError
from ..ops import stack
from ..ops.base import normalize_dim, normalize_dims
from ..ops.movement import Reshape
from ..tensor import Tensor
from ._core import buffer_of, check_components, components, expect_nested, make, pack
from ._rules import _map


def _as_tensor(t, dtype, device) -> Tensor:
    if isinstance(t, Tensor):
        out = t if device is None else t.to(device)
        return out if dtype is None else out.to(dtype)
    from .. import creation

    return creation.tensor(t, dtype=dtype, device=device)


def nested_tensor(tensor_list, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False) -> Tensor:  # fmt: skip
    """A nested tensor (a leaf, holding copies) of the tensors in ``tensor_list``, as
    ``torch.nested.nested_tensor``.

    Args:
        tensor_list: tensors (or nested lists of numbers) of one dim and dtype.
        dtype, device: of the result (default: the components').
        layout: ``minigrad.strided`` (default; components of any sizes) or ``minigrad.jagged``
            (sizes differ in one dim only).
        requires_grad: make the result a leaf that requires grad.

    Example:
        >>> nt = minigrad.nested.nested_tensor([minigrad.ones(2, 3), minigrad.ones(4, 3)])
        >>> nt.size(0), nt.size(2)
        (2, 3)
    """
    layout = strided if layout is None else layout
    with grad_mode.no_grad():
        parts = [_as_tensor(t, dtype, device).detach() for t in tensor_list]
        out = pack(check_components(parts, layout, "nested_tensor"), layout)
    out = Tensor._make(NestedRecord(out._data.buffer.copy(), out._data.meta), out.device)
    return out.requires_grad_(requires_grad)


def as_nested_tensor(ts, dtype=None, device=None, layout=None) -> Tensor:
    """A nested tensor of ``ts`` (a list of tensors, or a tensor whose dim 0 is the batch)
    that stays in the graph: gradients flow back to the components, as
    ``torch.nested.as_nested_tensor``. A nested ``ts`` of the asked layout is returned as is.
    """
    layout = strided if layout is None else layout
    dense = isinstance(ts, Tensor) and not is_nested(ts)  # (PyTorch's view of it: no warning)
    if isinstance(ts, Tensor) and is_nested(ts):
        if ts._data.meta.layout is layout and dtype is None and device is None:
            return ts
        ts = components(ts)
    elif dense:
        ts = list(ts.unbind(0))
    parts = [_as_tensor(t, dtype, device) for t in ts]
    return pack(check_components(parts, layout, "as_nested_tensor"), layout, quiet=dense)


def nested_tensor_from_jagged(values, offsets=None, lengths=None, jagged_dim=None,
                              min_seqlen=None, max_seqlen=None) -> Tensor:  # fmt: skip
    """A jagged nested tensor viewing ``values``: component ``i`` is
    ``values[offsets[i] : offsets[i] + lengths[i]]`` along dim ``jagged_dim - 1`` (lengths
    default to the offsets' differences), as ``torch.nested.nested_tensor_from_jagged``.
    Gradients flow back to ``values``.

    Example:
        >>> v = minigrad.randn(5, 3)
        >>> nt = minigrad.nested.nested_tensor_from_jagged(v, minigrad.tensor([0, 2, 5]))
        >>> [c.shape[0] for c in nt.unbind()]
        [2, 3]
    """
    if offsets is None:
        if lengths is None:
            raise RuntimeError("nested_tensor_from_jagged(): offsets or lengths must be given")
        counts = _host(lengths)
        offsets, lengths = np.concatenate([[0], np.cumsum(counts)]), None
    ragged_idx = 1 if jagged_dim is None else int(jagged_dim)
    if not 1 <= ragged_idx <= values.ndim:
        raise DimensionError(
            f"nested_tensor_from_jagged(): jagged_dim must be in [1, {values.ndim}], got "
            f"{jagged_dim}"
        )
    starts = _host(offsets)
    counts = np.diff(starts) if lengths is None else _host(lengths)
    axis = ragged_idx - 1
    if starts.ndim != 1 or len(counts) != len(starts) - 1:
        raise RuntimeError(
            "nested_tensor_from_jagged(): offsets must be 1-D of batch size + 1, and lengths "
            "1-D of batch size"
        )
    if len(starts) and (starts[:-1] + counts > values.shape[axis]).any():
        raise RuntimeError(
            f"nested_tensor_from_jagged(): offsets and lengths reach past the values' size "
            f"{values.shape[axis]} in dim {axis}"
        )
    base = tuple(values.shape)
    sizes = [base[:axis] + (int(n),) + base[axis + 1 :] for n in counts]
    meta = NestedMeta(jagged, sizes, starts, None if lengths is None else counts, ragged_idx)
    return make(values, meta)


def _host(t) -> np.ndarray:
    if isinstance(t, Tensor):
        return t.device.backend.to_host(t._data).astype(np.int64).reshape(-1)
    return np.asarray(t, dtype=np.int64).reshape(-1)


def narrow(tensor, dim, start, length, layout=None) -> Tensor:
    """A nested tensor of a slice of dense ``tensor``, as ``torch.nested.narrow``: for the
    jagged layout (``dim=1``), component ``i`` is ``tensor[i, start[i] : start[i] + length[i]]``
    (``start``/``length``: ints or per-batch int tensors), a view of ``tensor``'s memory
    through offsets and lengths; for the strided layout (``dim=0``, int bounds), the
    components ``tensor[start : start + length]``. Gradients flow back to ``tensor``.
    """
    layout = strided if layout is None else layout
    if is_nested(tensor):
        raise RuntimeError("narrow(): expected a dense (strided) tensor, got a nested tensor")
    if layout is strided:
        if isinstance(start, Tensor) or isinstance(length, Tensor):
            raise RuntimeError("start and length must be integers for the strided layout NT impl")
        if dim != 0:
            raise RuntimeError(f"narrow(): only dim=0 supported for nested tensors, but got: {dim}")
        return as_nested_tensor(list(tensor.unbind(0))[int(start) : int(start) + int(length)])
    if dim != 1:
        raise RuntimeError("jagged layout only supports dim=1")
    batch, seq = tensor.shape[0], tensor.shape[1]
    starts = np.broadcast_to(_host(start), (batch,))
    counts = np.broadcast_to(_host(length), (batch,))
    if ((starts < 0) | (starts + counts > seq)).any():
        raise RuntimeError(f"narrow(): start + length must lie within dim 1's size {seq}")
    values = tensor.reshape((batch * seq,) + tuple(tensor.shape[2:]))
    firsts = np.arange(batch) * seq + starts
    offsets = np.concatenate([firsts, firsts[-1:] + counts[-1:]])  # (PyTorch's offsets)
    return nested_tensor_from_jagged(values, offsets, counts)


def masked_select(tensor, mask) -> Tensor:
    """A jagged nested tensor of the entries of ``tensor`` where ``mask`` is True, one
    component per row of the last dim (one for a 1-D mask), as ``torch.nested.masked_select``;
    ``mask`` broadcasts to ``tensor``'s shape; gradients flow back to ``tensor``.

    Example:
        >>> t = minigrad.arange(6.0).reshape(2, 3)
        >>> m = minigrad.tensor([[True, False, True], [False, True, False]])
        >>> [c.tolist() for c in minigrad.nested.masked_select(t, m).unbind()]
        [[0.0, 2.0], [4.0]]
    """
    if is_nested(tensor) or is_nested(mask):
        raise RuntimeError("masked_select(): expected dense tensor and mask")
    if mask.dtype is not dtypes.bool:
        raise RuntimeError(f"masked_select(): expected a bool mask, got {mask.dtype}")
    mask = mask.expand(tensor.shape)  # the mask broadcasts to the tensor, as PyTorch's
    host = mask.device.backend.to_host(mask._data).reshape(-1, mask.shape[-1] if mask.ndim else 1)
    offsets = np.concatenate([[0], np.cumsum(host.sum(1))])
    return nested_tensor_from_jagged(tensor[mask], offsets)


# -- nested forms of Tensor methods -------------------------------------------------------------
def unbind(self, dim=0) -> tuple:
    """The components (dim 0 only, as PyTorch's nested unbind)."""
    expect_nested(self, "unbind")
    if dim != 0:
        raise RuntimeError(
            f"unbind(): nested tensor can only be unbound along dimension 0, got {dim}"
        )
    return tuple(components(self))


def _target(meta: NestedMeta, shape: tuple, op: str) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not shape or shape[0] not in (-1, len(meta.sizes)):
        raise RuntimeError(
            f"{op}(): for a nested tensor, the first size must be the batch size "
            f"{len(meta.sizes)}, got {list(shape)}"
        )
    return tuple(shape)


def reshape(self, *shape, strict=False) -> Tensor:
    """Each component reshaped; ragged dims stay (given as -1 or their ``jN``)."""
    meta = self._data.meta
    shape = _target(meta, shape, "view" if strict else "reshape")
    ragged_at = [i for i, s in enumerate(shape) if isinstance(s, RaggedDim)]
    if meta.layout is jagged:
        if ragged_at:
            new_idx = ragged_at[0]
        elif meta.ragged_idx < len(shape) and shape[meta.ragged_idx] == -1:
            new_idx = meta.ragged_idx
        else:
            raise RuntimeError(
                f"{'view' if strict else 'reshape'}(): the ragged dim {meta.ragged_idx} of a "
                f"jagged tensor must stay in place (pass -1 or its size there), got {list(shape)}"
            )
    else:
        new_idx = None
    if new_idx == 1 and meta.ragged_idx == 1:  # rows stay: a view of the packed values
        values = buffer_of(self)
        inner = _infer(tuple(shape[2:]), math.prod(values.shape[1:]))
        out = Reshape((values.shape[0],) + inner, strict)(values)
        sizes = [(s[0],) + inner for s in meta.sizes]
        return make(out, NestedMeta(jagged, sizes, meta.offsets, meta.lengths, 1, like=meta))

    def one(i, c):
        target = (
            tuple(
                c.shape[meta.ragged_idx - 1] if (i_d == new_idx or isinstance(s, RaggedDim)) else s
                for i_d, s in enumerate(shape)
            )[1:]
            if meta.layout is jagged
            else tuple(-1 if isinstance(s, RaggedDim) else s for s in shape[1:])
        )
        return Reshape(_infer(target, c.numel()), strict)(c)

    parts = [one(i, c) for i, c in enumerate(components(self))]
    return pack(parts, meta.layout, new_idx, like=meta)


def _infer(shape: tuple, numel: int) -> tuple:
    if -1 not in shape:
        return shape
    known = math.prod(s for s in shape if s != -1)
    return tuple(numel // known if s == -1 and known else s for s in shape)


def view(self, *shape) -> Tensor:
    """As :func:`reshape`, refusing to copy (each component a view)."""
    return reshape(self, *shape, strict=True)


def flatten(self, start_dim=0, end_dim=-1) -> Tensor:
    """Each component with dims ``start_dim..end_dim`` merged (not the batch or ragged dim)."""
    meta = self._data.meta
    ndim = len(meta.shape)
    start, end = normalize_dim(start_dim, ndim, "flatten"), normalize_dim(end_dim, ndim, "flatten")
    if start == 0:
        raise RuntimeError("flatten(): cannot flatten the batch dim of a nested tensor")
    if start >= end:
        return self
    ragged = meta.ragged_idx if meta.layout is jagged else None
    if ragged is not None and start <= ragged <= end and start != end:
        raise RuntimeError("flatten(): cannot flatten the ragged dim of a jagged tensor")
    new_ragged = None if ragged is None else ragged - (end - start if ragged > end else 0)
    parts = [c.flatten(start - 1, end - 1) for c in components(self)]
    return pack(parts, meta.layout, new_ragged, like=meta)


def unflatten(self, dim, sizes) -> Tensor:
    """Each component with regular dim ``dim`` split into ``sizes``."""
    meta = self._data.meta
    ndim = len(meta.shape)
    d = normalize_dim(dim, ndim, "unflatten")
    if d == 0 or isinstance(tuple.__getitem__(meta.shape, d), RaggedDim):
        raise RuntimeError(
            "unflatten(): cannot unflatten the batch or a ragged dim of a nested tensor"
        )
    sizes = tuple(sizes)
    ragged = meta.ragged_idx if meta.layout is jagged else None
    new_ragged = None if ragged is None else ragged + (len(sizes) - 1 if ragged > d else 0)
    parts = [c.unflatten(d - 1, sizes) for c in components(self)]
    return pack(parts, meta.layout, new_ragged, like=meta)


def unsqueeze(self, dim) -> Tensor:
    """Each component with a new dim of size 1 (not before the batch dim)."""
    meta = self._data.meta
    d = normalize_dim(dim, len(meta.shape) + 1, "unsqueeze")
    if d == 0:
        raise RuntimeError("unsqueeze(): cannot unsqueeze the batch dim of a nested tensor")
    ragged = meta.ragged_idx if meta.layout is jagged else None
    new_ragged = None if ragged is None else ragged + (1 if d <= ragged else 0)
    return _map(self, lambda c: c.unsqueeze(d - 1), new_ragged)


def squeeze(self, dim=None) -> Tensor:
    """Each component without the regular dims ``dim`` of size 1."""
    meta = self._data.meta
    if dim is None:
        raise RuntimeError("squeeze(): for a nested tensor, give the dim to squeeze")
    dims = normalize_dims(dim, len(meta.shape), "squeeze")
    dims = tuple(d for d in dims if tuple.__getitem__(meta.shape, d) == 1)
    if 0 in dims:
        raise RuntimeError("squeeze(): cannot squeeze the batch dim of a nested tensor")
    ragged = meta.ragged_idx if meta.layout is jagged else None
    new_ragged = None if ragged is None else ragged - sum(1 for d in dims if d < ragged)
    return _map(self, lambda c: c.squeeze(tuple(d - 1 for d in dims)) if dims else c, new_ragged)


def mean(self, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    """Mean over regular dims (nested result) or, for the jagged layout, over the ragged dim
    (a dense result, each component's own mean)."""
    meta = self._data.meta
    x = self if dtype is None else self.to(dtype)
    if meta.layout is strided:
        raise NotImplementedError(
            "mean: PyTorch's strided nested tensors have no mean (aten::mean.dim); use the "
            "jagged layout"
        )
    dims = normalize_dims(dim, len(meta.shape), "mean")
    if dims == tuple(range(len(meta.shape))):
        return x.sum() / meta.numel
    if meta.ragged_idx in dims and 0 not in dims:
        inner = tuple(d - 1 for d in dims)
        return stack([c.mean(inner, keepdim) for c in components(x)])
    count = math.prod(tuple.__getitem__(meta.shape, d) for d in dims if d != 0)
    return x.sum(dims, keepdim) / count


def split(self, split_size_or_sections, dim=0) -> tuple:
    """Nested tensors of the pieces of each component along regular dim ``dim``."""
    meta = self._data.meta
    d = normalize_dim(dim, len(meta.shape), "split")
    if d == 0 or isinstance(tuple.__getitem__(meta.shape, d), RaggedDim):
        raise RuntimeError(
            f"split(): not supported for nested tensors along the batch or a ragged dim, got dim {d}"
        )
    pieces = [c.split(split_size_or_sections, d - 1) for c in components(self)]
    ragged = meta.ragged_idx if meta.layout is jagged else None
    return tuple(pack(group, meta.layout, ragged, like=meta) for group in zip(*pieces))


def chunk(self, chunks, dim=0) -> tuple:
    """``chunks`` nested pieces along regular dim ``dim`` (as :func:`split`)."""
    meta = self._data.meta
    d = normalize_dim(dim, len(meta.shape), "chunk")
    if d == 0 or isinstance(tuple.__getitem__(meta.shape, d), RaggedDim):
        raise RuntimeError(
            f"chunk(): not supported for nested tensors along the batch or a ragged dim, got dim {d}"
        )
    n = tuple.__getitem__(meta.shape, d)
    return split(self, max(1, -(-n // int(chunks))), d)
