"""How fast NumPy's BLAS computes a linear layer's product x·Wᵀ one way or the other.

``python -m benchmarks.gemm_layouts`` prints, for x of M rows and W of (N, K), the time of
``(W @ x.T).T`` (made contiguous) relative to ``x @ W.T``: below 1 where the transposed form
is faster. OpenBLAS handles a few rows times a large transposed weight poorly (an LSTM step,
16 rows by a 1024x256 weight, runs at about half speed); ``F.linear`` and ``x @ W.T`` pick the
form from this table (``minigrad.ops.linalg.times_transposed``): rerun it on another BLAS or
CPU.
"""

from __future__ import annotations

import timeit

import numpy as np

ROWS = (1, 2, 4, 8, 16, 32, 48, 64, 96)
SHAPES = [(k, n) for k in (64, 256, 1024) for n in (32, 128, 512, 2048)]  # (K, N)


def _best(fn, number: int = 100) -> float:
    return min(timeit.repeat(fn, number=number, repeat=5)) / number


def ratio(m: int, k: int, n: int) -> float:
    """Time of the transposed form over the direct one, for x (m, k) and W (n, k)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((m, k)).astype(np.float32)
    w = rng.standard_normal((n, k)).astype(np.float32)
    direct = _best(lambda: x @ w.T)
    swapped = _best(lambda: np.ascontiguousarray((w @ x.T).T))
    return swapped / direct


def main() -> None:
    import minigrad  # noqa: F401  (its import sets one BLAS thread, minigrad's default)

    print("time of (W @ x.T).T over x @ W.T, float32 (below 1: the transposed form is faster)")
    print("| M \\ (K, N) | " + " | ".join(f"{k}, {n}" for k, n in SHAPES) + " |")
    print("|---" * (len(SHAPES) + 1) + "|")
    for m in ROWS:
        cells = " | ".join(f"{ratio(m, k, n):.2f}" for k, n in SHAPES)
        print(f"| {m} | {cells} |")


if __name__ == "__main__":
    main()
