"""Training on several processes, with ``torch.distributed``'s names: a process group over
MPI (mpi4py) for CPU tensors and NCCL (CuPy) for ``cuda`` tensors, its collectives, and the
launcher ``python -m minigrad.distributed.run``.

Example (run with ``python -m minigrad.distributed.run --nproc-per-node 2 script.py``):
    >>> import minigrad.distributed as dist
    >>> dist.init_process_group("gloo")
    >>> t = minigrad.ones(3) * dist.get_rank()
    >>> dist.all_reduce(t)  # the sum over ranks, on every rank
"""

from . import device_mesh  # imported with the package, as PyTorch's (diffusers annotates)
from .device_mesh import DeviceMesh, init_device_mesh
from .distributed_c10d import (
    Backend,
    DistBackendError,
    DistError,
    GroupMember,
    ProcessGroup,
    ReduceOp,
    Work,
    all_gather,
    all_gather_into_tensor,
    all_gather_object,
    all_reduce,
    all_to_all,
    all_to_all_single,
    barrier,
    broadcast,
    broadcast_object_list,
    default_pg_timeout,
    destroy_process_group,
    gather,
    get_backend,
    get_process_group_ranks,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    irecv,
    is_available,
    is_gloo_available,
    is_initialized,
    is_mpi_available,
    is_nccl_available,
    is_torchelastic_launched,
    isend,
    monitored_barrier,
    new_group,
    recv,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
    scatter,
    send,
)
