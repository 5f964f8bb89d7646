"""The :class:`BlockMask` of :func:`flex_attention` (which key blocks each query block
visits, and which of them are fully allowed) and :func:`create_block_mask`."""

from __future__ import annotations

import math

from ...tensor import Tensor
from ._flex_mask import eval_mask_mod, mod_arity, noop_mask

__all__ = ["BlockMask", "create_block_mask"]

#: The block size of a block mask when none is given (PyTorch's, which libraries import).
_DEFAULT_SPARSE_BLOCK_SIZE = 128


def _blocks(dense: Tensor, bq: int, bkv: int):
    """(any, all) over the (bq, bkv) tiles of a (B, H, Q, KV) bool mask padded with False."""
    nb, nh, q_len, kv_len = dense.shape
    nq, nkv = -(-q_len // bq), -(-kv_len // bkv)
    xp = dense.device.xp
    padded = xp.zeros((nb, nh, nq * bq, nkv * bkv), dtype=bool)
    padded[:, :, :q_len, :kv_len] = dense._data
    tiles = padded.reshape(nb, nh, nq, bq, nkv, bkv)
    return tiles.any(axis=(3, 5)), tiles.all(axis=(3, 5))


def _num_and_indices(blocks, device):
    """Per row of a (B, H, n, m) block mask: how many blocks, and their indices first (int32)."""
    xp = device.xp
    num = blocks.sum(axis=-1).astype(xp.int32)
    order = xp.argsort(~blocks, axis=-1, kind="stable").astype(xp.int32)
    return Tensor._make(num, device), Tensor._make(order, device)


def _block_dense(num: Tensor, indices: Tensor, n_cols: int):
    """The (B, H, n, n_cols) bool array of the first ``num`` of ``indices`` in each row."""
    xp = num.device.xp
    idx = indices._data
    valid = xp.arange(idx.shape[-1]) < num._data[..., None]
    hits = (idx[..., :, None] == xp.arange(n_cols)) & valid[..., None]
    return hits.any(axis=-2)


def create_block_mask(
    mask_mod,
    B: int | None,  # noqa: N803 - PyTorch's names
    H: int | None,  # noqa: N803
    Q_LEN: int,  # noqa: N803
    KV_LEN: int,  # noqa: N803
    device=None,
    BLOCK_SIZE: int | tuple[int, int] = _DEFAULT_SPARSE_BLOCK_SIZE,  # noqa: N803
    _compile: bool = False,
    separate_full_blocks: bool = True,
    compute_dq_write_order: bool = False,
    dq_kv_order: bool = True,
) -> BlockMask:
    """The :class:`BlockMask` of ``mask_mod``: which (BLOCK_SIZE) tiles of the (Q_LEN, KV_LEN)
    scores are partly allowed (the mask_mod is applied there), fully allowed, or skipped.

    Args:
        mask_mod: ``(b, h, q_idx, kv_idx) -> bool tensor``.
        B, H: batch and head counts (None: 1, broadcast over every batch/head).
        Q_LEN, KV_LEN: query and key lengths.
        device: where the block tensors live.
        BLOCK_SIZE: tile size, an int or (q, kv).
        _compile, compute_dq_write_order, dq_kv_order: PyTorch kernel settings, ignored.
        separate_full_blocks: keep fully allowed tiles apart (else they count as partial).

    Example:
        >>> bm = create_block_mask(lambda b, h, q, kv: q >= kv, None, None, 256, 256)
        >>> bm.to_dense()[0, 0]   # (2, 2) tiles: lower triangle
    """
    if mod_arity(mask_mod) != 4:
        raise ValueError(
            f"create_block_mask requires a mask_mod(b, h, q_idx, kv_idx), got {mask_mod}"
        )
    bq, bkv = (BLOCK_SIZE, BLOCK_SIZE) if isinstance(BLOCK_SIZE, int) else tuple(BLOCK_SIZE)
    dense = eval_mask_mod(mask_mod, B or 1, H or 1, Q_LEN, KV_LEN, device)
    any_, all_ = _blocks(dense.contiguous(), bq, bkv)
    full = all_ if separate_full_blocks else None
    partial = any_ & ~all_ if separate_full_blocks else any_
    dev = dense.device
    parts = [*_num_and_indices(partial, dev)]
    parts += [*_num_and_indices(full, dev)] if full is not None else [None, None]
    parts += [*_num_and_indices(partial.swapaxes(-1, -2), dev)]
    parts += _num_and_indices(full.swapaxes(-1, -2), dev) if full is not None else [None, None]
    return BlockMask((Q_LEN, KV_LEN), *parts, BLOCK_SIZE=(bq, bkv), mask_mod=mask_mod)


def _sliced_mask_mod_error(b, h, q_idx, kv_idx):
    raise RuntimeError(
        "BlockMask: the mask_mod of an indexed BlockMask (block_mask[b, h]) is no longer valid; "
        "create a new BlockMask for that batch/head instead"
    )


class BlockMask:
    """Which key blocks each query block attends to, for :func:`flex_attention`.

    ``kv_num_blocks`` (B, H, nQ) and ``kv_indices`` (B, H, nQ, nKV) list, per query block, the
    key blocks where the ``mask_mod`` is applied elementwise; ``full_kv_*`` those allowed
    entirely; ``q_*`` and ``full_q_*`` the same per key block. Blocks in neither are skipped.
    """

    def __init__(
        self,
        seq_lengths,
        kv_num_blocks,
        kv_indices,
        full_kv_num_blocks,
        full_kv_indices,
        q_num_blocks,
        q_indices,
        full_q_num_blocks,
        full_q_indices,
        BLOCK_SIZE=(_DEFAULT_SPARSE_BLOCK_SIZE, _DEFAULT_SPARSE_BLOCK_SIZE),  # noqa: N803 - PyTorch's name
        mask_mod=noop_mask,
        **_kernel_orders,
    ):
        if kv_indices.ndim < 2:
            raise RuntimeError("BlockMask: kv_indices must have at least 2 dimensions")
        if (full_kv_num_blocks is None) != (full_kv_indices is None):
            raise ValueError("BlockMask: full_kv_num_blocks and full_kv_indices go together")
        self.seq_lengths = tuple(seq_lengths)
        self.kv_num_blocks, self.kv_indices = kv_num_blocks, kv_indices
        self.full_kv_num_blocks, self.full_kv_indices = full_kv_num_blocks, full_kv_indices
        self.q_num_blocks, self.q_indices = q_num_blocks, q_indices
        self.full_q_num_blocks, self.full_q_indices = full_q_num_blocks, full_q_indices
        size = BLOCK_SIZE
        self.BLOCK_SIZE = (size, size) if isinstance(size, int) else tuple(size)
        self.mask_mod = mask_mod if mask_mod is not None else noop_mask

    @classmethod
    def from_kv_blocks(
        cls,
        kv_num_blocks,
        kv_indices,
        full_kv_num_blocks=None,
        full_kv_indices=None,
        BLOCK_SIZE=_DEFAULT_SPARSE_BLOCK_SIZE,  # noqa: N803 - PyTorch's name
        mask_mod=None,
        seq_lengths=None,
        compute_q_blocks: bool = True,
        **_kernel_orders,
    ) -> BlockMask:
        """A BlockMask from its key-block lists; the query-block lists are derived from them."""
        bq, bkv = (BLOCK_SIZE, BLOCK_SIZE) if isinstance(BLOCK_SIZE, int) else tuple(BLOCK_SIZE)
        n_kv = kv_indices.shape[-1]
        if seq_lengths is None:
            seq_lengths = (kv_indices.shape[-2] * bq, n_kv * bkv)
        dev = kv_indices.device
        q_parts = [None] * 4
        if compute_q_blocks:
            partial = _block_dense(kv_num_blocks, kv_indices, n_kv).swapaxes(-1, -2)
            q_parts[:2] = _num_and_indices(partial, dev)
            if full_kv_num_blocks is not None:
                full = _block_dense(full_kv_num_blocks, full_kv_indices, n_kv).swapaxes(-1, -2)
                q_parts[2:] = _num_and_indices(full, dev)
        return cls(
            seq_lengths,
            kv_num_blocks,
            kv_indices,
            full_kv_num_blocks,
            full_kv_indices,
            *q_parts,
            BLOCK_SIZE=(bq, bkv),
            mask_mod=mask_mod,
        )

    @property
    def shape(self) -> tuple:
        """(B, H, Q_LEN, KV_LEN)."""
        return (*self.kv_indices.shape[:-2], *self.seq_lengths)

    def numel(self) -> int:
        """B·H·Q_LEN·KV_LEN."""
        return math.prod(self.shape)

    def as_tuple(self, flatten: bool = True) -> tuple:
        """The fields in constructor order (the block sizes and lengths flattened)."""
        tensors = (
            self.kv_num_blocks,
            self.kv_indices,
            self.full_kv_num_blocks,
            self.full_kv_indices,
            self.q_num_blocks,
            self.q_indices,
            self.full_q_num_blocks,
            self.full_q_indices,
        )
        if not flatten:
            return (self.seq_lengths, *tensors, self.BLOCK_SIZE, self.mask_mod)
        return (*self.seq_lengths, *tensors, *self.BLOCK_SIZE, self.mask_mod)

    def _dense_blocks(self, full: bool):
        """The bool array (B, H, nQ, nKV) of partial (or full) blocks; None if there are none."""
        num, idx = (
            (self.full_kv_num_blocks, self.full_kv_indices)
            if full
            else (self.kv_num_blocks, self.kv_indices)
        )
        return None if num is None else _block_dense(num, idx, self.kv_indices.shape[-1])

    def to_dense(self) -> Tensor:
        """(B, H, nQ, nKV) int32: 1 where a block is computed (partial or full), else 0."""
        dense = self._dense_blocks(False)
        full = self._dense_blocks(True)
        if full is not None:
            dense = dense | full
        return Tensor._make(dense.astype("int32"), self.device)

    @property
    def device(self):
        return self.kv_indices.device

    def sparsity(self) -> float:
        """The percentage of the (B, H, Q_LEN, KV_LEN) scores in skipped blocks."""
        computed = float(self.to_dense()._data.sum()) * self.BLOCK_SIZE[0] * self.BLOCK_SIZE[1]
        return 100.0 * (1.0 - computed / self.numel())

    def to(self, device) -> BlockMask:
        """This BlockMask with its block tensors on ``device``."""
        moved = [t.to(device) if isinstance(t, Tensor) else t for t in self.as_tuple(False)[1:9]]
        return BlockMask(
            self.seq_lengths, *moved, BLOCK_SIZE=self.BLOCK_SIZE, mask_mod=self.mask_mod
        )

    def __getitem__(self, index) -> BlockMask:
        """The BlockMask of some batches/heads (ints keep their dim); its mask_mod is invalid."""
        index = index if isinstance(index, tuple) else (index,)
        if len(index) > 2:
            raise IndexError(f"BlockMask: index at most (batch, head), got {index}")
        key = tuple(
            slice(i, i + 1 if i != -1 else None) if isinstance(i, int) else i for i in index
        )
        parts = [t[key] if isinstance(t, Tensor) else None for t in self.as_tuple(False)[1:9]]
        return BlockMask(
            self.seq_lengths, *parts, BLOCK_SIZE=self.BLOCK_SIZE, mask_mod=_sliced_mask_mod_error
        )

    def _adjust(self, new_q_len: int, new_kv_len: int) -> BlockMask:
        """This mask cropped to its upper-left (new_q_len, new_kv_len) corner."""
        nq = -(-new_q_len // self.BLOCK_SIZE[0])
        nkv = -(-new_kv_len // self.BLOCK_SIZE[1])

        def crop(num, idx):
            if num is None:
                return None, None
            kept = _block_dense(num, idx, idx.shape[-1])[..., :nq, :nkv]
            return _num_and_indices(kept, idx.device)

        return BlockMask.from_kv_blocks(
            *crop(self.kv_num_blocks, self.kv_indices),
            *crop(self.full_kv_num_blocks, self.full_kv_indices),
            BLOCK_SIZE=self.BLOCK_SIZE,
            mask_mod=self.mask_mod,
            seq_lengths=(new_q_len, new_kv_len),
        )

    def to_string(self, grid_size=(20, 20), limit: int = 4) -> str:
        """A text picture of the computed blocks of the first ``limit`` (batch, head) pairs."""
        from ._flex_repr import block_mask_string

        return block_mask_string(self, grid_size, limit)

    def __str__(self) -> str:
        from ._flex_repr import block_mask_str

        return block_mask_str(self)

    def __repr__(self) -> str:
        fields = [
            f"    {name}={t.shape if isinstance(t, Tensor) else None},"
            for name, t in zip(_TENSOR_FIELDS, self.as_tuple(False)[1:9], strict=True)
        ]
        name = getattr(self.mask_mod, "__name__", repr(self.mask_mod))
        return "\n".join(
            [
                "BlockMask(",
                *fields,
                f"    BLOCK_SIZE={self.BLOCK_SIZE},",
                f"    shape={self.shape},",
                f"    sparsity={self.sparsity():.2f}%,",
                f"    mask_mod={name}",
                ")",
            ]
        )


_TENSOR_FIELDS = (
    "kv_num_blocks",
    "kv_indices",
    "full_kv_num_blocks",
    "full_kv_indices",
    "q_num_blocks",
    "q_indices",
    "full_q_num_blocks",
    "full_q_indices",
)
