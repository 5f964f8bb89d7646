"""Variable-length sequences for recurrent layers (``torch.nn.utils.rnn``): ``PackedSequence``,
``pack_padded_sequence``, ``pad_packed_sequence``, ``pack_sequence``, ``pad_sequence``, and
their inverses ``unpad_sequence`` and ``unpack_sequence``.

A packed sequence stores the steps one after another, each step holding only the sequences
still running, longest first: ``data`` is (Σ lengths, *) and ``batch_sizes[t]`` says how many
rows step t has. Packing and unpacking are one gather each, so gradients flow through both.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ... import _std_sort, dtypes
from ...creation import full, shape_constant
from ...ops import cat, stack
from ...tensor import Tensor


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes ``permutation`` (a 1-d int64 tensor; None stays None), as
    ``PackedSequence.unsorted_indices`` undoes ``sorted_indices``."""
    if permutation is None:
        return None
    output = permutation.new_empty(permutation.shape)
    output[permutation] = permutation.new_tensor(np.arange(permutation.numel()))
    return output


class PackedSequence(NamedTuple):
    """``(data, batch_sizes, sorted_indices, unsorted_indices)`` as PyTorch's.

    ``batch_sizes`` is an int64 CPU tensor; ``sorted_indices`` orders the original batch by
    decreasing length (None when it was already sorted) and ``unsorted_indices`` undoes it.
    """

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args, **kwargs) -> PackedSequence:
        """The same sequence with ``data`` (and the index tensors) moved or cast."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = [None if t is None else t.to(data.device) for t in self.indices()]
        return PackedSequence(data, self.batch_sizes, *move)

    def indices(self) -> tuple:
        return (self.sorted_indices, self.unsorted_indices)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda


def _lengths_list(lengths) -> list:
    if isinstance(lengths, Tensor):
        if lengths.ndim != 1 or lengths.dtype.is_floating_point:
            raise ValueError(
                f"pack_padded_sequence: lengths must be a 1-D integer tensor or a list, got "
                f"{lengths.dtype} of shape {list(lengths.shape)}"
            )
        return [int(v) for v in lengths.tolist()]
    return [int(v) for v in lengths]


def _index_constant(values, device) -> Tensor:
    """An int64 tensor of ``values`` computed from the lengths (guarded host reads or
    arguments): a constant of a ``minigrad.compile`` trace, so a compiled packing replays."""
    return shape_constant(np.asarray(values, dtype=np.int64), dtypes.int64, device)


def _batch_sizes(lengths: list) -> list:
    """Sequences still running at each step, for lengths sorted in decreasing order."""
    return [sum(1 for n in lengths if n > t) for t in range(lengths[0])]


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (L, N, *) (or (N, L, *) with ``batch_first``) of sequences whose
    true ``lengths`` are given, for a recurrent layer to skip the padding.

    Args:
        input: the padded batch.
        lengths: each sequence's length (a list or a 1-D int64 CPU tensor).
        batch_first: the batch is dim 0 of ``input``.
        enforce_sorted: require lengths in decreasing order; with False they are sorted here
            and the order is kept to restore it.

    Example:
        >>> packed = pack_padded_sequence(x, [5, 3, 2], batch_first=True)
        >>> out, h = lstm(packed)
    """
    lengths = _lengths_list(lengths)
    if input.ndim < 2:
        raise ValueError(f"pack_padded_sequence: input must be at least 2-D, got {input.ndim}-D")
    if batch_first:
        input = input.transpose(0, 1)
    steps, batch = input.shape[0], input.shape[1]
    if len(lengths) != batch:
        raise RuntimeError(
            f"pack_padded_sequence: Expected `len(lengths)` to be equal to batch_size, but got "
            f"{len(lengths)} (batch_size={batch})"
        )
    if any(n <= 0 for n in lengths):
        raise RuntimeError(
            f"pack_padded_sequence: every length must be positive (no empty sequences), got "
            f"{lengths}"
        )
    if max(lengths) > steps:
        raise RuntimeError(
            f"pack_padded_sequence: a length of {max(lengths)} exceeds the {steps} steps of input"
        )
    sorted_indices = unsorted_indices = None
    order = list(range(batch))
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise RuntimeError(
                f"pack_padded_sequence: lengths must be sorted in decreasing order with "
                f"enforce_sorted=True, got {lengths}; pass enforce_sorted=False to sort them"
            )
    else:
        # PyTorch's sort(lengths, descending=True): equal lengths in its order (the rows'
        # order matters where dropout or printing follows)
        order = _std_sort.pytorch_argsort(np.array(lengths), 0, descending=True).tolist()
        sorted_indices = _index_constant(order, input.device)
        unsorted_indices = _index_constant(np.argsort(order), input.device)
    lengths = [lengths[i] for i in order]
    sizes = _batch_sizes(lengths)
    rows = [t * batch + order[b] for t, size in enumerate(sizes) for b in range(size)]
    flat = input.reshape((steps * batch,) + tuple(input.shape[2:]))
    data = flat.index_select(0, _index_constant(rows, input.device))
    return PackedSequence(data, _index_constant(sizes, "cpu"), sorted_indices, unsorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo :func:`pack_padded_sequence`: returns ``(padded, lengths)`` with ``padded``
    (L, N, *) (or (N, L, *) with ``batch_first``) in the original batch order.

    Args:
        total_length: pad to this many steps (at least the longest sequence).
    """
    data, batch_sizes = sequence.data, [int(v) for v in sequence.batch_sizes.tolist()]
    batch, steps = batch_sizes[0], len(batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                f"pad_packed_sequence: total_length={total_length} is less than the longest "
                f"sequence's length {steps}"
            )
        steps = total_length
    # every (t, b) slot reads its row of data, or the padding row appended at the end
    pad_row = data.shape[0]
    slots = [[pad_row] * batch for _ in range(steps)]
    row = 0
    for t, size in enumerate(batch_sizes):
        for b in range(size):
            slots[t][b] = row
            row += 1
    padding = full(
        (1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype, device=data.device
    )
    index = _index_constant([r for step in slots for r in step], data.device)
    padded = cat([data, padding]).index_select(0, index)
    padded = padded.reshape((steps, batch) + tuple(data.shape[1:]))
    lengths = [sum(1 for size in batch_sizes if size > b) for b in range(batch)]
    if batch_first:
        padded = padded.transpose(0, 1)
    if sequence.unsorted_indices is not None:
        # after the transpose, as PyTorch: the reordered batch comes out contiguous (N, L, *),
        # whose memory order random ops (dropout's mask) follow
        padded = padded.index_select(0 if batch_first else 1, sequence.unsorted_indices)
        order = sequence.unsorted_indices.tolist()
        lengths = [lengths[i] for i in order]
    return padded, _index_constant(lengths, "cpu")


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shape (L_i, *) into one padded (L_max, N, *) tensor (``batch_first``:
    (N, L_max, *)), padding with ``padding_value`` on the ``padding_side``."""
    if padding_side not in ("right", "left"):
        raise RuntimeError(
            f"pad_sequence: Expected padding_side to be one of left or right, but got "
            f"{padding_side}."
        )
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        if missing:
            fill = full(
                (missing,) + tuple(s.shape[1:]), padding_value, dtype=s.dtype, device=s.device
            )
            s = cat([s, fill] if padding_side == "right" else [fill, s])
        padded.append(s)
    return stack(padded, 1 if not batch_first else 0)


def pack_sequence(sequences, enforce_sorted=True) -> PackedSequence:
    """Pack a list of tensors of shape (L_i, *) (longest first unless ``enforce_sorted`` is
    False) into a :class:`PackedSequence`."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False) -> list:
    """Undo :func:`pad_sequence`: the list of tensors ``padded[:lengths[i], i]`` (or
    ``padded[i, :lengths[i]]`` with ``batch_first``), each (L_i, *).

    Example:
        >>> padded = pad_sequence([minigrad.ones(3, 2), minigrad.ones(1, 2)])
        >>> [t.shape for t in unpad_sequence(padded, minigrad.tensor([3, 1]))]
        [minigrad.Size([3, 2]), minigrad.Size([1, 2])]
    """
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    lengths = _lengths_list(lengths)
    if len(lengths) != padded_sequences.shape[0]:
        raise ValueError(
            f"unpad_sequence: {len(lengths)} lengths for a batch of {padded_sequences.shape[0]} "
            "sequences"
        )
    return [padded_sequences[i, :n] for i, n in enumerate(lengths)]


def unpack_sequence(packed_sequences) -> list:
    """Undo :func:`pack_sequence`: the list of (L_i, *) tensors, in the order they were packed.

    Example:
        >>> packed = pack_sequence([minigrad.ones(3), minigrad.ones(2)])
        >>> [t.shape for t in unpack_sequence(packed)]
        [minigrad.Size([3]), minigrad.Size([2])]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
