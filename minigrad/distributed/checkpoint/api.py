"""``torch.distributed.checkpoint.api``: :class:`CheckpointException`, what ``save`` and
``load`` raise on every rank when some rank failed (a ``BaseException``, as PyTorch's)."""

from __future__ import annotations

__all__ = ["CheckpointException"]


class CheckpointException(BaseException):
    """The failures of ``dcp.save``/``dcp.load`` by rank; ``failures`` maps each failed rank
    to its error text (the last line of each is the error itself, as in PyTorch)."""

    def __init__(self, msg: str, failures: dict):
        super().__init__(msg, failures)
        self._failures = failures

    @property
    def failures(self) -> dict:
        return self._failures

    def __str__(self) -> str:
        text = f"CheckpointException ranks:{self._failures.keys()}\n"
        for rank, error in self._failures.items():
            text += f"Traceback (most recent call last): (RANK {rank})\n{error}"
        return text
