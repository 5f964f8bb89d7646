"""DTensor sharding rules for tensor parallelism: ``linear`` and ``embedding`` on a 1-d mesh
with the placements of PyTorch's ``ColwiseParallel`` / ``RowwiseParallel``, and the norms of
``SequenceParallel`` (``layer_norm``, ``rms_norm`` on sequence shards) (registered in
``_api._SHARDING_RULES``; each rule gives the output's placements, its global shape, the
replicated operands whose gradient is summed over the ranks, and the local computation)."""

from __future__ import annotations

from .placement_types import Partial, Replicate, Shard


def _one_dim_mesh(*dts) -> bool:
    mesh = dts[0]._mesh
    return mesh.ndim == 1 and all(d._mesh == mesh for d in dts)


def linear_rule(args, kwargs):
    """``F.linear(x, weight, bias)``: a replicated input times row-sharded weights
    (``Shard(0)``, colwise) gives an output sharded on its last dimension (the bias sharded
    as the rows); an input sharded on its last dimension times column-sharded weights
    (``Shard(1)``, rowwise) gives partial sums, the replicated bias added as a 1/n part on each
    rank (PyTorch's Replicate → Partial) so the reduction adds it once."""
    from ...nn import functional as F
    from ._api import DTensor

    if kwargs or not 2 <= len(args) <= 3:
        return None
    x, w = args[:2]
    b = args[2] if len(args) == 3 else None
    if not all(isinstance(t, DTensor) for t in (x, w) + (() if b is None else (b,))):
        return None
    if not _one_dim_mesh(x, w) or w.ndim != 2 or x.ndim < 1 or x.shape[-1] != w.shape[1]:
        return None
    shape = (*x.shape[:-1], w.shape[0])
    x_place, w_place = x._placements[0], w._placements[0]
    b_place = None if b is None else b._placements[0]
    if x_place.is_replicate() and w_place == Shard(0) and b_place in (None, Shard(0)):
        return (Shard(len(shape) - 1),), shape, (0,)
    if x_place == Shard(x.ndim - 1) and w_place == Shard(1) and b_place in (None, Replicate()):
        n = w._mesh.size(0)

        def run(x_local, w_local, b_local=None):
            out = F.linear(x_local, w_local)
            return out if b_local is None else out + b_local / n

        return (Partial("sum"),), shape, (() if b is None else (2,)), run
    return None


_EMBEDDING_DEFAULTS = (None, None, 2.0, False, False)  # padding_idx ... sparse


def embedding_rule(args, kwargs):
    """``F.embedding(ids, weight)`` with replicated ids: weights sharded on the embedding
    dimension (``Shard(1)``, colwise) give outputs sharded on their last dimension; weights
    sharded on the vocabulary (``Shard(0)``, rowwise) give partial sums, each rank looking up
    the ids in its rows and zeros elsewhere (PyTorch's masked partial)."""
    from ...nn import functional as F
    from ._api import DTensor, _chunk, _coordinate

    if kwargs or len(args) < 2:
        return None
    ids, w = args[:2]
    extra = tuple(args[2:])
    if extra != _EMBEDDING_DEFAULTS[: len(extra)]:  # padding_idx, max_norm, ... : not here
        return None
    if not isinstance(w, DTensor) or not isinstance(ids, DTensor) or not _one_dim_mesh(ids, w):
        return None
    if not ids._placements[0].is_replicate() or w.ndim != 2:
        return None
    shape = (*ids.shape, w.shape[1])
    if w._placements[0] == Shard(1):
        return (Shard(len(shape) - 1),), shape, ()
    if w._placements[0] != Shard(0):
        return None
    start, length = _chunk(w.shape[0], w._mesh.size(0), _coordinate(w._mesh, 0))

    def run(ids_local, w_local, *rest):
        outside = (ids_local < start) | (ids_local >= start + length)
        out = F.embedding((ids_local - start).masked_fill(outside, 0), w_local)
        return out.masked_fill(outside.unsqueeze(-1), 0.0)

    return (Partial("sum"),), shape, (), run


def _norm_rule(n_affine: int):
    """``F.layer_norm(x, normalized_shape, weight, bias, eps)`` / ``F.rms_norm(x,
    normalized_shape, weight, eps)`` on an input sharded on a dimension it does not normalize
    (sequence parallelism): the output keeps the sharding; replicated weights' gradients are
    summed over the ranks (each rank sees its part of the positions)."""

    def rule(args, kwargs):
        from ._api import DTensor

        if kwargs or len(args) < 2 or not isinstance(args[0], DTensor):
            return None
        x, affine = args[0], [a for a in args[2 : 2 + n_affine] if a is not None]
        if not all(isinstance(a, DTensor) for a in affine) or not _one_dim_mesh(x, *affine):
            return None
        normalized = len(args[1]) if isinstance(args[1], (list, tuple)) else 1
        p = x._placements[0]
        if not (isinstance(p, Shard) and p.dim < x.ndim - normalized):
            return None
        if not all(a._placements[0].is_replicate() for a in affine):
            return None
        summed = tuple(i for i in range(2, 2 + n_affine) if i < len(args) and args[i] is not None)
        return (p,), tuple(x.shape), summed

    return rule


def flatten_rule(args, kwargs):
    """``x.flatten(start_dim, end_dim)`` of a DTensor sharded outside the flattened dims: the
    local parts flatten alone (the sharded dimension moves left by the dims merged)."""
    from ._api import DTensor

    if kwargs or not 1 <= len(args) <= 3 or not isinstance(args[0], DTensor):
        return None
    x = args[0]
    if x._mesh.ndim != 1 or x.ndim == 0 or not isinstance(x._placements[0], Shard):
        return None
    start, end = (list(args[1:]) + [0, -1][len(args) - 1 :])[:2]
    start, end = start % x.ndim, end % x.ndim
    d = x._placements[0].dim
    if start <= d <= end or start > end:
        return None
    merged = 1
    for n in x.shape[start : end + 1]:
        merged *= n
    shape = (*x.shape[:start], merged, *x.shape[end + 1 :])
    return (Shard(d if d < start else d - (end - start)),), shape, ()


def cross_entropy_rule(args, kwargs):
    """Inside ``loss_parallel()``: cross-entropy of class-sharded logits (see there)."""
    from .parallel.loss import cross_entropy_rule as rule

    return rule(args, kwargs)


def register(rules: dict) -> None:
    """Add these rules to DTensor's table of sharding rules."""
    rules.update(
        linear=linear_rule,
        embedding=embedding_rule,
        layer_norm=_norm_rule(2),
        rms_norm=_norm_rule(1),
        flatten=flatten_rule,
        cross_entropy=cross_entropy_rule,
    )
