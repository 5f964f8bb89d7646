"""``minigrad.utils.ThroughputBenchmark``, as ``torch.utils.ThroughputBenchmark``: a module's
average latency under an inference-server-like load of several calling threads.

PyTorch's is a C++ component; this one runs the same loop in Python threads: each thread
first calls the module ``num_warmup_iters`` times, then all threads share ``num_iters`` timed
calls (each on an input picked at random from those given to :meth:`add_input`). minigrad's
ops hold the GIL while they compute, so more threads add load, not parallel speed.
"""

from __future__ import annotations

import random
import threading
import time

__all__ = ["ExecutionStats", "ThroughputBenchmark", "format_time"]


def format_time(time_us=None, time_ms=None, time_s=None) -> str:
    """One duration (given in exactly one unit) as PyTorch prints it: ``'1.500ms'``."""
    if sum(t is not None for t in (time_us, time_ms, time_s)) != 1:
        raise AssertionError("Expected only one of time_us, time_ms, time_s is given.")
    if time_us is None:
        time_us = time_ms * 1e3 if time_ms is not None else time_s * 1e6
    if time_us >= 1e6:
        return f"{time_us / 1e6:.3f}s"
    if time_us >= 1e3:
        return f"{time_us / 1e3:.3f}ms"
    return f"{time_us:.3f}us"


class BenchmarkConfig:
    """The settings of one :meth:`ThroughputBenchmark.benchmark` run (PyTorch's fields)."""

    def __init__(self, num_calling_threads=1, num_warmup_iters=10, num_iters=100, path=""):
        self.num_calling_threads = num_calling_threads
        self.num_warmup_iters = num_warmup_iters
        self.num_iters = num_iters
        self.profiler_output_path = path


class ExecutionStats:
    """What a benchmark run measured: ``latency_avg_ms`` (per call) and ``num_iters`` (calls
    timed, slightly more than asked when threads finish together)."""

    def __init__(self, latency_avg_ms: float, num_iters: int, benchmark_config) -> None:
        self._latency_avg_ms, self._num_iters = latency_avg_ms, num_iters
        self.benchmark_config = benchmark_config

    @property
    def latency_avg_ms(self) -> float:
        return self._latency_avg_ms

    @property
    def num_iters(self) -> int:
        return self._num_iters

    @property
    def iters_per_second(self) -> float:
        """Total number of iterations per second across all calling threads."""
        return self.num_iters / self.total_time_seconds

    @property
    def total_time_seconds(self) -> float:
        threads = self.benchmark_config.num_calling_threads
        return self.num_iters * (self.latency_avg_ms / 1000.0) / threads

    def __str__(self) -> str:
        return "\n".join(
            [
                "Average latency per example: " + format_time(time_ms=self.latency_avg_ms),
                f"Total number of iterations: {self.num_iters}",
                "Total number of iterations per second (across all threads): "
                f"{self.iters_per_second:.2f}",
                "Total time: " + format_time(time_s=self.total_time_seconds),
            ]
        )


class ThroughputBenchmark:
    """Runs ``module`` (any callable: an ``nn.Module``, a scripted one) under a load of calling
    threads.

    Example:
        >>> bench = ThroughputBenchmark(nn.Linear(4, 2))
        >>> bench.add_input(minigrad.randn(3, 4))
        >>> stats = bench.benchmark(num_calling_threads=2, num_warmup_iters=2, num_iters=20)
        >>> stats.num_iters >= 20
        True
    """

    def __init__(self, module) -> None:
        self._module, self._inputs = module, []

    def run_once(self, *args, **kwargs):
        """The module's output for these arguments (to check that it runs the right module)."""
        return self._module(*args, **kwargs)

    def add_input(self, *args, **kwargs) -> None:
        """Keep one set of arguments; every timed call takes one of them at random."""
        self._inputs.append((args, kwargs))

    def benchmark(
        self, num_calling_threads=1, num_warmup_iters=10, num_iters=100, profiler_output_path=""
    ) -> ExecutionStats:
        """Time ``num_iters`` calls shared by ``num_calling_threads`` threads, after
        ``num_warmup_iters`` untimed calls in each; with ``profiler_output_path`` the timed
        part runs under :class:`minigrad.profiler.profile` and its Chrome trace is written
        there."""
        if not self._inputs:
            raise RuntimeError("ThroughputBenchmark: no inputs; call add_input() first")
        if num_calling_threads < 1 or num_iters < 1 or num_warmup_iters < 0:
            raise ValueError(
                "ThroughputBenchmark.benchmark: num_calling_threads and num_iters must be >= 1 "
                f"and num_warmup_iters >= 0, got {num_calling_threads}, {num_iters}, "
                f"{num_warmup_iters}"
            )
        config = BenchmarkConfig(
            num_calling_threads, num_warmup_iters, num_iters, profiler_output_path
        )
        lock, done, seconds = threading.Lock(), [0], [0.0]
        warm = threading.Barrier(num_calling_threads + 1)
        go = threading.Event()

        def worker(seed: int) -> None:
            pick = random.Random(seed)
            for _ in range(num_warmup_iters):
                self._call(pick)
            warm.wait()
            go.wait()
            while True:
                with lock:
                    if done[0] >= num_iters:
                        return
                    done[0] += 1
                start = time.perf_counter()
                self._call(pick)
                elapsed = time.perf_counter() - start
                with lock:
                    seconds[0] += elapsed

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(num_calling_threads)]
        for t in threads:
            t.start()
        warm.wait()
        self._timed(go, threads, profiler_output_path)
        return ExecutionStats(1000.0 * seconds[0] / done[0], done[0], config)

    def _call(self, pick: random.Random) -> None:
        args, kwargs = pick.choice(self._inputs)
        self._module(*args, **kwargs)

    @staticmethod
    def _timed(go: threading.Event, threads: list, profiler_output_path: str) -> None:
        """Release the threads and wait for them (under the profiler when a trace is asked)."""
        if not profiler_output_path:
            go.set()
            for t in threads:
                t.join()
            return
        from ..profiler import profile

        with profile() as prof:
            go.set()
            for t in threads:
                t.join()
        prof.export_chrome_trace(profiler_output_path)
