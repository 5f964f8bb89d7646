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


class _PipelineSchedule:
    """What every schedule shares: ``step`` (train) and ``eval`` (forward only) over this rank's
    stages ``self._stages``; subclasses order the forwards and backwards."""

    def __init__(self, stages: list, n_microbatches: int, loss_fn=None, args_chunk_spec=None,
                 kwargs_chunk_spec=None, output_merge_spec=None, scale_grads: bool = True):  # fmt: skip
        if args_chunk_spec is not None or kwargs_chunk_spec is not None or output_merge_spec:
            raise NotImplementedError(
                f"{type(self).__name__}: args_chunk_spec, kwargs_chunk_spec and "
                "output_merge_spec are not implemented in minigrad (inputs split along dim 0)"
            )
        self._stages, self._num_stages = stages, stages[0].num_stages
        self._n_microbatches, self._loss_fn, self.scale_grads = n_microbatches, loss_fn, scale_grads
        self._has_backward = loss_fn is not None
        self._internal_losses: list = []
        self._last = next((st for st in stages if st.is_last), None)

    def step(self, *args, target=None, losses=None, return_outputs: bool = True,
             loss_kwargs=None, **kwargs):  # fmt: skip
        """One step on the whole batch: forwards and backwards of every microbatch; returns the
        merged output on the last stage's rank (None elsewhere) and fills ``losses`` there."""
        if self._has_backward and not minigrad.is_grad_enabled():
            raise RuntimeError(
                "step() requires gradients to be enabled for backward computation; it should "
                "not be used under torch.no_grad() context. Please call eval() instead."
            )
        if losses is not None and not isinstance(losses, list):
            raise TypeError(f"losses must be a list but got a {type(losses)}")
        n = self._n_microbatches
        for stage in self._stages:
            stage.has_backward = self._has_backward
            stage.clear_runtime_states()
        arg_mbs = list(zip(*[_split(a, n, "arg_mbs") for a in args])) or [()] * n
        kwarg_mbs = [dict(zip(kwargs, v)) for v in zip(*[_split(v, n, "kwarg_mbs")
                                                         for v in kwargs.values()])] or [{}] * n  # fmt: skip
        targets = _split(target, n, "target_mbs") if target is not None else None
        self._step_microbatches(arg_mbs, kwarg_mbs, targets, return_outputs, loss_kwargs)
        if self._last is not None and self._loss_fn is not None and losses is not None:
            losses.clear()
            losses.extend(self._internal_losses)
        self._internal_losses = []
        if self._has_backward:
            for stage in self._stages:
                stage.perform_reduce_grad(n if self.scale_grads else 1)
        if self._last is not None and return_outputs:
            return _merge(self._last.output_chunks)
        return None

    def eval(self, *args, target=None, losses=None, **kwargs):
        """``step`` without the backward (the losses still computed where a loss_fn is set)."""
        saved = self._has_backward
        try:
            self._has_backward = False
            return self.step(*args, target=target, losses=losses, **kwargs)
        finally:
            self._has_backward = saved

    def _forward(self, i: int, arg_mbs, kwarg_mbs, targets, return_outputs, loss_kwargs,
                 stage=None) -> list:  # fmt: skip
        """Receive, run and start sending microbatch ``i``; its loss on the last stage."""
        stage = stage or self._stage
        stage.recv_activations(i)
        output = stage.forward_one_chunk(i, arg_mbs[i], kwarg_mbs[i], return_outputs)
        if stage.is_last and self._loss_fn is not None:
            if targets is None:
                raise TypeError(f"{type(self).__name__}.step: the last stage needs target=")
            self._internal_losses.append(self._loss_fn(output, targets[i], **(loss_kwargs or {})))
        return stage.send_activations(i)

    def _backward(self, i: int, stage=None) -> list:
        """Receive the output gradients of microbatch ``i``, run its backward and start sending
        its input gradients."""
        stage = stage or self._stage
        if not self._has_backward:
            return []
        stage.recv_grads(i)
        loss = self._internal_losses[i] if stage.is_last else None
        stage.backward_one_chunk(i, loss=loss, last_backward=i == self._n_microbatches - 1)
        return stage.send_grads(i)


class PipelineScheduleSingle(_PipelineSchedule):
    """The schedules of one stage per rank."""

    def __init__(self, stage, n_microbatches: int, *args, **kwargs):
        super().__init__([stage], n_microbatches, *args, **kwargs)
        self._stage = stage


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


class PipelineScheduleMulti(_PipelineSchedule):
    """The schedules of several stages per rank (``stages``: this rank's, looped placement:
    rank ``r`` holds stages ``r``, ``r + world``, ...). ``_rank_actions`` lists this rank's
    ``("F" | "B", stage_index, microbatch)`` in order; activations and gradients between stages
    go by point-to-point messages (sends not waited on until the step's end), so any order
    consistent across ranks runs without deadlock."""

    def __init__(self, stages: list, n_microbatches: int, *args, **kwargs):
        if not isinstance(stages, (list, tuple)) or not stages:
            raise TypeError(f"{type(self).__name__}: stages must be a non-empty list of stages")
        super().__init__(list(stages), n_microbatches, *args, **kwargs)
        self.pp_group_size, self.rank = stages[0].group_size, stages[0].group_rank
        self.n_local_stages = len(stages)
        self._by_index = {st.stage_index: st for st in stages}

    def _step_microbatches(self, arg_mbs, kwarg_mbs, targets, return_outputs, loss_kwargs):
        sends = []
        for kind, index, i in self._rank_actions():
            stage = self._by_index[index]
            if kind == "F":
                sends += self._forward(i, arg_mbs, kwarg_mbs, targets, return_outputs,
                                       loss_kwargs, stage)  # fmt: skip
            elif self._has_backward:
                sends += self._backward(i, stage)
        _wait(sends)


class ScheduleLoopedBFS(PipelineScheduleMulti):
    """Looped breadth-first: each local stage in turn runs every microbatch's forward, then
    the local stages in reverse run every microbatch's backward, the last microbatch first
    (PyTorch's order)."""

    def _rank_actions(self) -> list:
        n, order = self._n_microbatches, sorted(self._by_index)
        forwards = [("F", s, i) for s in order for i in range(n)]
        return forwards + [("B", s, i) for s in reversed(order) for i in reversed(range(n))]


class ScheduleInterleaved1F1B(PipelineScheduleMulti):
    """Interleaved 1F1B (Megatron's): microbatches go through the local stages in rounds of
    ``n_microbatches // number_of_rounds``; a rank warms up with
    ``(n_local_stages - 1) * microbatches_per_round + 2 * (world - 1 - rank)`` forwards, then
    alternates one forward and one backward, then drains the backwards (PyTorch's order)."""

    def __init__(self, stages: list, n_microbatches: int, *args, **kwargs):
        super().__init__(stages, n_microbatches, *args, **kwargs)
        self.number_of_rounds = max(1, n_microbatches // self.pp_group_size)
        self.microbatches_per_round = n_microbatches // self.number_of_rounds
        if n_microbatches % self.number_of_rounds != 0:
            raise ValueError(
                "Interleaved 1F1B requires the number of microbatches to be a multiple of the "
                f"number of rounds ({self.number_of_rounds}), but got {n_microbatches}."
            )

    def _stage_of(self, step: int, backward: bool, warmup: int) -> int:
        rounds = (step - warmup if backward else step) // self.microbatches_per_round
        local = rounds % self.n_local_stages
        if backward:
            local = self.n_local_stages - 1 - local
        return local * self.pp_group_size + self.rank

    def _rank_actions(self) -> list:
        total = self.n_local_stages * self._n_microbatches
        warmup = (self.n_local_stages - 1) * self.microbatches_per_round
        warmup = min(warmup + 2 * (self.pp_group_size - 1 - self.rank), total)
        count = {"F": {}, "B": {}}
        actions = []

        def act(kind: str, step: int) -> None:
            index = self._stage_of(step, kind == "B", warmup)
            i = count[kind].get(index, 0)
            count[kind][index] = i + 1
            actions.append((kind, index, i))

        for step in range(total + warmup):
            if step < total:
                act("F", step)
            if step >= warmup:
                act("B", step)
        return actions
