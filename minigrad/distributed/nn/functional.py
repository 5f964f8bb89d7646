"""``torch.distributed.nn.functional``: collectives that return new tensors and have a
backward, for losses computed across ranks (a contrastive loss over every rank's batch, a
codebook statistic all-reduced inside a model). Each gradient is the collective that is its
adjoint: all_reduce's is all_reduce, broadcast's a sum to the source, all_gather's a
reduce-scatter of the pieces' gradients, all_to_all's the reverse exchange.

PyTorch 2.13 deprecates five of them in favour of ``torch.distributed._functional_collectives``;
those warn as PyTorch's do (``FutureWarning``)."""

from __future__ import annotations

from ... import compiler
from ..._public_name import shown
from ..._warnings import warn_user
from ...autograd import Function
from ...creation import empty_like, zeros_like
from .. import collectives as dist
from ..distributed_c10d import ReduceOp, get_rank, get_world_size

WORLD = None  # the default group, as PyTorch's ``group.WORLD``


# PyTorch's replacements of the deprecated ones (gather, scatter, reduce and all_to_all have
# none: they are not deprecated)
_REPLACEMENTS = {
    "broadcast": "broadcast",
    "reduce_scatter": "reduce_scatter_single",
    "all_gather": "all_gather_single",
    "all_to_all_single": "all_to_all_single",
    "all_reduce": "all_reduce",
}


def _announce(name: str) -> None:
    """Refuse inside ``minigrad.compile``d code, and warn where PyTorch deprecates the call."""
    replacement = _REPLACEMENTS.get(name)
    suggestion = replacement and f"{shown()}.distributed._functional_collectives.{replacement}"
    if compiler.is_compiling():
        raise RuntimeError(
            f"{shown()}.distributed.nn.functional.{name} is not supported under "
            f"{shown()}.compile." + (f" Use {suggestion} instead." if suggestion else "")
        )
    if suggestion:
        warn_user(
            f"{shown()}.distributed.nn.functional.{name} is deprecated, use {suggestion} instead.",
            FutureWarning,
        )


def broadcast(tensor, src, group=WORLD):
    """``tensor`` of rank ``src`` on every rank; the gradient sums to ``src`` (zeros elsewhere)."""
    _announce("broadcast")
    return _Broadcast.apply(src, group, tensor)


def gather(tensor, dst=0, group=WORLD):
    """Every rank's ``tensor``, in rank order, on rank ``dst`` (zeros elsewhere): a tuple."""
    _announce("gather")
    return _Gather.apply(dst, group, tensor)


def scatter(tensors, src=0, group=WORLD):
    """Rank r receives ``tensors[r]`` of rank ``src``."""
    _announce("scatter")
    return _Scatter.apply(src, group, *tensors)


def reduce(tensor, dst, op=ReduceOp.SUM, group=WORLD):
    """The reduction of every rank's ``tensor`` on rank ``dst``."""
    _announce("reduce")
    return _Reduce.apply(dst, op, group, tensor)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=WORLD):
    """Rank r gets the reduction of every rank's ``input_list[r]`` (written into ``output``)."""
    _announce("reduce_scatter")
    return _ReduceScatter.apply(op, group, output, *input_list)


def all_gather(tensor, group=WORLD):
    """Every rank's ``tensor``, in rank order, on every rank: a tuple."""
    _announce("all_gather")
    return _AllGather.apply(group, tensor)


def all_to_all(output_tensor_list, input_tensor_list, group=WORLD):
    """Rank r sends ``input_tensor_list[q]`` to rank q: a tuple of what each rank sent."""
    _announce("all_to_all")
    return _AllToAll.apply(group, output_tensor_list, *input_tensor_list)


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None,
                      group=WORLD):  # fmt: skip
    """:func:`minigrad.distributed.all_to_all_single` with a backward (the reverse exchange)."""
    _announce("all_to_all_single")
    return _AllToAllSingle.apply(group, output, output_split_sizes, input_split_sizes, input)


def all_reduce(tensor, op=ReduceOp.SUM, group=WORLD):
    """The reduction of every rank's ``tensor``, on every rank, as a new tensor."""
    _announce("all_reduce")
    return _AllReduce.apply(op, group, tensor)


class _Broadcast(Function):
    @staticmethod
    def forward(ctx, src, group, tensor):
        ctx.src, ctx.group, ctx.rank = src, group, get_rank(group)
        out = tensor.clone()
        dist.broadcast(out, src, group=group)
        return out

    @staticmethod
    def backward(ctx, grad):
        summed = _Reduce.apply(ctx.src, ReduceOp.SUM, ctx.group, grad)
        return None, None, summed if ctx.rank == ctx.src else summed * 0


class _Gather(Function):
    @staticmethod
    def forward(ctx, dst, group, tensor):
        ctx.dst, ctx.group = dst, group
        pieces = [zeros_like(tensor) for _ in range(get_world_size(group))]
        dist.gather(tensor.contiguous(), pieces if get_rank(group) == dst else None, dst, group)
        return tuple(pieces)

    @staticmethod
    def backward(ctx, *grads):
        return None, None, _Scatter.apply(ctx.dst, ctx.group, *grads)


class _Scatter(Function):
    @staticmethod
    def forward(ctx, src, group, *tensors):
        ctx.src, ctx.group = src, group
        if any(t.shape != tensors[0].shape for t in tensors):
            raise ValueError("scatter: every tensor to scatter must have one shape")
        out = zeros_like(tensors[0])
        chunks = [t.contiguous() for t in tensors] if get_rank(group) == src else None
        dist.scatter(out, chunks, src, group)
        return out

    @staticmethod
    def backward(ctx, grad):
        return (None, None) + _Gather.apply(ctx.src, ctx.group, grad)


class _Reduce(Function):
    @staticmethod
    def forward(ctx, dst, op, group, tensor):
        ctx.dst, ctx.group = dst, group
        out = tensor.clone()
        dist.reduce(out, dst, op=op, group=group)
        return out

    @staticmethod
    def backward(ctx, grad):
        return None, None, None, _Broadcast.apply(ctx.dst, ctx.group, grad)


class _ReduceScatter(Function):
    @staticmethod
    def forward(ctx, op, group, output, *inputs):
        ctx.group = group
        dist.reduce_scatter(output, [t.contiguous() for t in inputs], op=op, group=group)
        return output

    @staticmethod
    def backward(ctx, grad):
        return (None, None, None) + _AllGather.apply(ctx.group, grad)


class _AllGather(Function):
    @staticmethod
    def forward(ctx, group, tensor):
        ctx.group = group
        pieces = [empty_like(tensor) for _ in range(get_world_size(group))]
        dist.all_gather(pieces, tensor.contiguous(), group=group)
        return tuple(pieces)

    @staticmethod
    def backward(ctx, *grads):
        mine = empty_like(grads[get_rank(ctx.group)])
        return None, _ReduceScatter.apply(ReduceOp.SUM, ctx.group, mine, *grads)


class _AllToAll(Function):
    @staticmethod
    def forward(ctx, group, outputs, *inputs):
        ctx.group, ctx.input_shapes = group, [t.shape for t in inputs]
        dist.all_to_all(list(outputs), [t.contiguous() for t in inputs], group=group)
        return tuple(outputs)

    @staticmethod
    def backward(ctx, *grads):
        back = [grads[0].new_empty(shape) for shape in ctx.input_shapes]
        return (None, None) + _AllToAll.apply(ctx.group, back, *grads)


class _AllToAllSingle(Function):
    @staticmethod
    def forward(ctx, group, output, output_split_sizes, input_split_sizes, input):
        ctx.group, ctx.input_shape = group, input.shape
        ctx.splits = (input_split_sizes, output_split_sizes)  # reversed for backward
        dist.all_to_all_single(output, input, output_split_sizes, input_split_sizes, group)
        return output

    @staticmethod
    def backward(ctx, grad):
        back = grad.new_empty(ctx.input_shape)
        received = _AllToAllSingle.apply(ctx.group, back, *ctx.splits, grad.contiguous())
        return None, None, None, None, received


class _AllReduce(Function):
    @staticmethod
    def forward(ctx, op, group, tensor):
        ctx.op, ctx.group = op, group
        out = tensor.clone()
        dist.all_reduce(out, op=op, group=group)
        return out

    @staticmethod
    def backward(ctx, grad):
        return None, None, _AllReduce.apply(ctx.op, ctx.group, grad)
