"""``minigrad.distributed.constants``, as ``torch.distributed.constants``: the default timeout
of a process group's collectives (30 minutes; ``default_pg_nccl_timeout`` is None, as in a
PyTorch build whose NCCL timeout is not set apart)."""

from __future__ import annotations

from .distributed_c10d import default_pg_timeout

default_pg_nccl_timeout = None

__all__ = ["default_pg_nccl_timeout", "default_pg_timeout"]
