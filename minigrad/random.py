"""``minigrad.random`` (``torch.random``): the CPU generator's seed and state, and ``fork_rng``.

``get_rng_state()`` is a uint8 tensor, so programs can keep it in a checkpoint
(``{"rng_state": torch.get_rng_state(), ...}`` with ``minigrad.save``) and restore it with
``set_rng_state``. Its bytes are minigrad's own (the NumPy generator's state as JSON text), not
PyTorch's: a state saved by PyTorch cannot be replayed, since the generators differ.
"""

from __future__ import annotations

import contextlib
import json

import numpy as np

from . import backend, cuda, dtypes
from .backend import initial_seed, manual_seed, seed
from .tensor import Tensor

__all__ = [
    "default_generator",
    "fork_rng",
    "get_rng_state",
    "initial_seed",
    "manual_seed",
    "seed",
    "set_rng_state",
]

default_generator = backend.default_generator(backend.CPU)


def get_rng_state() -> Tensor:
    """The CPU generator's state as a uint8 tensor, for :func:`set_rng_state`.

    Example:
        >>> state = minigrad.get_rng_state()
        >>> a = minigrad.rand(2)
        >>> minigrad.set_rng_state(state)
        >>> bool((minigrad.rand(2) == a).all())
        True
    """
    text = json.dumps(default_generator.get_state(), sort_keys=True).encode()
    return Tensor._make(np.frombuffer(text, dtype=np.uint8).copy(), backend.CPU)


def set_rng_state(new_state: Tensor) -> None:
    """Restore the CPU generator to a state from :func:`get_rng_state`."""
    if not isinstance(new_state, Tensor) or new_state.dtype is not dtypes.uint8:
        raise TypeError(
            "set_rng_state: expected the uint8 tensor get_rng_state() returns, got "
            f"{getattr(new_state, 'dtype', type(new_state).__name__)}"
        )
    try:
        state = json.loads(new_state.cpu().numpy().tobytes())
    except ValueError:
        raise RuntimeError(
            "set_rng_state: not a state from minigrad.get_rng_state() (a state saved by "
            "PyTorch cannot be replayed: the generators differ)"
        ) from None
    default_generator.set_state(state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, device_type: str = "cuda"):
    """Draws inside the block leave the CPU generator (and those of ``devices``, default every
    GPU) as they found it: their states are saved on entry and restored on exit."""
    if not enabled:
        yield
        return
    if device_type != "cuda":
        raise NotImplementedError(f"fork_rng: device_type {device_type!r} (minigrad has cuda)")
    if devices is None:
        devices = range(cuda.device_count()) if cuda.is_available() else []
    cpu_state = default_generator.get_state()
    gpu_states = [(d, cuda.get_rng_state(d)) for d in devices]
    try:
        yield
    finally:
        default_generator.set_state(cpu_state)
        for d, state in gpu_states:
            cuda.set_rng_state(state, d)
