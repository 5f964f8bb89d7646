"""``minigrad.utils.benchmark``, as ``torch.utils.benchmark``: ``Timer`` measures a statement,
``Measurement`` holds the times and statistics, ``Compare`` prints many as a table."""

from .utils.common import (
    Measurement,
    TaskSpec,
    ordered_unique,
    select_unit,
    trim_sigfig,
    unit_to_english,
)
from .utils.compare import Colorize, Compare
from .utils.timer import Language, Timer

__all__ = [
    "Colorize",
    "Compare",
    "Language",
    "Measurement",
    "TaskSpec",
    "Timer",
    "ordered_unique",
    "select_unit",
    "trim_sigfig",
    "unit_to_english",
]
