"""``torch.distributed.pipelining``'s single-stage schedules: :class:`ScheduleGPipe` (all
forwards, then all backwards) and :class:`Schedule1F1B` (one forward, one backward in the
steady state), each driving one :class:`~.stage.PipelineStage` per rank.

``step(x)`` on the first rank, ``step()`` on the middle ones and ``step(target=y, losses=l)``
on the last split the batch into ``n_microbatches`` along dim 0 (``tensor_split``); the loss is
computed per microbatch, gradients accumulate over them and are then divided by
``n_microbatches`` (``scale_grads=True``, PyTorch's default: right for a loss that averages),
so a step's gradients equal the whole model's on the whole batch.
"""

import minigrad


def _wait(works: list) -> None:
    for work, _ in works:
        work.wait()


def _split(value, n: int, name: str) -> list:
    """``value`` cut into ``n`` microbatches along dim 0 (tensors); other values repeated."""
    if not isinstance(value, minigrad.Tensor):
        return [value] * n
    if value.size(0) < n:
        raise ValueError(f"Expecting {n} {name} but got {value.size(0)}")
    return list(minigrad.tensor_split(value, n, 0))


def _merge(chunks: list):
    """The last stage's outputs of every microbatch, concatenated along dim 0."""
    first = chunks[0]
    if isinstance(first, (tuple, list)):
        return type(first)(_merge([c[i] for c in chunks]) for i in range(len(first)))
    if isinstance(first, minigrad.Tensor):
        return minigrad.cat(chunks)
    return chunks


class PipelineScheduleSingle:
    """The schedules of one stage per rank: ``step`` (train) and ``eval`` (forward only)."""

    def __init__(self, stage, n_microbatches: int, loss_fn=None, args_chunk_spec=None,
                 kwargs_chunk_spec=None, output_merge_spec=None, scale_grads: bool = True):  # fmt: skip
        if args_chunk_spec is not None or kwargs_chunk_spec is not None or output_merge_spec:
            raise NotImplementedError(
                f"{type(self).__name__}: args_chunk_spec, kwargs_chunk_spec and "
                "output_merge_spec are not implemented in minigrad (inputs split along dim 0)"
            )
        self._stage, self._num_stages = stage, stage.num_stages
        self._n_microbatches, self._loss_fn, self.scale_grads = n_microbatches, loss_fn, scale_grads
        self._has_backward = loss_fn is not None
        self._internal_losses: list = []

    def step(self, *args, target=None, losses=None, return_outputs: bool = True,
             loss_kwargs=None, **kwargs):  # fmt: skip
        """One step on the whole batch: forwards and backwards of every microbatch; returns the
        merged output on the last stage (None elsewhere) and fills ``losses`` there."""
        if self._has_backward and not minigrad.is_grad_enabled():
            raise RuntimeError(
                "step() requires gradients to be enabled for backward computation; it should "
                "not be used under torch.no_grad() context. Please call eval() instead."
            )
        if losses is not None and not isinstance(losses, list):
            raise TypeError(f"losses must be a list but got a {type(losses)}")
        stage, n = self._stage, self._n_microbatches
        stage.has_backward = self._has_backward
        stage.clear_runtime_states()
        arg_mbs = list(zip(*[_split(a, n, "arg_mbs") for a in args])) or [()] * n
        kwarg_mbs = [dict(zip(kwargs, v)) for v in zip(*[_split(v, n, "kwarg_mbs")
                                                         for v in kwargs.values()])] or [{}] * n  # fmt: skip
        targets = _split(target, n, "target_mbs") if target is not None else None
        self._step_microbatches(arg_mbs, kwarg_mbs, targets, return_outputs, loss_kwargs)
        if stage.is_last and self._loss_fn is not None and losses is not None:
            losses.clear()
            losses.extend(self._internal_losses)
        self._internal_losses = []
        if self._has_backward:
            stage.perform_reduce_grad(n if self.scale_grads else 1)
        if stage.is_last and return_outputs:
            return _merge(stage.output_chunks)
        return None

    def eval(self, *args, target=None, losses=None, **kwargs):
        """``step`` without the backward (the losses still computed where a loss_fn is set)."""
        saved = self._has_backward
        try:
            self._has_backward = False
            return self.step(*args, target=target, losses=losses, **kwargs)
        finally:
            self._has_backward = saved

    def _forward(self, i: int, arg_mbs, kwarg_mbs, targets, return_outputs, loss_kwargs) -> list:
        """Receive, run and start sending microbatch ``i``; its loss on the last stage."""
        stage = self._stage
        stage.recv_activations(i)
        output = stage.forward_one_chunk(i, arg_mbs[i], kwarg_mbs[i], return_outputs)
        if stage.is_last and self._loss_fn is not None:
            if targets is None:
                raise TypeError(f"{type(self).__name__}.step: the last stage needs target=")
            self._internal_losses.append(self._loss_fn(output, targets[i], **(loss_kwargs or {})))
        return stage.send_activations(i)

    def _backward(self, i: int) -> list:
        """Receive the output gradients of microbatch ``i``, run its backward and start sending
        its input gradients."""
        stage = self._stage
        if not self._has_backward:
            return []
        stage.recv_grads(i)
        loss = self._internal_losses[i] if stage.is_last else None
        stage.backward_one_chunk(i, loss=loss, last_backward=i == self._n_microbatches - 1)
        return stage.send_grads(i)


class ScheduleGPipe(PipelineScheduleSingle):
    """GPipe: every microbatch's forward (fill), then every microbatch's backward (drain)."""

    def _step_microbatches(self, arg_mbs, kwarg_mbs, targets, return_outputs, loss_kwargs):
        sends = []
        for i in range(self._n_microbatches):
            sends += self._forward(i, arg_mbs, kwarg_mbs, targets, return_outputs, loss_kwargs)
        for i in range(self._n_microbatches):
            sends += self._backward(i)
        _wait(sends)


class Schedule1F1B(PipelineScheduleSingle):
    """1F1B: ``num_stages - stage_index`` warm-up forwards, then one backward and one forward
    in turn, then the remaining backwards (fewer activations alive than GPipe)."""

    def __init__(self, stage, n_microbatches: int, *args, **kwargs):
        super().__init__(stage, n_microbatches, *args, **kwargs)
        if n_microbatches < self._num_stages:
            raise ValueError(
                f"Number of microbatches ({n_microbatches}) must be greater than or equal to "
                f"the number of stages ({self._num_stages})."
            )

    def _step_microbatches(self, arg_mbs, kwarg_mbs, targets, return_outputs, loss_kwargs):
        n = self._n_microbatches
        warmup = min(n, self._num_stages - self._stage.stage_index)
        sends = []
        for i in range(warmup):
            sends += self._forward(i, arg_mbs, kwarg_mbs, targets, return_outputs, loss_kwargs)
        for i in range(n):
            sends += self._backward(i)
            if warmup + i < n:
                sends += self._forward(warmup + i, arg_mbs, kwarg_mbs, targets, return_outputs,
                                       loss_kwargs)  # fmt: skip
        _wait(sends)
