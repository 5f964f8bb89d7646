"""``torchvision.models.optical_flow`` on minigrad: RAFT (Teed & Deng, 2020), ``raft_large``
and ``raft_small``, with torchvision's module names, so a state dict saved by PyTorch loads.
No pretrained weights: ``weights=`` other than None raises."""

from .raft import *  # noqa: F403
from .raft import __all__ as _raft_all

__all__ = list(_raft_all)
