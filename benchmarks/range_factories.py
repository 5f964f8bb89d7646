"""Range factories: minigrad's PyTorch-exact ``arange``/``linspace``/``logspace`` and
``F.affine_grid`` (built on ``linspace``) against PyTorch and NumPy.

Usage: ``python -m benchmarks.range_factories [--quick] [--repeats R] [--threads N]
[--clock wall|cpu] [--json FILE]``

minigrad repeats PyTorch's CPU kernels bit for bit (``minigrad/_range_factories.py``: blocked
fused multiply-adds, emulated exactly with NumPy); NumPy's own ``arange``/``linspace`` are the
floor of a NumPy library that need not match PyTorch's last bits. The frameworks alternate in
one process, one thread each; the table gives the **minimum** over the repeats (small rows
ten times as many) and the ratios of the minima. Rows marked *cold* clear minigrad's cache of
short linspaces before every call (what the first call with new bounds costs); the others
repeat the same call, as a model's forward does. ``--quick``: a tenth of the sizes, 3 repeats
(the smoke test).
"""

from __future__ import annotations

import argparse
import json

import numpy as np

import minigrad
from minigrad import _range_factories
from minigrad.nn import functional as F

from .random_draws import FRAMEWORKS, framework_table, time_draw
from .run import CLOCKS, _import_torch, conditions, header, set_threads


def _forget_linspaces():
    """Clear minigrad's cache of short linspaces (absent before it existed: nothing to do)."""
    cached = getattr(_range_factories, "_cached_linspace", None)
    if cached is not None:
        cached.cache_clear()


def _cold(step):
    def run():
        _forget_linspaces()
        return step()

    return run


def _affine_grid_numpy(theta: np.ndarray, size) -> np.ndarray:
    """NumPy's affine_grid: pixel-centre positions (align_corners=False) times theta."""
    n, _, h, w = size
    xs = (np.linspace(-1, 1, w, dtype=np.float32) * (w - 1) / w).astype(np.float32)
    ys = (np.linspace(-1, 1, h, dtype=np.float32) * (h - 1) / h).astype(np.float32)
    gy, gx = np.meshgrid(ys, xs, indexing="ij")
    base = np.stack([gx, gy, np.ones_like(gx)], -1).reshape(1, -1, 3)
    return (base @ theta.transpose(0, 2, 1)).reshape(n, h, w, 2)


def cases(torch, scale: int) -> dict:
    """``{row: (small, {framework: call})}``: ``small`` rows get ten times the repeats."""
    big = 1_000_000 // scale
    rows = {}

    def add(name, small, make, numpy_call):
        calls = {"minigrad": make(minigrad, F), "numpy": numpy_call}
        if torch is not None:
            calls["torch"] = make(torch, torch.nn.functional)
        rows[name] = (small, calls)

    add(
        "linspace(-1, 1, 16)",
        True,
        lambda lib, _: lambda: lib.linspace(-1, 1, 16),
        lambda: np.linspace(-1, 1, 16, dtype=np.float32),
    )
    add(
        "linspace(-1, 1, 16), cold",
        True,
        lambda lib, _: _cold(lambda: lib.linspace(-1, 1, 16)),
        lambda: np.linspace(-1, 1, 16, dtype=np.float32),
    )
    add(
        f"linspace(-1, 1, {big // 10:,})",
        False,
        lambda lib, _: lambda: lib.linspace(-1, 1, big // 10),
        lambda: np.linspace(-1, 1, big // 10, dtype=np.float32),
    )
    size = (2, 3, 16, 16)
    theta = np.random.default_rng(0).normal(size=(2, 2, 3)).astype(np.float32)

    def grid(lib, functional, wrap):
        t = lib.tensor(theta)
        return wrap(lambda: functional.affine_grid(t, size, align_corners=False))

    for name, wrap in (("affine_grid 2×16×16", lambda s: s), ("affine_grid, cold", _cold)):
        add(
            name,
            True,
            lambda lib, fn, wrap=wrap: grid(lib, fn, wrap),
            lambda: _affine_grid_numpy(theta, size),
        )
    step = 0.0137
    for dtype in ("float64", "float32"):
        add(
            f"arange({big:,} × {step}), {dtype}",
            False,
            lambda lib, _, dtype=dtype: (
                lambda: lib.arange(0.0, big * step, step, dtype=getattr(lib, dtype))
            ),
            lambda dtype=dtype: np.arange(0.0, big * step, step, dtype=dtype),
        )
    add(
        f"arange({big:,} × 1e-6), float16",
        False,
        lambda lib, _: lambda: lib.arange(0.0, big * 1e-6, 1e-6, dtype=lib.float16),
        lambda: np.arange(0.0, big * 1e-6, 1e-6).astype(np.float16),
    )
    add(
        f"logspace(-1, 1, {big // 100:,})",
        False,
        lambda lib, _: lambda: lib.logspace(-1, 1, big // 100),
        lambda: np.logspace(-1, 1, big // 100, dtype=np.float32),
    )
    return rows


def table(results: dict) -> str:
    """A markdown table: the three minima (µs) and the two ratios per row."""
    return framework_table("**range factories**: min µs", "call", results, scale=1e3)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.range_factories", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes, 3 repeats")
    parser.add_argument("--repeats", type=int, default=10, help="timed rounds (small rows: 10×)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    parser.add_argument("--clock", choices=list(CLOCKS), default="wall")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else args.repeats
    torch = _import_torch()
    set_threads(args.threads, torch)
    report = {**conditions(torch), "clock": args.clock, "rows": {}}
    print(header(report), end="\n\n", flush=True)
    for name, (small, calls) in cases(torch, 10 if args.quick else 1).items():
        steps = {f: calls[f] for f in FRAMEWORKS if f in calls}
        report["rows"][name] = time_draw(steps, repeats * (10 if small else 1), args.clock)
    print(table(report["rows"]), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return report


if __name__ == "__main__":
    main()
