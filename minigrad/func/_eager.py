"""``torch.func`` transforms whose eager meaning is simple: ``linearize`` (the output and a
function computing Jacobian-vector products at the primals), ``functionalize`` (a function
without in-place mutation: minigrad runs programs eagerly, so the function itself already
computes what its functionalized form would), and ``replace_all_batch_norm_modules_``."""

from __future__ import annotations

import functools

from ..autograd import graph
from ..nn.modules.batchnorm import _BatchNorm
from ._pytree import tree_flatten
from ._transforms import jvp


def _check_tangents(primals: tuple, tangents: tuple) -> None:
    flat_p, spec = tree_flatten(primals)
    flat_t, t_spec = tree_flatten(tangents)
    if t_spec != spec or len(flat_t) != len(flat_p):
        raise RuntimeError(
            f"Expected the tangents {t_spec} to have the same argspec as the primals {spec}"
        )
    for i, (p, t) in enumerate(zip(flat_p, flat_t)):
        if not isinstance(t, graph.Tensor):
            raise RuntimeError(f"tangent:{i} must be a Tensor, got {type(t).__name__}")
        if tuple(t.shape) != tuple(p.shape):
            raise RuntimeError(
                f"tangent:{i} with shape {t.shape} in flattened pytree doesn't match the shape "
                f"{p.shape} of the corresponding primal."
            )
        if t.dtype is not p.dtype:
            raise RuntimeError(
                f"tangent:{i} with dtype {t.dtype} in flattened pytree doesn't match the dtype "
                f"{p.dtype} of the corresponding primal."
            )


def linearize(func, *primals):
    """``(func(*primals), jvp_fn)``, where ``jvp_fn(*tangents)`` is the Jacobian of ``func``
    at ``primals`` applied to ``tangents`` (of the primals' structure, shapes and dtypes).

    PyTorch traces ``func`` once; here ``jvp_fn`` reruns it in forward mode at each call
    (same values).

    Example:
        >>> out, jvp_fn = minigrad.func.linearize(minigrad.sin, x)
        >>> jvp_fn(minigrad.ones_like(x))   # cos(x)
    """
    output = func(*primals)

    def jvp_fn(*tangents):
        _check_tangents(primals, tangents)
        return jvp(func, primals, tangents)[1]

    return output, jvp_fn


_REMOVE = ("mutations", "mutations_and_views")


def functionalize(func, *, remove: str = "mutations"):
    """``func`` with its mutations (and with ``remove="mutations_and_views"`` its views)
    replaced by out-of-place operations. minigrad runs eagerly and its ops compute the same
    values either way, so the result calls ``func`` itself; inputs that ``func`` mutates are
    mutated, as they are by PyTorch's functionalized function."""
    if remove not in _REMOVE:
        raise RuntimeError(
            f"functionalize(f, remove='mutations'): received invalid argument for "
            f"remove={remove}. Valid options are: 'mutations', 'mutations_and_views'"
        )

    @functools.wraps(func)
    def functionalized(*args, **kwargs):
        return func(*args, **kwargs)

    return functionalized


def replace_all_batch_norm_modules_(root):
    """Stop every batch norm in ``root`` (recursively) from tracking running statistics, in
    place (their running buffers become None), so that it can run under ``vmap``; returns
    ``root``."""
    for module in root.modules():
        if isinstance(module, _BatchNorm):
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root
