"""The nested rules of dense ops (``Op.__call__`` hands an op here when its forward fails on a
nested tensor's record): elementwise ops run on the packed values; ops over regular dims run
on each component (or on the packed values where the jagged layout allows) and pack again."""

from __future__ import annotations

from .._memory_format import strided
from .._nested_record import NestedMeta, RaggedDim, is_nested, jagged
from ..autograd.graph import Node
from ..nn.functional.basic import LinearOp
from ..nn.functional.normalization import LayerNormOp
from ..ops import activation, elementwise, trig, unary
from ..ops import base as _base
from ..ops.indexing import GetItem
from ..ops.joining import Cat
from ..ops.linalg import MatMul
from ..ops.movement import Clone, Permute, Reshape
from ..ops.nn import LogSoftmaxOp, SoftmaxOp
from ..ops.reduce import Amax, Amin, LogSumExp, Sum
from ..tensor import Tensor, ToDevice
from ._core import buffer_of, components, make, pack


def _nested_args(args) -> list:
    return [a for a in args if isinstance(a, Tensor) and is_nested(a)]


def _nt(a) -> bool:
    return isinstance(a, Tensor) and is_nested(a)


def _dense(a) -> bool:
    return isinstance(a, Tensor) and not is_nested(a) and a.ndim > 0


def _common_structure(nested, op: str) -> tuple:
    """The first operand's structure, and whether all operands share it (same sizes); else
    PyTorch's broadcasting of nested operands: one batch, one ragged structure, regular dims
    that broadcast."""
    meta = nested[0]._data.meta
    same = True
    for other in nested[1:]:
        om = other._data.meta
        if om.same_structure(meta):
            continue
        same = False
        if not _broadcastable(meta, om):
            raise RuntimeError(
                f"{op}: cannot broadcast nested tensors of shapes {tuple(meta.shape)} and "
                f"{tuple(om.shape)} (they must share the batch and ragged sizes, and their "
                "regular dims must broadcast)"
            )
    return meta, same


def _broadcastable(a: NestedMeta, b: NestedMeta) -> bool:
    if a.layout is not b.layout or len(a.sizes) != len(b.sizes) or len(a.shape) != len(b.shape):
        return False
    if a.layout is jagged and (a.ragged_idx != b.ragged_idx or a.starts != b.starts):
        return False
    for sa, sb in zip(a.sizes, b.sizes):
        for d, (x, y) in enumerate(zip(sa, sb)):
            ragged = a.layout is jagged and d == a.ragged_idx - 1
            if x != y and (ragged or 1 not in (x, y)):
                return False
    return True


def _repack(results, meta: NestedMeta, ragged_idx=None) -> Tensor:
    """Components back into a nested tensor of ``meta``'s layout (``ragged_idx`` moved)."""
    ragged = meta.ragged_idx if ragged_idx is None else ragged_idx
    return pack(results, meta.layout, ragged, like=meta)


def _map(x, fn, ragged_idx=None) -> Tensor:
    """``fn`` on each component of nested ``x``, packed again."""
    return _repack([fn(c) for c in components(x)], x._data.meta, ragged_idx)


def _dense_for_component(d, meta: NestedMeta, i: int, op: str):
    """Dense operand ``d`` as it meets component ``i`` (PyTorch's broadcasting of a dense
    tensor against a jagged one: a batch dim of size B or 1, size 1 at the ragged dim)."""
    ndim = len(meta.shape)
    if d.ndim > ndim:
        raise RuntimeError(
            f"{op}: a dense operand of {d.ndim} dims does not broadcast against a nested tensor "
            f"of {ndim} dims"
        )
    ragged_at = meta.ragged_idx - (ndim - d.ndim)  # the ragged dim's place in d
    if 0 <= ragged_at < d.ndim and d.shape[ragged_at] != 1:
        raise RuntimeError(
            f"{op}: a dense operand of shape {list(d.shape)} must have size 1 at the ragged dim "
            f"of the nested tensor {tuple(meta.shape)}"
        )
    if d.ndim == ndim:
        if d.shape[0] not in (1, len(meta.sizes)):
            raise RuntimeError(
                f"{op}: a dense operand's batch dim ({d.shape[0]}) must be 1 or the nested "
                f"tensor's batch size {len(meta.sizes)}"
            )
        return d[i if d.shape[0] > 1 else 0]
    return d


def _elementwise(op, args):
    name = op.label().lower()
    nested = _nested_args(args)
    meta, same = _common_structure(nested, name)
    dense = [a for a in args if _dense(a)]
    if dense and meta.layout is strided:
        raise RuntimeError(
            f"{name}: expected both self and other to be nested, but got a nested and a "
            "non-nested (dense) operand"
        )
    if same and not dense:
        return _from_buffer(op(*[buffer_of(a) if _nt(a) else a for a in args]), meta)
    packed = meta.layout is jagged and meta.ragged_idx == 1 and meta.lengths is None
    if packed and all(d.ndim < len(meta.shape) for d in dense):  # on the packed values at once
        for d in dense:
            _dense_for_component(d, meta, 0, name)
        fitted = [a.squeeze(0) if _dense(a) and a.ndim == len(meta.shape) - 1 else a for a in args]
        return _from_buffer(op(*[buffer_of(a) if _nt(a) else a for a in fitted]), meta)
    pieces = [components(a) if _nt(a) else None for a in args]
    results = []
    for i in range(len(meta.sizes)):
        row = []
        for a, parts in zip(args, pieces):
            if parts is not None:
                row.append(parts[i])
            elif isinstance(a, Tensor) and a.ndim > 0:
                row.append(_dense_for_component(a, meta, i, name))
            else:
                row.append(a)
        results.append(_fresh(op)(*row))
    return _repack(results, meta)


def _from_buffer(buffer: Tensor, meta: NestedMeta) -> Tensor:
    """A nested result of an op on packed values: ``meta``'s structure, or (the jagged values
    broadcast to more trailing sizes) the same rows with the result's trailing sizes."""
    trailing = tuple(buffer.shape[1:])
    if meta.layout is strided or meta.ragged_idx != 1 or trailing == meta.sizes[0][1:]:
        return make(buffer, meta)
    sizes = [(s[0],) + tuple(buffer.shape[1:]) for s in meta.sizes]
    return make(buffer, NestedMeta(jagged, sizes, meta.offsets, None, 1, like=meta))


def _fresh(op):
    """A new op object with ``op``'s settings (an Op instance runs once: it becomes a node)."""
    new = type(op).__new__(type(op))
    for name, value in vars(op).items():
        if name in ("device", "xp") or name.startswith("_") or hasattr(Node, name):
            continue  # (the graph fields of a failed call, not settings)
        setattr(new, name, value)
    return new


def _regular_dims(meta: NestedMeta, dims, op: str) -> None:
    if 0 in dims:
        raise RuntimeError(f"{op}(): not supported for nested tensors over the batch dim")


def _check_regular(meta: NestedMeta, dims, op: str) -> None:
    _regular_dims(meta, dims, op)
    for d in dims:
        if isinstance(tuple.__getitem__(meta.shape, d), RaggedDim):
            raise RuntimeError(
                f"{op}(): not supported for nested tensors over the ragged dim {d} here"
            )


def _softmax(op, args):
    x = args[0]
    meta = x._data.meta
    name = "softmax" if type(op) is SoftmaxOp else "log_softmax"
    _regular_dims(meta, (op.dim,), name)
    if meta.layout is jagged and meta.ragged_idx < op.dim:
        return make(type(op)(op.dim - 1)(buffer_of(x)), meta)
    return _map(x, lambda c: type(op)(op.dim - 1)(c))


def _reduce(op, args):
    x = args[0]
    meta, dims, keepdim = x._data.meta, tuple(op.dims), op.keepdim
    name = op.label().lower()
    ndim = len(meta.shape)
    if meta.layout is strided:
        if not keepdim:
            raise RuntimeError("NestedTensor always requires keepdim=True for now.")
        if dims != (ndim - 1,):
            raise RuntimeError(
                f"NestedTensor can only be reduced across the last dimension for now got "
                f"dimension {dims[0] if dims[0] != ndim - 1 else dims[-1]} instead."
            )
        return _map(x, lambda c: _reduced(op, (ndim - 2,), True)(c))
    ragged = meta.ragged_idx
    if dims == tuple(range(ndim)):
        return (
            _reduced(op, None, keepdim)(buffer_of(x))
            if type(op) is Sum and meta.lengths is None
            else _all(op, x, keepdim)
        )
    if 0 in dims:
        raise RuntimeError(
            f"{name}(): reducing along the batch dimension but not the ragged dimension is not "
            "supported for nested tensors"
        )
    inner = tuple(d - 1 for d in dims)
    if ragged in dims:  # each component reduced over its ragged dim: a dense result
        from ..ops import stack

        return stack([_reduced(op, inner, keepdim)(c) for c in components(x)])
    if ragged == 1:  # the packed values' dims are the components' dims
        sizes = [
            tuple(1 if j in inner else n for j, n in enumerate(s) if keepdim or j not in inner)
            for s in meta.sizes
        ]
        out = _reduced(op, inner, keepdim)(buffer_of(x))
        return make(out, NestedMeta(jagged, sizes, meta.offsets, meta.lengths, 1, like=meta))
    shift = sum(1 for d in dims if d < ragged) if not keepdim else 0
    return _map(x, lambda c: _reduced(op, inner, keepdim)(c), ragged - shift)


def _reduced(op, dims, keepdim):
    """An op of ``op``'s class over ``dims`` (all when None) of a component or buffer."""

    def run(t):
        new = _fresh(op)
        new.dims = tuple(range(t.ndim)) if dims is None else tuple(dims)
        new.keepdim = keepdim
        return new(t)

    return run


def _all(op, x, keepdim):
    from ..ops import stack

    parts = [_reduced(op, None, False)(c) for c in components(x)]
    return _reduced(op, (0,), keepdim)(stack(parts))


def _layer_norm(op, args):
    x, weight, bias = args
    meta, axes = x._data.meta, tuple(op.axes)
    _check_regular(meta, axes, "layer_norm")
    inner = tuple(a - 1 for a in axes)
    if meta.layout is jagged and meta.ragged_idx < min(axes):
        return make(LayerNormOp(inner, op.eps)(buffer_of(x), weight, bias), meta)
    return _map(x, lambda c: LayerNormOp(inner, op.eps)(c, weight, bias))


def _with_last(meta: NestedMeta, last: int, ragged_idx=None) -> NestedMeta:
    sizes = [s[:-1] + (last,) for s in meta.sizes]
    ragged = meta.ragged_idx if ragged_idx is None else ragged_idx
    return NestedMeta(meta.layout, sizes, meta.offsets, meta.lengths, ragged, like=meta)


def _linear(op, args):
    x, weight, bias = args
    if not is_nested(x) or is_nested(weight) or (bias is not None and is_nested(bias)):
        raise NotImplementedError("linear: minigrad takes a nested input with a dense weight")
    meta = x._data.meta
    ndim = len(meta.shape)
    if meta.layout is jagged and meta.ragged_idx < ndim - 1:
        out = LinearOp()(buffer_of(x), weight, bias)
        return make(out, _with_last(meta, weight.shape[0]))
    return _map(x, lambda c: LinearOp()(c, weight, bias))


def _matmul(op, args):
    a, b = args
    if not is_nested(a):
        raise NotImplementedError("matmul: minigrad multiplies a nested tensor on the left only")
    meta = a._data.meta
    ndim = len(meta.shape)
    if is_nested(b):
        bm = b._data.meta
        if len(bm.sizes) != len(meta.sizes) or bm.layout is not meta.layout:
            raise RuntimeError("matmul: expected nested tensors of one layout and batch size")
        if meta.layout is jagged and ndim - 2 <= meta.ragged_idx:
            raise RuntimeError(
                f"matmul(): not supported between inputs of shapes {tuple(meta.shape)} and "
                f"{tuple(bm.shape)}"
            )
        results = [MatMul()(p, q) for p, q in zip(components(a), components(b))]
        return _repack(results, meta)
    if meta.layout is strided:
        raise RuntimeError("Expected both to be nested, but got a nested self and non-nested other")
    if b.ndim < 2:
        raise NotImplementedError("matmul: minigrad multiplies a jagged tensor by a matrix")
    if meta.ragged_idx < ndim - 1 and b.ndim == 2:
        return make(MatMul()(buffer_of(a), b), _with_last(meta, b.shape[-1]))
    return _map_indexed(a, lambda c, i: MatMul()(c, _dense_for_component(b, meta, i, "matmul")))


def _map_indexed(x, fn) -> Tensor:
    return _repack([fn(c, i) for i, c in enumerate(components(x))], x._data.meta)


def _permute(op, args):
    x = args[0]
    meta, dims = x._data.meta, tuple(op.dims)
    if dims[0] != 0:
        raise RuntimeError("transpose(): not supported for nested tensors on the batch dim (dim 0)")
    inner = tuple(d - 1 for d in dims[1:])
    ragged = None if meta.layout is strided else dims.index(meta.ragged_idx)
    return _map(x, lambda c: c.permute(inner), ragged)


def _getitem(op, args):
    x = args[0]
    key = op.key if isinstance(op.key, tuple) else (op.key,)
    meta = x._data.meta
    if key and isinstance(key[0], int):
        part = components(x)[key[0]]
        return part[key[1:]] if len(key) > 1 else part
    if key and key[0] == slice(None) and all(isinstance(k, slice) for k in key):
        for d, k in enumerate(key[1:], start=1):
            if k != slice(None) and isinstance(tuple.__getitem__(meta.shape, d), RaggedDim):
                break
        else:
            return _map(x, lambda c: c[key[1:]])
    raise NotImplementedError(
        f"indexing a nested tensor with {op.key!r}: minigrad takes an int (a component) or "
        "slices of regular dims"
    )


def _clone(op, args):
    x = args[0]
    return make(buffer_of(x).clone(), x._data.meta)


def _to_device(op, args):
    x = args[0]
    return make(buffer_of(x).to(op.target), x._data.meta)


def _reshape(op, args):
    from ._functions import reshape

    return reshape(args[0], tuple(op.shape), strict=op.strict)


def _cat(op, args):
    if not all(_nt(a) for a in args):
        raise RuntimeError("cat(): expected all tensors to be nested, or all dense")
    meta = args[0]._data.meta
    if op.dim == 0:
        raise RuntimeError("cat(): not supported for NestedTensor on dim=0")
    if isinstance(tuple.__getitem__(meta.shape, op.dim), RaggedDim):
        raise RuntimeError(f"cat(): not supported for nested tensors along the ragged dim {op.dim}")
    for other in args[1:]:
        om = other._data.meta
        if len(om.sizes) != len(meta.sizes) or om.layout is not meta.layout:
            raise RuntimeError("cat(): expected nested tensors of one layout and batch size")
    parts = zip(*[components(a) for a in args])
    return _repack([Cat(op.dim - 1)(*group) for group in parts], meta)


def elementwise_classes() -> set:
    """The op classes that act on each element alone (their nested rule: on the buffer)."""
    found = set()
    for module in (unary, trig, elementwise, activation):
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, _base.Op)
                and value.__module__ == module.__name__
            ):
                found.add(value)
    return found


_base.nested_rules.update(dict.fromkeys(elementwise_classes(), _elementwise))
_base.nested_rules.update({
    SoftmaxOp: _softmax, LogSoftmaxOp: _softmax, Sum: _reduce, Amax: _reduce, Amin: _reduce,
    LogSumExp: _reduce, LayerNormOp: _layer_norm, LinearOp: _linear, MatMul: _matmul,
    Permute: _permute, GetItem: _getitem, Clone: _clone, ToDevice: _to_device,
    Reshape: _reshape, Cat: _cat,
})  # fmt: skip
