"""``DistributedDataParallel``: the same model on every rank, each on its share of the batch,
with gradients averaged across ranks during backward (``torch.nn.parallel.distributed``)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from ...autograd import grad_mode
from ...autograd.graph import AccumulateGrad
from ...tensor import Tensor
from ..modules.module import Module

# PyTorch's bucket sizes: a small first bucket, so that the first reduction starts early in
# backward, then bucket_cap_mb (25 MiB by default) for the rest.
_FIRST_BUCKET_BYTES = 1024 * 1024
_DEFAULT_BUCKET_CAP_MB = 25


class _Bucket:
    """Parameters whose gradients are reduced together in one flat all-reduce."""

    def __init__(self, indices: list[int], params: list[Tensor]):
        self.indices = indices
        first = params[indices[0]]
        self.numel = sum(params[i].numel() for i in indices)
        self.flat = Tensor._make(first.device.xp.empty(self.numel, first._data.dtype), first.device)
        self.offsets, offset = [], 0
        for i in indices:
            self.offsets.append(offset)
            offset += params[i].numel()
        self.ready = 0
        self.work = None

    def full(self) -> bool:
        """True when every parameter of the bucket has its gradient for this iteration."""
        return self.ready == len(self.indices)

    @property
    def nbytes(self) -> int:
        return self.flat._data.nbytes


class DistributedDataParallel(Module):
    """Data-parallel training across the ranks of the default process group.

    At construction, rank 0's parameters and buffers are copied to every rank, so all start
    from the same model. During ``backward``, each parameter's gradient, once complete, is
    put into a bucket (buckets of ``bucket_cap_mb`` MiB, in reverse parameter order, which is
    about the order backward produces them); a full bucket starts its all-reduce right away,
    while backward goes on with the rest of the graph, and at the end of backward every
    ``.grad`` holds the gradient averaged over the ranks. With each rank on its own ``1/N``
    of the batch and a mean loss, that is the gradient of the whole batch, so the optimizer
    steps stay identical on all ranks.

    Args:
        module: the model (already on its device).
        device_ids: ``[i]`` for a model on ``cuda:i``; None for CPU models.
        output_device, dim: accepted for PyTorch compatibility (single-device modules only).
        broadcast_buffers: copy rank 0's buffers (e.g. BatchNorm statistics) to all ranks
            at the start of every forward.
        init_sync: copy rank 0's parameters and buffers at construction.
        process_group: the group to reduce over (only the default group is supported).
        bucket_cap_mb: bucket size in MiB (default 25).
        find_unused_parameters: walk the graph of each forward's output to find parameters
            that will get no gradient in this iteration and count them as ready (needed when
            some parameters are not used in every iteration). Without it, a parameter with no
            gradient is an error at the next forward, naming the parameter.
        check_reduction, gradient_as_bucket_view, static_graph: accepted for PyTorch
            compatibility; they do not change the result.

    Use :meth:`no_sync` to accumulate gradients locally over several micro-batches and reduce
    once, and :meth:`join` around a loop whose ranks have different numbers of batches. ``.module`` is the wrapped model (save ``ddp.module.state_dict()`` to get keys
    without the ``module.`` prefix).

    Overlap: the MPI engine progresses a started reduction when the process next calls into
    MPI (the next bucket's start, or the wait at the end of backward), so the overlap with
    backward is partial on CPU; NCCL runs reductions on their own CUDA stream.

    Example:
        >>> dist.init_process_group("gloo")
        >>> model = DistributedDataParallel(MyModel())
        >>> loss = loss_fn(model(x_shard), y_shard)
        >>> loss.backward()  # grads averaged over ranks
        >>> opt.step()
    """

    def __init__(
        self,
        module: Module,
        device_ids=None,
        output_device=None,
        dim: int = 0,
        broadcast_buffers: bool = True,
        init_sync: bool = True,
        process_group=None,
        bucket_cap_mb: float | None = None,
        find_unused_parameters: bool = False,
        check_reduction: bool = False,
        gradient_as_bucket_view: bool = False,
        static_graph: bool = False,
    ):
        super().__init__()
        from ... import distributed as dist  # the layer above nn: imported only when used
        from ...distributed.algorithms.join import _JoinConfig

        if not dist.is_initialized():
            raise ValueError(
                "DistributedDataParallel: Default process group has not been initialized, "
                "please make sure to call init_process_group."
            )
        if not isinstance(module, Module):
            raise TypeError(
                f"DistributedDataParallel: module must be an nn.Module, got {type(module).__name__}"
            )
        self._dist = dist
        self._group = dist.distributed_c10d._group(process_group, "DistributedDataParallel")
        self.module = module
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError(
                "DistributedDataParallel is not needed when a module doesn't have any "
                "parameter that requires a gradient."
            )
        devices = {p.device for _, p in named}
        if len(devices) > 1:
            raise ValueError(
                f"DistributedDataParallel: the module's parameters are on several devices "
                f"({sorted(map(str, devices))}); minigrad supports single-device modules"
            )
        self.device = next(iter(devices))
        if device_ids is not None or output_device is not None:
            ids = list(device_ids or [])
            if (
                self.device.type == "cpu"
                or len(ids) != 1
                or (ids[0] != (self.device.index or 0) and str(ids[0]) != str(self.device))
            ):
                raise ValueError(
                    f"DistributedDataParallel device_ids and output_device arguments only work "
                    f"with single-device GPU modules (device_ids=[index of the module's "
                    f"device]), but got device_ids {device_ids}, output_device "
                    f"{output_device}, and module parameters on {self.device}"
                )
        self.device_ids, self.output_device, self.dim = device_ids, output_device, dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view, self.static_graph = gradient_as_bucket_view, static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap = int(
            (_DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024
        )
        # Plain lists (not registered): the parameters stay the wrapped module's.
        self._param_names = [n for n, _ in named]
        self._params = [p for _, p in named]
        self._verify_same_shapes()
        if init_sync:
            self._sync_module_states()
        self._buckets = self._make_buckets()
        self._bucket_of = {}
        for b, bucket in enumerate(self._buckets):
            for i in bucket.indices:
                self._bucket_of[i] = b
        self._ready = [False] * len(self._params)
        self._hook_handles = []
        for i, p in enumerate(self._params):
            self._hook_handles.append(p.register_post_accumulate_grad_hook(self._make_hook(i)))
        self._expecting = False  # a forward prepared a reduction that backward should run
        self._started = False  # backward has marked at least one gradient ready
        self._next_bucket = 0
        self._used = None
        # Join (uneven inputs): the context's configuration, and what to divide the summed
        # gradients by (the world size, or the ranks still training this iteration).
        self._join_config = _JoinConfig.construct_disabled_join_config()
        self._divide_by_initial_world_size = True
        self._divisor = dist.get_world_size()

    # -- setup ---------------------------------------------------------------------------------
    def _verify_same_shapes(self) -> None:
        dist = self._dist
        mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in zip(self._param_names, self._params)]
        everyone = [None] * dist.get_world_size()
        dist.all_gather_object(everyone, mine)
        for rank, theirs in enumerate(everyone):
            if theirs != mine:
                diff = next(
                    (f"{a} vs {b}" for a, b in zip(mine, theirs) if a != b),
                    f"{len(mine)} vs {len(theirs)} parameters",
                )
                raise RuntimeError(
                    f"DistributedDataParallel: rank {dist.get_rank()}'s model differs from rank "
                    f"{rank}'s (first difference: {diff}); every rank must build the same model"
                )

    def _sync_module_states(self, src: int = 0, buffers: bool = True) -> None:
        """Copy rank ``src``'s parameters (and buffers) to every rank."""
        tensors = [*self.module.parameters(), *(self.module.buffers() if buffers else ())]
        with grad_mode.no_grad():
            for t in tensors:
                self._dist.broadcast(t, src=src)

    def _make_buckets(self) -> list[_Bucket]:
        """Buckets in reverse parameter order, split by dtype and by the size cap."""
        buckets, current, size, key = [], [], 0, None
        cap = min(_FIRST_BUCKET_BYTES, self.bucket_bytes_cap)
        for i in reversed(range(len(self._params))):
            p = self._params[i]
            nbytes = p._data.nbytes
            if current and (p._data.dtype != key or size + nbytes > cap):
                buckets.append(_Bucket(current, self._params))
                current, size, cap = [], 0, self.bucket_bytes_cap
            current.append(i)
            size += nbytes
            key = p._data.dtype
        if current:
            buckets.append(_Bucket(current, self._params))
        return buckets

    # -- forward -------------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        if self._expecting and self._started:
            self._raise_unfinished()
        if self.device_ids:
            inputs = tuple(_to_device(x, self.device) for x in inputs)
            kwargs = {k: _to_device(v, self.device) for k, v in kwargs.items()}
        will_reduce = grad_mode.is_grad_enabled() and self.require_backward_grad_sync
        self._notify_join_context()
        if self._will_sync_buffers():
            joined = self._join_config.enable
            self._sync_buffers(self._find_common_rank(True) if joined else 0)
        if self._join_config.enable:  # tell joined ranks whether to shadow a backward
            self._all_reduce_flag(will_reduce)
        # As PyTorch: a forward that prepares no reduction (no_grad, no_sync) skips the buffer
        # broadcast of the next one.
        self.require_forward_param_sync = will_reduce
        output = self.module(*inputs, **kwargs)
        if will_reduce:
            self._prepare_for_backward(output)
        else:
            self._expecting = False
        return output

    def _will_sync_buffers(self) -> bool:
        return (
            self.broadcast_buffers
            and self.require_forward_param_sync
            and self._dist.get_world_size() > 1
            and any(True for _ in self.module.buffers())
        )

    def _sync_buffers(self, src: int) -> None:
        with grad_mode.no_grad():
            for b in self.module.buffers():
                self._dist.broadcast(b, src=src)

    def _prepare_for_backward(self, output) -> None:
        self._expecting, self._started, self._next_bucket = True, False, 0
        self._ready[:] = [False] * len(self._params)
        for bucket in self._buckets:
            bucket.ready, bucket.work = 0, None
        self._used = None
        if self.find_unused_parameters:
            used = _reachable_leaves(output)
            self._used = [id(p) in used for p in self._params]
            for i, is_used in enumerate(self._used):
                if not is_used:
                    self._mark_ready(i)

    def _raise_unfinished(self) -> None:
        missing = [n for n, r in zip(self._param_names, self._ready) if not r]
        self._expecting = False
        raise RuntimeError(
            "DistributedDataParallel: Expected to have finished reduction in the prior "
            "iteration before starting a new one. This error indicates that your module has "
            "parameters that were not used in producing loss. You can enable unused parameter "
            "detection by passing the keyword argument `find_unused_parameters=True` to "
            "`minigrad.nn.parallel.DistributedDataParallel`, and by making sure all `forward` "
            "function outputs participate in calculating loss. Parameters which did not "
            f"receive grad for rank {self._dist.get_rank()}: {', '.join(missing)}"
        )

    # -- backward: buckets -----------------------------------------------------------------------
    def _make_hook(self, index: int):
        def hook(param):
            if self._expecting and self.require_backward_grad_sync:
                self._started = True
                self._mark_ready(index)

        return hook

    def _mark_ready(self, index: int) -> None:
        if self._ready[index]:
            raise RuntimeError(
                f"DistributedDataParallel: Expected to mark a variable ready only once; "
                f"parameter {self._param_names[index]} got a gradient twice in one iteration "
                f"(a second backward through the same forward, or a parameter shared in a "
                f"way DDP cannot see)"
            )
        self._ready[index] = True
        bucket = self._buckets[self._bucket_of[index]]
        bucket.ready += 1
        # Launch in bucket order only, so every rank starts the same collectives in the same
        # order even if its backward visits parameters in another order.
        for launched in self._buckets[: self._next_bucket]:
            launched.work.is_completed()  # testing a started reduction moves it on (overlap)
        buckets = self._buckets
        while self._next_bucket < len(buckets) and buckets[self._next_bucket].full():
            self._launch(buckets[self._next_bucket])
            self._next_bucket += 1
        if self._next_bucket == len(self._buckets):
            self._finalize()

    def _launch(self, bucket: _Bucket) -> None:
        flat = bucket.flat._data
        for i, offset in zip(bucket.indices, bucket.offsets):
            p = self._params[i]
            n = p._data.size
            if p.grad is None:
                flat[offset : offset + n] = 0
            else:
                flat[offset : offset + n] = p.grad._data.reshape(-1)
        bucket.work = self._dist.all_reduce(bucket.flat, async_op=True)

    def _finalize(self) -> None:
        self._expecting = False
        world = self._dist.get_world_size()
        globally_used = None
        if self._used is not None:
            mask = Tensor._make(
                self.device.xp.asarray([1 if u else 0 for u in self._used], dtype="int64"),
                self.device,
            )
            self._dist.all_reduce(mask)
            globally_used = mask.tolist()
        for bucket in self._buckets:
            bucket.work.wait()
            flat = bucket.flat._data
            flat /= world if self._divide_by_initial_world_size else self._divisor
            for i, offset in zip(bucket.indices, bucket.offsets):
                if globally_used is not None and not globally_used[i]:
                    continue  # no rank used it: its .grad stays as it was, as PyTorch
                p = self._params[i]
                values = flat[offset : offset + p._data.size].reshape(p._data.shape)
                if p.grad is None:
                    p.grad = Tensor._make(values.copy(), p.device)
                else:
                    p.grad._data[...] = values

    # -- public --------------------------------------------------------------------------------
    @contextlib.contextmanager
    def no_sync(self):
        """Within this context, backward accumulates gradients locally without reducing them;
        the first backward after it reduces the accumulated gradients.

        Example:
            >>> with ddp.no_sync():
            ...     ddp(x1).sum().backward()  # local only
            >>> ddp(x2).sum().backward()  # reduces the sum of both
        """
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # -- uneven inputs (Join) --------------------------------------------------------------------
    def join(
        self,
        divide_by_initial_world_size: bool = True,
        enable: bool = True,
        throw_on_early_termination: bool = False,
    ):
        """Context manager for a training loop whose ranks have different numbers of inputs.

        A rank that runs out of inputs leaves the loop and waits at the end of the context,
        answering the other ranks' reductions with zero gradients (and their buffer
        broadcasts) until every rank is done; then the model of a rank that joined last
        is copied to every rank, so all end with the same model.

        Args:
            divide_by_initial_world_size: divide the summed gradients by the world size
                (every sample weighs the same); False divides by the number of ranks still
                training in that iteration.
            enable: False turns the uneven-input handling off.
            throw_on_early_termination: raise on every rank once one rank runs out of
                inputs (needed when the loop has collectives of its own, e.g. SyncBatchNorm).

        Example:
            >>> inputs = [minigrad.ones(1) for _ in range(10 + dist.get_rank())]
            >>> with ddp.join():
            ...     for x in inputs:
            ...         ddp(x).sum().backward()
        """
        from ...distributed.algorithms.join import Join

        return Join(
            [self],
            enable,
            throw_on_early_termination,
            divide_by_initial_world_size=divide_by_initial_world_size,
        )

    def join_hook(self, **kwargs):
        """The join hook that shadows this model's collectives on a joined rank; takes
        ``divide_by_initial_world_size`` (default True)."""
        from ...distributed.algorithms.join import _DDPJoinHook

        return _DDPJoinHook(self, kwargs.get("divide_by_initial_world_size", True))

    @property
    def join_device(self):
        return self.device

    @property
    def join_process_group(self):
        return self._group

    def _notify_join_context(self) -> None:
        """Tell the join context (if any) that this rank is still training, and learn how
        many ranks are."""
        from ...distributed.algorithms.join import Join

        work = Join.notify_join_context(self)
        if work is not None:
            work.wait()
            self._divisor = int(work.result()[0].item())

    def _all_reduce_flag(self, value: bool) -> bool:
        """Sum a 0/1 over the ranks; True when some rank sent a one."""
        flag = Tensor._make(self.device.xp.asarray([1 if value else 0], dtype="int64"), self.device)
        self._dist.all_reduce(flag, group=self._group)
        return flag.item() != 0

    def _find_common_rank(self, candidate: bool) -> int:
        """The highest rank among those with ``candidate`` True (every rank calls it)."""
        rank = self._dist.get_rank(self._group) if candidate else -1
        t = Tensor._make(self.device.xp.asarray([rank], dtype="int64"), self.device)
        self._dist.all_reduce(t, op=self._dist.ReduceOp.MAX, group=self._group)
        if t.item() == -1:
            raise ValueError("DistributedDataParallel join: no rank offered to be the source")
        return int(t.item())

    def _shadow_iteration(self) -> None:
        """On a joined rank: answer one iteration of the ranks still training, collective for
        collective: the buffer broadcast, the will-it-reduce flag, the bucket all-reduces
        with zero gradients, and the used-parameter mask."""
        if self._will_sync_buffers():
            self._sync_buffers(self._find_common_rank(False))
        should_reduce = self._all_reduce_flag(False)
        self.require_forward_param_sync = should_reduce
        if not should_reduce:
            return
        works = []
        for bucket in self._buckets:
            bucket.flat._data[...] = 0
            works.append(self._dist.all_reduce(bucket.flat, group=self._group, async_op=True))
        if self.find_unused_parameters:
            zeros = self.device.xp.zeros(len(self._params), dtype="int64")
            self._dist.all_reduce(Tensor._make(zeros, self.device), group=self._group)
        for work in works:
            work.wait()

    def _sync_final_model(self, is_last_joiner: bool) -> None:
        """After every rank joined: copy a last joiner's model (the most trained) to all."""
        self._sync_module_states(self._find_common_rank(is_last_joiner), self.broadcast_buffers)

    def bytes_per_reduction(self) -> int:
        """Bytes of gradient all-reduced per synchronised backward (all buckets)."""
        return sum(b.nbytes for b in self._buckets)

    def bucket_sizes(self) -> list[int]:
        """Number of parameters per bucket, in reduction order."""
        return [len(b.indices) for b in self._buckets]


def _to_device(x, device):
    if isinstance(x, Tensor) and x.device is not device:
        return x.to(device)
    return x


def _reachable_leaves(output) -> set[int]:
    """ids of the leaf tensors that the graph of ``output`` reaches (those that will get a
    gradient when a loss built from it is backpropagated)."""
    roots, stack = [], [output]
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            if item.grad_fn is not None:
                roots.append(item.grad_fn)
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    seen, leaves = set(), set()
    while roots:
        node = roots.pop()
        if node in seen:
            continue
        seen.add(node)
        if isinstance(node, AccumulateGrad):
            leaves.add(id(node.variable))
            continue
        for edge in node.edges:
            if edge is not None:
                roots.append(edge[0])
    return leaves
