"""``torch.distributed.tensor.parallel``: tensor parallelism on DTensor (Megatron-LM's
column- and row-wise sharded linear layers, sequence-parallel norms) over a 1-d mesh of the
world process group."""

from .api import parallelize_module
from .style import (
    ColwiseParallel,
    ParallelStyle,
    PrepareModuleInput,
    PrepareModuleOutput,
    RowwiseParallel,
    SequenceParallel,
)


def loss_parallel():
    """PyTorch's cross-entropy on class-sharded logits is not in minigrad."""
    raise NotImplementedError(
        "torch.distributed.tensor.parallel.loss_parallel is not in minigrad: gather the logits "
        "(RowwiseParallel/ColwiseParallel with output_layouts=Replicate()) before the loss"
    )


__all__ = [
    "ColwiseParallel",
    "ParallelStyle",
    "PrepareModuleInput",
    "PrepareModuleOutput",
    "RowwiseParallel",
    "SequenceParallel",
    "loss_parallel",
    "parallelize_module",
]
