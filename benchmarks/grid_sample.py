"""``F.grid_sample`` forward and forward+backward against PyTorch's, per mode and dimension.

Usage: ``python -m benchmarks.grid_sample [--batch N] [--channels C] [--size S] [--repeat N]
[--clock wall|cpu] [--json FILE]``

Each row samples an ``[N, C, S, S]`` (2-D) or ``[N, C, S, S, S]`` (3-D) float32 input at a
random grid of the same spatial size (positions a little beyond [-1, 1], zeros padding,
``align_corners=False``). The default, ``2×3×8×8×8``, is the size of the op-table rows whose
gradchecks made grid_sample's tests slow: there minigrad's cost is its per-op overhead (one
gather for all corners since 2026-12-07, not one per corner). Times are the minimum over
``--repeat`` runs in milliseconds; ``ratio`` is minigrad over PyTorch. Nothing here is an
assertion.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import minigrad
import minigrad.nn.functional as F

from .run import CLOCKS, best_ms, set_threads, timing_row, write_rows

CASES = (("2d", "bilinear"), ("2d", "nearest"), ("2d", "bicubic"), ("3d", "bilinear"),
         ("3d", "nearest"))  # fmt: skip


def _case(lib, functional, x, grid, mode: str, backward: bool):
    """One call of ``functional.grid_sample`` (minigrad's or PyTorch's), then its backward."""

    def run():
        xt = lib.tensor(x, requires_grad=backward)
        gt = lib.tensor(grid, requires_grad=backward)
        out = functional.grid_sample(xt, gt, mode=mode, align_corners=False)
        if backward:
            out.sum().backward()

    return run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--size", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    try:
        import torch
        import torch.nn.functional as torch_f
    except ImportError:
        torch = torch_f = None
    set_threads(1, torch)
    clock = CLOCKS[args.clock]
    rng = np.random.default_rng(0)
    rows = []
    print(
        f"{'dims':4s} {'mode':9s} {'pass':9s} {'minigrad ms':>12s} {'torch ms':>9s} {'ratio':>6s}"
    )
    for dims, mode in CASES:
        spatial = (args.size,) * (2 if dims == "2d" else 3)
        x = rng.standard_normal((args.batch, args.channels, *spatial)).astype(np.float32)
        grid = rng.uniform(-1.1, 1.1, (args.batch, *spatial, len(spatial))).astype(np.float32)
        for backward in (False, True):
            pass_name = "fwd+bwd" if backward else "forward"
            ours = best_ms(_case(minigrad, F, x, grid, mode, backward), args.repeat, clock)
            theirs = None
            if torch is not None:
                theirs = best_ms(_case(torch, torch_f, x, grid, mode, backward), args.repeat, clock)
            label = f"{dims:4s} {mode:9s} {pass_name:9s}"
            record = {"dims": dims, "mode": mode, "pass": pass_name}
            timing_row(rows, label, record, ours, theirs, "torch_ms")
    return write_rows(rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
