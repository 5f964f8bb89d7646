"""Colours, fonts and HTML-like labels of the graph pictures, and the gradient-norm heat scale."""

from __future__ import annotations

import math
from itertools import pairwise

FONT = "Helvetica,Arial,sans-serif"
GRAPH = f'graph [rankdir={{rankdir}} fontname="{FONT}" fontsize=11 nodesep=0.25 ranksep=0.35]'
NODE = (
    f'node [shape=box style="rounded,filled" fontname="{FONT}" fontsize=10 color="#64748b" '
    f'fillcolor="#eef2f7" margin="0.12,0.05" height=0.3]'
)
EDGE = 'edge [color="#64748b" arrowsize=0.6]'

# fill, border, extra attributes of each kind of box
KINDS = {
    "op": ("#eef2f7", "#64748b", ""),
    "leaf": ("#dbeafe", "#2563eb", 'style="filled"'),
    "output": ("#dcfce7", "#15803d", "penwidth=2"),
    "module": ("#fef3c7", "#b45309", 'shape=box3d style="filled"'),
    "saved": ("#ffedd5", "#c2410c", 'shape=ellipse style="filled" fontsize=9 height=0.2'),
}
SAVED_EDGE = 'style=dashed color="#c2410c" arrowhead=odot'
CLUSTER_FILLS = ("#f8fafc", "#f1f5f9", "#e8eef5", "#dfe7f0")
MUTED, WARN = "#475569", "#b91c1c"

# A diverging blue-grey-red ramp (after Moreland's cool-warm): small gradients blue, large red.
RAMP = ((0.0, (59, 76, 192)), (0.25, (124, 159, 249)), (0.5, (221, 220, 220)),
        (0.75, (244, 154, 123)), (1.0, (180, 4, 38)))  # fmt: skip
ZERO_FILL, BAD_FILL = "#f3f4f6", "#d946ef"


def escape(text) -> str:
    """``text`` made safe inside an HTML-like Graphviz label."""
    return (
        str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace('"', "&quot;")
    )  # fmt: skip


def html_label(title: str, lines=(), muted: str = MUTED, warn_lines=()) -> str:
    """A label with a bold title and smaller lines under it: ``<<B>MatMul</B><BR/>...>``."""
    parts = [f"<B>{escape(title)}</B>"]
    parts += [f'<FONT POINT-SIZE="9" COLOR="{muted}">{escape(line)}</FONT>' for line in lines]
    parts += [f'<FONT POINT-SIZE="9" COLOR="{WARN}">{escape(line)}</FONT>' for line in warn_lines]
    return "<" + "<BR/>".join(parts) + ">"


def hex_color(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(round(c) for c in rgb))


def ramp(t: float) -> str:
    """The colour at ``t`` in [0, 1] on the blue-grey-red ramp."""
    t = min(max(t, 0.0), 1.0)
    for (t0, c0), (t1, c1) in pairwise(RAMP):
        if t <= t1:
            w = (t - t0) / (t1 - t0)
            return hex_color(a + (b - a) * w for a, b in zip(c0, c1, strict=True))
    return hex_color(RAMP[-1][1])


def text_color(fill: str) -> tuple:
    """``(title colour, line colour)`` readable on ``fill``: white on dark fills."""
    r, g, b = (int(fill[i : i + 2], 16) / 255 for i in (1, 3, 5))
    dark = 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5
    return ("white", "#f1f5f9") if dark else ("black", MUTED)


class HeatScale:
    """Maps gradient norms to colours on a log10 scale spanning whole decades.

    The scale runs from the decade below the smallest positive norm to the decade above the
    largest, widened to at least ``MIN_DECADES`` around them so that norms of the same order
    look alike: blue and red mean orders of magnitude apart, not a factor of two.
    """

    MIN_DECADES = 4

    def __init__(self, norms):
        norms = list(norms)
        logs = [math.log10(n) for n in norms if n is not None and math.isfinite(n) and n > 0]
        self.empty = not logs
        self.lo = math.floor(min(logs)) if logs else 0
        self.hi = math.ceil(max(logs)) if logs else 0
        pad = self.MIN_DECADES - (self.hi - self.lo)
        if pad > 0:
            self.lo, self.hi = self.lo - pad // 2, self.hi + pad - pad // 2
        self.has_zero = any(n == 0 for n in norms if n is not None)
        self.has_bad = any(n is not None and not math.isfinite(n) for n in norms)

    def color(self, norm: float) -> str:
        if not math.isfinite(norm):
            return BAD_FILL
        if norm <= 0:
            return ZERO_FILL
        return ramp((math.log10(norm) - self.lo) / (self.hi - self.lo))

    def legend(self) -> str:
        """An HTML-like table: one coloured cell per decade (and for zero, nan/inf)."""
        step = max(1, math.ceil((self.hi - self.lo) / 8))
        cells = [(ramp((d - self.lo) / (self.hi - self.lo)), f"1e{d}")
                 for d in range(self.lo, self.hi + 1, step)]  # fmt: skip
        if self.has_zero:
            cells.insert(0, (ZERO_FILL, "0"))
        if self.has_bad:
            cells.append((BAD_FILL, "nan/inf"))
        row = "".join(
            f'<TD BGCOLOR="{fill}"><FONT COLOR="{text_color(fill)[0]}">{text}</FONT></TD>'
            for fill, text in cells
        )
        title = "gradient norm (log scale)"
        return (
            f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">'
            f'<TR><TD COLSPAN="{len(cells)}"><B>{title}</B></TD></TR><TR>{row}</TR></TABLE>>'
        )
