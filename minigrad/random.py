"""``minigrad.random`` (``torch.random``): the CPU generator's seed and state, and ``fork_rng``.

``get_rng_state()`` is a uint8 tensor of PyTorch's layout (5056 bytes: the seed, the Mersenne
Twister's position and 624 words, and the normal-number caches), so a state saved by PyTorch
(``torch.get_rng_state()``) loads into minigrad and the next draws are PyTorch's, and the
other way round; programs keep it in checkpoints (``{"rng_state": torch.get_rng_state()}``
with ``minigrad.save``) and restore it with ``set_rng_state``.
"""

from __future__ import annotations

import contextlib

from . import backend, cpu, cuda, dtypes
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
    """The CPU generator's state as a uint8 tensor (PyTorch's layout), for
    :func:`set_rng_state`.

    Example:
        >>> state = minigrad.get_rng_state()
        >>> a = minigrad.rand(2)
        >>> minigrad.set_rng_state(state)
        >>> bool((minigrad.rand(2) == a).all())
        True
    """
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Restore the CPU generator to a state from :func:`get_rng_state` (or PyTorch's)."""
    if not isinstance(new_state, Tensor) or new_state.dtype is not dtypes.uint8:
        raise TypeError(
            "set_rng_state: expected the uint8 tensor get_rng_state() returns, got "
            f"{getattr(new_state, 'dtype', type(new_state).__name__)}"
        )
    try:
        default_generator.set_state(new_state)
    except RuntimeError as e:
        raise RuntimeError(f"set_rng_state: {e}") from None


@contextlib.contextmanager
def fork_rng(
    devices=None,
    enabled: bool = True,
    _caller: str = "fork_rng",
    _devices_kw: str = "devices",
    device_type: str | None = None,
):
    """Draws inside the block leave the CPU generator (and those of ``devices`` of
    ``device_type``, default every GPU) as they found it: their states are saved on entry and
    restored on exit. ``device_type="meta"`` forks nothing; ``"cpu"`` (whose generator is always
    forked) takes ``devices=[]`` only, as in PyTorch, whose ``torch.cpu`` keeps no device
    states."""
    if device_type == "meta":
        yield
        return
    device_type = device_type or "cuda"
    if device_type not in ("cuda", "cpu"):
        raise NotImplementedError(f"fork_rng: device_type {device_type!r} (minigrad has cuda)")
    if not enabled:
        yield
        return
    if devices is None:
        available = device_type == "cpu" or cuda.is_available()
        devices = range((cpu if device_type == "cpu" else cuda).device_count() if available else 0)
    devices = list(devices)
    if device_type == "cpu" and devices:
        raise AttributeError("module 'minigrad.cpu' has no attribute 'get_rng_state'")
    cpu_state = default_generator.get_state()
    gpu_states = [(d, cuda.get_rng_state(d)) for d in devices]
    try:
        yield
    finally:
        default_generator.set_state(cpu_state)
        for d, state in gpu_states:
            cuda.set_rng_state(state, d)
