"""Micro-benchmarks as the "PyTorch Benchmark" recipe writes them with
``torch.utils.benchmark``: a ``Timer`` with a string ``stmt``, a ``setup`` string and
``globals``, ``timeit(number)`` against ``timeit.Timer`` for the same statement,
``blocked_autorange(min_run_time=...)`` with a callback, ``adaptive_autorange``, the
``Measurement`` fields scripts read (``mean``, ``median``, ``iqr``, ``times``,
``number_per_run``, ``title``, ``task_spec``), and a ``Compare`` table of batched dot-product
implementations over sizes, labelled with ``label``/``sub_label``/``description``; the
implementations' results are checked equal before timing, as the recipe does."""

import re
import timeit

import torch
import torch.utils.benchmark as benchmark

torch.manual_seed(0)


def batched_dot_mul_sum(a, b):
    """Computes batched dot by multiplying and summing."""
    return a.mul(b).sum(-1)


def batched_dot_bmm(a, b):
    """Computes batched dot by reducing to bmm."""
    a = a.reshape(-1, 1, a.shape[-1])
    b = b.reshape(-1, b.shape[-1], 1)
    return torch.bmm(a, b).flatten(-3)


x = torch.randn(100, 64)
agree = torch.allclose(batched_dot_mul_sum(x, x), batched_dot_bmm(x, x), atol=1e-5)
dot_sample = [round(v, 4) for v in batched_dot_bmm(x, x)[:4].tolist()]

t0 = timeit.Timer(stmt="batched_dot_mul_sum(x, x)", globals={**globals(), "x": x})
plain_seconds = t0.timeit(20) / 20

t1 = benchmark.Timer(
    stmt="""
        out = batched_dot_bmm(y, y)
        out.add_(1.0)
    """,
    setup="""
        y = x.contiguous()
    """,
    globals={"x": x, "batched_dot_bmm": batched_dot_bmm},
    label="batched dot",
    sub_label="bmm",
    description="100x64",
    num_threads=1,
)
m1 = t1.timeit(20)
fields = {
    "number_per_run": m1.number_per_run,
    "n_times": len(m1.times),
    "stmt": m1.task_spec.stmt.splitlines(),
    "label": m1.task_spec.label,
    "title": m1.title,
    "num_threads": m1.task_spec.num_threads,
}
positive = m1.mean > 0 and m1.median > 0 and m1.iqr >= 0
mean_matches_times = abs(m1.mean - sum(m1.times) / len(m1.times)) < 1e-12

blocks = []
t2 = benchmark.Timer(stmt="y = x @ w; y.relu_()", setup="w = torch.randn(64, 32)", globals={"x": x})
m2 = t2.blocked_autorange(callback=lambda number, seconds: blocks.append(number), min_run_time=0.02)
block_sizes_equal = len(set(blocks)) == 1 and blocks[0] == m2.number_per_run
blocked_total = sum(m2.raw_times) >= 0.02 * 0.5
m3 = benchmark.Timer(stmt="torch.tanh(x)", globals={"x": x}).adaptive_autorange(
    threshold=0.5, min_run_time=0.01, max_run_time=0.05
)
adaptive_ok = m3.median > 0 and len(m3.times) >= 1

results = []
for n in (16, 128):
    a = torch.randn(n, 32)
    for fn in (batched_dot_mul_sum, batched_dot_bmm):
        timer = benchmark.Timer(
            stmt=f"{fn.__name__}(a, a)",
            globals={fn.__name__: fn, "a": a},
            label="Batched dot",
            sub_label=f"[{n}, 32]",
            description=fn.__name__,
        )
        results.append(timer.timeit(10))
compare = benchmark.Compare(results)
compare.trim_significant_figures()
table = str(compare)
table_shape = [re.sub(r"[0-9.]+", "#", line).split() for line in table.splitlines() if line.strip()]
row_names = [m.as_row_name for m in results]
descriptions = sorted({m.task_spec.description for m in results})
