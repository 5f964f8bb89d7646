"""Utilities built on the core: data loading, hook handles, activation checkpointing, DLPack."""

from . import benchmark, checkpoint, data, deterministic, dlpack, hooks, weak
from .throughput_benchmark import ThroughputBenchmark
