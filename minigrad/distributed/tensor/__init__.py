"""``torch.distributed.tensor``: DTensor, a tensor laid out over a device mesh (shards,
replicas, partial sums), with its placements, :func:`distribute_tensor` and factories.
See :mod:`minigrad.distributed.tensor._api` for what runs and what raises."""

from ..device_mesh import DeviceMesh, init_device_mesh
from . import placement_types
from ._api import (
    DTensor,
    distribute_module,
    distribute_tensor,
    empty,
    full,
    ones,
    rand,
    randn,
    zeros,
)
from .placement_types import Partial, Placement, Replicate, Shard

__all__ = [
    "DTensor",
    "DeviceMesh",
    "Partial",
    "Placement",
    "Replicate",
    "Shard",
    "distribute_module",
    "distribute_tensor",
    "empty",
    "full",
    "init_device_mesh",
    "ones",
    "placement_types",
    "rand",
    "randn",
    "zeros",
]
