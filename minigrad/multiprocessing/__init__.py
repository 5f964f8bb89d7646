"""``minigrad.multiprocessing``: Python's ``multiprocessing`` under ``torch.multiprocessing``'s
name, for programs such as the Hogwild example (``model.share_memory()``, then
``mp.Process(target=train, args=(rank, model, ...))``).

Tensors moved to shared memory with ``share_memory_()`` / ``Module.share_memory()`` are seen
and updated by children started with ``fork`` (Linux's default start method), which inherit
the shared mapping. Other tensors go through queues and to ``spawn`` / ``forkserver`` children
as copies (pickled, as PyTorch pickles them). Difference from PyTorch: a tensor in shared memory
cannot be sent to a ``spawn`` / ``forkserver`` child (that raises a ``TypeError``, never a
silent copy of what should be shared).
"""

from __future__ import annotations

import multiprocessing as _mp
from multiprocessing import *  # noqa: F403 - the whole of multiprocessing, as PyTorch's wrapper

__all__ = list(_mp.__all__)  # type: ignore[attr-defined]


def get_all_sharing_strategies() -> set:
    """The ways storage can be shared: anonymous shared mappings inherited through ``fork``."""
    return {"fork_shared_mapping"}


def get_sharing_strategy() -> str:
    return "fork_shared_mapping"


def set_sharing_strategy(new_strategy: str) -> None:
    """Accepts PyTorch's strategy names; minigrad always shares through inherited mappings."""
    if new_strategy not in ("file_descriptor", "file_system", "fork_shared_mapping"):
        raise ValueError(f"set_sharing_strategy: unknown strategy {new_strategy!r}")


from .spawn import (  # noqa: E402 - after the star import, which has names of its own
    ProcessContext,
    ProcessExitedException,
    ProcessRaisedException,
    spawn,
    start_processes,
)

__all__ += [
    "ProcessContext",
    "ProcessExitedException",
    "ProcessRaisedException",
    "spawn",
    "start_processes",
]
