"""``associative_scan(combine_fn, xs, dim)``: the inclusive scan of a pytree of tensors with
an associative ``combine_fn``, in log-depth (``log2(n)`` rounds of combining halves), as
PyTorch's eager ``combine_mode="generic"`` runs it. Differentiable: it is made of tensor ops.
PyTorch's ``"pointwise"`` mode compiles a kernel for CUDA/XPU tensors; minigrad runs it as
``"generic"`` on a GPU too and refuses CPU tensors as PyTorch does."""

from __future__ import annotations

from .. import func
from ..ops.base import normalize_dim
from ..ops.joining import cat, stack
from ..tensor import Tensor
from ..utils import _pytree as pytree


def associative_scan(combine_fn, xs, dim: int, reverse: bool = False,
                     combine_mode: str = "pointwise"):  # fmt: skip
    """The running ``combine_fn`` of ``xs`` (a tensor or a pytree of tensors of one shape)
    along ``dim``: ``out[i] = xs[0] ⊕ xs[1] ⊕ ... ⊕ xs[i]`` (from the end with ``reverse``).
    ``combine_fn(left, right)`` takes and returns pytrees like ``xs`` without ``dim``; it is
    mapped over the scanned elements with :func:`minigrad.vmap`.

    Example:
        >>> associative_scan(lambda a, b: a + b, minigrad.arange(4.0), 0, combine_mode="generic")
        tensor([0., 1., 3., 6.])
    """
    leaves, spec = pytree.tree_flatten(xs)
    _check(combine_fn, leaves, dim, reverse, combine_mode)
    dim = normalize_dim(dim, leaves[0].ndim, "associative_scan")
    leaves = [x.movedim(dim, 0) for x in leaves]
    if reverse:
        leaves = [x.flip([0]) for x in leaves]
    in_dims = pytree.tree_unflatten([0] * len(leaves), spec)
    mapped = func.vmap(combine_fn, in_dims=(in_dims, in_dims), out_dims=0)

    def combine(left: list, right: list) -> list:
        out = mapped(pytree.tree_unflatten(left, spec), pytree.tree_unflatten(right, spec))
        return pytree.tree_flatten(out)[0]

    out = _scan(combine, leaves)
    if reverse:
        out = [x.flip([0]) for x in out]
    return pytree.tree_unflatten([x.movedim(0, dim) for x in out], spec)


def _scan(combine, leaves: list) -> list:
    """The inclusive scan along dim 0: combine neighbouring pairs, scan those (the results at
    odd positions), then combine each with the next even element (the even positions)."""
    n = leaves[0].shape[0]
    if n < 2:
        return leaves
    pairs = combine([x[0:-1:2] for x in leaves], [x[1::2] for x in leaves])
    odd = _scan(combine, pairs)
    evens_after = [x[2::2] for x in leaves]
    if evens_after[0].shape[0]:
        lead = [o[: e.shape[0]] for o, e in zip(odd, evens_after)]
        even = [cat([x[:1], y]) for x, y in zip(leaves, combine(lead, evens_after))]
    else:
        even = [x[:1] for x in leaves]
    return [_interleave(e, o) for e, o in zip(even, odd)]


def _interleave(even: Tensor, odd: Tensor) -> Tensor:
    """``even[0], odd[0], even[1], odd[1], ...`` along dim 0 (``even`` may be one longer)."""
    pairs = stack([even[: odd.shape[0]], odd], 1).flatten(0, 1)
    return cat([pairs, even[odd.shape[0] :]]) if even.shape[0] > odd.shape[0] else pairs


def _check(combine_fn, leaves, dim, reverse, combine_mode) -> None:
    """PyTorch's checks of the arguments, its exception types and words."""
    if not callable(combine_fn):
        raise ValueError(f"Combine_fn must be a callable, but got {combine_fn}")
    if not isinstance(dim, int):
        raise ValueError("Dim must be an int, but got " + str(type(dim)))
    if not isinstance(reverse, bool):
        raise RuntimeError("Reverse must be a bool, but got " + str(type(reverse)))
    if combine_mode not in ("pointwise", "generic"):
        raise ValueError(
            f"Combine_mode must either 'pointwise' or 'generic', but got {combine_mode}"
        )
    if not leaves:
        raise ValueError("Expected at least 1 xs leaf")
    if any(not isinstance(x, Tensor) for x in leaves):
        raise ValueError("xs leaves must be a Tensor")
    if combine_mode == "pointwise" and not all(x.device.type == "cuda" for x in leaves):
        raise ValueError(
            "For combine_mode='pointwise', all input tensors need to be on CUDA or XPU"
        )
    if any(x.is_sparse for x in leaves):
        raise ValueError("xs leaves must dense Tensors, consider using `to_dense()`")
    d = dim + leaves[0].ndim if dim < 0 else dim
    if any(x.ndim <= d or x.shape[d] == 0 for x in leaves):
        raise ValueError(
            "All xs leaves must at least have 'dim' number of dimensions and scan dimension > 0"
        )
