"""``torch.distributed._tensor``: DTensor's old address, kept by PyTorch for compatibility
(opacus imports ``torch.distributed._tensor.experimental``); the same modules and names as
:mod:`minigrad.distributed.tensor`."""

import sys

from ..tensor import (
    DeviceMesh,
    DTensor,
    Partial,
    Placement,
    Replicate,
    Shard,
    distribute_module,
    distribute_tensor,
    experimental,
    init_device_mesh,
    placement_types,
)

# PyTorch's shim: the submodules at the old path are the new ones.
for _name, _module in (("experimental", experimental), ("placement_types", placement_types)):
    sys.modules[f"{__name__}.{_name}"] = _module

__all__ = [
    "DTensor",
    "DeviceMesh",
    "Partial",
    "Placement",
    "Replicate",
    "Shard",
    "distribute_module",
    "distribute_tensor",
    "init_device_mesh",
]
