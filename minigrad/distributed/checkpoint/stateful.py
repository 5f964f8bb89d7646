"""``torch.distributed.checkpoint.stateful.Stateful``: what ``dcp.save``/``dcp.load`` treat as an
object with a state dict (an ``nn.Module``, an optimizer): ``save`` stores ``state_dict()``;
``load`` fills ``state_dict()`` and hands it to ``load_state_dict``."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["Stateful"]


@runtime_checkable
class Stateful(Protocol):
    """Anything with ``state_dict()`` and ``load_state_dict(state_dict)``."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state_dict: dict[str, Any]) -> None: ...
