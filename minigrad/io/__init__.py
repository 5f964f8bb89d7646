"""Reading and writing tensors, models and checkpoints, in minigrad's format and others.

- :func:`save` / :func:`load`: minigrad's own pickle-free checkpoints (:mod:`.checkpoint`);
  ``load`` also reads PyTorch checkpoints (:mod:`.pytorch`) and safetensors files.
- :func:`load_safetensors` / :func:`save_safetensors` (:mod:`.safetensors`), with metadata.
- :func:`load_pytorch`: a ``torch.save`` file, read without PyTorch and without running it.
- The allowlist of classes loading may build: :mod:`minigrad.serialization`.
"""

from .api import get_unsafe_globals_in_checkpoint, load, load_pytorch, save
from .safe_globals import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals
from .safetensors import load_metadata, load_safetensors, save_safetensors

__all__ = [
    "add_safe_globals",
    "clear_safe_globals",
    "get_safe_globals",
    "get_unsafe_globals_in_checkpoint",
    "load",
    "load_metadata",
    "load_pytorch",
    "load_safetensors",
    "safe_globals",
    "save",
    "save_safetensors",
]
