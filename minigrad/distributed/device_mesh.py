"""``torch.distributed.device_mesh``: :class:`DeviceMesh`, the ranks of a job laid out as an
n-dimensional array, and :func:`init_device_mesh`. DTensor (``minigrad.distributed.tensor``)
places a tensor's shards and replicas along a mesh's dimensions.

As in PyTorch, making a mesh starts the default process group if no one has
(``init_process_group()``); minigrad's group is MPI's world, so a program started alone is a
world of one and its meshes have one rank. A mesh may hold some of the world's ranks (a slice
of a bigger mesh, ``mesh["dp", "tp"]``), but minigrad has the world group only: collectives run
along a mesh dimension that spans the whole world; others raise ``NotImplementedError``.
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
        self._rank = pg.rank()
        self._root, self._root_dims = self, tuple(range(ranks.ndim))  # (see _flatten)
        self._flattened: dict = {}  # on a root mesh: a flattened name -> its root dimensions

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
        if n != c10d.get_default_group().size():
            raise NotImplementedError(
                f"{what}: mesh dimension {mesh_dim} of a {self.shape} mesh is a subgroup of "
                f"ranks; minigrad has the world process group only"
            )
        return c10d.get_default_group()

    def __getitem__(self, names) -> DeviceMesh:
        """The mesh of the named dimension(s) through this rank (``mesh["dp"]``,
        ``mesh["dp", "tp"]``; a name made by :meth:`_flatten` on the root mesh is one
        dimension spanning the dimensions it flattened)."""
        names = (names,) if isinstance(names, str) else tuple(names)
        if self.mesh_dim_names is None:
            raise RuntimeError("Cannot slice a DeviceMesh without mesh_dim_names!")
        if names == self.mesh_dim_names:
            return self
        root, groups = self._root, []
        for name in names:
            if name in root._flattened:
                groups.append(root._flattened[name])
            else:
                groups.append((self._root_dims[self._dim(name)],))
        return root._slice(names, groups)

    def _slice(self, names: tuple, groups: list) -> DeviceMesh:
        """The mesh through this (root) mesh's rank whose dimension ``i`` runs over the root
        dimensions ``groups[i]`` together (row-major), named ``names[i]``."""
        dims = [d for group in groups for d in group]
        coord = self.get_coordinate()
        index = tuple(slice(None) if d in dims else coord[d] for d in range(self.ndim))
        kept = sorted(dims)
        sub = np.transpose(self._ranks[index], [kept.index(d) for d in dims])
        sub = sub.reshape([math.prod(self._ranks.shape[d] for d in g) for g in groups])
        mesh = DeviceMesh(self.device_type, sub, mesh_dim_names=names)
        if all(len(g) == 1 for g in groups):
            mesh._root, mesh._root_dims = self, tuple(dims)
        return mesh

    def _flatten(self, mesh_dim_name: str | None = None, backend_override=None) -> DeviceMesh:
        """This mesh as one dimension (its ranks row-major) named ``mesh_dim_name`` (by default
        its names joined by ``"_"``); the name then slices the root mesh as well
        (``root["dp_cp"]``), as PyTorch's ``DeviceMesh._flatten``."""
        if not self.mesh_dim_names:
            raise RuntimeError("Cannot flatten a DeviceMesh without mesh_dim_names!")
        name = mesh_dim_name or "_".join(self.mesh_dim_names)
        root = self._root
        if root.mesh_dim_names and name in root.mesh_dim_names:
            raise ValueError(
                f"{name} already exists for submesh of the {root}. The mesh_dim_names of "
                f"submesh and flattened mesh are {root.mesh_dim_names}. Please specify another "
                "valid mesh_dim_name."
            )
        if self is root:
            return DeviceMesh(self.device_type, self._ranks.reshape(-1), mesh_dim_names=(name,))
        root._flattened[name] = self._root_dims
        return root._slice((name,), [self._root_dims])

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
