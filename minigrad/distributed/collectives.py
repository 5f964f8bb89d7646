"""The collectives of ``minigrad.distributed`` on tensors (``all_reduce``, ``broadcast``,
gathers, scatters, point-to-point, Python objects): MPI on host buffers, or NCCL for ``cuda``
tensors. ``distributed_c10d`` re-exports them under PyTorch's module path."""

from __future__ import annotations

import pickle

import numpy as np

from .. import backend, dtypes
from ..autograd.graph import version_counter
from ..tensor import Tensor
from .distributed_c10d import (
    Backend,
    ProcessGroup,
    ReduceOp,
    Work,
    _group,
    _seconds,
    finish_in_flight,
    is_nccl_available,
    keep_until_done,
    settle_in_flight,
)

# -- tensors to buffers ------------------------------------------------------------------------


def _check_tensor(t, what: str, name: str = "tensor") -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{what}: {name} must be a minigrad Tensor, got {type(t).__name__}")


def _use_nccl(pg: ProcessGroup, tensors, what: str) -> bool:
    """True if these tensors go through NCCL (cuda tensors in an NCCL-capable group)."""
    cuda = [t.device.type == "cuda" for t in tensors]
    if any(cuda) and not all(cuda):
        raise RuntimeError(f"{what}: all tensors must be on the same device type")
    if pg._backend == Backend.NCCL:
        if not all(cuda):
            raise RuntimeError(
                f"{what}: the 'nccl' backend takes cuda tensors only, got a tensor on "
                f"{tensors[0].device}; use init_process_group() (no backend) for both"
            )
        return True
    if all(cuda) and getattr(pg, "_auto_nccl", False) and is_nccl_available():
        return True
    return False  # MPI; cuda tensors are staged through host memory


class _Staged:
    """A tensor's values as a contiguous host array for MPI, and the write back after."""

    def __init__(self, t: Tensor, reduce: bool):
        self.tensor = t
        host = t.device.backend.to_host(t._data)
        self.dtype = host.dtype
        if reduce and host.dtype == np.bool_:
            buf = host.astype(np.uint8)  # MPI has no arithmetic on bool: SUM means OR
        elif reduce and dtypes.is_floating(host.dtype) and host.dtype.itemsize < 4:
            buf = host.astype(np.float32)  # float16 and bfloat16 are reduced in float32
        else:
            buf = np.ascontiguousarray(host)
        self.buf = buf
        self.shared = buf is t._data  # MPI writes straight into the tensor's memory

    def raw(self):
        """The buffer as bytes, for operations that only move data."""
        return self.buf.reshape(-1).view(np.uint8)

    def write_back(self, values=None) -> None:
        t = self.tensor
        values = self.buf if values is None else values
        if not (self.shared and values is self.buf):
            if values.dtype != self.dtype:
                values = values.astype(self.dtype)
            t._data[...] = backend.to_device(values.reshape(t._data.shape), backend.CPU, t.device)
        version_counter(t).value += 1


def _run(pg: ProcessGroup, requests, finish, what: str, async_op: bool, outputs=None):
    def wait(timeout=None):
        pg._mpi.wait(requests, what, timeout)
        finish()

    settle_in_flight()  # (dropped handles of earlier operations)
    if async_op:
        test = lambda: pg._mpi.MPI.Request.Testall(requests)  # noqa: E731
        return keep_until_done(Work(wait, what, test=test, outputs=outputs))
    wait()
    return None


def _reduce_op(op, what: str) -> str:
    if isinstance(op, ReduceOp):
        return op.value
    if isinstance(op, str) and op.upper() in ReduceOp.__members__:
        return op.upper()
    names = ", ".join(ReduceOp.__members__)
    raise ValueError(f"{what}: op must be a ReduceOp ({names}), got {op!r}")


def _check_avg(t: Tensor, op: str, what: str) -> None:
    if op == "AVG" and not t.dtype.is_floating_point:
        raise ValueError(f"{what}: ReduceOp.AVG needs a floating-point tensor, got {t.dtype}")
    if op in ("BAND", "BOR", "BXOR") and (t.dtype.is_floating_point or t.dtype.is_complex):
        raise ValueError(f"{what}: Cannot use ReduceOp.{op} with non-integral dtype {t.dtype}")


def _check_rank(pg: ProcessGroup, r, what: str, name: str) -> int:
    if not isinstance(r, int) or isinstance(r, bool) or not 0 <= r < pg.size():
        raise ValueError(
            f"{what}: {name}={r!r} is not a rank of the group (valid: 0 .. {pg.size() - 1})"
        )
    return r


# -- collectives -------------------------------------------------------------------------------


def all_reduce(tensor: Tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Combine ``tensor`` across all ranks (in place): every rank gets the sum (or AVG,
    PRODUCT, MIN, MAX) of all ranks' tensors.

    Example:
        >>> t = minigrad.tensor([float(dist.get_rank())])
        >>> dist.all_reduce(t)  # t == 0 + 1 + ... on every rank
    """
    what = "all_reduce"
    pg = _group(group, what)
    _check_tensor(tensor, what)
    op = _reduce_op(op, what)
    _check_avg(tensor, op, what)
    if _use_nccl(pg, [tensor], what):
        wait = _nccl_comm(pg, tensor.device).all_reduce(tensor, op)
        return _finish_or_work(wait, what, async_op, [tensor])
    staged = _Staged(tensor, reduce=True)

    def finish():
        if op == "AVG":
            staged.buf /= pg.size()
        staged.write_back()

    return _run(pg, pg._mpi.allreduce(staged.buf, op), finish, what, async_op, [tensor])


def broadcast(tensor: Tensor, src: int = 0, group=None, async_op: bool = False, group_src=None):
    """Copy ``tensor`` from rank ``src`` into ``tensor`` on every other rank."""
    what = "broadcast"
    pg = _group(group, what)
    _check_tensor(tensor, what)
    src = _check_rank(pg, src if group_src is None else group_src, what, "src")
    if _use_nccl(pg, [tensor], what):
        return _nccl_call(pg, "broadcast", what, async_op, tensor, src)
    staged = _Staged(tensor, reduce=False)
    return _run(pg, pg._mpi.bcast(staged.raw(), src), staged.write_back, what, async_op)


def reduce(tensor: Tensor, dst: int = 0, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Combine ``tensor`` across ranks into ``tensor`` on rank ``dst`` (others keep theirs)."""
    what = "reduce"
    pg = _group(group, what)
    _check_tensor(tensor, what)
    dst = _check_rank(pg, dst, what, "dst")
    op = _reduce_op(op, what)
    _check_avg(tensor, op, what)
    if _use_nccl(pg, [tensor], what):
        return _nccl_call(pg, "reduce", what, async_op, tensor, dst, op)
    staged = _Staged(tensor, reduce=True)

    def finish():
        if pg.rank() == dst:
            if op == "AVG":
                staged.buf /= pg.size()
            staged.write_back()

    return _run(pg, pg._mpi.reduce(staged.buf, dst, op), finish, what, async_op)


def _check_same(what: str, ref: Tensor, others, name: str, count: int | None = None) -> None:
    if count is not None and len(others) != count:
        raise ValueError(
            f"{what}: {name} must hold one tensor per rank ({count}), got {len(others)}"
        )
    for i, t in enumerate(others):
        _check_tensor(t, what, f"{name}[{i}]")
        if t.shape != ref.shape or t.dtype != ref.dtype:
            raise ValueError(
                f"{what}: {name}[{i}] has shape {list(t.shape)} and dtype {t.dtype}; expected "
                f"{list(ref.shape)} and {ref.dtype} like the input"
            )


def all_gather(tensor_list: list, tensor: Tensor, group=None, async_op: bool = False):
    """Every rank's ``tensor``, in rank order, into ``tensor_list`` on every rank."""
    what = "all_gather"
    pg = _group(group, what)
    _check_tensor(tensor, what)
    _check_same(what, tensor, tensor_list, "tensor_list", pg.size())
    out = _empty_like_stack(tensor, pg.size())
    work = all_gather_into_tensor(out, tensor, group, async_op=True)

    def wait(timeout=None):
        work.wait(timeout)
        for i, t in enumerate(tensor_list):
            _write(t, out._data[i])

    return _finish_or_work(wait, what, async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op: bool = False):
    """Every rank's ``input_tensor`` concatenated along dim 0 (or stacked, if ``output_tensor``
    has one more dimension) into ``output_tensor``, in rank order."""
    what = "all_gather_into_tensor"
    pg = _group(group, what)
    _check_tensor(output_tensor, what, "output_tensor")
    _check_tensor(input_tensor, what, "input_tensor")
    if output_tensor.numel() != input_tensor.numel() * pg.size():
        raise ValueError(
            f"{what}: output_tensor has {output_tensor.numel()} elements; expected world size "
            f"({pg.size()}) x input_tensor's {input_tensor.numel()}"
        )
    if output_tensor.dtype != input_tensor.dtype:
        raise ValueError(f"{what}: output and input dtypes differ")
    if _use_nccl(pg, [output_tensor, input_tensor], what):
        return _nccl_call(pg, "all_gather", what, async_op, output_tensor, input_tensor)
    send, recv = _Staged(input_tensor, False), _Staged(output_tensor, False)
    return _run(pg, pg._mpi.allgather(send.raw(), recv.raw()), recv.write_back, what, async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce ``input`` across ranks and give rank r the r-th of ``world size`` equal chunks
    (along dim 0) of the result, in ``output``."""
    what = "reduce_scatter_tensor"
    pg = _group(group, what)
    _check_tensor(output, what, "output")
    _check_tensor(input, what, "input")
    op = _reduce_op(op, what)
    _check_avg(output, op, what)
    if input.numel() != output.numel() * pg.size():
        raise ValueError(
            f"{what}: input has {input.numel()} elements; expected world size ({pg.size()}) "
            f"x output's {output.numel()}"
        )
    if _use_nccl(pg, [output, input], what):
        return _nccl_call(pg, "reduce_scatter", what, async_op, output, input, op)
    send, recv = _Staged(input, True), _Staged(output, True)

    def finish():
        if op == "AVG":
            recv.buf /= pg.size()
        recv.write_back()

    requests = pg._mpi.reduce_scatter_block(send.buf, recv.buf, op)
    return _run(pg, requests, finish, what, async_op)


def all_to_all_single(
    output, input, output_split_sizes=None, input_split_sizes=None, group=None,
    async_op: bool = False,
):  # fmt: skip
    """Split ``input`` along dim 0 (into ``input_split_sizes`` rows, or world-size equal
    parts), send part r to rank r, and concatenate what each rank sent this one, in rank
    order, into ``output``. Runs as all-gathers (of the split sizes, then of the inputs padded
    to the longest), so it moves world-size times the data of an MPI all-to-all."""
    what = "all_to_all_single"
    pg = _group(group, what)
    _check_tensor(output, what, "output")
    _check_tensor(input, what, "input")
    n, me = pg.size(), pg.rank()
    rows = input.shape[0] if input.ndim else 1
    if input_split_sizes is None:
        if rows % n:
            raise ValueError(f"{what}: input's {rows} rows do not split into {n} equal parts")
        input_split_sizes = [rows // n] * n
    splits = [int(k) for k in input_split_sizes]
    if len(splits) != n or sum(splits) != rows:
        raise ValueError(
            f"{what}: input_split_sizes {splits} must have one size per rank ({n}) summing to "
            f"input's {rows} rows"
        )
    everyone = [None] * n
    all_gather_object(everyone, (splits, rows), group=group)
    longest = max(r for _, r in everyone)
    padded = input.new_zeros((longest, *input.shape[1:]))
    padded[:rows] = input
    gathered = _empty_like_stack(padded, n)
    all_gather_into_tensor(gathered, padded, group=group)
    received = [sizes[me] for sizes, _ in everyone]
    if output_split_sizes is not None and [int(k) for k in output_split_sizes] != received:
        raise ValueError(
            f"{what}: output_split_sizes {list(output_split_sizes)} but the ranks send "
            f"{received} rows"
        )
    if output.shape[0] != sum(received):
        raise ValueError(f"{what}: output has {output.shape[0]} rows; {sum(received)} arrive")
    pieces = []
    for r, (sizes, _) in enumerate(everyone):
        start = sum(sizes[:me])
        pieces.append(gathered._data[r][start : start + sizes[me]])
    _write(output, output.device.xp.concatenate(pieces, 0) if pieces else output._data)
    return _finish_or_work(lambda timeout=None: None, what, async_op)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce the r-th tensor of every rank's ``input_list`` into rank r's ``output`` (the
    list form of :func:`reduce_scatter_tensor`, which it runs on the list concatenated; done
    when it returns, a finished ``Work`` with ``async_op``)."""
    what = "reduce_scatter"
    pg = _group(group, what)
    _check_tensor(output, what, "output")
    _check_same(what, output, input_list, "input_list", pg.size())
    xp = output.device.xp
    flat = Tensor._make(xp.concatenate([t._data.reshape(-1) for t in input_list]), output.device)
    received = Tensor._make(xp.empty(output.numel(), output._data.dtype), output.device)
    reduce_scatter_tensor(received, flat, op, group)
    _write(output, received._data.reshape(output.shape))
    return _finish_or_work(lambda timeout=None: None, what, async_op)


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op: bool = False):
    """Send ``input_tensor_list[r]`` to rank r and receive rank r's tensor for this rank in
    ``output_tensor_list[r]`` (run as :func:`all_to_all_single` on the flattened lists)."""
    what = "all_to_all"
    pg = _group(group, what)
    _check_list(input_tensor_list, pg.size(), what, "input_tensor_list")
    _check_list(output_tensor_list, pg.size(), what, "output_tensor_list")
    first = input_tensor_list[0]
    if any(t.dtype != first.dtype for t in (*input_tensor_list, *output_tensor_list)):
        raise ValueError(f"{what}: every input and output tensor must have one dtype")
    xp = first.device.xp
    flat_in = Tensor._make(xp.concatenate([t._data.reshape(-1) for t in input_tensor_list]),
                           first.device)  # fmt: skip
    sizes_out = [t.numel() for t in output_tensor_list]
    flat_out = Tensor._make(xp.empty(sum(sizes_out), first._data.dtype), first.device)
    all_to_all_single(flat_out, flat_in, sizes_out, [t.numel() for t in input_tensor_list],
                      group=group)  # fmt: skip
    start = 0
    for t, k in zip(output_tensor_list, sizes_out):
        _write(t, flat_out._data[start : start + k].reshape(t.shape))
        start += k
    return _finish_or_work(lambda timeout=None: None, what, async_op)


def _check_list(tensors, n: int, what: str, name: str) -> None:
    if not isinstance(tensors, (list, tuple)) or len(tensors) != n:
        raise ValueError(f"{what}: {name} must be a list of one tensor per rank ({n})")
    for t in tensors:
        _check_tensor(t, what, name)


def gather(tensor: Tensor, gather_list=None, dst: int = 0, group=None, async_op: bool = False):
    """Every rank's ``tensor`` into ``gather_list`` (in rank order) on rank ``dst`` only."""
    what = "gather"
    pg = _group(group, what)
    _check_tensor(tensor, what)
    dst = _check_rank(pg, dst, what, "dst")
    root = pg.rank() == dst
    if root:
        if gather_list is None:
            raise ValueError(f"{what}: gather_list is required on the destination rank {dst}")
        _check_same(what, tensor, gather_list, "gather_list", pg.size())
    elif gather_list:
        raise ValueError(f"{what}: gather_list must be None or empty on non-destination ranks")
    if _use_nccl(pg, [tensor], what):
        return _nccl_call(pg, "gather", what, async_op, tensor, gather_list, dst)
    send = _Staged(tensor, False)
    out = _empty_like_stack(tensor, pg.size()) if root else None
    recv = _Staged(out, False).raw() if root else None

    def finish():
        if root:
            for i, t in enumerate(gather_list):
                _write(t, out._data[i])

    return _run(pg, pg._mpi.gather(send.raw(), recv, dst), finish, what, async_op)


def scatter(tensor: Tensor, scatter_list=None, src: int = 0, group=None, async_op: bool = False):
    """Rank ``src``'s ``scatter_list[r]`` into ``tensor`` on each rank r."""
    what = "scatter"
    pg = _group(group, what)
    _check_tensor(tensor, what)
    src = _check_rank(pg, src, what, "src")
    root = pg.rank() == src
    if root:
        if scatter_list is None:
            raise ValueError(f"{what}: scatter_list is required on the source rank {src}")
        _check_same(what, tensor, scatter_list, "scatter_list", pg.size())
    elif scatter_list:
        raise ValueError(f"{what}: scatter_list must be None or empty on non-source ranks")
    if _use_nccl(pg, [tensor], what):
        return _nccl_call(pg, "scatter", what, async_op, tensor, scatter_list, src)
    send = None
    if root:
        host = [t.device.backend.to_host(t._data) for t in scatter_list]
        send = np.ascontiguousarray(np.stack(host)).reshape(-1).view(np.uint8)
    recv = _Staged(tensor, False)
    return _run(pg, pg._mpi.scatter(send, recv.raw(), src), recv.write_back, what, async_op)


def _point_to_point(kind: str, tensor, peer, group, tag: int):
    what = kind
    pg = _group(group, what)
    _check_tensor(tensor, what)
    if peer is not None:
        peer = _check_rank(pg, peer, what, "dst" if kind == "send" else "src")
        if peer == pg.rank():
            raise ValueError(f"{what}: a rank cannot {kind} to itself (rank {peer})")
    if _use_nccl(pg, [tensor], what):
        return pg, None, _nccl_point(pg, kind, tensor, peer)
    staged = _Staged(tensor, False)
    if kind == "send":
        return pg, None, (pg._mpi.send(staged.raw(), peer, tag), lambda: None)
    requests, statuses = pg._mpi.recv(staged.raw(), peer, tag)
    return pg, statuses, (requests, staged.write_back)


def isend(tensor: Tensor, dst: int, group=None, tag: int = 0) -> Work:
    """Start sending ``tensor`` to rank ``dst``; ``wait()`` on the returned work."""
    pg, _, (requests, finish) = _point_to_point("send", tensor, dst, group, tag)
    return _run(pg, requests, finish, "send", async_op=True)


def irecv(tensor: Tensor, src: int | None = None, group=None, tag: int = 0) -> Work:
    """Start receiving into ``tensor`` from rank ``src`` (None: any rank)."""
    pg, _, (requests, finish) = _point_to_point("recv", tensor, src, group, tag)
    return _run(pg, requests, finish, "recv", async_op=True)


def send(tensor: Tensor, dst: int, group=None, tag: int = 0) -> None:
    """Send ``tensor`` to rank ``dst`` (which calls ``recv``)."""
    isend(tensor, dst, group, tag).wait()


def recv(tensor: Tensor, src: int | None = None, group=None, tag: int = 0) -> int:
    """Receive into ``tensor`` from rank ``src`` (None: any rank); returns the sender's rank."""
    pg, statuses, (requests, finish) = _point_to_point("recv", tensor, src, group, tag)
    pg._mpi.wait(requests, "recv", statuses=statuses)
    finish()
    if statuses is None:
        return src
    return statuses[0].Get_source()


def barrier(group=None, async_op: bool = False, device_ids=None):
    """Wait until every rank of the group has reached the barrier, and this rank's earlier
    operations whose handles were dropped have finished (their results written back)."""
    pg = _group(group, "barrier")
    finish_in_flight()
    return _run(pg, pg._mpi.barrier(), lambda: None, "barrier", async_op)


def monitored_barrier(group=None, timeout=None, wait_all_ranks: bool = False) -> None:
    """A barrier that fails with :class:`DistBackendError` after ``timeout`` (default: the
    group's)."""
    pg = _group(group, "monitored_barrier")
    pg._mpi.wait(pg._mpi.barrier(), "monitored_barrier", _seconds(timeout) if timeout else None)


def broadcast_object_list(object_list: list, src: int = 0, group=None, device=None) -> None:
    """Replace ``object_list``'s items on every rank with rank ``src``'s (pickled, as
    PyTorch does: only exchange objects between the ranks of one job you trust)."""
    what = "broadcast_object_list"
    pg = _group(group, what)
    src = _check_rank(pg, src, what, "src")
    data = pickle.dumps(list(object_list)) if pg.rank() == src else None
    received = pickle.loads(pg._mpi.bcast_bytes(data, src, what))
    if len(received) != len(object_list):
        raise ValueError(
            f"{what}: object_list has {len(object_list)} items here but {len(received)} on "
            f"rank {src}; every rank must pass a list of the same length"
        )
    object_list[:] = received


def all_gather_object(object_list: list, obj, group=None) -> None:
    """Every rank's ``obj`` (pickled), in rank order, into ``object_list``."""
    what = "all_gather_object"
    pg = _group(group, what)
    if len(object_list) != pg.size():
        raise ValueError(f"{what}: object_list must have world size ({pg.size()}) items")
    parts = pg._mpi.allgather_bytes(pickle.dumps(obj), what)
    object_list[:] = [pickle.loads(p) for p in parts]


# -- helpers ----------------------------------------------------------------------------------


def _empty_like_stack(t: Tensor, n: int) -> Tensor:
    xp = t.device.xp
    return Tensor._make(xp.empty((n, *t.shape), t._data.dtype), t.device)


def _write(t: Tensor, values) -> None:
    t._data[...] = values
    version_counter(t).value += 1


def _finish_or_work(wait, what: str, async_op: bool, outputs=None):
    if async_op:
        return Work(wait, what, outputs=outputs)
    wait()
    return None


def _nccl_comm(pg: ProcessGroup, device):
    from . import _nccl

    if pg._nccl is None:
        pg._nccl = _nccl.NCCLGroup(pg._mpi, device, pg._timeout)
    return pg._nccl


def _nccl_call(pg: ProcessGroup, name: str, what: str, async_op: bool, *args):
    comm = _nccl_comm(pg, args[0].device)
    wait = getattr(comm, name)(*args)
    return _finish_or_work(wait, what, async_op)


def _nccl_point(pg: ProcessGroup, kind: str, tensor, peer):
    if peer is None:
        raise NotImplementedError("recv from any source (src=None) on NCCL")
    comm = _nccl_comm(pg, tensor.device)
    wait = getattr(comm, kind)(tensor, peer)
    return [], wait
