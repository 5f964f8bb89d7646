"""Products and statistics composed from primitives: ``addmv``, ``addr``, ``inner``, ``vdot``,
``dist``, ``cov``, ``corrcoef``, ``renorm``, ``logcumsumexp``, ``mode`` and
``unique_consecutive`` (the last two select values; ``mode``'s values carry the gradient)."""

from __future__ import annotations

import math

import numpy as np

from .. import _std_select, backend, dtypes, return_types
from .._warnings import warn_user
from ..autograd.graph import named_as, names_node
from .base import (
    accepts_axis,
    check_alpha,
    check_bool_arg,
    coefficient,
    constant,
    method_on_batched,
    normalize_dim,
    on_input_device,
    refuse_dtype,
)
from .complex import complex_not_implemented, refuse_complex
from .conj_view import conj
from .elementwise import where
from .joining import cat
from .linalg import matmul, outer
from .trig import logaddexp

ModeResult = return_types.mode


def _expect(t, ndim, op, name):
    if t.ndim != ndim:
        raise backend.DimensionError(
            f"{op}: {name} must be {ndim}-D, got {t.ndim}-D of shape {list(t.shape)}"
        )


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat @ vec)`` (``beta=0`` ignores ``input``, NaN included)."""
    _expect(mat, 2, "addmv", "mat")
    _expect(vec, 1, "addmv", "vec")
    return named_as(_scaled_sum(input, matmul(mat, vec), beta, alpha), "AddmvBackward0")


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """``beta * input + alpha * outer(vec1, vec2)``."""
    _expect(vec1, 1, "addr", "vec1")
    _expect(vec2, 1, "addr", "vec2")
    check_alpha(beta, "beta", input, vec1, vec2)  # (PyTorch checks addr's, not addmm's)
    check_alpha(alpha, "alpha", input, vec1, vec2)
    return named_as(_scaled_sum(input, outer(vec1, vec2), beta, alpha), "AddrBackward0")


def _scaled_sum(input, product, beta, alpha):
    alpha, beta = coefficient(alpha, input, product), coefficient(beta, input, product)
    product = product if alpha == 1 else alpha * product
    if beta == 0:
        return (product + input.new_zeros(()).expand(input.shape)).to(product.dtype)
    return (input if beta == 1 else beta * input) + product


def inner(input, other):
    """The sum over the last dims of ``input`` and ``other`` (scalars multiply)."""
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(
            f"inner() the last dimension must match on both input tensors but got shapes "
            f"{list(input.shape)} and {list(other.shape)}"
        )
    lead, k = input.shape[:-1], input.shape[-1]
    rows, columns = math.prod(lead), math.prod(other.shape[:-1])  # (-1 is ambiguous for k = 0)
    return matmul(input.reshape(rows, k), other.reshape(columns, k).mT).reshape(
        lead + other.shape[:-1]
    )


def vdot(input, other):
    """The dot product of two 1-D tensors, conjugating ``input`` (``Σ conj(a)·b``)."""
    _expect(input, 1, "vdot", "input")
    _expect(other, 1, "vdot", "other")
    if input.shape != other.shape:
        raise RuntimeError(
            f"vdot: inconsistent tensor size, expected tensor [{input.shape[0]}] and src "
            f"[{other.shape[0]}] to have the same number of elements"
        )
    return named_as(matmul(conj(input), other), "VdotBackward0")


@names_node("DistBackward0")
def dist(input, other, p=2):
    """The ``p``-norm of ``input - other`` (broadcast)."""
    return (input - other).norm(p)


@complex_not_implemented
@names_node("SqueezeBackward0")
def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in ``input``'s rows (observations in columns),
    with optional integer frequency and float observation weights, as ``torch.cov``."""
    if input.ndim > 2:
        raise RuntimeError(
            f"cov(): expected input to have two or fewer dimensions but got an input with {input.ndim} dimensions"
        )
    if input.dtype is dtypes.bool:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    if not x.dtype.is_floating_point:
        x = x.to(dtypes.get_default_dtype())
    n = x.shape[1]
    w = None
    if fweights is not None:
        if fweights.dtype.is_floating_point:
            raise RuntimeError("cov(): expected fweights to have integral dtype")
        w = fweights.to(x.dtype)
    if aweights is not None:
        if not aweights.dtype.is_floating_point:
            raise RuntimeError("cov(): expected aweights to have floating point dtype")
        w = aweights.to(x.dtype) if w is None else w * aweights.to(x.dtype)
    for name, weights in (("fweights", fweights), ("aweights", aweights)):
        if weights is not None and (weights.ndim > 1 or weights.numel() != n):
            raise RuntimeError(
                f"cov(): expected {name} to have one dimension of size {n}, got shape "
                f"{list(weights.shape)}"
            )
        if weights is not None and n and bool((weights < 0).any()):  # (a sync, as in PyTorch)
            raise RuntimeError(f"cov(): {name} cannot be negative")
    if w is None:
        total = x.new_tensor(float(n))
        avg = x.mean(1)
        norm = total - correction
    else:
        total = w.sum()
        if not total.item():  # (PyTorch checks it too: a sync)
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")
        avg = (x * w).sum(1) / total
        norm = total - (
            correction * (w * aweights).sum() / total if aweights is not None else correction
        )
    # (the weighted count is already on the host: its sum was checked above)
    if (n - correction if w is None else float(norm)) <= 0:
        warn_user(
            "cov(): degrees of freedom is <= 0. Correction should be strictly less than the "
            "number of observations."
        )
    norm = where(norm <= 0, 0.0, norm)
    centered = x - avg.unsqueeze(1)
    weighted = centered if w is None else centered * w
    c = matmul(weighted, centered.mT) / norm
    return c.squeeze()  # as PyTorch: one variable (a 1-row input too) gives a 0-d tensor


@complex_not_implemented
def corrcoef(input):
    """Pearson correlation coefficients of ``input``'s rows, clipped to [-1, 1]."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = c.diagonal()
    stddev = d.sqrt()
    c = c / stddev.unsqueeze(1) / stddev.unsqueeze(0)
    return c.clamp(-1, 1)


@names_node("RenormBackward0")
def renorm(input, p, dim, maxnorm):
    """Each sub-tensor along ``dim`` rescaled so that its ``p``-norm is at most ``maxnorm``
    (the factor ``maxnorm / (norm + 1e-7)``, as PyTorch, where the norm exceeds it)."""
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported (got p={p})")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if input.ndim < 2:
        raise RuntimeError(
            f"renorm: input needs at least 2 dimensions, got {input.ndim} dimensions"
        )
    d = normalize_dim(dim, input.ndim, "renorm")
    others = tuple(i for i in range(input.ndim) if i != d)
    norms = input.norm(p, dim=others, keepdim=True)
    factor = where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
    return input * factor  # PyTorch's renorm backward differentiates through the norm too


@accepts_axis
@names_node("LogcumsumexpBackward0")
def logcumsumexp(input, dim):
    """``log(cumsum(exp(input)))`` along ``dim``, computed stably (no overflow or underflow
    for any spread of values) as a log-space prefix scan: ``log2(n)`` rounds of ``logaddexp``
    with the values ``2^k`` places earlier."""
    d = normalize_dim(dim, input.ndim, "logcumsumexp")  # (0-d: dims 0 and -1 only)
    refuse_dtype(input.dtype, "logcumsumexp_out_cpu", "logcumsumexp")  # (after the dim's check)
    if input.ndim == 0:
        return input.clone()
    n = input.shape[d]
    out, step = input, 1
    while step < n:
        pad_shape = list(input.shape)
        pad_shape[d] = step
        earlier = cat([input.new_full(pad_shape, -math.inf), out.narrow(d, 0, n - step)], d)
        out, step = logaddexp(out, earlier), 2 * step
    return out if n > 1 else input.clone()


@accepts_axis
@method_on_batched
@on_input_device
@names_node("ModeBackward0")
def mode(input, dim=-1, keepdim=False):
    """``(values, indices)``: the most frequent value along ``dim`` (the smallest among equally
    frequent ones) and, on the CPU, the index of the occurrence PyTorch's CPU kernel returns
    (the one its sort leaves last, :mod:`minigrad._std_select`); on a GPU the last one."""
    refuse_complex(input, "mode")
    d = normalize_dim(dim, input.ndim, "mode") if input.ndim else 0
    if input.ndim and input.shape[d] == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    if not input.ndim:
        return ModeResult(input.clone(), input.new_zeros((), dtype=_long()))
    if input.device.type == "cpu":  # ties as PyTorch's CPU kernel leaves them
        found = backend.array_kernel(_std_select.mode_indices, input._data, d)
        index = constant(found, input.device).unsqueeze(d)
    else:
        index = _last_occurrence(input, d).unsqueeze(d)
    values = input.gather(d, index)
    if not keepdim:
        values, index = values.squeeze(d), index.squeeze(d)
    return ModeResult(values, index)


def _last_occurrence(input, d):
    """Per slice, the index of the last occurrence of its mode (the smallest of the most
    frequent values), computed on the device without host reads."""
    xp = input.device.xp
    data = xp.moveaxis(input._data, d, -1)
    rows = data.reshape(-1, data.shape[-1])
    n = rows.shape[-1]
    floating = rows.dtype.kind == "f"
    idx = []
    for row in rows:
        ordered = xp.sort(row)  # NaNs last, as searchsorted orders them
        counts = xp.searchsorted(ordered, ordered, "right") - xp.searchsorted(ordered, ordered)
        best = ordered[xp.argmax(counts)]  # the first of the most frequent: the smallest
        same = row == best
        if floating:
            same = same | (xp.isnan(row) & xp.isnan(best))
        idx.append(n - 1 - xp.argmax(same[::-1]))  # its last occurrence
    idx = (xp.stack(idx) if idx else xp.zeros(0, xp.int64)).reshape(data.shape[:-1])
    return constant(idx.astype(xp.int64), input.device)


def _long():
    from .. import dtypes

    return dtypes.int64


@on_input_device
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """``input`` with runs of equal consecutive values (or slices along ``dim``) collapsed to
    one; optionally the run each element belongs to and the run lengths (no gradient)."""
    check_bool_arg(return_inverse, "unique_consecutive", "return_inverse")
    check_bool_arg(return_counts, "unique_consecutive", "return_counts")
    if input.dtype.is_complex:
        raise NotImplementedError(
            f"\"unique\" not implemented for '{dtypes.scalar_type_name(input.dtype)}' "
            "(unique_consecutive takes real tensors, as in PyTorch)"
        )
    xp = input.device.xp
    data = input._data
    if dim is None:
        flat = data.reshape(-1)
        starts = xp.ones(flat.shape[0], dtype=bool)
        starts[1:] = flat[1:] != flat[:-1]
        values = flat[starts]
        inverse_shape = data.shape
    else:
        d = normalize_dim(dim, input.ndim, "unique_consecutive")
        moved = xp.moveaxis(data, d, 0)
        rows = moved.reshape(moved.shape[0], -1)
        starts = xp.ones(rows.shape[0], dtype=bool)
        starts[1:] = (rows[1:] != rows[:-1]).any(axis=1)
        values = xp.moveaxis(moved[starts], 0, d)
        inverse_shape = (data.shape[d],)
    run = xp.cumsum(starts) - 1
    out = [constant(xp.ascontiguousarray(values), input.device)]
    if return_inverse:
        out.append(constant(run.reshape(inverse_shape).astype(np.int64), input.device))
    if return_counts:
        positions = xp.flatnonzero(starts)
        ends = xp.concatenate([positions[1:], xp.asarray([starts.shape[0]])])
        out.append(constant((ends - positions).astype(np.int64), input.device))
    return out[0] if len(out) == 1 else tuple(out)
