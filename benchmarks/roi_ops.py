"""RoI Align and RoI Pool, forward and backward: minigrad against torchvision's own RoI Align
run on PyTorch (the pure-PyTorch version torchvision falls back to without its compiled
extension, taken from the torchvision wheel the way
``scripts/check_detection_against_torchvision.py`` does) and its shapes.

Usage: ``python -m benchmarks.roi_ops [--rois K ...] [--channels C] [--size S] [--repeat N]
[--clock wall|cpu] [--json FILE] [--wheel WHL]``

Each row: ``K`` random boxes on an ``[2, C, S, S]`` map, 7×7 output, ``sampling_ratio=2``
(Faster R-CNN's box head) for RoI Align; ``roi_pool`` has no Python fallback in torchvision, so
its row is minigrad alone. Times are the minimum over ``--repeat`` runs in milliseconds;
``ratio`` is minigrad over torchvision. Nothing here is an assertion.
"""

from __future__ import annotations

import argparse
import glob
import sys

import numpy as np

import minigrad
from minigrad.vision import ops

from .run import CLOCKS, best_ms, set_threads, timing_row, write_rows

WHEEL = "/opt/pypi-more/files/torchvision-0.28.0-*.whl"


def _boxes(k: int, size: int, seed: int = 0) -> np.ndarray:
    """``[k, 5]`` rois over a 2-image batch, 1 to ``size`` pixels wide, in feature pixels."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, size * 0.8, (k, 2))
    wh = rng.uniform(1, size * 0.5, (k, 2))
    batch = rng.integers(0, 2, (k, 1))
    return np.concatenate([batch, xy, np.minimum(xy + wh, size - 1)], 1).astype(np.float32)


def _minigrad_case(op, x, rois, backward: bool):
    def run():
        xt = minigrad.tensor(x, requires_grad=backward)
        out = op(xt, minigrad.tensor(rois))
        if backward:
            out.sum().backward()

    return run


def _torchvision_case(tv_roi_align, x, rois, backward: bool):
    import torch

    def run():
        xt = torch.tensor(x, requires_grad=backward)
        out = tv_roi_align(xt, torch.tensor(rois), 1.0, 7, 7, 2, False)
        if backward:
            out.sum().backward()

    return run


def _load_torchvision(wheel: str | None):
    """torchvision's pure-PyTorch ``_roi_align``, or None without torch or the wheel."""
    try:
        sys.path.insert(0, "scripts")
        from check_detection_against_torchvision import import_torchvision

        found = [wheel] if wheel else sorted(glob.glob(WHEEL))
        if not found:
            return None
        import_torchvision(found[-1])
        from torchvision.ops.roi_align import _roi_align

        return _roi_align
    except ImportError:
        return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rois", type=int, nargs="+", default=[64, 512])
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--size", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    parser.add_argument("--json")
    parser.add_argument("--wheel")
    args = parser.parse_args(argv)
    set_threads(1)
    clock = CLOCKS[args.clock]
    tv_roi_align = _load_torchvision(args.wheel)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, args.channels, args.size, args.size)).astype(np.float32)
    rows = []
    print(f"{'op':10s} {'pass':9s} {'rois':>5s} {'minigrad ms':>12s} {'tv ms':>9s} {'ratio':>6s}")
    for k in args.rois:
        rois = _boxes(k, args.size)
        for backward in (False, True):
            pass_name = "fwd+bwd" if backward else "forward"
            cases = {
                "roi_align": lambda a, b: ops.roi_align(a, b, 7, 1.0, 2),
                "roi_pool": lambda a, b: ops.roi_pool(a, b, 7, 1.0),
            }
            for name, op in cases.items():
                ours = best_ms(_minigrad_case(op, x, rois, backward), args.repeat, clock)
                theirs = None
                if name == "roi_align" and tv_roi_align is not None:
                    theirs = best_ms(
                        _torchvision_case(tv_roi_align, x, rois, backward), args.repeat, clock
                    )
                label = f"{name:10s} {pass_name:9s} {k:5d}"
                record = {"op": name, "pass": pass_name, "rois": k}
                timing_row(rows, label, record, ours, theirs, "torchvision_ms", 1, 2)
    return write_rows(rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
