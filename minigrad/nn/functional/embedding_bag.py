"""``embedding_bag``: sums, means or maxima of bags of embedding rows, as ``F.embedding_bag``.

Composed of differentiable ops (row lookup, then a segment reduction by ``index_add`` or
``scatter_reduce``), so every derivative — also with respect to ``per_sample_weights`` — comes
from those ops' rules. Bags are given either as a 2-D input (one bag per row, all of the same
length) or as a flat 1-D input cut at ``offsets``. Entries equal to ``padding_idx`` are left out
of their bag (not just zero-weighted); an empty bag gives a zero row, in every mode, as PyTorch.
"""

from __future__ import annotations

import numpy as np

from ... import dtypes
from ...autograd.graph import names_node
from ...ops.base import constant, on_input_device
from ...ops.complex import real_only
from .basic import _check_indices, embedding, embedding_renorm_

_MODES = ("sum", "mean", "max")


def check_bag_options(scale_grad_by_freq: bool, sparse: bool, name: str) -> None:
    """NotImplementedError for the embedding-bag options minigrad lacks."""
    # PyTorch's CPU embedding_bag scales by the wrong counts (EmbeddingBag(5, 1, mode="sum",
    # scale_grad_by_freq=True) on [2, 2, 3] gives row 3 the gradient 0.5, not 1), so minigrad
    # neither copies that nor claims to match it with the documented rule.
    if scale_grad_by_freq:
        raise NotImplementedError(
            f"{name}: scale_grad_by_freq=True is not supported in minigrad (nn.Embedding has it)"
        )


@on_input_device
@real_only
@names_node("EmbeddingBagBackward0")
def embedding_bag(
    input,
    weight,
    offsets=None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights=None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
):
    """Reduce bags of rows of ``weight`` (num_embeddings, dim) to one row per bag: (B, dim).

    Example:
        >>> w = minigrad.randn(10, 3)
        >>> F.embedding_bag(minigrad.tensor([1, 2, 4, 5]), w, minigrad.tensor([0, 2])).shape
        minigrad.Size([2, 3])
    """
    check_bag_options(scale_grad_by_freq, sparse, "embedding_bag")
    # (PyTorch checks the weights' shape first)
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(input.shape):
        raise ValueError(
            f"embedding_bag: per_sample_weights (shape {list(per_sample_weights.shape)}) and "
            f"input (shape {list(input.shape)}) must have the same shape"
        )
    if weight.ndim != 2:  # (PyTorch checks the rank next: its ValueError and words)
        raise ValueError(
            f"embedding_bag: weight has to be a 2D Tensor, but got Tensor of dimension "
            f"{weight.ndim}"
        )
    if not weight.dtype.is_floating_point:  # (PyTorch's kernel: floating weights only)
        raise RuntimeError(
            "embedding_bag: expected tensor for argument 'weight' to have one of the following "
            f"scalar types: Half, BFloat16, Float, Double; but got {weight.dtype}"
        )
    if mode not in _MODES:
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if sparse and mode == "max":
        raise ValueError("max mode does not support sparse weights")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            f"embedding_bag: per_sample_weights is only supported for mode='sum' (got "
            f"mode={mode!r})"
        )
    flat, bag_starts = _flatten_bags(input, offsets, include_last_offset)
    num = weight.shape[0] if weight.ndim == 2 else 0
    if max_norm is not None and weight.ndim == 2:  # every row indexed, padding too, as PyTorch
        _check_indices(flat, num)
        embedding_renorm_(weight, flat, max_norm, norm_type)
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    if per_sample_weights is not None:
        per_sample_weights = per_sample_weights.reshape(-1)
    bag_of, kept = _bag_of_each_entry(flat, bag_starts, padding_idx)
    if kept is not None:
        flat = flat[kept]
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights[kept]
    rows = embedding(flat, weight, sparse=sparse)  # sparse: one gradient row per lookup
    return _reduce(rows, bag_of, len(bag_starts), mode, per_sample_weights)


def _flatten_bags(input, offsets, include_last_offset: bool):
    """(1-D indices, host array of each bag's start) for the 2-D and the 1-D + offsets forms."""
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "embedding_bag: if input is 2D, then offsets has to be None, as input is treated "
                f"as a mini-batch of fixed length sequences; got offsets of type {type(offsets)}"
            )
        bags, length = input.shape
        return input.reshape(-1), np.arange(0, bags * length, length)
    if input.ndim != 1:
        raise ValueError(
            f"embedding_bag: input has to be 1D or 2D Tensor, but got Tensor of dimension "
            f"{input.ndim}"
        )
    if offsets is None or offsets.ndim != 1:
        got = "None" if offsets is None else f"a {offsets.ndim}-D tensor"
        raise ValueError(f"embedding_bag: offsets has to be a 1D Tensor but got {got}")
    if offsets.dtype.is_floating_point or offsets.dtype is dtypes.bool:
        raise RuntimeError(
            f"embedding_bag: offsets must be an integer tensor (int64 or int32), got {offsets.dtype}"
        )
    starts = offsets.device.backend.to_host(offsets._data)
    if starts.size and starts[0] != 0:
        raise RuntimeError(
            f"embedding_bag: offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
            f"has to start from position 0. However, got {int(starts[0])}"
        )
    if starts.size and starts[-1] > input.shape[0]:
        raise RuntimeError(
            f"embedding_bag: offsets[-1] can not be greater than input's length "
            f"({input.shape[0]}), but got offsets[-1] of {int(starts[-1])}"
        )
    if include_last_offset:
        if starts.size == 0:
            raise RuntimeError("embedding_bag: include_last_offset needs at least one offset")
        starts = starts[:-1]
    return input, starts


def _bag_of_each_entry(flat, bag_starts, padding_idx):
    """(bag index of each kept entry, a device array; the mask of kept entries as a tensor, or
    None), computed on the device: a captured step replays them for new offsets and indices."""
    xp = flat.device.xp
    bag_of = xp.searchsorted(xp.asarray(bag_starts), xp.arange(flat.shape[0]), side="right") - 1
    kept = None
    if padding_idx is not None:
        kept = flat._data != padding_idx
        bag_of = bag_of[kept]
        kept = constant(kept, flat.device)
    return bag_of, kept


def _reduce(rows, bag_of, bags: int, mode: str, per_sample_weights):
    """Reduce ``rows`` (N, dim) into ``bags`` rows by the bag index of each row."""
    index = constant(bag_of, rows.device)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.unsqueeze(1)
    out = rows.new_zeros((bags, rows.shape[1]))  # (the weighted rows' dtype: index_add's)
    if mode == "max":
        spread = index.unsqueeze(1).expand(rows.shape)
        return out.scatter_reduce(0, spread, rows, "amax", include_self=False)
    total = out.index_add(0, index, rows)
    if mode == "sum":
        return total
    counts = rows.new_zeros((bags,)).index_add(0, index, rows.new_ones((rows.shape[0],)))
    return total / counts.clamp(min=1).unsqueeze(1)
