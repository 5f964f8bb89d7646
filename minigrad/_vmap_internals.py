"""``torch._vmap_internals``: PyTorch's legacy ``vmap`` (``_vmap``, which libraries such as
pytorch-minimize use to batch ``autograd.grad`` over the rows of an identity: a Hessian or a
Jacobian). It maps ``func`` over the batch dim one slice at a time and stacks the results, so
anything ``func`` does, ``autograd.grad`` included, works as unbatched."""

from __future__ import annotations

import functools

from ._warnings import warn_user
from .ops.joining import stack
from .tensor import Tensor


def _per_arg(dims, n: int, what: str, func) -> tuple:
    if isinstance(dims, int) or dims is None:
        return (dims,) * n
    if not isinstance(dims, tuple) or len(dims) != n:
        raise ValueError(
            f"vmap({_name(func)}, {what}={dims}, ...)(<inputs>): {what} must be an int or a "
            f"tuple of one entry per {'input' if what == 'in_dims' else 'output'} ({n})"
        )
    return dims


def _name(func) -> str:
    return getattr(func, "__name__", repr(func))


def _batch_size(args, in_dims, func) -> int:
    sizes = {a.shape[d] for a, d in zip(args, in_dims) if d is not None and isinstance(a, Tensor)}
    if len(sizes) != 1:
        raise ValueError(
            f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): Expected all tensors to "
            f"have the same size in the mapped dimension, got sizes {sorted(sizes)}"
            if sizes
            else f"vmap({_name(func)}, ...)(<inputs>): at least one input must be batched"
        )
    return sizes.pop()


def _vmap(func, in_dims=0, out_dims=0, allow_none_pass_through: bool = False):
    """``func`` mapped over dim ``in_dims`` of its inputs (None: not mapped), its outputs
    stacked along ``out_dims``; with ``allow_none_pass_through`` a None output stays None."""

    @functools.wraps(func)
    def wrapped(*args):
        dims = _per_arg(in_dims, len(args), "in_dims", func)
        size = _batch_size(args, dims, func)
        rows = [
            func(*(a if d is None else a.select(d, i) for a, d in zip(args, dims)))
            for i in range(size)
        ]
        single = not isinstance(rows[0], tuple)
        outs = list(zip(*[(r,) if single else r for r in rows]))
        placed = _per_arg(out_dims, len(outs), "out_dims", func)
        results = tuple(_stack(o, d, allow_none_pass_through, func) for o, d in zip(outs, placed))
        return results[0] if single else results

    return wrapped


def _stack(values, dim: int, allow_none: bool, func):
    if any(v is None for v in values):
        if allow_none and all(v is None for v in values):
            return None
        raise ValueError(
            f"vmap({_name(func)}, ...): `{_name(func)}` must only return Tensors, got type "
            "NoneType as a return."
        )
    if not all(isinstance(v, Tensor) for v in values):
        bad = next(type(v).__name__ for v in values if not isinstance(v, Tensor))
        raise ValueError(
            f"vmap({_name(func)}, ...): `{_name(func)}` must only return Tensors, got type "
            f"{bad} as a return."
        )
    return stack(list(values), dim)


def vmap(func, in_dims=0, out_dims=0):
    """Deprecated: ``torch.vmap`` (``minigrad.vmap``) is the one to use; this is :func:`_vmap`
    with PyTorch's warning."""
    warn_user("Please use `torch.vmap` instead of `torch._vmap_internals.vmap`.", FutureWarning)
    return _vmap(func, in_dims, out_dims)
