"""``torch.distributed._functional_collectives``: collectives that return a new tensor and
leave their input alone. minigrad's collectives complete before they return, so
:func:`wait_tensor` has nothing to wait for. ``group`` is a process group, a list of ranks, a
``DeviceMesh`` or ``(mesh, mesh_dim)``; minigrad has the world group only."""

from __future__ import annotations

from ..autograd.function import Function
from . import collectives
from .distributed_c10d import ProcessGroup, ReduceOp, _group

__all__ = [
    "all_gather_tensor",
    "all_reduce",
    "all_to_all_single",
    "all_to_all_single_autograd",
    "broadcast",
    "wait_tensor",
]


def _resolve(group, what: str) -> ProcessGroup:
    """The process group that ``group`` (any of PyTorch's RANK_TYPES) names: the world."""
    from .device_mesh import DeviceMesh

    if isinstance(group, DeviceMesh):
        return group._group(0, what) if group.ndim == 1 else _whole(group, what)
    if isinstance(group, tuple) and len(group) == 2 and isinstance(group[0], DeviceMesh):
        return group[0]._group(group[1], what)
    pg = _group(None, what)
    if isinstance(group, list):
        if sorted(group) != list(range(pg.size())):
            raise NotImplementedError(f"{what}: a group of ranks {group}; minigrad has the world")
        return pg
    return _group(group, what)


def _whole(mesh, what: str) -> ProcessGroup:
    if max(mesh.shape) != mesh.size():
        raise NotImplementedError(f"{what}: a collective over a multi-dimensional mesh")
    return _group(None, what)


def wait_tensor(tensor):
    """``tensor`` itself: minigrad's collectives finished before returning it."""
    return tensor


def all_reduce(self, reduceOp: str, group, tag: str = ""):  # noqa: N803 - PyTorch's name
    """The reduction (``"sum"``, ``"avg"``, ``"min"``, ``"max"``, ``"product"``) of every rank's
    ``self``, as a new tensor."""
    out = self.clone()
    collectives.all_reduce(out, ReduceOp[reduceOp.upper()], group=_resolve(group, "all_reduce"))
    return out


def broadcast(self, src: int, group, tag: str = ""):
    """Rank ``src``'s ``self`` on every rank, as a new tensor."""
    out = self.clone()
    collectives.broadcast(out, src, group=_resolve(group, "broadcast"))
    return out


def all_gather_tensor(self, gather_dim: int, group, tag: str = ""):
    """Every rank's ``self`` concatenated along ``gather_dim``, in rank order."""
    from .. import cat, empty

    pg = _resolve(group, "all_gather_tensor")
    out = empty((pg.size(), *self.shape), dtype=self.dtype, device=self.device)
    collectives.all_gather_into_tensor(out, self.contiguous(), group=pg)
    return cat(list(out.unbind(0)), gather_dim)


def all_to_all_single(self, output_split_sizes, input_split_sizes, group, tag: str = ""):
    """:func:`minigrad.distributed.all_to_all_single` into a new tensor (``output_split_sizes``
    None: world-size equal parts)."""
    pg = _resolve(group, "all_to_all_single")
    rows = sum(output_split_sizes) if output_split_sizes is not None else self.shape[0]
    out = self.new_empty((rows, *self.shape[1:]))
    collectives.all_to_all_single(out, self, output_split_sizes, input_split_sizes, group=pg)
    return out


class _AllToAll(Function):
    """all_to_all_single whose gradient goes back by the all-to-all with the sizes swapped."""

    @staticmethod
    def forward(ctx, x, output_split_sizes, input_split_sizes, group):
        ctx.sizes, ctx.group = (output_split_sizes, input_split_sizes), group
        return all_to_all_single(x, output_split_sizes, input_split_sizes, group)

    @staticmethod
    def backward(ctx, grad):
        out_sizes, in_sizes = ctx.sizes
        return (
            all_to_all_single(grad.contiguous(), in_sizes, out_sizes, ctx.group),
            None,
            None,
            None,
        )


def all_to_all_single_autograd(self, output_split_sizes, input_split_sizes, group, tag=""):
    """:func:`all_to_all_single`, differentiable."""
    return _AllToAll.apply(self, output_split_sizes, input_split_sizes, group)
