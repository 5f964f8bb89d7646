"""``torch.distributed.tensor.placement_types``: how a DTensor lies along one mesh dimension.

``Shard(dim)``: each rank holds one ``torch.chunk`` of the tensor along ``dim`` (the last ranks
get smaller or empty chunks when it does not divide); ``Replicate()``: each rank holds all of
it; ``Partial(reduce_op)``: each rank holds a part, and the tensor is their sum (or avg, min,
max). Placements compare by value and hash, as PyTorch's.
"""

from __future__ import annotations

__all__ = ["Placement", "Shard", "Replicate", "Partial"]


class Placement:
    """The base class of placements (``is_shard``, ``is_replicate``, ``is_partial``)."""

    __slots__ = ()

    def is_shard(self, dim: int | None = None) -> bool:
        return False

    def is_replicate(self) -> bool:
        return False

    def is_partial(self, reduce_op: str | None = None) -> bool:
        return False


class Shard(Placement):
    """Split along tensor dimension ``dim`` over the ranks of a mesh dimension."""

    __slots__ = ("dim",)

    def __init__(self, dim: int = 0):
        if not isinstance(dim, int) or isinstance(dim, bool):
            raise TypeError(f"Shard: dim must be an int, got {type(dim).__name__}")
        self.dim = dim

    def is_shard(self, dim: int | None = None) -> bool:
        return dim is None or dim == self.dim

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.dim == self.dim

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.dim))

    def __repr__(self) -> str:
        return f"Shard(dim={self.dim})"

    def __str__(self) -> str:
        return f"S({self.dim})"


class _StridedShard(Shard):
    """PyTorch's right-to-left sharding for FSDP2 + tensor parallelism (``split_factor``):
    named so that code importing it runs; minigrad does not place tensors with it."""

    __slots__ = ("split_factor",)

    def __init__(self, dim: int = 0, *, split_factor: int = 1):
        super().__init__(dim)
        self.split_factor = split_factor

    def __eq__(self, other) -> bool:
        return (
            type(other) is type(self)
            and other.dim == self.dim
            and other.split_factor == self.split_factor
        )

    def __hash__(self) -> int:
        return hash(("_StridedShard", self.dim, self.split_factor))

    def __repr__(self) -> str:
        return f"_StridedShard(dim={self.dim}, sf={self.split_factor})"

    def __str__(self) -> str:
        return f"_S({self.dim}, {self.split_factor})"


class Replicate(Placement):
    """Every rank of the mesh dimension holds the whole tensor."""

    __slots__ = ()

    def is_replicate(self) -> bool:
        return True

    def __eq__(self, other) -> bool:
        return type(other) is Replicate

    def __hash__(self) -> int:
        return -1  # PyTorch's: all replicas are one

    def __repr__(self) -> str:
        return "Replicate()"

    def __str__(self) -> str:
        return "R"


_REDUCE_OPS = ("sum", "avg", "min", "max")


class Partial(Placement):
    """Every rank holds a part; the tensor is their reduction (``"sum"``, ``"avg"``,
    ``"min"``, ``"max"``) across the mesh dimension."""

    __slots__ = ("reduce_op",)

    def __init__(self, reduce_op: str = "sum"):
        if reduce_op not in _REDUCE_OPS:
            raise NotImplementedError(
                f"Partial: reduce_op {reduce_op!r}; minigrad has {', '.join(_REDUCE_OPS)}"
            )
        self.reduce_op = reduce_op

    def is_partial(self, reduce_op: str | None = None) -> bool:
        return reduce_op is None or reduce_op == self.reduce_op

    def __eq__(self, other) -> bool:
        return isinstance(other, Partial) and other.reduce_op == self.reduce_op

    def __hash__(self) -> int:
        return 1 + hash(self.reduce_op)

    def __repr__(self) -> str:
        return f"Partial({self.reduce_op})"

    def __str__(self) -> str:
        return f"P({self.reduce_op})"
