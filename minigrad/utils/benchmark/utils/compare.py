"""``Compare``: many Measurements as one table per label — rows by thread count, env and
sub_label, columns by description — as ``torch.utils.benchmark.Compare`` prints them."""

from __future__ import annotations

import enum
import math

from .common import Measurement, ordered_unique, select_unit, trim_sigfig, unit_to_english

_BEST, _GOOD, _BAD, _VERY_BAD = "\033[92m", "\033[34m", "\033[2m\033[91m", "\033[31m"
_BOLD, _END = "\033[1m", "\033[0m"
_SEP = "  |  "


class Colorize(enum.Enum):
    NONE = "none"
    COLUMNWISE = "columnwise"
    ROWWISE = "rowwise"


def _paint(text: str, value: float, best: float) -> str:
    """Green within 1% (or 100 ns) of the best, blue within 10%, red from 5x, dim red from 2x."""
    if value <= best * 1.01 or value <= best + 100e-9:
        return _BEST + _BOLD + text + _END * 2
    if value <= best * 1.1:
        return _GOOD + _BOLD + text + _END * 2
    if value >= best * 5:
        return _VERY_BAD + _BOLD + text + _END * 2
    if value >= best * 2:
        return _BAD + text + _END * 2
    return text


class _Table:
    """One label's measurements laid out as text."""

    def __init__(self, results, colorize, trim, highlight):
        self.results, self.colorize, self.trim = results, colorize, trim
        self.highlight = highlight
        self.unit, self.scale = select_unit(min(r.median for r in results))
        keys = ordered_unique((r.num_threads, r.env, r.as_row_name) for r in results)
        self.rows = sorted(keys, key=lambda k: (k[0], k[1] or ""))  # stable: statement order kept
        self.cols = ordered_unique(r.description for r in results)
        self.cell = {((r.num_threads, r.env, r.as_row_name), r.description): r for r in results}
        self.groups = ordered_unique(k[0] for k in self.rows)
        self.formats = [self._format_of(c) for c in self.cols]

    def _format_of(self, col):
        """Width and decimals of one column: room for its largest value's integer digits."""
        ms = [m for m in (self.cell.get((row, col)) for row in self.rows) if m is not None]
        lead = [math.ceil(math.log10(m.median / self.scale)) for m in ms]
        if self.trim:
            decimals = min(max(m.significant_figures - d, 0) for m, d in zip(ms, lead))
        else:
            decimals = 1
        width = max(lead) + decimals + (1 if decimals else 0)
        warn = self.highlight and any(m.has_warnings for m in ms)
        return width, decimals, warn

    def _number(self, m, fmt) -> str:
        width, decimals, warn = fmt
        value = 1.0 if m is None else m.median / self.scale
        if m is not None and self.trim:
            value = trim_sigfig(value, m.significant_figures)
        text = f"{value:>{width}.{decimals}f}"
        if warn:
            note = f" (! {m.iqr / m.median * 100:.0f}%)" if m and m.has_warnings else ""
            text += f"{note:>7}"
        return " " * len(text) if m is None else text

    def _row_name(self, key, show_env, env_width) -> str:
        env = f"({key[1]})" if show_env else ""
        return "  " + env.ljust(env_width + 4) + key[2]

    def _best(self, key, j):
        if self.colorize is Colorize.ROWWISE:
            return min(m.median for m in (self.cell.get((key, c)) for c in self.cols) if m)
        same_group = [k for k in self.rows if k[0] == key[0]]
        values = [m.median for m in (self.cell.get((k, self.cols[j])) for k in same_group) if m]
        return min(values) if values else None

    def render(self) -> str:
        envs = {r.env for r in self.results}
        many_envs = len(envs) > 1
        env_width = max(len(str(e)) for e in envs) if many_envs else 0
        text_rows = [["", *[c or "" for c in self.cols]]]
        threads, env = None, ""
        for key in self.rows:
            if key[0] != threads:  # a new thread group shows its first env again
                threads, env = key[0], ""
            show_env, env = many_envs and key[1] != env, key[1]
            cells = [self.cell.get((key, c)) for c in self.cols]
            text_rows.append(
                [self._row_name(key, show_env, env_width)]
                + [self._number(m, f) for m, f in zip(cells, self.formats)]
            )
        widths = [max(len(r[i]) for r in text_rows) for i in range(len(text_rows[0]))]
        lines = [_SEP.join(t.center(w) for t, w in zip(text_rows[0], widths))]
        total = len(lines[0])
        group = None
        for key, texts in zip(self.rows, text_rows[1:]):
            if key[0] != group:
                group = key[0]
                lines.append(f"{group} threads: ".ljust(total, "-"))
            out = [texts[0].ljust(widths[0])]
            for j, (t, w) in enumerate(zip(texts[1:], widths[1:])):
                t, m = t.center(w), self.cell.get((key, self.cols[j]))
                best = self._best(key, j) if self.colorize is not Colorize.NONE and m else None
                out.append(_paint(t, m.median, best) if best is not None else t)
            lines.append(_SEP.join(out))
        label = self.results[0].label or ""
        note = ""
        if self.highlight and any(r.has_warnings for r in self.results):
            note = "(! XX%) Measurement has high variance, where XX is the IQR / median * 100.\n"
        return (
            f"[{(' ' + label + ' ').center(total - 2, '-')}]\n" + "\n".join(lines) + "\n\n"
            f"Times are in {unit_to_english(self.unit)}s ({self.unit}).\n{note}"
        )


class Compare:
    """Print Measurements as tables: one per ``label``, a row per ``sub_label`` (grouped by
    ``num_threads``), a column per ``description``; replicates of one task are merged.

    Example:
        >>> Compare([m1, m2]).print()
    """

    def __init__(self, results: list[Measurement]):
        self._results: list[Measurement] = []
        self.extend_results(results)
        self._trim = False
        self._colorize = Colorize.NONE
        self._highlight = False

    def extend_results(self, results) -> None:
        """Add more Measurements."""
        for r in results:
            if not isinstance(r, Measurement):
                raise ValueError(f"Expected an instance of `Measurement`, got {type(r)} instead.")
        self._results.extend(results)

    def trim_significant_figures(self) -> None:
        """Show each time with only its estimated significant figures."""
        self._trim = True

    def colorize(self, rowwise: bool = False) -> None:
        """Color each time by how it compares with the best of its column (or row)."""
        self._colorize = Colorize.ROWWISE if rowwise else Colorize.COLUMNWISE

    def highlight_warnings(self) -> None:
        """Mark times with a high variance with ``(! XX%)``."""
        self._highlight = True

    def _render(self) -> list[str]:
        by_label: dict = {}
        for m in Measurement.merge(self._results):
            by_label.setdefault(m.label, []).append(m)
        return [
            _Table(ms, self._colorize, self._trim, self._highlight).render()
            for ms in by_label.values()
        ]

    def __str__(self) -> str:
        return "\n".join(self._render())

    def print(self) -> None:
        """Print the tables."""
        print(str(self))
