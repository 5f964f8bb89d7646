"""``torch.distributed.pipelining``: pipeline parallelism with the manual front end. Each rank
builds its own stage's submodule, wraps it in :class:`PipelineStage` and drives it with a
schedule (one stage per rank: :class:`ScheduleGPipe`, :class:`Schedule1F1B`; several, placed
looped so that rank ``r`` holds stages ``r``, ``r + world``, ...: :class:`ScheduleLoopedBFS`,
:class:`ScheduleInterleaved1F1B`); activations and gradients move between neighbouring stages
by point-to-point sends.

Example (2 ranks; ``model`` an ``nn.Sequential``)::

    stage = PipelineStage(model[:2] if rank == 0 else model[2:], rank, 2, "cpu")
    schedule = ScheduleGPipe(stage, n_microbatches=4, loss_fn=nn.MSELoss())
    schedule.step(x) if rank == 0 else schedule.step(target=y, losses=losses)

The tracer front end ``pipeline(module, mb_args, split_spec={"2": SplitPoint.BEGINNING})``
cuts a module with :mod:`minigrad.fx` (:mod:`._ir`); ``pipe_split`` markers, ``split_policy``
and the zero-bubble schedules (split input/weight backward) raise ``NotImplementedError``.
"""

from ._ir import Pipe, PipeInfo, SplitPoint, build_stage, pipe_split, pipeline
from .schedules import (
    PipelineScheduleMulti,
    PipelineScheduleSingle,
    Schedule1F1B,
    ScheduleGPipe,
    ScheduleInterleaved1F1B,
    ScheduleLoopedBFS,
)
from .stage import PipelineStage


def _multi(name: str):
    class Schedule:
        def __init__(self, *args, **kwargs):
            raise NotImplementedError(
                f"torch.distributed.pipelining.{name}: the zero-bubble schedules (split "
                "input/weight backward) are not implemented in minigrad (ScheduleGPipe, "
                "Schedule1F1B, ScheduleLoopedBFS and ScheduleInterleaved1F1B are)"
            )

    Schedule.__name__ = Schedule.__qualname__ = name
    return Schedule


ScheduleInterleavedZeroBubble = _multi("ScheduleInterleavedZeroBubble")
ScheduleZBVZeroBubble = _multi("ScheduleZBVZeroBubble")
ScheduleDualPipeV = _multi("ScheduleDualPipeV")

__all__ = ["Pipe", "pipe_split", "SplitPoint", "pipeline", "PipelineStage", "build_stage",
           "Schedule1F1B", "ScheduleGPipe", "ScheduleInterleaved1F1B", "ScheduleLoopedBFS",
           "ScheduleInterleavedZeroBubble", "ScheduleZBVZeroBubble", "ScheduleDualPipeV",
           "PipelineScheduleSingle", "PipelineScheduleMulti"]  # fmt: skip
