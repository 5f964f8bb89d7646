"""The process group and the collectives of ``minigrad.distributed``, with
``torch.distributed``'s names and semantics.

One process group, the world, per process: ``init_process_group`` joins it through MPI (the
MPI launcher, ``python -m minigrad.distributed.run``, or a bare ``mpiexec``, started the
processes). CPU tensors travel through MPI (mpi4py); ``cuda`` tensors through NCCL (CuPy's
``cupy.cuda.nccl``) when the group's backend is ``nccl`` (or ``None`` and NCCL is available).
"""

from __future__ import annotations

import datetime
import enum
import os
import sys

from ._mpi import DistBackendError, DistError, MPIComm, abort, load_mpi

#: PyTorch's default timeout for the CPU backends (30 minutes).
default_pg_timeout = datetime.timedelta(minutes=30)


class ReduceOp(enum.Enum):
    """How ``all_reduce``, ``reduce`` and ``reduce_scatter_tensor`` combine the ranks' values."""

    SUM = "SUM"
    AVG = "AVG"
    PRODUCT = "PRODUCT"
    MIN = "MIN"
    MAX = "MAX"
    BAND = "BAND"  # bitwise and, or, xor: integer and bool tensors only
    BOR = "BOR"
    BXOR = "BXOR"

    def __repr__(self) -> str:
        return f"<ReduceOp.{self.name}>"


# PyTorch's ReduceOp wraps an enum, ReduceOp.RedOpType, whose values ReduceOp.SUM, ... are
# (Lightning annotates with it); here the members are the enum's own.
ReduceOp.RedOpType = ReduceOp


class Backend:
    """The backend names ``init_process_group`` accepts.

    ``"mpi"`` and ``"gloo"`` both run on MPI (``"gloo"`` is what CPU programs written for
    PyTorch ask for; minigrad has no Gloo of its own); ``"nccl"`` runs ``cuda`` tensors on
    NCCL, bootstrapped over MPI.
    """

    UNDEFINED = "undefined"
    MPI = "mpi"
    GLOO = "gloo"
    NCCL = "nccl"

    def __new__(cls, name: str) -> str:
        lowered = str(name).lower()
        if lowered not in (cls.MPI, cls.GLOO, cls.NCCL):
            raise ValueError(
                f"init_process_group: unknown backend {name!r}; valid: 'gloo' and 'mpi' (MPI, "
                f"CPU tensors), 'nccl' (cuda tensors), or None for both"
            )
        return lowered


class ProcessGroup:
    """A group of ranks that run collectives together (minigrad has the world group only)."""

    def __init__(self, mpi: MPIComm, backend_name: str, timeout: float):
        self._mpi, self._backend, self._timeout = mpi, backend_name, timeout
        self._nccl = None
        self._auto_nccl = False  # backend=None: cuda tensors take NCCL where it is there

    def rank(self) -> int:
        return self._mpi.rank

    def size(self) -> int:
        return self._mpi.size

    def name(self) -> str:
        return self._backend

    def __repr__(self) -> str:
        return f"ProcessGroup(backend={self._backend!r}, rank={self.rank()}, size={self.size()})"


class GroupMember:
    """``dist.group.WORLD``: the default process group once it is initialised."""

    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = -100


group = GroupMember
_world: ProcessGroup | None = None
_previous_excepthook = None


class Work:
    """The handle an ``async_op=True`` collective returns: ``wait()`` completes it.

    Example:
        >>> work = dist.all_reduce(t, async_op=True)
        >>> ...  # other work while the reduction runs
        >>> work.wait()
    """

    def __init__(self, wait, what: str, test=None, outputs=None):
        self._wait, self._what, self._done, self._test = wait, what, False, test
        self._outputs = outputs

    def wait(self, timeout=None) -> bool:
        """Block until the operation finished and its result is in the output tensors."""
        if not self._done:
            self._wait(_seconds(timeout) if timeout is not None else None)
            self._done = True
        return True

    def is_completed(self) -> bool:
        """True once the operation finished (a non-blocking check, which also moves an MPI
        operation on: MPI progresses a non-blocking collective when it is tested)."""
        if not self._done and self._test is not None and self._test():
            self.wait()
        return self._done

    def is_success(self) -> bool:
        return self._done

    def result(self) -> list:
        """The operation's output tensors (their values are final once :meth:`wait` returned)."""
        if self._outputs is None:
            raise NotImplementedError(f"Work.result() for {self._what} (all_reduce has it)")
        return list(self._outputs)

    def __repr__(self) -> str:
        return f"Work({self._what}, completed={self._done})"


# Started MPI operations whose handle the program may drop before they finish (PyTorch lets it:
# its process group keeps a work's tensors). Each is kept here, its requests and buffers alive,
# until a later collective finds it done (its results written back then) or a barrier or
# destroy_process_group waits for it; otherwise MPI would write into freed memory.
_in_flight: list[Work] = []


def settle_in_flight() -> None:
    """Let go of the held operations that are done (their results written back)."""
    if _in_flight:
        _in_flight[:] = [w for w in _in_flight if not w.is_completed()]


def keep_until_done(work: Work) -> Work:
    """Hold ``work`` until a later :func:`settle_in_flight` finds it done."""
    _in_flight.append(work)
    return work


def finish_in_flight() -> None:
    """Wait for every held operation (a barrier's and the group's end's promise)."""
    while _in_flight:
        _in_flight.pop().wait()


# -- availability and the process group ------------------------------------------------------


def is_available() -> bool:
    """True: the distributed package is there (it needs mpi4py only when a group is started)."""
    return True


def is_mpi_available() -> bool:
    """True if mpi4py can be imported (without starting MPI)."""
    import importlib.util

    return importlib.util.find_spec("mpi4py") is not None


def is_gloo_available() -> bool:
    """minigrad serves ``"gloo"`` with MPI: True where MPI is available."""
    return is_mpi_available()


def is_nccl_available() -> bool:
    """True if CuPy with NCCL and a CUDA device are there."""
    from . import _nccl

    return _nccl.is_available()


def is_initialized() -> bool:
    """True between ``init_process_group`` and ``destroy_process_group``."""
    return _world is not None


def is_torchelastic_launched() -> bool:
    """True when started by minigrad's launcher (it plays torchrun's part)."""
    return os.environ.get("MINIGRAD_LAUNCHED") == "1"


def _seconds(timeout) -> float:
    if isinstance(timeout, datetime.timedelta):
        return timeout.total_seconds()
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
        return float(timeout)
    raise TypeError(
        f"timeout must be a datetime.timedelta or a positive number of seconds, got {timeout!r}"
    )


def init_process_group(
    backend: str | None = None,
    init_method: str | None = None,
    timeout=None,
    world_size: int = -1,
    rank: int = -1,
    store=None,
    group_name: str = "",
    pg_options=None,
    device_id=None,
) -> None:
    """Join the default process group: every rank of the job calls this once.

    The ranks are the processes that the MPI launcher started (``python -m
    minigrad.distributed.run --nproc-per-node N script.py``, ``minigrad run -n N``, or
    ``mpiexec -n N python script.py``); rank and world size come from MPI and must agree with
    ``rank``/``world_size`` and with the ``RANK``/``WORLD_SIZE`` variables where given. A
    program started alone is a world of one.

    Args:
        backend: ``"gloo"`` or ``"mpi"`` (both run on MPI: minigrad has no Gloo of its own,
            and ``"gloo"`` is accepted so that CPU programs written for PyTorch run
            unchanged), ``"nccl"`` (``cuda`` tensors on NCCL, set up over MPI), or None (MPI
            for CPU tensors and NCCL for ``cuda`` tensors where NCCL is available).
        init_method: ``None`` or ``"env://"``; the rendezvous is MPI's, so ``tcp://`` and
            ``file://`` addresses are accepted and not used.
        timeout: how long a collective waits for the other ranks before it raises
            :class:`DistBackendError` (a ``datetime.timedelta`` or seconds; default 30
            minutes as PyTorch's). A rank that died, hung or skipped a collective therefore
            makes the others fail within the timeout, never hang.
        world_size, rank: checked against MPI's when given (-1: take MPI's).
        store, group_name, pg_options, device_id: accepted for PyTorch compatibility;
            ``store`` must be None (MPI does the rendezvous).

    Under the launcher, an exception in any rank ends the whole job with that rank's error.
    Under a bare ``mpiexec`` an uncaught exception does the same (``MPI_Abort``), so that no
    rank waits for a dead one.

    Example:
        >>> import minigrad.distributed as dist
        >>> dist.init_process_group("gloo")
        >>> dist.get_rank(), dist.get_world_size()
    """
    global _world, _previous_excepthook
    if _world is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    name = Backend(backend) if backend is not None else None
    if store is not None:
        raise NotImplementedError(
            "init_process_group(store=...): minigrad's rendezvous is MPI's; pass no store"
        )
    if init_method not in (None, "env://") and "://" not in str(init_method):
        raise ValueError(
            f"init_process_group: init_method should be 'env://', 'tcp://...' or 'file://...', "
            f"got {init_method!r}"
        )
    seconds = _seconds(timeout if timeout is not None else default_pg_timeout)
    MPI = load_mpi()  # noqa: N806
    # A communicator of our own, so that the user's MPI traffic cannot mix with ours; made
    # non-blocking so that a rank that never arrives is a timeout, not a hang.
    comm, request = MPI.COMM_WORLD.Idup()
    size, me = MPI.COMM_WORLD.Get_size(), MPI.COMM_WORLD.Get_rank()
    MPIComm(MPI.COMM_WORLD, seconds).wait([request], "init_process_group")
    env_size = os.environ.get("WORLD_SIZE")
    if env_size is not None and int(env_size) != size:
        comm.Free()
        raise RuntimeError(
            f"init_process_group: WORLD_SIZE={env_size} but MPI started {size} process(es): "
            f"this program was started by a launcher minigrad cannot join (torchrun?); start "
            f"it with python -m minigrad.distributed.run --nproc-per-node {env_size} ..."
        )
    env_rank = os.environ.get("RANK")
    if env_rank is not None and env_size is not None and int(env_rank) != me:
        comm.Free()
        raise RuntimeError(
            f"init_process_group: RANK={env_rank} but MPI gives this process rank {me}; rank "
            f"and world size come from the MPI launcher"
        )
    for what, given, actual in (("world_size", world_size, size), ("rank", rank, me)):
        if given not in (-1, None) and int(given) != actual:
            comm.Free()
            raise ValueError(
                f"init_process_group: {what}={given} but MPI says {actual} (world size {size}); "
                f"rank and world size come from the MPI launcher"
            )
    _world = GroupMember.WORLD = ProcessGroup(MPIComm(comm, seconds), name or "mpi", seconds)
    _world._auto_nccl = name is None
    if _previous_excepthook is None and size > 1:
        _previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_uncaught


def _abort_on_uncaught(kind, value, tb) -> None:
    """An uncaught exception on one rank ends the whole job (never a rank left waiting)."""
    _previous_excepthook(kind, value, tb)
    rank = _world.rank() if _world is not None else "?"
    print(f"minigrad.distributed: rank {rank} failed; ending the job", file=sys.stderr)
    abort(1)


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Leave the default process group (collectives are an error afterwards)."""
    global _world, _previous_excepthook
    if _world is None:
        raise ValueError("Default process group has not been initialized")
    finish_in_flight()
    if _world._nccl is not None:
        _world._nccl.destroy()
    _world._mpi.free()
    _world = GroupMember.WORLD = None
    if _previous_excepthook is not None:
        sys.excepthook = _previous_excepthook
        _previous_excepthook = None


def _group(group, what: str) -> ProcessGroup:
    if _world is None:
        raise ValueError(
            f"{what}: Default process group has not been initialized, please make sure to call "
            f"init_process_group."
        )
    if group is not None and group is not _world:
        raise NotImplementedError(f"{what}: only the default (world) process group is supported")
    return _world


def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's rank in the group (0 .. world size - 1)."""
    return _group(group, "get_rank").rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    """The number of processes in the group."""
    return _group(group, "get_world_size").size()


def get_backend(group: ProcessGroup | None = None) -> str:
    """The backend the group was started with (``"gloo"``, ``"mpi"`` or ``"nccl"``)."""
    return _group(group, "get_backend").name()


def get_default_group() -> ProcessGroup:
    return _group(None, "get_default_group")


def get_process_group_ranks(group: ProcessGroup | None) -> list:
    """The global ranks of ``group``: every rank (minigrad's one group is the world)."""
    return list(range(_group(group, "get_process_group_ranks").size()))


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, **kwargs):
    """Only the whole world is a group in minigrad: ``new_group()`` (all ranks) returns it."""
    pg = _group(None, "new_group")
    if ranks is not None and sorted(ranks) != list(range(pg.size())):
        raise NotImplementedError("new_group: subgroups of ranks are not supported by minigrad")
    return pg


# The collectives live in collectives.py; PyTorch programs also reach them under this path.
from .collectives import (  # noqa: E402
    all_gather,
    all_gather_into_tensor,
    all_gather_object,
    all_reduce,
    all_to_all,
    all_to_all_single,
    barrier,
    broadcast,
    broadcast_object_list,
    gather,
    irecv,
    isend,
    monitored_barrier,
    recv,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
    scatter,
    send,
)

__all__ = [
    "Backend",
    "DistBackendError",
    "DistError",
    "GroupMember",
    "ProcessGroup",
    "ReduceOp",
    "Work",
    "all_gather",
    "all_gather_into_tensor",
    "all_gather_object",
    "all_reduce",
    "all_to_all",
    "all_to_all_single",
    "barrier",
    "broadcast",
    "broadcast_object_list",
    "default_pg_timeout",
    "destroy_process_group",
    "gather",
    "get_backend",
    "get_process_group_ranks",
    "get_rank",
    "get_world_size",
    "group",
    "init_process_group",
    "irecv",
    "is_available",
    "is_gloo_available",
    "is_initialized",
    "is_mpi_available",
    "is_nccl_available",
    "is_torchelastic_launched",
    "isend",
    "monitored_barrier",
    "new_group",
    "recv",
    "reduce",
    "reduce_scatter",
    "reduce_scatter_tensor",
    "scatter",
    "send",
]
