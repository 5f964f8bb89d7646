"""``LinearCrossEntropyOptions``, as ``torch.nn.LinearCrossEntropyOptions``: how
``F.linear_cross_entropy`` splits the batch into chunks so that the (N, C) logits are never
all in memory at once."""

from __future__ import annotations

import dataclasses

__all__ = ["LinearCrossEntropyOptions"]

_POLICIES = ("accurate", "balanced", "compact", "auto")


@dataclasses.dataclass
class LinearCrossEntropyOptions:
    """Chunking of :func:`minigrad.nn.functional.linear_cross_entropy` (``options=None``: one
    dense pass).

    Attributes:
        allow_retain_graph: accepted for PyTorch compatibility; minigrad's chunked path keeps no
            precomputed gradients, so repeated backward always works.
        batch_chunk_size: rows per chunk (None: from ``chunking_method``, else one chunk).
        chunking_method: ``"auto"`` (= ``"aspect_ratio:2"``), ``"aspect_ratio"`` or
            ``"aspect_ratio:N"``: chunks of ``next_pow2(ceil(N_rows / ceil(C / in_features)))``
            rows divided by N, so a chunk's logits are about the size of the input; None: use
            ``batch_chunk_size``.
        acc_policy, acc_dtype: PyTorch's precision knobs for low-precision GPU matmuls; minigrad
            computes each chunk as the reference path does and ignores them.
    """

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: object = None

    def __post_init__(self) -> None:
        method = self.chunking_method
        if method is not None and method != "auto":
            name, _, factor = method.partition(":")
            if name != "aspect_ratio" or (factor and not (factor.isdigit() and int(factor) > 0)):
                raise ValueError(f"invalid chunking_method: {method!r}")
        size = self.batch_chunk_size
        if size is not None and not (isinstance(size, int) and size > 0):
            raise ValueError(f"batch_chunk_size must be positive int or None, got {size!r}")
        if self.acc_policy not in _POLICIES:
            raise ValueError(
                f"invalid acc_policy: {self.acc_policy!r} (expected one of {_POLICIES})"
            )

    def chunk_rows(self, rows: int, in_features: int, num_classes: int) -> int:
        """The number of batch rows per chunk for an (rows, in_features) input and C classes."""
        if self.batch_chunk_size is not None:
            return min(self.batch_chunk_size, max(rows, 1))
        if self.chunking_method is None:
            return max(rows, 1)
        method = "aspect_ratio:2" if self.chunking_method == "auto" else self.chunking_method
        factor = int(method.partition(":")[2] or 1)
        growth = -(-num_classes // max(in_features, 1))
        target = max(-(-rows // growth), 1)
        pow2 = 1 << (target - 1).bit_length()
        return max(min(pow2 // factor, rows), 1)
