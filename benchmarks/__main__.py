"""``python -m benchmarks``: run the benchmark table (see benchmarks/run.py)."""

from .run import main

main()
