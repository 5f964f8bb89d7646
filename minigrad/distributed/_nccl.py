"""The NCCL engine of ``minigrad.distributed``: collectives on ``cuda`` tensors through CuPy's
``cupy.cuda.nccl``, with the communicator's unique id sent over MPI.

NOTE: this path needs NVIDIA GPUs and CuPy built with NCCL; it was written without a GPU
machine and has not been run yet. It is reached only by ``cuda`` tensors in a process group
started with ``backend="nccl"`` (or ``None`` where :func:`is_available` is True).

CuPy is reached through the ``cuda`` device's array module (``backend``), so that this file
does not import it: ``backend.py`` stays the only importer of CuPy.
"""

from __future__ import annotations

import time

from .. import backend
from ..autograd.graph import version_counter
from ._mpi import DistBackendError


def _cupy():
    return backend.device("cuda").xp


def is_available() -> bool:
    """True if CuPy, its NCCL bindings and a CUDA device are there."""
    try:
        cupy = _cupy()
        nccl = cupy.cuda.nccl
        return bool(nccl.available) and cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no CuPy, no driver, no NCCL: all mean "not available"
        return False


def _nccl_dtype(nccl, dtype, what: str):
    table = {
        "float16": nccl.NCCL_FLOAT16,
        "float32": nccl.NCCL_FLOAT32,
        "float64": nccl.NCCL_FLOAT64,
        "int32": nccl.NCCL_INT32,
        "int64": nccl.NCCL_INT64,
        "uint8": nccl.NCCL_UINT8,
        "int8": nccl.NCCL_INT8,
        "bool": nccl.NCCL_UINT8,
    }
    name = str(dtype)
    if name not in table:
        raise NotImplementedError(f"{what} on NCCL for dtype {name}")
    return table[name]


def _nccl_op(nccl, op: str, what: str):
    table = {
        "SUM": nccl.NCCL_SUM,
        "PRODUCT": nccl.NCCL_PROD,
        "MIN": nccl.NCCL_MIN,
        "MAX": nccl.NCCL_MAX,
        "AVG": getattr(nccl, "NCCL_AVG", None),
    }
    if op not in table:  # PyTorch's NCCL backend refuses the bitwise ones too
        raise ValueError(f"{what}: Cannot use ReduceOp.{op} with NCCL")
    if table[op] is None:
        raise NotImplementedError(f"{what}: ReduceOp.AVG needs NCCL 2.10 or newer")
    return table[op]


class NCCLGroup:
    """One NCCL communicator over the MPI world: rank r drives the GPU it has current."""

    def __init__(self, mpi, device, timeout: float):
        cupy = _cupy()
        self.cupy, self.nccl, self.mpi, self.timeout = cupy, cupy.cuda.nccl, mpi, timeout
        self.device_index = device.index or 0
        uid = self.nccl.get_unique_id() if mpi.rank == 0 else None
        import pickle

        data = pickle.dumps(uid) if mpi.rank == 0 else None
        uid = pickle.loads(mpi.bcast_bytes(data, 0, "NCCL setup"))
        with cupy.cuda.Device(self.device_index):
            self.comm = self.nccl.NcclCommunicator(mpi.size, uid, mpi.rank)
            self.stream = cupy.cuda.Stream(non_blocking=True)

    # -- plumbing ------------------------------------------------------------------------------
    def _launch(self, what: str, body, outputs=()):
        """Order NCCL after the work queued so far, run ``body(stream_ptr)``, and return the
        wait function that completes it (with the group's timeout) and bumps the outputs'
        version counters."""
        cupy = self.cupy
        with cupy.cuda.Device(self.device_index):
            ready = cupy.cuda.Event()
            ready.record(cupy.cuda.get_current_stream())
            self.stream.wait_event(ready)
            body(self.stream.ptr)
            done = cupy.cuda.Event()
            done.record(self.stream)

        def wait(timeout=None):
            limit = self.timeout if timeout is None else timeout
            deadline = time.monotonic() + limit
            while not done.done:
                if time.monotonic() > deadline:
                    self.comm.abort()
                    raise DistBackendError(
                        f"minigrad.distributed: {what} on NCCL timed out after {limit:g} s on "
                        f"rank {self.mpi.rank} of {self.mpi.size}"
                    )
                time.sleep(1e-4)
            for t in outputs:
                version_counter(t).value += 1

        return wait

    def _buf(self, t, what: str):
        data = t._data
        if not data.flags.c_contiguous:
            raise NotImplementedError(f"{what} on NCCL for a non-contiguous tensor")
        return data.data.ptr, data.size, _nccl_dtype(self.nccl, data.dtype, what)

    # -- collectives ---------------------------------------------------------------------------
    def all_reduce(self, t, op):
        ptr, n, dt = self._buf(t, "all_reduce")
        nop = _nccl_op(self.nccl, op, "all_reduce")
        return self._launch(
            "all_reduce", lambda s: self.comm.allReduce(ptr, ptr, n, dt, nop, s), (t,)
        )

    def broadcast(self, t, src):
        ptr, n, dt = self._buf(t, "broadcast")
        return self._launch(
            "broadcast", lambda s: self.comm.broadcast(ptr, ptr, n, dt, src, s), (t,)
        )

    def reduce(self, t, dst, op):
        ptr, n, dt = self._buf(t, "reduce")
        nop = _nccl_op(self.nccl, op, "reduce")
        return self._launch(
            "reduce", lambda s: self.comm.reduce(ptr, ptr, n, dt, nop, dst, s), (t,)
        )

    def all_gather(self, out, inp):
        optr, _, dt = self._buf(out, "all_gather_into_tensor")
        iptr, n, _ = self._buf(inp, "all_gather_into_tensor")
        return self._launch(
            "all_gather_into_tensor", lambda s: self.comm.allGather(iptr, optr, n, dt, s), (out,)
        )

    def reduce_scatter(self, out, inp, op):
        optr, n, dt = self._buf(out, "reduce_scatter_tensor")
        iptr, _, _ = self._buf(inp, "reduce_scatter_tensor")
        nop = _nccl_op(self.nccl, op, "reduce_scatter_tensor")
        return self._launch(
            "reduce_scatter_tensor",
            lambda s: self.comm.reduceScatter(iptr, optr, n, dt, nop, s),
            (out,),
        )

    def send(self, t, peer):
        ptr, n, dt = self._buf(t, "send")
        return self._launch("send", lambda s: self.comm.send(ptr, n, dt, peer, s))

    def recv(self, t, peer):
        ptr, n, dt = self._buf(t, "recv")
        return self._launch("recv", lambda s: self.comm.recv(ptr, n, dt, peer, s), (t,))

    def gather(self, t, gather_list, dst):
        ptr, n, dt = self._buf(t, "gather")
        me, outs = self.mpi.rank, list(gather_list or [])

        def body(s):
            self.nccl.groupStart()
            if me == dst:
                for r, o in enumerate(outs):
                    optr = self._buf(o, "gather")[0]
                    if r == me:
                        self.cupy.cuda.runtime.memcpyAsync(optr, ptr, t._data.nbytes, 3, s)
                    else:
                        self.comm.recv(optr, n, dt, r, s)
            else:
                self.comm.send(ptr, n, dt, dst, s)
            self.nccl.groupEnd()

        return self._launch("gather", body, outs)

    def scatter(self, t, scatter_list, src):
        ptr, n, dt = self._buf(t, "scatter")
        me, ins = self.mpi.rank, list(scatter_list or [])

        def body(s):
            self.nccl.groupStart()
            if me == src:
                for r, i in enumerate(ins):
                    iptr = self._buf(i, "scatter")[0]
                    if r == me:
                        self.cupy.cuda.runtime.memcpyAsync(ptr, iptr, t._data.nbytes, 3, s)
                    else:
                        self.comm.send(iptr, n, dt, r, s)
            else:
                self.comm.recv(ptr, n, dt, src, s)
            self.nccl.groupEnd()

        return self._launch("scatter", body, (t,))

    def destroy(self) -> None:
        self.comm.destroy()
