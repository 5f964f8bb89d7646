"""Indices to batches: the loading code the DataLoader runs in the calling process
(``num_workers=0``) and in each worker process alike, so both give the same batches."""

from __future__ import annotations

from ... import creation
from ._collate import default_collate, default_convert
from .dataset import TensorDataset


def fetch_map(dataset, index, auto_collation: bool, collate_fn):
    """The batch for one item of a map-style dataset's index sampler.

    With auto-collation (a ``batch_size`` or ``batch_sampler``) ``index`` is a list of indices
    whose samples ``collate_fn`` (default :func:`default_collate`) joins; without it, ``index``
    is one index and its sample passes through ``collate_fn`` (default :func:`default_convert`).
    A dataset with a ``__getitems__`` method gets the batch's indices at once, as in PyTorch.
    A :class:`TensorDataset` (whose ``__getitem__`` no subclass replaced) with the default
    collation is sliced with one index array per batch rather than sample by sample: much
    faster, and the same batches.
    """
    if not auto_collation:
        return (collate_fn or default_convert)(dataset[index])
    getitems = getattr(dataset, "__getitems__", None)
    if getitems:
        return (collate_fn or default_collate)(getitems(index))
    if (
        collate_fn is None
        and isinstance(dataset, TensorDataset)
        and type(dataset).__getitem__ is TensorDataset.__getitem__
    ):
        key = creation.tensor(index, dtype="int64")
        return [t[key.to(t.device)] for t in dataset.tensors]
    return (collate_fn or default_collate)([dataset[i] for i in index])


def iterable_batches(dataset, batch_size, drop_last: bool, collate_fn):
    """Batches of an iterable-style dataset, in the order it yields its samples (single samples,
    through ``collate_fn`` or :func:`default_convert` alone when ``batch_size`` is None)."""
    if batch_size is None:
        for sample in dataset:
            yield (collate_fn or default_convert)(sample)
        return
    collate = collate_fn or default_collate
    batch = []
    for sample in dataset:
        batch.append(sample)
        if len(batch) == batch_size:
            yield collate(batch)
            batch = []
    if batch and not drop_last:
        yield collate(batch)
