"""vmap's batching rules: how each op treats a batch dim in front of its inputs.

``batched_call(op, args, level)`` runs ``op`` on arguments some of which are batched at
``level``: it unwraps them (their batch is dim 0 of the unwrapped value), asks the op's rule for
the result with the batch in front, and wraps that again. Rules call ops on the unwrapped
values, so lower vmap levels (nested vmap) are handled by the same code one level down.

Rules by family:
    elementwise (unary, binary, where, casts, activations, clone, tril/triu, pad, attention):
        pad each batched input with 1s after its batch dim to the widest sample rank; the op's
        own broadcasting does the rest;
    dims (sum, amax, softmax, cumsum, cumprod, flip, permute, cat, gather, norms, Fourier
        transforms): dims shifted by one;
    scatters (scatter, scatter_add, scatter_reduce): the index broadcast over the batch;
    shapes (reshape, expand, sum_to_size, indexing): the batch size put in front;
    matmul, einsum and linear algebra (solve, cholesky, the packed decompositions): the batch
        is one more leading (batch) dim of theirs;
    layers and losses (linear, convolution, pooling, ...): in ``_nn_rules``.
Ops with no rule fall back to a loop over the batch with a one-time warning naming the op (as
PyTorch's vmap does for its fallback); the loop is correct but slow.
"""

from __future__ import annotations

import copy

import numpy as np

from .._warnings import warn_user_once
from ..autograd import graph
from ._batched import BatchedTensor, LogicalArray, make_batched
from ._dispatch import op_name

RULES: dict = {}


def rule(*names):
    def register(fn):
        for n in names:
            RULES[n] = fn
        return fn

    return register


def unwrap_level(args, level: int):
    """The values under vmap ``level`` (batched ones unwrapped), which of them are batched, and
    the batch size."""
    vals, flags, size = [], [], None
    for a in args:
        if type(a) is BatchedTensor and a._level == level:
            vals.append(a._value)
            flags.append(True)
            size = a._value.shape[0]
        else:
            vals.append(a)
            flags.append(False)
    return vals, flags, size


def batched_call(op, args, level: int):
    vals, flags, size = unwrap_level(args, level)
    held = _held_indices(op)  # per-sample indices (gather, scatter, indexing, embedding)
    for index in held:
        if index.tensor._level == level:
            size = index.tensor._value.shape[0]
    nested = any(index.tensor._level != level or type(index.tensor._value) is BatchedTensor
                 for index in held)  # fmt: skip
    if nested and op_name(type(op)) == "GetItem":
        return make_batched(_getitem_levels(op, vals, flags, size, level), level)
    if nested:  # gather, scatter, index_select, embedding: sample by sample at this level
        return make_batched(_nested_samples(op, vals, flags, size, level), level)
    fn = RULES.get(op_name(type(op)), _fallback)
    return make_batched(fn(op, vals, flags, size), level)


def _held_indices(op) -> list:
    """The batched index arrays an op holds: its ``index`` (gather, scatter), ``indices``
    (embedding) or the arrays of its ``key`` (indexing)."""
    found = []
    for name in ("index", "indices", "key"):
        value = getattr(op, name, None)
        if type(value) is LogicalArray:
            found.append(value)
        elif type(value) is tuple:
            found.extend(k for k in value if type(k) is LogicalArray)
    return found


def index_level(op) -> int:
    """The vmap level of the batched index arrays an op holds (gather and scatter with a batched
    index tensor, indexing, embedding), or -1: such an op needs its batching rule even with no
    batched input."""
    return max((index.tensor._level for index in _held_indices(op)), default=-1)


def _tensor(x) -> bool:
    return isinstance(x, graph.Tensor)


def _sample_ndim(v, batched: bool) -> int:
    return v.ndim - 1 if batched else v.ndim


def _pad_to(v, ndim: int):
    """A batched value (batch, *s) reshaped to (batch, 1, ..., 1, *s) with ``ndim`` sample dims."""
    missing = ndim - (v.ndim - 1)
    if missing <= 0:
        return v
    return v.reshape((v.shape[0],) + (1,) * missing + tuple(v.shape[1:]))


def _align(vals, flags):
    ndim = max((_sample_ndim(v, f) for v, f in zip(vals, flags) if _tensor(v)), default=0)
    return [_pad_to(v, ndim) if f else v for v, f in zip(vals, flags)]


def _expanded(v, batched: bool, size: int):
    """``v`` with the batch in front: unbatched values are expanded (a view, no copy)."""
    return v if batched else v.expand((size,) + tuple(v.shape))


def _with(op, **attrs):
    """``op`` with some settings changed for the batch. The op itself is changed, not a copy:
    callers may read what its forward stored (``stash``, ``argmax``) after the call."""
    for k, val in attrs.items():
        setattr(op, k, val)
    return op


# -- elementwise -----------------------------------------------------------------------------
@rule(
    "Add", "Sub", "Mul", "Div", "Neg", "Pow", "FloorDivide", "TruncDivide", "Remainder", "Maximum",
    "Minimum",
    "Where", "Cast", "Compare", "Exp", "Log", "Log1p", "Expm1", "Sqrt", "Rsqrt", "Abs", "Sin",
    "Cos", "Tan", "Tanh", "Erf", "Clamp", "Logit", "_ZeroGrad", "Sign", "Round", "Floor", "Ceil",
    "Trunc",
    "Sigmoid", "ReLU", "LeakyReLU", "ELU", "Hardsigmoid", "GELU", "SiLU", "Softplus", "Clone", "Tril", "Triu",
    "Pad", "ToDevice", "ScaledDotProductAttention", "AttentionWeights", "BinaryCrossEntropy",
    "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Log2", "Log10", "Exp2",
    "Atan2", "Hypot", "LogAddExp", "LogAddExp2", "Xlogy", "Copysign", "Fmod",
    "FakeQuantizePerTensorAffine",
    # -- branch special
    "Lgamma", "Digamma", "Polygamma", "Erfc", "Erfcx", "Erfinv", "Ndtr", "Ndtri", "LogNdtr", "I0",
    "I0e", "I1", "I1e", "Sinc", "Entr", "Xlog1py", "_Special",
    # -- branch special2
    "BesselJ0", "BesselJ1", "BesselY0", "BesselY1", "ModifiedBesselK0", "ModifiedBesselK1",
    "ScaledModifiedBesselK0", "ScaledModifiedBesselK1", "SphericalBesselJ0", "SphericalBesselJ1",
    "AiryAi", "AiryAiPrime", "OrthogonalPolynomial", "Igamma", "Igammac", "Zeta", "_Bessel",
    "_IncompleteGamma",
    # -- complex numbers
    "Real", "Imag", "Conj", "ConjView", "Angle", "ViewAsReal", "ViewAsComplex", "Complex", "Polar",
    # -- autograd's own; index_copy's fixed mask of kept writes (broadcasts over the batch)
    "FirstOrderOnly", "LastWrites",
)  # fmt: skip
def _elementwise(op, vals, flags, size):
    return op(*_align(vals, flags))


@rule("ZeroLink", "NoDerivative")
def _joined(op, vals, flags, size):
    a, *inputs = vals  # (the inputs only join the graph: their shapes never meet a's)
    return op(a if flags[0] else a.expand(size, *a.shape), *inputs)


@rule("BinaryCrossEntropyWithLogits")
def _bce_with_logits(op, vals, flags, size):
    reduction = op.reduction
    loss = _with(op, reduction="none")(*_align(vals, flags))  # then reduced per sample
    dims = tuple(range(1, loss.ndim))
    if reduction == "none" or not dims:  # (0-d samples: each loss is its own reduction)
        return loss
    return loss.sum(dims) if reduction == "sum" else loss.mean(dims)


# -- dims ------------------------------------------------------------------------------------
@rule("Sum", "Amax", "Amin", "LogSumExp", "Norm2", "Flip", "FFT", "RFFT", "IRFFT")
def _dims(op, vals, flags, size):
    return _with(op, dims=tuple(d + 1 for d in op.dims))(*vals)


@rule("Cumsum", "Cumprod", "Softmax", "LogSoftmax")
def _dim(op, vals, flags, size):
    (v,) = vals
    if v.ndim == 1:  # 0-d samples: along a dim of one, then back
        return _with(op, dim=1)(v.unsqueeze(1)).reshape((size,))
    return _with(op, dim=op.dim + 1)(v)


@rule("Prod")
def _prod(op, vals, flags, size):
    (v,) = vals
    if op.dim is not None and v.ndim == 1:  # 0-d samples: along a dim of one, then back
        out = _with(op, dim=1)(v.unsqueeze(1))
        return out if op.keepdim else out.reshape((size,))
    if op.dim is not None:
        return _with(op, dim=op.dim + 1)(v)
    flat = _with(op, dim=1, keepdim=op.keepdim)(v.reshape(size, -1))
    return flat.reshape((size,) + (1,) * (v.ndim - 1)) if op.keepdim else flat


@rule("Permute")
def _permute(op, vals, flags, size):
    return _with(op, dims=(0,) + tuple(d + 1 for d in op.dims))(*vals)


@rule("Diagonal")
def _diagonal(op, vals, flags, size):
    return _with(op, d1=op.d1 + 1, d2=op.d2 + 1)(*vals)


@rule("UnfoldWindows")
def _unfold(op, vals, flags, size):
    (v,) = vals
    if v.ndim == 1:  # 0-d samples: one window of the one element, along a dim of one
        return _with(op, d=1)(v.unsqueeze(1)).reshape((size, op.size))
    return _with(op, d=op.d + 1)(v)


@rule("Cat")
def _cat(op, vals, flags, size):
    full = [_expanded(v, f, size) for v, f in zip(vals, flags)]
    ranks = {v.ndim for v in full if tuple(v.shape[1:]) != (0,)}
    if ranks and max(ranks) > 2:  # legacy: 1-D empty tensors are skipped next to others
        full = [v for v in full if tuple(v.shape[1:]) != (0,)]
    return _with(op, dim=op.dim + 1)(*full)


@rule("Gather")
def _gather(op, vals, flags, size):
    (v,) = vals
    index = op.index
    if isinstance(index, LogicalArray):  # a batched index: its physical array has the batch
        index = _array_of(index)
        v = _expanded(v, flags[0], size)
    elif flags[0]:  # one index for every sample: a broadcast view, no copy
        index = v.device.xp.broadcast_to(index, (size,) + tuple(index.shape))
    else:
        return op(v)
    return _with(op, dim=op.dim + 1, index=index)(v)


@rule("Scatter", "ScatterAdd", "ScatterExtreme", "ScatterProd")
def _scatter(op, vals, flags, size):
    """Writes at ``index`` along ``dim``: base and src get the batch in front, and the index is
    broadcast over it (a view) or, when it is batched itself, used as its batch holds it."""
    base, src = vals
    index = op.index
    if isinstance(index, LogicalArray):
        index = _array_of(index)
    elif not any(flags):
        return op(base, src)
    elif index.ndim == 0:  # 0-d samples: the index addresses the only place
        return _fallback(op, vals, flags, size)
    else:
        index = base.device.xp.broadcast_to(index, (size,) + tuple(index.shape))
    base, src = _expanded(base, flags[0], size), _expanded(src, flags[1], size)
    return _with(op, dim=op.dim + 1, index=index)(base, src)


def _array_of(logical: LogicalArray):
    t = logical.tensor
    if type(t._value) is BatchedTensor:
        raise NotImplementedError("vmap: batched index arrays inside nested vmap")
    return t._value._data


# -- shapes ----------------------------------------------------------------------------------
@rule("Reshape")
def _reshape(op, vals, flags, size):
    return _with(op, shape=(size,) + tuple(op.shape))(*vals)


@rule("Expand")
def _expand(op, vals, flags, size):
    (v,) = vals
    shape = tuple(op.shape)
    v = _pad_to(v, len(shape))
    return _with(op, shape=(size,) + shape)(v)


@rule("SumToSize")
def _sum_to_size(op, vals, flags, size):
    (v,) = vals
    shape = tuple(op.shape)
    target = (1,) * (v.ndim - 1 - len(shape)) + shape
    out = _with(op, shape=(size,) + target)(v)
    return out.reshape((size,) + shape) if len(target) != len(shape) else out


def _is_array_index(k) -> bool:
    return hasattr(k, "shape") and not isinstance(k, (int, np.integer))


@rule("GetItem")
def _getitem(op, vals, flags, size):
    key = op.key
    if any(isinstance(k, LogicalArray) for k in key):
        return _getitem_batched_index(op, vals, flags, size)
    arrays = [i for i, k in enumerate(key) if _is_array_index(k)]
    if arrays:  # with arrays present, ints are advanced indices too
        arrays = [i for i, k in enumerate(key) if _is_array_index(k) or isinstance(k, int)]
    if arrays and arrays != list(range(arrays[0], arrays[-1] + 1)):
        return _getitem_batched_index(op, vals, flags, size)  # NumPy moves the index dims
    new = _with(op, key=(slice(None),) + tuple(key))
    return new(*vals)


def _getitem_batched_index(op, vals, flags, size):
    """Indexing with per-sample index arrays: one more advanced index, ``arange(batch)``, in
    front (see :func:`_batch_key`)."""
    v = _expanded(vals[0], flags[0], size)
    key, rank, before = _batch_key(op.key, size, v.device.xp, v.ndim - 1)
    out = _with(op, key=key)(v)
    if not before:
        return out
    moved = tuple(range(1, 1 + rank))  # the index dims, after the batch
    return out.movedim(moved, tuple(d + before for d in moved))


def _batch_key(key, size: int, xp, ndim: int):
    """An advanced-indexing key of one sample (``ndim`` dims) for the batch: ``arange(batch)``
    in front, per-sample index arrays as their batch holds them, all padded to the common rank
    after the batch dim. Returns the key, that rank, and where the sample's index dims were
    (``before``: how many sliced dims precede them) when NumPy puts them in front for the batch
    but not for one sample (0 when nothing moves)."""
    rank = max(k.ndim for k in key if _is_array_index(k))
    new = []
    for k in key:
        if isinstance(k, LogicalArray):
            k = _array_of(k)
            k = k.reshape((size,) + (1,) * (rank - (k.ndim - 1)) + tuple(k.shape[1:]))
        new.append(k)
    batch = xp.arange(size).reshape((size,) + (1,) * rank)
    adv = [i for i, k in enumerate(key) if _is_array_index(k) or isinstance(k, int)]
    together = adv == list(range(adv[0], adv[-1] + 1))
    before = _dims_before(key, adv[0], ndim) if together else 0
    return (batch,) + tuple(new), rank, before


def _getitem_levels(op, vals, flags, size: int, level: int):
    """Indexing under nested vmap with index arrays batched at other levels (or at several):
    ``padding_mask[batch_idx, kv_idx]`` with each index from its own vmap, as transformers'
    mask functions. At ``level`` the indices batched there give their batch in front, the
    others (batched at outer levels only) broadcast over it; the key, ``arange(batch)`` in
    front, is applied as index tensors, so each outer level's rule runs in turn on what is
    still batched (the input, those indices)."""
    v = _expanded(vals[0], flags[0], size)
    rank = max(k.ndim for k in op.key if _is_array_index(k))
    key = []
    for k in op.key:
        if isinstance(k, LogicalArray):
            t = k.tensor
            if t._level == level:  # its batch in front, samples padded to the common rank
                t = t._value
                t = t.reshape((size,) + (1,) * (rank - (t.ndim - 1)) + tuple(t.shape[1:]))
            else:  # the same for every sample of this level: broadcast over its batch
                t = t.reshape((1,) * (1 + rank - t.ndim) + tuple(t.shape))
            k = t
        key.append(k)
    batch = graph.Tensor._make(v.device.xp.arange(size).reshape((size,) + (1,) * rank), v.device)
    adv = [i for i, k in enumerate(op.key) if _is_array_index(k) or isinstance(k, int)]
    together = adv == list(range(adv[0], adv[-1] + 1))
    before = _dims_before(op.key, adv[0], v.ndim - 1) if together else 0
    out = v[(batch, *key)]
    if not before:
        return out
    moved = tuple(range(1, 1 + rank))  # the index dims, after the batch
    return out.movedim(moved, tuple(d + before for d in moved))


@rule("IndexAdd")
def _index_add(op, vals, flags, size):
    """The backward of indexing (and index_add): zeros of the batch's shape, the values added
    at the batched key (the value's index dims moved to where NumPy expects them)."""
    v = _expanded(vals[0], flags[0], size)
    shape = (size,) + tuple(op.shape)
    if op.basic:  # slices and ints: the batch is one more leading slice
        return _with(op, shape=shape, key=(slice(None),) + tuple(op.key))(v)
    key, rank, before = _batch_key(op.key, size, v.device.xp, len(op.shape))
    if before:
        moved = tuple(range(1, 1 + rank))
        v = v.movedim(tuple(d + before for d in moved), moved)
    return _with(op, shape=shape, key=key)(v)


def _dims_before(key, first: int, ndim: int) -> int:
    """How many result dims the entries of ``key`` before position ``first`` give."""
    used = sum(1 for k in key if k is not None and k is not Ellipsis)
    count = 0
    for k in key[:first]:
        if k is Ellipsis:
            count += ndim - used
        else:
            count += 1  # a slice or None (ints before an array are advanced indices)
    return count


# -- linear algebra ------------------------------------------------------------------------
# These work on the last two dims and take any leading (batch) dims, so the vmap batch is one
# more: Solve broadcasts its operands as the elementwise ops do, Cholesky runs as it is.
RULES["Solve"] = _elementwise


@rule("AsStrided")
def _as_strided(op, vals, flags, size):
    raise NotImplementedError(
        "vmap: as_strided reads its input's memory layout, which one sample of a batch does not "
        "have alone"
    )


@rule(
    "SparseCooTensor", "SparseValues", "SparseMM",
    # -- branch sparse2: the compressed layouts
    "SparseCompressedTensor", "CompressedValues", "CompressedMM", "CompressedTranspose",
    "DenseCompressedMM", "BlockProduct",
)  # fmt: skip
def _sparse(op, vals, flags, size):
    raise NotImplementedError(
        f"vmap: sparse tensors are not supported ({op_name(type(op))}); vmap over dense "
        "tensors (to_dense() inside the function)"
    )


# -- branch quant: fake quantization (per-tensor settings are elementwise, see above)
@rule(
    "FakeQuantizePerChannelAffine", "FakeQuantizeLearnablePerTensorAffine",
    "FakeQuantizeLearnablePerChannelAffine",
)  # fmt: skip
def _fake_quantize(op, vals, flags, size):
    x, *params = vals
    if any(flags[1:]):
        raise NotImplementedError(
            f"vmap: {op_name(type(op))} with a batched scale or zero point (one set of "
            "quantization parameters per sample) is not supported"
        )
    x = _expanded(x, flags[0], size)
    if op.axis is not None:  # the channel axis of a sample is one further on in the batch
        _with(op, axis=op.axis % (x.ndim - 1) + 1)
    return op(x, *params)


@rule("NestedFromBuffer", "NestedBuffer")
def _nested(op, vals, flags, size):
    raise NotImplementedError(
        f"vmap: nested tensors are not supported ({op_name(type(op))}); a nested tensor is a "
        "batch already: apply the function to it, or vmap over dense tensors"
    )


@rule("Cholesky", "Det")
def _leading(op, vals, flags, size):
    return op(*vals)


@rule("Slogdet", "Eigh", "Eig", "SVD", "QR", "LUFactor", "LOBPCG")
def _packed(op, vals, flags, size):
    """Decompositions packing several results per matrix: a copy of the op runs on the batch
    (and becomes the graph node, whose backward unpacks batched arrays); the caller's op is told
    one sample's layout, as the caller unpacks the batched (one-sample-looking) result."""
    node = copy.copy(op)
    out = node(*vals)
    op.batch, op.parts = node.batch[1:], node.parts
    return out


# -- matrix products -------------------------------------------------------------------------
@rule("MatMul")
def _matmul(op, vals, flags, size):
    a, b = vals
    fa, fb = flags
    na, nb = _sample_ndim(a, fa), _sample_ndim(b, fb)
    if na == 0 or nb == 0:
        return _fallback(op, vals, flags, size)
    # vectors become matrices (a row on the left, a column on the right), then batch dims align
    if na == 1:
        a = a.unsqueeze(1 if fa else 0)
    if nb == 1:
        b = b.unsqueeze(-1)
    ma, mb = max(na, 2), max(nb, 2)
    rank = max(ma, mb)
    if fa:
        a = _pad_to(a, rank)
    if fb:
        b = _pad_to(b, rank)
    # an unbatched side has at most ``rank`` dims: NumPy aligns it to the right, clear of the batch
    out = op(a, b)
    if nb == 1:
        out = out.squeeze(-1)
    if na == 1:
        out = out.squeeze(-1 if nb == 1 else -2)
    return out


@rule("Einsum")
def _einsum(op, vals, flags, size):
    used = set("".join(op.inputs) + op.output)
    letter = next(
        c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA" if c not in used
    )
    inputs = [letter + s if f else s for s, f in zip(op.inputs, flags)]
    return _with(op, inputs=inputs, output=letter + op.output)(*vals)


# -- the fallback ----------------------------------------------------------------------------
def warn_slow(what: str) -> None:
    """Warn once per ``what`` (an op, a custom Function) that vmap loops over the batch."""
    warn_user_once(
        ("vmap fallback", what),
        f"vmap: there is a performance drop because {what}; falling back to a loop over the batch",
    )


def _fallback(op, vals, flags, size):
    warn_slow(f"there is no batching rule for {op_name(type(op))}")
    outs = []
    for i in range(size):
        sample = [v[i] if f else v for v, f in zip(vals, flags)]
        new = copy.copy(op)  # one node per sample
        for k, v in vars(op).items():
            if isinstance(v, LogicalArray):
                setattr(new, k, _array_of(v)[i])
            elif isinstance(v, tuple) and any(isinstance(e, LogicalArray) for e in v):
                setattr(
                    new, k, tuple(_array_of(e)[i] if isinstance(e, LogicalArray) else e for e in v)
                )
        outs.append(new(*sample))
    return stack_samples(outs)


def _nested_samples(op, vals, flags, size: int, level: int):
    """An op holding index arrays batched at other levels of a nested vmap (or at several),
    one sample of ``level`` at a time: an index batched at ``level`` gives its sample (still
    batched at the outer levels it has), one batched only at outer levels stays as it is, and
    each call then batches over the outer levels by their own rules."""

    def sample_of(e, i):
        if not isinstance(e, LogicalArray) or e.tensor._level != level:
            return e
        return e.tensor._value[i]._data

    outs = []
    for i in range(size):
        new = copy.copy(op)  # one node per sample
        for k, v in vars(op).items():
            if isinstance(v, LogicalArray):
                setattr(new, k, sample_of(v, i))
            elif isinstance(v, tuple) and any(isinstance(e, LogicalArray) for e in v):
                setattr(new, k, tuple(sample_of(e, i) for e in v))
        outs.append(new(*[v[i] if f else v for v, f in zip(vals, flags)]))
    return stack_samples(outs)


def stack_samples(outs):
    """The outputs of a loop over the batch, stacked along a new batch dim in front."""
    from ..ops.joining import stack

    return stack(outs, 0)


from . import _nn_rules  # noqa: E402, F401 - registers the rules of layers and losses
