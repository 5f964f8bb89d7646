"""Masks for :func:`flex_attention`: ``mask_mod``/``score_mod`` evaluated on broadcast index
grids, and the mask combinators.

A ``mask_mod(b, h, q_idx, kv_idx)`` is written with tensor ops on int64 index tensors; minigrad
calls it once with ``b`` of shape (B, 1, 1, 1), ``h`` (1, H, 1, 1), ``q_idx`` (1, 1, Q, 1) and
``kv_idx`` (1, 1, 1, KV), so its result broadcasts to the (B, H, Q, KV) mask (PyTorch gets the
same values by ``vmap``-ing it over scalars).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from ... import creation, dtypes
from ...autograd import no_grad
from ...tensor import Tensor

__all__ = [
    "_mask_mod_signature",
    "_score_mod_signature",
    "and_masks",
    "create_mask",
    "noop_mask",
    "or_masks",
]

_mask_mod_signature = Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]
_score_mod_signature = Callable[[Tensor, Tensor, Tensor, Tensor, Tensor], Tensor]


def noop_mask(b, h, q_idx, kv_idx):
    """The mask_mod that allows every (query, key) pair: a 0-dim True."""
    return creation.ones((), dtype=dtypes.bool, device=b.device)


def and_masks(*mask_mods):
    """A mask_mod allowing a pair where every one of ``mask_mods`` allows it.

    Example:
        >>> causal_window = and_masks(causal, lambda b, h, q, kv: q - kv <= 256)
    """
    if not all(callable(m) for m in mask_mods):
        raise RuntimeError(f"and_masks: all inputs must be callable, got {mask_mods}")

    def combined(b, h, q_idx, kv_idx):
        out = noop_mask(b, h, q_idx, kv_idx)
        for mod in mask_mods:
            out = out & _as_bool(mod(b, h, q_idx, kv_idx), b, "and_masks")
        return out

    return combined


def or_masks(*mask_mods):
    """A mask_mod allowing a pair where any one of ``mask_mods`` allows it.

    Example:
        >>> prefix_lm = or_masks(causal, lambda b, h, q, kv: kv < prefix_len)
    """
    if not all(callable(m) for m in mask_mods):
        raise RuntimeError(f"or_masks: all inputs must be callable, got {mask_mods}")

    def combined(b, h, q_idx, kv_idx):
        out = ~noop_mask(b, h, q_idx, kv_idx)
        for mod in mask_mods:
            out = out | _as_bool(mod(b, h, q_idx, kv_idx), b, "or_masks")
        return out

    return combined


def _as_bool(out, like, name: str):
    """A mask_mod's result as a bool tensor (a Python bool is taken as a 0-dim one)."""
    if isinstance(out, bool):
        return creation.full((), out, dtype=dtypes.bool, device=like.device)
    if not isinstance(out, Tensor) or out.dtype is not dtypes.bool:
        kind = out.dtype if isinstance(out, Tensor) else type(out).__name__
        raise TypeError(f"{name}: a mask_mod must return a bool tensor, got {kind}")
    return out


def index_grids(nb: int, nh: int, nq: int, nkv: int, device, q_offset: int = 0):
    """int64 index tensors b (nb,1,1,1), h (1,nh,1,1), q_idx (1,1,nq,1), kv_idx (1,1,1,nkv);
    q_idx counts from ``q_offset`` (a chunk of the queries)."""
    sizes = (nb, nh, nq, nkv)
    grids = []
    for dim, n in enumerate(sizes):
        shape = [1, 1, 1, 1]
        shape[dim] = n
        start = q_offset if dim == 2 else 0
        grids.append(creation.arange(start, start + n, device=device).reshape(*shape))
    return grids


def mod_arity(fn) -> int:
    """How many positional parameters without defaults ``fn`` takes (4: mask_mod, 5: score)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return -1
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in params if p.kind in kinds and p.default is inspect.Parameter.empty)


def eval_mask_mod(mask_mod, nb: int, nh: int, nq: int, nkv: int, device, q_offset=0) -> Tensor:
    """``mask_mod`` on the index grids, broadcast to a (nb, nh, nq, nkv) bool tensor."""
    with no_grad():
        grids = index_grids(nb, nh, nq, nkv, device, q_offset)
        out = _as_bool(mask_mod(*grids), creation.zeros(()), "mask_mod")
        return _expand(out, (nb, nh, nq, nkv), "mask_mod")


def _expand(out: Tensor, shape: tuple, name: str) -> Tensor:
    try:
        return out.expand(*shape) if tuple(out.shape) != shape else out
    except (RuntimeError, ValueError) as e:
        raise RuntimeError(
            f"{name}: its result of shape {list(out.shape)} does not broadcast to (B, H, Q_LEN, "
            f"KV_LEN) = {list(shape)}"
        ) from e


def create_mask(
    mod_fn,
    B: int | None,  # noqa: N803 - PyTorch's names
    H: int | None,  # noqa: N803
    Q_LEN: int,  # noqa: N803
    KV_LEN: int,  # noqa: N803
    device=None,
):
    """The dense (B, H, Q_LEN, KV_LEN) bool mask of a mask_mod, or of a score_mod (True where
    the modified score of a zero score is not -inf).

    Example:
        >>> create_mask(lambda b, h, q, kv: q >= kv, 1, 1, 3, 3)[0, 0]
        tensor([[ True, False, False], [ True,  True, False], [ True,  True,  True]])
    """
    nb, nh = B or 1, H or 1
    arity = mod_arity(mod_fn)
    if arity == 4:
        return eval_mask_mod(mod_fn, nb, nh, Q_LEN, KV_LEN, device)
    if arity != 5:
        raise ValueError(
            f"create_mask: mod_fn must take (b, h, q_idx, kv_idx) or (score, b, h, q_idx, "
            f"kv_idx), got {mod_fn} with {arity} positional parameters"
        )
    with no_grad():
        score = creation.zeros(nb, nh, Q_LEN, KV_LEN, device=device)
        out = mod_fn(score, *index_grids(nb, nh, Q_LEN, KV_LEN, device))
        return _expand(out != float("-inf"), (nb, nh, Q_LEN, KV_LEN), "score_mod")
