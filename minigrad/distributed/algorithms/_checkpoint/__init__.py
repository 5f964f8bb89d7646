"""``torch.distributed.algorithms._checkpoint``: activation checkpointing as module wrappers."""
