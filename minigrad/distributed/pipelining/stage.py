"""``torch.distributed.pipelining.PipelineStage``: one rank's part of a model cut into stages.

A stage runs its submodule on one microbatch at a time; the activations it makes go to the
next stage's rank and the gradients of its inputs back to the previous one, by point-to-point
sends over the process group (``dist.isend``/``dist.recv``). Each activation travels after a
small int64 header (dtype and shape), so the receiver needs no example inputs: PyTorch's
"dynamic" metadata inference, done per microbatch (``input_args``/``output_args`` are accepted
and only checked). The schedules in :mod:`.schedules` decide the order of the calls.
"""

import minigrad

from .. import distributed_c10d as dist

_DTYPES = ("float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8",
           "uint8", "bool", "complex64", "complex128")  # fmt: skip


def _as_tuple(value) -> tuple:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _header(tensors) -> minigrad.Tensor:
    """The int64 header of ``tensors``: their count, then each one's dtype index, rank, sizes."""
    words = [len(tensors)]
    for t in tensors:
        words += [_DTYPES.index(str(t.dtype).removeprefix("torch.")), t.dim(), *t.shape]
    return minigrad.tensor(words, dtype=minigrad.int64)


def _refuse_wrapped(submodule) -> None:
    """PyTorch's stages skip DDP's all-reduce (and FSDP's reduce-scatter) until the last
    microbatch and then run it; minigrad's do not, so a wrapped submodule would all-reduce over
    the whole pipeline group: refused."""
    from ...nn.parallel.distributed import DistributedDataParallel
    from ..fsdp._fully_shard import FSDPModule

    if isinstance(submodule, (FSDPModule, DistributedDataParallel)):
        raise NotImplementedError(
            "PipelineStage: a submodule wrapped by fully_shard or DistributedDataParallel "
            f"({type(submodule).__name__}; pipeline with data parallelism) is not implemented "
            "in minigrad"
        )


class PipelineStage:
    """``PipelineStage(submodule, stage_index, num_stages, device, input_args=None, ...)``:
    stage ``stage_index`` of ``num_stages``, on the group's rank ``stage_index % group_size``
    (looped placement: with several stages per rank, rank ``r`` holds stages ``r``,
    ``r + group_size``, ...; the multi-stage schedules drive them)."""

    def __init__(self, submodule, stage_index: int, num_stages: int, device, input_args=None,
                 output_args=None, output_grads=None, input_grads=None, group=None,
                 dw_builder=None, get_mesh=None):  # fmt: skip
        if stage_index >= num_stages:
            raise ValueError(f"Stage index {stage_index} is out of range of {num_stages}")
        if dw_builder is not None or get_mesh is not None:
            raise NotImplementedError(
                "PipelineStage: dw_builder and get_mesh (zero-bubble weight runners, DTensor "
                "stages) are not implemented in minigrad"
            )
        _refuse_wrapped(submodule)
        self.submod, self.stage_index, self.num_stages = submodule, stage_index, num_stages
        self.device, self.group = device, group
        self.group_rank, self.group_size = dist.get_rank(group), dist.get_world_size(group)
        if self.group_size > num_stages:
            raise RuntimeError(
                f"Pipeline group size {self.group_size} cannot be larger than number of "
                f"stages {num_stages}"
            )
        if stage_index % self.group_size != self.group_rank:
            raise ValueError(
                f"PipelineStage: stage {stage_index} belongs on group rank "
                f"{stage_index % self.group_size}, not on rank {self.group_rank}"
            )
        self._ranks = dist.get_process_group_ranks(group)
        self._user_inputs = _as_tuple(input_args)
        self.has_backward = False
        self.clear_runtime_states()

    @property
    def is_first(self) -> bool:
        return self.stage_index == 0

    @property
    def is_last(self) -> bool:
        return self.stage_index == self.num_stages - 1

    def clear_runtime_states(self) -> None:
        """Forget the last step's microbatches (called at the start of each step)."""
        self.fwd_cache: dict = {}  # microbatch -> (outputs, inputs)
        self._input_grad_sources: dict = {}  # microbatch -> inputs whose gradients go back
        self._received: dict = {}  # microbatch -> received activations / output gradients
        self.output_chunks: list = []

    def _peer(self, offset: int) -> int:
        return self._ranks[(self.stage_index + offset) % self.group_size]

    @staticmethod
    def _tag(stage: int, offset: int) -> int:
        """The tag of the messages into ``stage``: activations (``offset`` -1, from the stage
        before) and gradients (+1) apart, and each receiving stage apart, so that several
        stages per rank never take each other's messages (one FIFO per tag)."""
        return 2 * stage + (offset > 0)

    def _send(self, tensors, offset: int) -> list:
        """Start sending ``tensors`` (after their header) to the neighbouring stage; the works,
        which keep the sent buffers alive until waited on."""
        tensors = [t.detach().contiguous() for t in tensors]
        header = _header(tensors)
        size = minigrad.tensor([header.numel()], dtype=minigrad.int64)
        sends = [size, header, *tensors]
        peer, tag = self._peer(offset), self._tag(self.stage_index + offset, -offset)
        return [(dist.isend(t, peer, self.group, tag), t) for t in sends]

    def _recv(self, offset: int) -> tuple:
        """Receive the neighbouring stage's tensors (header first) into fresh buffers."""
        src, tag = self._peer(offset), self._tag(self.stage_index, offset)
        size = minigrad.zeros(1, dtype=minigrad.int64)
        dist.recv(size, src, self.group, tag)
        header = minigrad.zeros(int(size.item()), dtype=minigrad.int64)
        dist.recv(header, src, self.group, tag)
        words, out, k = header.tolist(), [], 1
        for _ in range(words[0]):
            dtype, ndim = getattr(minigrad, _DTYPES[words[k]]), words[k + 1]
            shape, k = tuple(words[k + 2 : k + 2 + ndim]), k + 2 + ndim
            buffer = minigrad.empty(shape, dtype=dtype)
            dist.recv(buffer, src, self.group, tag)
            out.append(buffer)
        return tuple(out)

    def recv_activations(self, chunk: int) -> None:
        """Receive microbatch ``chunk``'s inputs from the previous stage (not on the first)."""
        if self.is_first:
            return
        inputs = self._recv(-1)
        if self._user_inputs and len(inputs) != len(self._user_inputs):
            raise RuntimeError(
                f"PipelineStage {self.stage_index}: received {len(inputs)} inputs, but "
                f"input_args has {len(self._user_inputs)}"
            )
        if self.has_backward:
            for t in inputs:
                if t.is_floating_point() or t.is_complex():
                    t.requires_grad_(True)
        self._received[chunk] = inputs

    def send_activations(self, chunk: int) -> list:
        """Start sending microbatch ``chunk``'s outputs to the next stage (not on the last)."""
        if self.is_last:
            return []
        return self._send(self.fwd_cache[chunk][0], 1)

    def recv_grads(self, chunk: int) -> None:
        """Receive the gradients of microbatch ``chunk``'s outputs from the next stage."""
        if self.has_backward and not self.is_last:
            self._received[chunk] = self._recv(1)

    def send_grads(self, chunk: int) -> list:
        """Start sending the gradients of microbatch ``chunk``'s inputs to the previous stage
        (zeros for an input that got none, as the receiver waits for every one)."""
        if not self.has_backward or self.is_first:
            return []
        inputs = self._input_grad_sources.pop(chunk)
        grads = [t.grad if t.grad is not None else minigrad.zeros_like(t) for t in inputs]
        return self._send(grads, -1)

    def forward_one_chunk(self, chunk: int, args: tuple = (), kwargs=None,
                          save_forward_output: bool = True):  # fmt: skip
        """Run the submodule on microbatch ``chunk`` (the first stage's ``args``, the received
        activations elsewhere); keep its outputs and inputs for the backward."""
        inputs = tuple(args) if self.is_first else self._received.pop(chunk)
        output = self.submod(*inputs, **(kwargs or {}))
        if self.is_last and save_forward_output:
            self.output_chunks.append(output)
        self.fwd_cache[chunk] = (_as_tuple(output), inputs)
        return output

    def backward_one_chunk(self, chunk: int, loss=None, full_backward: bool = True,
                           last_backward: bool = False):  # fmt: skip
        """Backward of microbatch ``chunk``: from ``loss`` on the last stage, from the received
        output gradients elsewhere; gradients accumulate into the parameters' ``.grad``."""
        if not self.has_backward:
            return
        if not full_backward:
            raise NotImplementedError(
                "backward_one_chunk(full_backward=False): the split input/weight backward of "
                "the zero-bubble schedules is not implemented in minigrad"
            )
        outputs, inputs = self.fwd_cache.pop(chunk)
        if self.is_last:
            minigrad.autograd.backward(loss)
            if not self.is_first:
                for t in outputs:  # (kept only for the merged output; drop the graph)
                    if not t._is_view():
                        t.detach_()
        else:
            grads = self._received.pop(chunk)
            pairs = [(o, g) for o, g in zip(outputs, grads) if o.requires_grad]
            if pairs:
                minigrad.autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
        self._input_grad_sources[chunk] = inputs

    def scale_grads(self, grad_scale_factor: int) -> None:
        """Divide the submodule's gradients by ``grad_scale_factor`` (the number of microbatches
        for a loss that averages; 1 for one that sums)."""
        if grad_scale_factor != 1:
            for p in self.submod.parameters():
                if p.grad is not None:
                    p.grad.div_(grad_scale_factor)

    def perform_reduce_grad(self, grad_scale_factor: int) -> None:
        """After the last backward of a step: scale the gradients (PyTorch's REDUCE_GRAD)."""
        self.scale_grads(grad_scale_factor)
