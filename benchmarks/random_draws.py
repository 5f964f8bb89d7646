"""Random draws: minigrad's PyTorch-exact CPU samplers against PyTorch and NumPy's own generator.

Usage: ``python -m benchmarks.random_draws [--quick] [--only DRAW ...] [--size N]
[--repeats R] [--threads N] [--clock wall|cpu] [--json FILE]``

Each row draws the same thing three ways: minigrad (whose CPU generator reproduces PyTorch's
numbers: MT19937 words turned into numbers as PyTorch's kernels do), PyTorch, and plain NumPy
with its default generator (PCG64) doing the equivalent draw its own way — the floor for a
NumPy library that need not match PyTorch's numbers. ``--size`` elements per draw (default
1e6; the rejection samplers, which run one element after the other, draw a tenth of that),
the three alternating in one process, one thread each (``--threads``); the table gives the
**minimum** over the repeats and the ratios of the minima. ``--quick`` draws 10,000 elements
three times (the smoke test).
"""

from __future__ import annotations

import argparse
import json

import numpy as np

import minigrad
from minigrad.nn import functional as F

from .run import CLOCKS, _import_torch, conditions, header, set_threads, with_ratios

FRAMEWORKS = ("minigrad", "torch", "numpy")
SLOW_DRAWS = ("gamma", "poisson")  # sequential rejection samplers: a tenth of the size
CATEGORIES = 1000  # multinomial's categories per row


def _uniform_inplace(lib, n):
    t = lib.empty(n)
    return lambda: t.uniform_(-1.0, 2.0)


def _normal_inplace(lib, n):
    t = lib.empty(n)
    return lambda: t.normal_(0.5, 2.0)


def _exponential_inplace(lib, n):
    t = lib.empty(n)
    return lambda: t.exponential_(1.5)


def _bernoulli_inplace(lib, n):
    t = lib.empty(n)
    return lambda: t.bernoulli_(0.3)


def _dropout(lib, functional, n):
    x = lib.ones(max(n // 1024, 1), 1024)
    return lambda: functional.dropout(x, 0.1, training=True)


def _multinomial(lib, rows, samples):
    probs = lib.rand(max(rows, 1), CATEGORIES)
    return lambda: lib.multinomial(probs, samples, replacement=samples > 1)


def _gamma(lib, n):
    alphas = lib.full((n,), 2.5)
    return lambda: lib._standard_gamma(alphas)


def _poisson(lib, n):
    rates = lib.full((n,), 4.0)
    return lambda: lib.poisson(rates)


def library_draws(lib, functional, n: int) -> dict:
    """The draws of ``lib`` (minigrad or torch, which share these names), ``n`` elements each
    (multinomial: rows of 1,000 categories and 10,000 samples a row, ``n`` in all;
    multinomial_1: one sample from each of ``n / 1000`` rows, as a language model samples)."""
    f64 = lib.float64
    return {
        "rand": lambda: lib.rand(n),
        "randn": lambda: lib.randn(n),
        "randn_float64": lambda: lib.randn(n, dtype=f64),
        "randint": lambda: lib.randint(0, 1000, (n,)),
        "randperm": lambda: lib.randperm(n),
        "uniform_": _uniform_inplace(lib, n),
        "normal_": _normal_inplace(lib, n),
        "bernoulli_": _bernoulli_inplace(lib, n),
        "dropout": _dropout(lib, functional, n),
        "multinomial": _multinomial(lib, n // 10_000, 10_000),
        "multinomial_1": _multinomial(lib, n // CATEGORIES, 1),
        "exponential_": _exponential_inplace(lib, n),
        "gamma": _gamma(lib, n // 10),
        "poisson": _poisson(lib, n // 10),
    }


def numpy_draws(n: int) -> dict:
    """The same draws with NumPy's default generator, each its own natural way."""
    rng = np.random.default_rng(0)
    out32, out64 = np.empty(n, np.float32), np.empty(n)
    x = np.ones((max(n // 1024, 1), 1024), np.float32)
    rows = rng.random((max(n // 10_000, 1), CATEGORIES))
    rows_1 = rng.random((max(n // CATEGORIES, 1), CATEGORIES))

    def dropout():
        keep = rng.random(x.shape, dtype=np.float32) >= np.float32(0.1)
        return x * keep * np.float32(1 / 0.9)

    return {
        "rand": lambda: rng.random(n, dtype=np.float32),
        "randn": lambda: rng.standard_normal(n, dtype=np.float32),
        "randn_float64": lambda: rng.standard_normal(n),
        "randint": lambda: rng.integers(0, 1000, n),
        "randperm": lambda: rng.permutation(n),
        "uniform_": lambda: np.add(
            rng.random(dtype=np.float32, out=out32) * np.float32(3), np.float32(-1), out32
        ),
        "normal_": lambda: np.add(
            rng.standard_normal(dtype=np.float32, out=out32) * np.float32(2), np.float32(0.5), out32
        ),
        "bernoulli_": lambda: np.less(rng.random(n), 0.3, out=out64, casting="unsafe"),
        "dropout": dropout,
        "multinomial": lambda: _inverse_cdf(rng, rows, 10_000),
        "multinomial_1": lambda: _inverse_cdf(rng, rows_1, 1),
        "exponential_": lambda: rng.standard_exponential(n, dtype=np.float32) / np.float32(1.5),
        "gamma": lambda: rng.standard_gamma(2.5, n // 10, dtype=np.float32),
        "poisson": lambda: rng.poisson(4.0, n // 10).astype(np.float32),
    }


def _inverse_cdf(rng, rows, samples):
    """``samples`` category indices per row (with replacement) by one vectorized lookup."""
    cdf = np.cumsum(rows / rows.sum(axis=1, keepdims=True), axis=1)
    cdf += np.arange(rows.shape[0])[:, None]  # rows side by side in one sorted array
    u = rng.random((rows.shape[0], samples)) + np.arange(rows.shape[0])[:, None]
    return np.searchsorted(cdf.ravel(), u.ravel()).reshape(u.shape) % rows.shape[1]


def time_draw(steps: dict, repeats: int, clock: str) -> dict:
    """Milliseconds of each framework's draw: the minimum over ``repeats`` rounds in which
    the frameworks alternate (one warm-up call each first)."""
    now = CLOCKS[clock]
    best = {name: float("inf") for name in steps}
    for step in steps.values():
        step()
    for _ in range(repeats):
        for name, step in steps.items():
            start = now()
            step()
            best[name] = min(best[name], now() - start)
    return with_ratios({name: 1e3 * t for name, t in best.items()})


def table(results: dict, n: int) -> str:
    """A markdown table: the three minima (ms) and the two ratios per draw."""
    title = f"**random draws**: {n:,} elements (gamma, poisson: {n // 10:,}), min ms"
    return framework_table(title, "draw", results)


def framework_table(title: str, column: str, results: dict, scale: float = 1.0) -> str:
    """A markdown table under ``title``: per row of ``results`` (named in the first column,
    ``column``), each framework's minimum in ms times ``scale`` and minigrad's two ratios."""
    lines = [
        title,
        "",
        f"| {column} | minigrad | PyTorch | NumPy | minigrad/PyTorch | minigrad/NumPy |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        cells = [f"{scale * r[f]:.3g}" if f in r else "–" for f in FRAMEWORKS]
        ratios = [f"{r[k]:.2f}×" if k in r else "–" for k in ("minigrad/torch", "minigrad/numpy")]
        lines.append(f"| {name} | " + " | ".join(cells + ratios) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.random_draws", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--only", nargs="*", help="draws to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="10,000 elements, 3 repeats")
    parser.add_argument("--size", type=int, default=1_000_000, help="elements per draw")
    parser.add_argument("--repeats", type=int, default=10, help="timed rounds per draw")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    parser.add_argument("--clock", choices=list(CLOCKS), default="wall")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    n, repeats = (10_000, 3) if args.quick else (args.size, args.repeats)
    torch = _import_torch()
    set_threads(args.threads, torch)
    report = {**conditions(torch), "clock": args.clock, "size": n, "draws": {}}
    print(header(report), end="\n\n", flush=True)
    frameworks = {"minigrad": library_draws(minigrad, F, n), "numpy": numpy_draws(n)}
    if torch is not None:
        frameworks["torch"] = library_draws(torch, torch.nn.functional, n)
    names = args.only or list(frameworks["minigrad"])
    unknown = sorted(set(names) - set(frameworks["minigrad"]))
    if unknown:
        parser.error(f"unknown draws {unknown}; choose from {list(frameworks['minigrad'])}")
    minigrad.manual_seed(0)
    if torch is not None:
        torch.manual_seed(0)
    for name in names:
        steps = {f: frameworks[f][name] for f in FRAMEWORKS if f in frameworks}
        report["draws"][name] = time_draw(steps, repeats, args.clock)
    print(table(report["draws"], n), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
