"""``TaskSpec`` (what was timed) and ``Measurement`` (the times and their statistics), with the
unit and significant-figure helpers ``Compare`` uses — as ``torch.utils.benchmark``."""

from __future__ import annotations

import dataclasses
import math
import textwrap

import numpy as np

_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
_ENGLISH = {"ns": "nanosecond", "us": "microsecond", "ms": "millisecond", "s": "second"}
_MAX_SIGFIGS = 4
_MIN_CI = 25e-9  # a confidence interval is never taken below 25 ns (timer resolution)
_WARN, _GROSS_WARN = 0.1, 0.25  # IQR / median above which a measurement warns


def select_unit(t: float) -> tuple[str, float]:
    """The unit that shows ``t`` seconds with 1 to 3 leading digits: ``("us", 1e-6)``."""
    power = math.floor(math.log10(t) / 3) if t > 0 else 0
    unit = {-3: "ns", -2: "us", -1: "ms"}.get(power, "s")
    return unit, _UNITS[unit]


def unit_to_english(u: str) -> str:
    """``"us"`` -> ``"microsecond"``."""
    return _ENGLISH[u]


def trim_sigfig(x: float, n: int) -> float:
    """``x`` rounded to ``n`` significant figures (3.14159, 2 -> 3.1)."""
    if n != int(n):
        raise ValueError(f"trim_sigfig: the number of significant figures must be an int, got {n}")
    step = 10.0 ** (math.ceil(math.log10(abs(x))) - n)
    # float32 arithmetic, as PyTorch's (its tensors default to float32): the same digits print
    return float(np.round(np.float32(x / step)) * np.float32(step))


def ordered_unique(elements) -> list:
    """The distinct elements in order of first appearance."""
    return list(dict.fromkeys(elements))


@dataclasses.dataclass(init=True, repr=False, eq=True, frozen=True)
class TaskSpec:
    """What a Timer runs and how it is labelled (``label``/``sub_label``/``description``)."""

    stmt: str
    setup: str
    global_setup: str = ""
    label: str | None = None
    sub_label: str | None = None
    description: str | None = None
    env: str | None = None
    num_threads: int = 1

    @property
    def title(self) -> str:
        """``"label: sub_label"``, else the statement (indented under ``stmt:`` if long)."""
        suffix = f": {self.sub_label}" if self.sub_label else ""
        if self.label is not None:
            return self.label + suffix
        if "\n" not in self.stmt:
            return self.stmt + suffix
        head = f" ({self.sub_label})" if self.sub_label else ""
        return f"stmt:{head}\n" + textwrap.indent(self.stmt, "  ")

    def setup_str(self) -> str:
        if not self.setup or self.setup == "pass":
            return ""
        if "\n" in self.setup:
            return "setup:\n" + textwrap.indent(self.setup, "  ")
        return f"setup: {self.setup}"

    def summarize(self) -> str:
        """The lines ``Measurement``'s repr starts with."""
        parts = [self.title, self.description or "", self.setup_str()]
        # a section of several lines is followed by a blank line
        return "\n".join(p + "\n" if "\n" in p else p for p in parts if p)


class Measurement:
    """The times of one benchmarked statement: ``raw_times[i]`` is the time of
    ``number_per_run`` runs; ``times`` are per run.

    Example:
        >>> m = Measurement(100, [1.2e-5, 1.3e-5], TaskSpec("x + y", "pass"))
        >>> m.median
        1.25e-07
    """

    def __init__(self, number_per_run: int, raw_times: list, task_spec: TaskSpec, metadata=None):
        self.number_per_run = number_per_run
        self.raw_times = list(raw_times)
        self.task_spec = task_spec
        self.metadata = metadata
        self.times = [t / number_per_run for t in self.raw_times]
        data = np.sort(np.array(self.times, dtype=np.float64))
        self._sorted = tuple(float(t) for t in data)
        p25, median, p75 = np.percentile(data, [25, 50, 75]) if len(data) else (np.nan,) * 3
        self._p25, self._median, self._p75 = float(p25), float(median), float(p75)
        self._mean = float(data.mean()) if len(data) else math.nan
        self._warnings = self._make_warnings() if len(data) else ()

    def __getattr__(self, name):
        # label, sub_label, description, stmt, setup, num_threads...: the TaskSpec's
        if name != "task_spec" and name in TaskSpec.__dataclass_fields__:
            return getattr(self.task_spec, name)
        raise AttributeError(f"'Measurement' object has no attribute {name!r}")

    @property
    def median(self) -> float:
        return self._median

    @property
    def mean(self) -> float:
        return self._mean

    @property
    def iqr(self) -> float:
        """The interquartile range (75th - 25th percentile) of ``times``."""
        return self._p75 - self._p25

    @property
    def has_warnings(self) -> bool:
        return bool(self._warnings)

    def meets_confidence(self, threshold: float = _WARN) -> bool:
        """True if IQR / median is below ``threshold``."""
        return self.iqr / self.median < threshold

    def _make_warnings(self) -> tuple:
        if self.meets_confidence(_WARN):
            return ()
        why = (
            "This could indicate system fluctuation."
            if self.meets_confidence(_GROSS_WARN)
            else "This suggests significant environmental influence."
        )
        share = self.iqr / self.median * 100
        return (
            f"  WARNING: Interquartile range is {share:.1f}% of the median measurement.\n"
            f"           {why}",
        )

    @property
    def significant_figures(self) -> int:
        """A rough precision estimate (1 to 4 digits) from the middle half of the times: the
        median over a 90% confidence interval (z = 1.645) of their mean, at least 25 ns."""
        n = len(self._sorted)
        middle = np.array(self._sorted[n // 4 : math.ceil(3 * n / 4)])
        ci = max(1.645 * float(middle.std()) / math.sqrt(len(middle)), _MIN_CI)
        digits = math.floor(math.log10(self._median / ci))
        return min(max(digits, 1), _MAX_SIGFIGS)

    @property
    def title(self) -> str:
        return self.task_spec.title

    @property
    def env(self) -> str | None:
        """The task's ``env`` (None when not given, which is what PyTorch returns too)."""
        return self.task_spec.env

    @property
    def as_row_name(self) -> str:
        return self.task_spec.sub_label or self.task_spec.stmt or "[Unknown]"

    def __repr__(self) -> str:
        n = len(self._sorted)
        unit, scale = select_unit(self._median)
        lines = [object.__repr__(self), self.task_spec.summarize()]
        lines.append(f"  {'Median: ' if n > 1 else ''}{self._median / scale:.2f} {unit}")
        if n >= 4:
            lines.append(
                f"  IQR:    {self.iqr / scale:.2f} {unit} "
                f"({self._p25 / scale:.2f} to {self._p75 / scale:.2f})"
            )
        runs = "runs per measurement," if n > 1 else "runs ,"
        threads = f"{self.num_threads} thread{'s' if self.num_threads > 1 else ''}"
        lines.append(
            f"  {n} measurement{'s' if n > 1 else ''}, {self.number_per_run} {runs} {threads}"
        )
        lines.extend(self._warnings)
        return "\n".join(lines)

    @staticmethod
    def merge(measurements) -> list[Measurement]:
        """One Measurement per TaskSpec, with all its times (``number_per_run`` becomes 1)."""
        groups: dict[TaskSpec, list[float]] = {}
        for m in measurements:
            groups.setdefault(m.task_spec, []).extend(m.times)
        return [Measurement(1, times, spec) for spec, times in groups.items()]
