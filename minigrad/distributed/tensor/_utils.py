"""``torch.distributed.tensor._utils``: the local shape and global offset of a rank's part
(checkpoint loaders, transformers' sharding utilities, use it)."""

from ._api import local_shape_and_offset


def compute_local_shape_and_global_offset(global_shape, mesh, placements, skip_offset=False):
    """This rank's local shape of a DTensor of ``global_shape`` placed on ``mesh`` with
    ``placements``, and the global index where its part starts (``()`` if ``skip_offset``)."""
    shape, offset = local_shape_and_offset(global_shape, mesh, placements)
    return shape, (() if skip_offset else offset)
