"""Utilities built on the core: data loading, hook handles, activation checkpointing, DLPack,
``swap_tensors``, ``ModuleTracker``."""

from . import benchmark, checkpoint, data, deterministic, dlpack, hooks, module_tracker, weak
from .swap import swap_tensors
from .throughput_benchmark import ThroughputBenchmark
