"""``torch.distributed.pipelining``: pipeline parallelism with the manual front end. Each rank
builds its own stage's submodule, wraps it in :class:`PipelineStage` and drives it with a
schedule (:class:`ScheduleGPipe`, :class:`Schedule1F1B`); activations and gradients move
between neighbouring ranks by point-to-point sends.

Example (2 ranks; ``model`` an ``nn.Sequential``)::

    stage = PipelineStage(model[:2] if rank == 0 else model[2:], rank, 2, "cpu")
    schedule = ScheduleGPipe(stage, n_microbatches=4, loss_fn=nn.MSELoss())
    schedule.step(x) if rank == 0 else schedule.step(target=y, losses=losses)

The tracer front end (``pipeline``, ``pipe_split``, ``SplitPoint``) and the schedules of
several stages per rank raise ``NotImplementedError``.
"""

from enum import Enum

from .schedules import PipelineScheduleSingle, Schedule1F1B, ScheduleGPipe
from .stage import PipelineStage


class SplitPoint(Enum):
    """Where ``pipeline``'s ``split_spec`` cuts: before or after the named submodule."""

    BEGINNING = 1
    END = 2


def _tracer(name: str):
    raise NotImplementedError(
        f"torch.distributed.pipelining.{name}: the tracer front end (splitting one module into "
        "stages by tracing) is not implemented in minigrad; build each rank's submodule "
        "yourself and wrap it in PipelineStage"
    )


def pipeline(module, mb_args, mb_kwargs=None, split_spec=None, split_policy=None):
    """The tracer front end; not implemented (see the module docstring)."""
    _tracer("pipeline")


def pipe_split():
    """The tracer front end's split marker; not implemented."""
    _tracer("pipe_split")


def build_stage(*args, **kwargs):
    """A stage from a traced ``Pipe``; not implemented."""
    _tracer("build_stage")


class Pipe:
    """A traced pipeline; not implemented."""

    def __init__(self, *args, **kwargs):
        _tracer("Pipe")


def _multi(name: str):
    class Schedule:
        def __init__(self, *args, **kwargs):
            raise NotImplementedError(
                f"torch.distributed.pipelining.{name}: schedules of several stages per rank "
                "are not implemented in minigrad (ScheduleGPipe and Schedule1F1B are)"
            )

    Schedule.__name__ = Schedule.__qualname__ = name
    return Schedule


ScheduleInterleaved1F1B = _multi("ScheduleInterleaved1F1B")
ScheduleLoopedBFS = _multi("ScheduleLoopedBFS")
ScheduleInterleavedZeroBubble = _multi("ScheduleInterleavedZeroBubble")
ScheduleZBVZeroBubble = _multi("ScheduleZBVZeroBubble")
ScheduleDualPipeV = _multi("ScheduleDualPipeV")

__all__ = ["Pipe", "pipe_split", "SplitPoint", "pipeline", "PipelineStage", "build_stage",
           "Schedule1F1B", "ScheduleGPipe", "ScheduleInterleaved1F1B", "ScheduleLoopedBFS",
           "ScheduleInterleavedZeroBubble", "ScheduleZBVZeroBubble", "ScheduleDualPipeV",
           "PipelineScheduleSingle"]  # fmt: skip
