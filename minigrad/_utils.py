"""``torch._utils``: the private helpers libraries import from it (fastai's fp16 utilities
flatten a model's parameters into one buffer and view it back)."""

from . import ops


def _flatten_dense_tensors(tensors):
    """The tensors flattened and concatenated into one contiguous 1-D buffer (they share a
    dtype), as PyTorch's."""
    return ops.cat([t.contiguous().reshape(-1) for t in tensors])


def _unflatten_dense_tensors(flat, tensors):
    """Views of ``flat`` (from :func:`_flatten_dense_tensors`) with the sizes of ``tensors``."""
    views, start = [], 0
    for t in tensors:
        views.append(flat.narrow(0, start, t.numel()).view_as(t))
        start += t.numel()
    return tuple(views)
