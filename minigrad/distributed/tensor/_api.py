"""DTensor: a tensor laid out over a :class:`~minigrad.distributed.device_mesh.DeviceMesh`,
each mesh dimension with a placement (``Shard(dim)``, ``Replicate()``, ``Partial()``).

A DTensor has the global tensor's shape and dtype; each rank holds its local tensor
(``to_local()``). Changing placements (``redistribute``, ``full_tensor``) runs the collectives
of the world process group: Shard → Replicate is an all-gather, Partial → Replicate an
all-reduce, Replicate → Shard takes this rank's chunk. Autograd runs on the local tensors: each
collective is a differentiable function whose backward is PyTorch's (the gradient of an
all-gather is this rank's chunk of the gradient, of a Partial → Replicate all-reduce the
gradient itself, of taking a chunk an all-gather).

Ops on DTensors: an op on DTensors that are all ``Replicate`` runs on the local tensors and
gives a replicated DTensor; a pointwise op on DTensors of one placement and one shape runs on
the local tensors and keeps the placement (on ``Partial`` only the linear ones: add, sub,
neg, and multiplying or dividing by a number). A whole ``sum`` of shards is a ``Partial("sum")``
scalar, and a 2-d matmul on a 1-d mesh follows PyTorch's rules for row-sharded × replicated
(row-sharded), replicated × column-sharded (column-sharded) and inner-dimension-sharded on
both sides (partial sums); ``linear`` and ``embedding`` follow the rules of tensor
parallelism's colwise and rowwise layers (``_tp_ops``). Other ops raise
``NotImplementedError`` (PyTorch propagates shardings through every op; minigrad through
these): ``full_tensor()`` or ``redistribute(placements=[Replicate()])`` first.

Making the first DTensor turns on ``__torch_function__`` dispatch for it (importing the module
does not, so that programs which only import it, as transformers does, keep Tensor's fast
methods).
"""

from __future__ import annotations

from ... import _torch_function as _tf
from ..._meta_ops import MetaArray
from ...autograd.function import Function
from ...tensor import Tensor
from .. import collectives
from ..device_mesh import DeviceMesh, init_device_mesh
from . import _tp_ops
from .placement_types import Partial, Placement, Replicate, Shard

__all__ = ["DTensor", "distribute_tensor", "distribute_module", "zeros", "ones", "empty", "full"]


# -- chunks of a sharded dimension ---------------------------------------------------------------
def _chunk(size: int, n: int, i: int) -> tuple[int, int]:
    """Start and length of chunk ``i`` of ``n`` of a dimension of ``size``, as ``torch.chunk``
    splits it (chunks of ceil(size / n); the last ones smaller or empty)."""
    step = -(-size // n)
    start = min(i * step, size)
    return start, min(start + step, size) - start


def _coordinate(mesh: DeviceMesh, mesh_dim: int) -> int:
    return mesh.get_coordinate()[mesh_dim]


def local_shape_and_offset(shape, mesh: DeviceMesh, placements) -> tuple[tuple, tuple]:
    """This rank's local shape of a global ``shape`` placed on ``mesh``, and where its part
    starts in the global tensor (mesh dimensions shard in order, outer first)."""
    shape, offset = list(shape), [0] * len(shape)
    for mesh_dim, p in enumerate(placements):
        if isinstance(p, Shard):
            n, i = mesh.size(mesh_dim), _coordinate(mesh, mesh_dim)
            start, shape[p.dim] = _chunk(shape[p.dim], n, i)
            offset[p.dim] += start
    return tuple(shape), tuple(offset)


def _local_shape(shape, mesh: DeviceMesh, placements) -> tuple:
    return local_shape_and_offset(shape, mesh, placements)[0]


def _take_chunk(t: Tensor, mesh: DeviceMesh, mesh_dim: int, dim: int) -> Tensor:
    """This rank's chunk of ``t`` along ``dim`` (a copy)."""
    start, length = _chunk(t.shape[dim], mesh.size(mesh_dim), _coordinate(mesh, mesh_dim))
    return t.narrow(dim, start, length).clone()


def _gather(t: Tensor, mesh: DeviceMesh, mesh_dim: int, dim: int, size: int) -> Tensor:
    """The chunks of all ranks along ``mesh_dim`` joined along ``dim`` into ``size``: an
    all-gather of chunks padded to one length, then the padding cut off."""
    from ... import cat, empty, zeros

    n = mesh.size(mesh_dim)
    if n == 1:
        return t.clone()
    group = mesh._group(mesh_dim, "DTensor redistribute (all_gather)")
    step = -(-size // n)
    if t.shape[dim] < step:  # an uneven last chunk: pad, as PyTorch pads before the gather
        pad_shape = list(t.shape)
        pad_shape[dim] = step - t.shape[dim]
        t = cat([t, zeros(pad_shape, dtype=t.dtype, device=t.device)], dim)
    out = empty((n, *t.shape), dtype=t.dtype, device=t.device)
    collectives.all_gather_into_tensor(out, t.contiguous(), group=group)
    return cat([out[i].narrow(dim, 0, _chunk(size, n, i)[1]) for i in range(n)], dim)


_REDUCE_OPS = {"sum": "SUM", "avg": "AVG", "min": "MIN", "max": "MAX"}


def _all_reduce(t: Tensor, mesh: DeviceMesh, mesh_dim: int, reduce_op: str) -> Tensor:
    """The reduction of every rank's ``t`` along ``mesh_dim`` (a new tensor)."""
    from ..distributed_c10d import ReduceOp

    out = t.clone()
    if mesh.size(mesh_dim) > 1:
        group = mesh._group(mesh_dim, "DTensor redistribute (all_reduce)")
        collectives.all_reduce(out, ReduceOp[_REDUCE_OPS[reduce_op]], group=group)
    return out


class _Gather(Function):
    """Shard → Replicate; backward: this rank's chunk of the (replicated) gradient."""

    @staticmethod
    def forward(ctx, t, mesh, mesh_dim, dim, size):
        ctx.args = (mesh, mesh_dim, dim)
        return _gather(t, mesh, mesh_dim, dim, size)

    @staticmethod
    def backward(ctx, grad):
        return _take_chunk(grad, *ctx.args), None, None, None, None


class _Scatter(Function):
    """Replicate → Shard (this rank's chunk); backward: the all-gather of the gradients."""

    @staticmethod
    def forward(ctx, t, mesh, mesh_dim, dim):
        ctx.args, ctx.size = (mesh, mesh_dim, dim), t.shape[dim]
        return _take_chunk(t, mesh, mesh_dim, dim)

    @staticmethod
    def backward(ctx, grad):
        return _gather(grad, *ctx.args, ctx.size), None, None, None


class _Reduce(Function):
    """Partial → Replicate (an all-reduce); backward: the replicated gradient itself, which is
    each part's gradient for a sum (PyTorch keeps it replicated for avg too)."""

    @staticmethod
    def forward(ctx, t, mesh, mesh_dim, reduce_op):
        ctx.reduce_op = reduce_op
        return _all_reduce(t, mesh, mesh_dim, reduce_op)

    @staticmethod
    def backward(ctx, grad):
        if ctx.reduce_op not in ("sum", "avg"):
            raise NotImplementedError(
                f"DTensor: the gradient through Partial({ctx.reduce_op}) → Replicate is not "
                f"implemented in minigrad (sum and avg are)"
            )
        return grad, None, None, None


class _SumGradient(Function):
    """Identity forward; backward all-reduces the gradient over ``mesh_dim`` (a replicated
    input whose uses on each rank see only that rank's part of the output)."""

    @staticmethod
    def forward(ctx, t, mesh, mesh_dim):
        ctx.args = (mesh, mesh_dim)
        return t.view_as(t)

    @staticmethod
    def backward(ctx, grad):
        return _all_reduce(grad, *ctx.args, "sum"), None, None


# -- the spec and the DTensor --------------------------------------------------------------------
def _normalize(placements, mesh: DeviceMesh, ndim: int, what: str) -> tuple:
    """Placements as a tuple, one per mesh dimension, with non-negative shard dims."""
    if placements is None:
        return (Replicate(),) * mesh.ndim
    placements = tuple(placements)
    if len(placements) != mesh.ndim:
        raise ValueError(
            f"`placements` must have the same length as `device_mesh.ndim`! Found placements "
            f"length: {len(placements)}, and device_mesh.ndim: {mesh.ndim}."
        )
    out = []
    for i, p in enumerate(placements):
        if not isinstance(p, Placement):
            raise TypeError(f"{what}: placements must be Placement objects, got {p!r}")
        if type(p) is not Shard and isinstance(p, Shard):
            raise NotImplementedError(f"{what}: {p!r} (strided sharding) is not in minigrad")
        if isinstance(p, Shard):
            dim = p.dim + ndim if p.dim < 0 else p.dim
            if not 0 <= dim < ndim:
                raise RuntimeError(
                    f"Sharding dim {p.dim} greater than tensor ndim {ndim} for placement number {i}"
                )
            p = Shard(dim)
        out.append(p)
    return tuple(out)


class DTensor(Tensor):
    """A tensor distributed over a :class:`DeviceMesh` (PyTorch's
    ``torch.distributed.tensor.DTensor``): ``shape`` and ``dtype`` are the global tensor's,
    ``to_local()`` is this rank's part, ``placements`` say how the parts make the whole.

    Make one with :func:`distribute_tensor` (from a global tensor) or :meth:`from_local` (from
    every rank's part).

    Example:
        >>> mesh = init_device_mesh("cpu", (dist.get_world_size(),))
        >>> d = distribute_tensor(minigrad.arange(8.0), mesh, [Shard(0)])
        >>> d.to_local()  # this rank's chunk
        >>> d.full_tensor()  # all-gathered: arange(8.) on every rank
    """

    # Off until the first DTensor is made (_activate): see the module docstring.
    __torch_function__ = _tf.disabled_torch_function_impl

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def _wrap(cls, local: Tensor, mesh: DeviceMesh, placements: tuple, shape) -> DTensor:
        _activate()
        out = Tensor._make.__func__(cls, MetaArray(shape, local._data.dtype), local.device)
        out._local_tensor, out._mesh, out._placements = local, mesh, tuple(placements)
        return out

    @staticmethod
    def from_local(
        local_tensor, device_mesh=None, placements=None, *, run_check=False, shape=None, stride=None
    ) -> DTensor:
        """A DTensor from each rank's ``local_tensor`` (differentiable: the gradient reaches
        ``local_tensor``). Without ``shape``, a ``Shard(d)`` dimension's global size is the
        local size times the mesh dimension's size (even shards, as PyTorch assumes).
        ``run_check=True`` broadcasts rank 0's tensor to the others for ``Replicate``."""
        mesh = device_mesh if device_mesh is not None else _default_mesh(local_tensor.device.type)
        placements = _normalize(placements, mesh, local_tensor.ndim, "DTensor.from_local")
        if shape is None:
            global_shape = list(local_tensor.shape)
            for mesh_dim, p in enumerate(placements):
                if isinstance(p, Shard):
                    global_shape[p.dim] *= mesh.size(mesh_dim)
        else:
            global_shape = list(shape)
        if run_check:
            for mesh_dim, p in enumerate(placements):
                if isinstance(p, Replicate) and mesh.size(mesh_dim) > 1:
                    local_tensor = local_tensor.clone()
                    collectives.broadcast(
                        local_tensor, 0, group=mesh._group(mesh_dim, "DTensor.from_local")
                    )
        return DTensor._wrap(local_tensor.view_as(local_tensor), mesh, placements, global_shape)

    # -- what it is -----------------------------------------------------------------------------
    @property
    def placements(self) -> tuple:
        return self._placements

    @property
    def device_mesh(self) -> DeviceMesh:
        return self._mesh

    @property
    def is_meta(self) -> bool:
        return self._local_tensor.is_meta

    @property
    def requires_grad(self) -> bool:
        return self._local_tensor.requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self._local_tensor.requires_grad = value

    @property
    def grad_fn(self):
        return self._local_tensor.grad_fn

    @grad_fn.setter
    def grad_fn(self, value) -> None:
        if value is not None:
            raise RuntimeError("DTensor: its autograd history is its local tensor's")

    @property
    def is_leaf(self) -> bool:
        return self._local_tensor.is_leaf

    @property
    def grad(self):
        """The gradient as a DTensor of the same placements (None before backward)."""
        g = self._local_tensor.grad
        return None if g is None else DTensor._wrap(g, self._mesh, self._placements, self.shape)

    @grad.setter
    def grad(self, value) -> None:
        self._local_tensor.grad = value.to_local() if isinstance(value, DTensor) else value

    # -- placements -----------------------------------------------------------------------------
    def to_local(self, *, grad_placements=None) -> Tensor:
        """This rank's part (differentiable: gradients flow back to the DTensor's history)."""
        if grad_placements is not None and tuple(grad_placements) != self._placements:
            raise NotImplementedError(
                f"DTensor.to_local(grad_placements={tuple(grad_placements)}): gradients placed "
                f"otherwise than the DTensor ({self._placements}) are not in minigrad"
            )
        return self._local_tensor.view_as(self._local_tensor)

    def redistribute(
        self,
        device_mesh=None,
        placements=None,
        *,
        async_op=False,
        forward_dtype=None,
        backward_dtype=None,
    ) -> DTensor:
        """The same tensor placed as ``placements`` (collectives over the mesh: Shard →
        Replicate all-gathers, Partial → Replicate all-reduces, Replicate → Shard takes this
        rank's chunk; Shard → Shard goes through Replicate). Redistributing to ``Partial`` is
        PyTorch's internal use only and raises as there."""
        mesh = self._mesh if device_mesh is None else device_mesh
        if mesh != self._mesh:
            raise NotImplementedError(
                "DTensor.redistribute: to another device mesh is not in minigrad"
            )
        if forward_dtype is not None or backward_dtype is not None:
            raise NotImplementedError("DTensor.redistribute: forward_dtype/backward_dtype")
        target = _normalize(placements, mesh, self.ndim, "DTensor.redistribute")
        if placements is None:
            target = self._placements
        for cur, new in zip(self._placements, target):
            if isinstance(new, Partial) and cur != new:
                raise RuntimeError(
                    f"Can not redistribute from {cur} to {new}, redistributing to Partial is "
                    f"for internal use only!"
                )
        changed = [i for i, (c, n) in enumerate(zip(self._placements, target)) if c != n]
        local = self._local_tensor
        if changed:
            first = changed[0]
            for mesh_dim in reversed(range(first, mesh.ndim)):  # to Replicate, inner first
                p = self._placements[mesh_dim]
                if isinstance(p, Shard):
                    size = _local_shape(self.shape, mesh, self._placements[:mesh_dim])[p.dim]
                    local = _Gather.apply(local, mesh, mesh_dim, p.dim, size)
                elif isinstance(p, Partial):
                    local = _Reduce.apply(local, mesh, mesh_dim, p.reduce_op)
            for mesh_dim in range(first, mesh.ndim):  # then to the targets, outer first
                p = target[mesh_dim]
                if isinstance(p, Shard):
                    local = _Scatter.apply(local, mesh, mesh_dim, p.dim)
        else:
            local = local.view_as(local)
        return DTensor._wrap(local, mesh, target, self.shape)

    def full_tensor(self, *, grad_placements=None) -> Tensor:
        """The whole tensor on every rank (redistribute to Replicate, then ``to_local``)."""
        replicated = self.redistribute(placements=[Replicate()] * self._mesh.ndim)
        return replicated.to_local(grad_placements=grad_placements)

    def __repr__(self, *, tensor_contents=None) -> str:
        return (
            f"DTensor(local_tensor={self._local_tensor!r}, device_mesh={self._mesh!r}, "
            f"placements={self._placements})"
        )

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Backward from the local tensor (a replicated or partial loss)."""
        if isinstance(gradient, DTensor):
            gradient = gradient.to_local()
        self._local_tensor.backward(gradient, retain_graph, create_graph, inputs)


# -- ops on DTensors -----------------------------------------------------------------------------
_ACTIVE = [False]


def _activate() -> None:
    """Turn on DTensor's ``__torch_function__`` (once, at the first DTensor)."""
    if not _ACTIVE[0]:
        _ACTIVE[0] = True
        DTensor.__torch_function__ = classmethod(_dtensor_torch_function)
        _tf.wrap_subclass(DTensor)


# Pointwise ops: each output element depends on the same element of the inputs, so they run
# on the local parts of any placement. The linear ones also run on Partial (sum/avg) parts.
_LINEAR = frozenset(
    "add sub neg negative __add__ __radd__ __iadd__ __sub__ __rsub__ __isub__ __neg__ add_ sub_ "
    "neg_".split()
)
_SCALED = frozenset(
    "mul div true_divide multiply divide __mul__ __rmul__ __imul__ __truediv__ __itruediv__ "
    "mul_ div_".split()
)
_LAYOUT = frozenset(
    "clone contiguous detach to float double half bfloat16 type_as __deepcopy__ "
    "requires_grad_ detach_ is_floating_point is_complex is_signed element_size".split()
)  # (the last ones read the dtype only: the same on every part)
_POINTWISE = (
    _LINEAR
    | _SCALED
    | _LAYOUT
    | frozenset(
        "abs exp log log1p expm1 sqrt rsqrt sin cos tan tanh sigmoid relu gelu silu erf "
        "pow __pow__ __rpow__ square reciprocal clamp clamp_ clip sign floor ceil round trunc "
        "__rtruediv__ maximum minimum eq ne lt le gt ge __eq__ __ne__ __lt__ __le__ __gt__ "
        "__ge__ logical_not logical_and logical_or where masked_fill zero_ fill_ copy_ "
        "mul_ relu_ exp_ sqrt_ pow_ lerp lerp_ addcmul addcdiv addcmul_ addcdiv_ abs_ "
        "leaky_relu elu softplus hardtanh relu6 mish hardswish hardsigmoid sigmoid_ tanh_ "
        "nan_to_num isnan isinf isfinite bitwise_not zeros_like ones_like empty_like "
        "full_like".split()  # (the *_like factories: each rank's part of the same placement)
    )
)


def _flat(values):
    for v in values:
        if isinstance(v, (list, tuple)):
            yield from v
        else:
            yield v


def _locals(value):
    """``value`` with each DTensor (also inside a list or tuple) replaced by its local part."""
    if isinstance(value, DTensor):
        return value._local_tensor
    if isinstance(value, (list, tuple)):
        return type(value)(_locals(v) for v in value)
    return value


def _name(func) -> str:
    name = getattr(func, "__name__", None)
    if name is None and hasattr(func, "fget"):  # a property (Tensor.data, .T)
        name = func.fget.__name__
    return str(name)


def _dtensor_torch_function(cls, func, types, args=(), kwargs=None):
    """Run ``func`` on the local parts where the placements allow it (see the module
    docstring); raise ``NotImplementedError`` where they do not."""
    kwargs = kwargs or {}
    name = _name(func)
    values = list(args) + list(kwargs.values())
    dts = [v for v in _flat(values) if isinstance(v, DTensor)]
    if not dts:
        with _tf.DisableTorchFunctionSubclass():
            return func(*args, **kwargs)
    first = dts[0]
    for d in dts[1:]:
        if d._mesh != first._mesh:
            raise RuntimeError(f"DTensor: {name} on DTensors of different device meshes")
    placements = first._placements
    replicated = all(p.is_replicate() for d in dts for p in d._placements)
    rule = None if replicated else _SHARDING_RULES.get(name)
    spec = rule(args, kwargs) if rule is not None else None
    for v in _flat(values):  # (a rule that took plain tensors, as loss_parallel's, knows them)
        if spec is None and isinstance(v, Tensor) and not isinstance(v, DTensor) and v.ndim > 0:
            _check_implicit_replication(name, replicated)
    if spec is not None:  # a reduction or matmul whose local results are a placed whole
        local_args = _locals(list(args))
        for i in spec[2]:  # a replicated operand whose gradient is a sum over the ranks
            local_args[i] = _SumGradient.apply(local_args[i], first._mesh, 0)
        run = spec[3] if len(spec) > 3 else func  # (a rule's own local computation)
        with _tf.DisableTorchFunctionSubclass():
            out = run(*local_args, **{k: _locals(v) for k, v in kwargs.items()})
        return DTensor._wrap(out, first._mesh, spec[0], spec[1])
    if not replicated and not _runs_locally(name, dts, values):
        raise NotImplementedError(
            f"DTensor: {name} on placements {[d._placements for d in dts]}: minigrad runs ops "
            f"on DTensors that are all Replicate, and pointwise ops on DTensors of one placement "
            f"and shape (linear ones on Partial); call full_tensor() or "
            f"redistribute(placements=[Replicate()]) first"
        )
    with _tf.DisableTorchFunctionSubclass():
        out = func(*_locals(list(args)), **{k: _locals(v) for k, v in kwargs.items()})
    return _wrap_outputs(out, first, dts, placements, replicated)


# Set by ``experimental.implicit_replication()``: plain tensors count as replicated DTensors.
_allow_implicit_replication = False


def _check_implicit_replication(name: str, replicated: bool) -> None:
    """A plain tensor among DTensors: PyTorch's error, unless inside
    ``implicit_replication()``, where it counts as a replica (which minigrad runs where every
    DTensor is replicated too)."""
    if not _allow_implicit_replication:
        raise RuntimeError(
            f"{name}: got mixed torch.Tensor and DTensor, need to convert all torch.Tensor "
            f"to DTensor before calling distributed operators!"
        )
    if not replicated:
        raise NotImplementedError(
            f"DTensor: {name} on a plain tensor (implicitly replicated) with sharded or partial "
            f"DTensors; minigrad mixes plain tensors only with Replicate DTensors"
        )


def _sum_rule(args, kwargs):
    """``sum(x)`` over all elements: each rank's sum of its shard is a part of the total
    (Shard and Partial("sum") → Partial("sum")); ``(placements, shape, operands whose
    gradient is summed over the ranks)`` or None."""
    if len(args) != 1 or set(kwargs) - {"dtype"}:
        return None
    out = []
    for p in args[0]._placements:
        if isinstance(p, Shard) or p == Partial("sum"):
            out.append(Partial("sum"))
        elif p.is_replicate():
            out.append(p)
        else:
            return None
    return tuple(out), (), ()


# (left, right) placements of a 2-d matmul on a 1-d mesh -> the result's placement
_MATMUL = {
    (Shard(0), Replicate()): Shard(0),
    (Replicate(), Shard(1)): Shard(1),
    (Shard(1), Shard(0)): Partial("sum"),
    (Partial("sum"), Replicate()): Partial("sum"),
    (Replicate(), Partial("sum")): Partial("sum"),
}


def _matmul_rule(args, kwargs):
    """``a @ b`` of 2-d DTensors on a 1-d mesh: rows sharded times replicated stays
    row-sharded, replicated times column-sharded column-sharded, and the inner dimension
    sharded on both gives partial sums (PyTorch's rules for these placements)."""
    if len(args) != 2 or kwargs or not all(isinstance(a, DTensor) for a in args):
        return None
    a, b = args
    if a.ndim != 2 or b.ndim != 2 or a._mesh.ndim != 1 or a.shape[1] != b.shape[0]:
        return None
    placement = _MATMUL.get((a._placements[0], b._placements[0]))
    if placement is None:
        return None
    # A replicated operand times a sharded or partial one: each rank's gradient for it is a
    # part, summed over the ranks (PyTorch's gradient placement, Partial, made Replicate).
    summed = tuple(i for i, d in enumerate(args) if d._placements[0].is_replicate())
    return (placement,), (a.shape[0], b.shape[1]), summed


_SHARDING_RULES = {
    "sum": _sum_rule,
    "matmul": _matmul_rule,
    "mm": _matmul_rule,
    "__matmul__": _matmul_rule,
}
_tp_ops.register(_SHARDING_RULES)  # (linear and embedding: tensor parallelism's layers)


def _runs_locally(name: str, dts, values) -> bool:
    """Whether a non-replicated op ``name`` runs on the local parts."""
    if name not in _POINTWISE:
        return False
    first = dts[0]
    if any(d._placements != first._placements or d.shape != first.shape for d in dts):
        return False
    if not any(p.is_partial() for p in first._placements):
        return True
    if any(p.is_partial() and p.reduce_op not in ("sum", "avg") for p in first._placements):
        return name in _LAYOUT
    others = [v for v in _flat(values) if not isinstance(v, DTensor)]
    if name in _LINEAR:  # partial + partial; a number added to every part would count n times
        return not any(isinstance(v, (int, float, complex, Tensor)) for v in others[:1])
    if name in _SCALED:  # one partial scaled by a number
        return len(dts) == 1
    return name in _LAYOUT


def _wrap_outputs(out, first, dts, placements, replicated):
    if isinstance(out, (list, tuple)):
        return type(out)(_wrap_outputs(o, first, dts, placements, replicated) for o in out)
    if not isinstance(out, Tensor) or isinstance(out, DTensor):
        return out
    for d in dts:  # an in-place op returns its input
        if out is d._local_tensor:
            return d
    if replicated:
        return DTensor._wrap(out, first._mesh, placements, out.shape)
    return DTensor._wrap(out, first._mesh, placements, first.shape)


# -- making DTensors -----------------------------------------------------------------------------
def _default_mesh(device_type: str) -> DeviceMesh:
    """The mesh PyTorch takes when none is given: the world on ``device_type``."""
    from .. import distributed_c10d as c10d

    if not c10d.is_initialized():
        c10d.init_process_group()
    return init_device_mesh(device_type, (c10d.get_world_size(),))


def distribute_tensor(tensor, device_mesh=None, placements=None, *, src_data_rank=0) -> DTensor:
    """A global ``tensor`` placed on ``device_mesh``: each rank keeps its chunk for
    ``Shard(d)`` (``torch.chunk``'s split), all of it for ``Replicate()``, and for
    ``Partial("sum")`` a 1/n part. Rank ``src_data_rank``'s tensor is the one distributed
    (broadcast first; None: each rank's own). The result is a leaf that requires grad as
    ``tensor`` does.

    Example:
        >>> d = distribute_tensor(minigrad.randn(8, 4), mesh, [Shard(0)])
    """
    mesh = device_mesh if device_mesh is not None else _default_mesh(tensor.device.type)
    if isinstance(tensor, DTensor):
        if tensor._mesh != mesh:
            raise ValueError(
                f"Cannot distribute a DTensor with device mesh {tensor._mesh} to a different "
                f"device mesh {mesh}."
            )
        if tensor._placements != _normalize(placements, mesh, tensor.ndim, "distribute_tensor"):
            raise ValueError(
                f"Cannot distribute a DTensor with placements {tensor._placements} to a "
                f"different placements {placements}. do you want to call `redistribute` instead?"
            )
        return tensor
    for p in placements or ():
        if isinstance(p, Shard) and not -tensor.ndim <= p.dim < tensor.ndim:
            raise AssertionError(f"Sharding dim {p.dim} greater than tensor ndim {tensor.ndim}")
    placements = _normalize(placements, mesh, tensor.ndim, "distribute_tensor")
    local = tensor.detach()
    for mesh_dim, p in enumerate(placements):
        n = mesh.size(mesh_dim)
        if n > 1 and src_data_rank is not None:
            local = local.clone()
            collectives.broadcast(
                local, src_data_rank, group=mesh._group(mesh_dim, "distribute_tensor")
            )
        if isinstance(p, Shard):
            local = _take_chunk(local, mesh, mesh_dim, p.dim)
        elif isinstance(p, Partial):
            if p.reduce_op == "sum":
                local = local / n
    local.requires_grad_(tensor.requires_grad)
    return DTensor._wrap(local, mesh, placements, tensor.shape)


def distribute_module(module, device_mesh=None, partition_fn=None, input_fn=None, output_fn=None):
    """PyTorch's ``distribute_module``: ``partition_fn(name, submodule, device_mesh)`` on every
    submodule (it replaces parameters with DTensor ones), then every parameter and buffer
    still plain is replicated; ``input_fn(module, inputs, device_mesh)`` runs as a forward
    pre-hook and ``output_fn(module, outputs, device_mesh)`` as a forward hook. Returns
    ``module``, changed in place.

    Example:
        >>> distribute_module(model, mesh)  # every parameter a replicated DTensor
    """
    from ...nn.parameter import Parameter

    mesh = device_mesh if device_mesh is not None else _default_mesh("cpu")
    if getattr(module, "_distribute_module_applied", False):
        raise RuntimeError(
            "distribute_module should only be called once on a module, but it has already been "
            "called on this module!"
        )
    for name, submodule in module.named_modules():
        if partition_fn is not None:
            partition_fn(name, submodule, mesh)
        for key, param in list(submodule._parameters.items()):
            if param is not None and not isinstance(param, DTensor):
                replica = distribute_tensor(param.data, mesh, [Replicate()] * mesh.ndim)
                submodule.register_parameter(key, Parameter(replica, param.requires_grad))
        for key, buf in list(submodule._buffers.items()):
            if buf is not None and not isinstance(buf, DTensor):
                submodule._buffers[key] = distribute_tensor(buf, mesh, [Replicate()] * mesh.ndim)
    if input_fn is not None:
        module.register_forward_pre_hook(lambda mod, inputs: input_fn(mod, inputs, mesh))
    if output_fn is not None:
        module.register_forward_hook(lambda mod, inputs, outputs: output_fn(mod, outputs, mesh))
    module._distribute_module_applied = True
    return module


def _factory(fill):
    def make(
        *size, requires_grad=False, dtype=None, layout=None, device_mesh=None, placements=None
    ):
        from ... import full as full_tensor

        shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (list, tuple)) else size
        shape = tuple(int(n) for n in shape)
        mesh = device_mesh if device_mesh is not None else _default_mesh("cpu")
        placements = _normalize(placements, mesh, len(shape), fill.__name__)
        if any(p.is_partial() for p in placements):
            raise NotImplementedError(f"{fill.__name__}: a Partial placement for a factory")
        local = full_tensor(
            _local_shape(shape, mesh, placements), fill(), dtype=dtype, device=mesh.device_type
        )
        local.requires_grad_(requires_grad)
        return DTensor._wrap(local, mesh, placements, shape)

    make.__name__ = make.__qualname__ = fill.__name__
    make.__doc__ = f"A DTensor of ``size`` filled as ``torch.{fill.__name__}`` on ``device_mesh``."
    return make


def _zero():
    return 0


def _one():
    return 1


_zero.__name__, _one.__name__ = "zeros", "ones"
zeros, ones = _factory(_zero), _factory(_one)
empty = _factory(_zero)
empty.__name__ = empty.__qualname__ = "empty"


def full(
    size,
    fill_value,
    *,
    requires_grad=False,
    dtype=None,
    layout=None,
    device_mesh=None,
    placements=None,
) -> DTensor:
    """A DTensor of ``size`` filled with ``fill_value`` on ``device_mesh``."""

    def value():
        return fill_value

    value.__name__ = "full"
    return _factory(value)(
        size,
        requires_grad=requires_grad,
        dtype=dtype,
        device_mesh=device_mesh,
        placements=placements,
    )


def rand(*size, **kwargs):
    """PyTorch's DTensor random factories draw with a per-shard offset generator minigrad
    does not have."""
    raise NotImplementedError(
        "torch.distributed.tensor.rand is not in minigrad: distribute_tensor(torch.rand(...))"
    )


def randn(*size, **kwargs):
    """See :func:`rand`."""
    raise NotImplementedError(
        "torch.distributed.tensor.randn is not in minigrad: distribute_tensor(torch.randn(...))"
    )


# -- optimizers and gradient clipping on DTensor parameters --------------------------------------
def update_on_shards(optimizer, group: dict) -> None:
    """``optimizer``'s update of ``group`` where parameters are DTensors: the pointwise
    updates of SGD, Adam, AdamW, ... run on each parameter's local part (its gradient's local
    part alongside), as PyTorch's run on the shards. Between steps the state of such a
    parameter holds DTensors of its placements (``exp_avg``, ...), as PyTorch's."""
    params, state = group["params"], optimizer.state
    pairs = [(p, p._local_tensor) for p in params if isinstance(p, DTensor)]
    for p, local in pairs:
        if p in state:
            state[local] = {k: _locals(v) for k, v in state.pop(p).items()}
    local_params = [p._local_tensor if isinstance(p, DTensor) else p for p in params]
    try:
        optimizer._update_group(dict(group, params=local_params))
    finally:
        for p, local in pairs:
            if local in state:
                state[p] = {k: _placed_like(v, p, local) for k, v in state.pop(local).items()}


def _placed_like(value, p: DTensor, local: Tensor):
    """A state tensor of ``local``'s shape as a DTensor placed as ``p``; others as they are."""
    if isinstance(value, Tensor) and value.ndim and value.shape == local.shape:
        return DTensor._wrap(value, p._mesh, p._placements, p.shape)
    return value


def total_norm(grads, norm_type: float, norm_of):
    """The ``norm_type``-norm of DTensor (and plain) ``grads`` together: ``norm_of`` (the
    local norm of a list of plain tensors) on each rank's parts, combined over the ranks of
    each sharded gradient's mesh (a sum of p-th powers, or a max / min for ±inf), as a
    replicated DTensor (PyTorch's is one too)."""
    import math

    from ..distributed_c10d import ReduceOp

    sharded = [g for g in grads if isinstance(g, DTensor) and not _replicated(g)]
    mesh = (sharded or [g for g in grads if isinstance(g, DTensor)])[0]._mesh
    if not sharded:  # all replicated: every rank has the whole norm
        local = norm_of([g._local_tensor if isinstance(g, DTensor) else g for g in grads])
    else:
        if any(p.is_partial() for g in sharded for p in g._placements):
            raise NotImplementedError("clip_grad_norm_: Partial gradients (shard them first)")
        dims = {tuple(i for i, p in enumerate(g._placements) if p.is_shard()) for g in sharded}
        if len(dims) != 1 or len(next(iter(dims))) != 1 or any(g._mesh != mesh for g in sharded):
            raise NotImplementedError(
                "clip_grad_norm_: DTensor gradients on several meshes or sharded over "
                "several mesh dimensions"
            )
        ((dim,),) = dims  # (HSDP's (Replicate, Shard): the shards differ along one)
        group = mesh._group(dim, "clip_grad_norm_") if mesh.size(dim) > 1 else None
        # only the sharded part is split over the ranks: a replicated part counts once
        replicated = [g._local_tensor if isinstance(g, DTensor) else g for g in grads
                      if not (isinstance(g, DTensor) and not _replicated(g))]  # fmt: skip
        rep = norm_of(replicated) if replicated else None
        part = norm_of([g._local_tensor for g in sharded])
        if math.isinf(norm_type):
            op = ReduceOp.MAX if norm_type > 0 else ReduceOp.MIN
            if group is not None:
                collectives.all_reduce(part, op, group=group)
            local = part if rep is None else (part.maximum(rep) if norm_type > 0 else
                                              part.minimum(rep))  # fmt: skip
        else:
            power = part if norm_type == 0 else part**norm_type
            if group is not None:
                collectives.all_reduce(power, ReduceOp.SUM, group=group)
            if rep is not None:
                power = power + (rep if norm_type == 0 else rep**norm_type)
            local = power if norm_type == 0 else power ** (1.0 / norm_type)
    return DTensor._wrap(local, mesh, (Replicate(),) * mesh.ndim, ())


def _replicated(d: DTensor) -> bool:
    return all(p.is_replicate() for p in d._placements)
