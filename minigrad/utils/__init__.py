"""Utilities built on the core: data loading, hook handles, activation checkpointing, DLPack."""

from . import checkpoint, data, dlpack, hooks
