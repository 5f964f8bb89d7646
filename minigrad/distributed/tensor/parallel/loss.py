"""``loss_parallel``: cross-entropy on logits sharded on the class dimension, without
gathering them (``torch.distributed.tensor.parallel.loss_parallel``): each rank's max, sum of
exponentials and target logit are reduced over the mesh."""

from __future__ import annotations

import contextlib

from ..placement_types import Replicate, Shard

_ACTIVE = [False]


@contextlib.contextmanager
def loss_parallel():
    """Inside it, ``F.cross_entropy`` takes logits that are a DTensor sharded on the class
    dimension (``ColwiseParallel(use_local_output=False)`` on the head: ``Shard(-1)`` of
    ``(N, C)``) and plain (or replicated) class indices, and gives a replicated DTensor loss
    whose backward gives the logits their sharded gradient. Call ``loss.backward()`` inside it,
    as in PyTorch.

    Example:
        >>> with loss_parallel():
        ...     loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(0, 1))
        ...     loss.backward()
    """
    before, _ACTIVE[0] = _ACTIVE[0], True
    try:
        yield
    finally:
        _ACTIVE[0] = before


_DEFAULTS = (None, None, -100, None, "mean", 0.0)  # weight, ..., label_smoothing


def cross_entropy_rule(args, kwargs):
    """The ``cross_entropy`` sharding rule, active inside :func:`loss_parallel`."""
    from .._api import DTensor

    if not _ACTIVE[0] or len(args) < 2 or not isinstance(args[0], DTensor):
        return None
    x, target = args[:2]
    names = ("weight", "size_average", "ignore_index", "reduce", "reduction", "label_smoothing")
    options = dict(zip(names, _DEFAULTS))
    options.update(zip(names, args[2:]))
    options.update(kwargs)
    if options["weight"] is not None or options["label_smoothing"] != 0.0:
        raise NotImplementedError("loss_parallel: cross_entropy with weight or label_smoothing")
    if options["size_average"] is not None or options["reduce"] is not None:
        raise NotImplementedError("loss_parallel: size_average/reduce (use reduction)")
    if options["reduction"] not in ("mean", "sum"):
        raise NotImplementedError(f"loss_parallel: reduction={options['reduction']!r}")
    if x.ndim != 2 or x._mesh.ndim != 1 or x._placements[0] != Shard(1):
        raise ValueError(
            f"loss_parallel: expected logits of shape (N, C) sharded on the class dimension "
            f"(Shard(1)), got shape {tuple(x.shape)} placed {x._placements}"
        )
    if isinstance(target, DTensor) and not target._placements[0].is_replicate():
        raise ValueError("loss_parallel: the target must be replicated")
    from .._api import _chunk, _coordinate, _Reduce

    mesh = x._mesh
    start, _ = _chunk(x.shape[1], mesh.size(0), _coordinate(mesh, 0))

    def run(logits, labels, *rest, **kw):
        return _sharded_cross_entropy(
            logits, labels, mesh, start, options["ignore_index"], options["reduction"], _Reduce
        )

    return (Replicate(),), (), (), run


def _sharded_cross_entropy(logits, labels, mesh, start, ignore_index, reduction, reduce):
    """mean/sum over the kept rows of logsumexp(row) - row[label], the row spread over the
    ranks: the max (no gradient: the result does not depend on it), the sum of exponentials
    and the label's logit (from the rank that holds it) all-reduced."""
    from .._api import _all_reduce

    local_max = logits.detach().amax(1, keepdim=True)
    row_max = _all_reduce(local_max, mesh, 0, "max")
    sums = reduce.apply((logits - row_max).exp().sum(1, keepdim=True), mesh, 0, "sum")
    lse = (row_max + sums.log()).squeeze(1)
    local = labels - start
    mine = (local >= 0) & (local < logits.shape[1])
    picked = logits.gather(1, local.clamp(0, max(logits.shape[1] - 1, 0)).unsqueeze(1)).squeeze(1)
    label_logit = reduce.apply(picked.masked_fill(~mine, 0.0), mesh, 0, "sum")
    keep = labels != ignore_index
    losses = (lse - label_logit).masked_fill(~keep, 0.0)
    total = losses.sum()
    return total if reduction == "sum" else total / keep.sum()
