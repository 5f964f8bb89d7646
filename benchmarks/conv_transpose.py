"""Transposed convolution: PyTorch's ``ConvTranspose3d`` docstring example against PyTorch.

Usage: ``python -m benchmarks.conv_transpose [--batch N] [--repeats R] [--backward]
[--threads N] [--clock wall|cpu] [--quick]``

``nn.ConvTranspose3d(16, 33, 3, stride=2)`` on a (N, 16, 10, 50, 100) float32 input (PyTorch's
example takes N = 20; the default here is 4), minigrad and PyTorch alternating in one process
with the same thread count; the **minimum** time over the repeats of a forward (and backward
with ``--backward``), their ratio, and minigrad's traced peak memory of one call over its
output's size (NumPy reports its buffers to tracemalloc; PyTorch's are invisible to it).
``--quick``: a (1, 16, 4, 10, 20) input, twice (the smoke test).
"""

from __future__ import annotations

import argparse
import tracemalloc

import minigrad

from .run import CLOCKS, _import_torch, conditions, header, set_threads


def _step(lib, x, backward: bool):
    module = lib.nn.ConvTranspose3d(16, 33, 3, stride=2)

    def step():
        y = module(x)
        if backward:
            y.sum().backward()
        return y

    return step


def run(shape, repeats: int, backward: bool, clock: str) -> dict:
    """Times (s) of minigrad and PyTorch (``seconds``), their ratio and minigrad's peak over
    its output."""
    torch = _import_torch()
    steps = {"minigrad": _step(minigrad, minigrad.randn(*shape), backward)}
    if torch is not None:
        steps["torch"] = _step(torch, torch.randn(*shape), backward)
    tick, best = CLOCKS[clock], {name: float("inf") for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = tick()
            step()
            best[name] = min(best[name], tick() - start)
    tracemalloc.start()
    out_bytes = steps["minigrad"]().numel() * 4
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    report = {"shape": list(shape), "backward": backward, "seconds": best}
    report["peak/output"] = peak / out_bytes
    if "torch" in best:
        report["minigrad/torch"] = best["minigrad"] / best["torch"]
    return report


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4, help="samples (PyTorch's example: 20)")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds")
    parser.add_argument("--backward", action="store_true", help="time forward + backward")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    parser.add_argument("--clock", choices=list(CLOCKS), default="wall")
    parser.add_argument("--quick", action="store_true", help="a tiny input, 2 rounds")
    args = parser.parse_args(argv)
    set_threads(args.threads, _import_torch())
    shape = (1, 16, 4, 10, 20) if args.quick else (args.batch, 16, 10, 50, 100)
    report = run(shape, 2 if args.quick else args.repeats, args.backward, args.clock)
    report.update(conditions(_import_torch()), clock=args.clock)
    print(header(report))
    ratio, seconds = report.get("minigrad/torch"), report["seconds"]
    print(
        f"ConvTranspose3d(16, 33, 3, stride=2) on {tuple(shape)}"
        f"{' fwd+bwd' if args.backward else ''}: minigrad {seconds['minigrad']:.3g} s"
        + (f", PyTorch {seconds['torch']:.3g} s, minigrad/torch {ratio:.2f}" if ratio else "")
        + f"; minigrad peak {report['peak/output']:.2f}x its output"
    )
    return report


if __name__ == "__main__":
    main()
