"""``torch.distributed.device_mesh``: :class:`DeviceMesh`, the ranks of a job laid out as an
n-dimensional array, and :func:`init_device_mesh`. DTensor (``minigrad.distributed.tensor``)
places a tensor's shards and replicas along a mesh's dimensions.

As in PyTorch, making a mesh starts the default process group if no one has
(``init_process_group()``); minigrad's group is MPI's world, so a program started alone is a
world of one and its meshes have one rank. minigrad has the world group only: collectives run
along a mesh dimension that spans the whole world (any mesh whose other dimensions have size
1); others raise ``NotImplementedError``.
"""

from __future__ import annotations

import math

import numpy as np

from . import distributed_c10d as c10d

__all__ = ["DeviceMesh", "init_device_mesh"]


def _world() -> c10d.ProcessGroup:
    """The default process group, started as PyTorch's DeviceMesh starts it when needed."""
    if not c10d.is_initialized():
        c10d.init_process_group()
    return c10d.get_default_group()


class DeviceMesh:
    """The ranks of the job as an n-dimensional array, on one device type.

    Args:
        device_type: ``"cpu"`` or ``"cuda"``.
        mesh: the ranks, a nested list, array or tensor of ints; each rank once, all in the world.
        mesh_dim_names: a name for each dimension (``mesh["dp"]`` is that dimension's mesh).

    Example:
        >>> mesh = DeviceMesh("cpu", [0, 1])  # two ranks on one dimension
        >>> mesh.size(), mesh.get_local_rank()
    """

    def __init__(self, device_type: str, mesh, *, mesh_dim_names=None, _init_backend=True):
        self.device_type = str(device_type)
        ranks = np.asarray(mesh.tolist() if hasattr(mesh, "tolist") else mesh, dtype=np.int64)
        if ranks.ndim == 0:
            raise ValueError("DeviceMesh: mesh must have at least one dimension")
        if len(set(ranks.flat)) != ranks.size:
            raise RuntimeError(f"DeviceMesh: mesh {ranks.tolist()} names a rank twice")
        if mesh_dim_names is not None:
            mesh_dim_names = tuple(mesh_dim_names)
            if len(mesh_dim_names) != ranks.ndim:
                raise RuntimeError(
                    f"mesh_dim_names {mesh_dim_names} must have one name per mesh dimension "
                    f"(the mesh has {ranks.ndim})"
                )
            if len(set(mesh_dim_names)) != len(mesh_dim_names):
                raise RuntimeError(f"Each mesh_dim_name must be unique, got {mesh_dim_names}")
        self._ranks, self.mesh_dim_names = ranks, mesh_dim_names
        pg = _world()
        world = pg.size()
        if ranks.size > world or ranks.max() >= world or ranks.min() < 0:
            raise RuntimeError(
                f"DeviceMesh: mesh {ranks.tolist()} names ranks outside the world of {world}"
            )
        if ranks.size != world:
            raise NotImplementedError(
                f"DeviceMesh: a mesh of {ranks.size} of the world's {world} ranks; minigrad "
                f"has the world process group only (no subgroups), so a mesh spans every rank"
            )
        self._rank = pg.rank()

    # -- the layout -------------------------------------------------------------------------
    @property
    def mesh(self):
        """The ranks as an int tensor (PyTorch's ``DeviceMesh.mesh``)."""
        from .. import tensor as make_tensor
        from ..dtypes import int32

        return make_tensor(self._ranks.tolist(), dtype=int32)

    @property
    def ndim(self) -> int:
        return self._ranks.ndim

    @property
    def shape(self) -> tuple:
        return tuple(self._ranks.shape)

    def size(self, mesh_dim=None) -> int:
        """The number of ranks in the mesh, or along dimension ``mesh_dim``."""
        if mesh_dim is None:
            return self._ranks.size
        return self._ranks.shape[self._dim(mesh_dim)]

    def _dim(self, mesh_dim) -> int:
        """A dimension index from an int or a name."""
        if isinstance(mesh_dim, str):
            if self.mesh_dim_names is None or mesh_dim not in self.mesh_dim_names:
                raise KeyError(
                    f"Mesh dimension '{mesh_dim}' does not exist. Available mesh dimensions "
                    f"are: mesh_dim_names={self.mesh_dim_names}"
                )
            return self.mesh_dim_names.index(mesh_dim)
        if not -self.ndim <= mesh_dim < self.ndim:
            raise IndexError(f"mesh_dim {mesh_dim} out of range for a {self.ndim}-d mesh")
        return mesh_dim % self.ndim

    def get_rank(self) -> int:
        """This process's global rank."""
        return self._rank

    def get_coordinate(self) -> tuple | None:
        """This rank's index along each mesh dimension (None if it is not in the mesh)."""
        where = np.argwhere(self._ranks == self._rank)
        return tuple(int(i) for i in where[0]) if len(where) else None

    def get_local_rank(self, mesh_dim=None) -> int:
        """This rank's index along ``mesh_dim`` (may be omitted on a 1-d mesh)."""
        if mesh_dim is None:
            if self.ndim > 1:
                raise RuntimeError(
                    f"Found the DeviceMesh have {self.ndim} dimensions. Optional kwarg "
                    f"`mesh_dim` needs to be specified when device_mesh.ndim > 1."
                )
            mesh_dim = 0
        return self.get_coordinate()[self._dim(mesh_dim)]

    def get_group(self, mesh_dim=None) -> c10d.ProcessGroup:
        """The process group of a mesh dimension: the world, where it spans the world."""
        if mesh_dim is None and self.ndim > 1:
            raise RuntimeError(
                f"Found the DeviceMesh have {self.ndim} dimensions. Optional kwarg `mesh_dim` "
                f"needs to be specified when device_mesh.ndim > 1."
            )
        return self._group(0 if mesh_dim is None else mesh_dim, "get_group")

    def get_all_groups(self) -> list:
        return [self.get_group(d) for d in range(self.ndim)]

    def _group(self, mesh_dim, what: str) -> c10d.ProcessGroup:
        """The world group, for collectives along ``mesh_dim`` (which must span it)."""
        n = self.size(mesh_dim)
        if n not in (1, self._ranks.size) or (n == 1 and self._ranks.size > 1):
            raise NotImplementedError(
                f"{what}: mesh dimension {mesh_dim} of a {self.shape} mesh is a subgroup of "
                f"ranks; minigrad has the world process group only"
            )
        return c10d.get_default_group()

    def __getitem__(self, names) -> DeviceMesh:
        """The mesh of the named dimension(s) through this rank (``mesh["dp"]``)."""
        names = (names,) if isinstance(names, str) else tuple(names)
        if self.mesh_dim_names is None:
            raise RuntimeError("Cannot slice a DeviceMesh without mesh_dim_names!")
        dims = [self._dim(n) for n in names]
        if names == self.mesh_dim_names:
            return self
        coord = self.get_coordinate()
        index = tuple(slice(None) if d in dims else coord[d] for d in range(self.ndim))
        sub = np.moveaxis(self._ranks[index], list(range(len(dims))), np.argsort(dims))
        return DeviceMesh(self.device_type, sub, mesh_dim_names=names)

    # -- comparisons and text ----------------------------------------------------------------
    def __eq__(self, other) -> bool:
        if not isinstance(other, DeviceMesh):
            return NotImplemented
        return (
            self.device_type == other.device_type
            and self.shape == other.shape
            and bool((self._ranks == other._ranks).all())
            and self.mesh_dim_names == other.mesh_dim_names
        )

    def __hash__(self) -> int:
        return hash((self.device_type, tuple(self._ranks.flat), self.shape, self.mesh_dim_names))

    def __repr__(self) -> str:
        if self.mesh_dim_names is None:
            layout = str(self.shape)
        else:
            layout = "(" + ", ".join(f"{n}={s}" for n, s in zip(self.mesh_dim_names, self.shape))
            layout += ")"
        strides = tuple(int(s // self._ranks.itemsize) for s in self._ranks.strides[:-1])
        return (
            f"DeviceMesh({layout}, '{self.device_type}', stride=({strides if strides else '()'},))"
        )


def init_device_mesh(device_type: str, mesh_shape, *, mesh_dim_names=None) -> DeviceMesh:
    """A mesh of ``mesh_shape`` over the world's ranks in order (rank ``r`` at row-major
    position ``r``); starts the default process group if needed.

    Example:
        >>> mesh = init_device_mesh("cpu", (2,), mesh_dim_names=("dp",))
    """
    mesh_shape = tuple(int(n) for n in mesh_shape)
    if mesh_dim_names is not None and len(mesh_dim_names) != len(mesh_shape):
        raise RuntimeError(
            f"mesh_shape and mesh_dim_names should have same length! Found len(mesh_dim_names): "
            f"{len(mesh_dim_names)} and len(mesh_shape):{len(mesh_shape)}."
        )
    if device_type.startswith("cuda") and device_type != "cuda":
        raise RuntimeError(
            f"Device type with index is not supported but got {device_type}. If you maintained a "
            f"'torch.device' object, it's recommended to pass in 'device.type'."
        )
    world = _world().size()
    if math.prod(mesh_shape) != world:
        raise RuntimeError(
            f"init_device_mesh: mesh_shape {mesh_shape} has {math.prod(mesh_shape)} ranks but "
            f"the world has {world}"
        )
    ranks = np.arange(world).reshape(mesh_shape)
    return DeviceMesh(device_type, ranks, mesh_dim_names=mesh_dim_names)
