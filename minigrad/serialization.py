"""``minigrad.serialization``: ``save``/``load`` and the allowlist of loadable classes.

As ``torch.serialization``: :func:`safe_globals` (a context manager), :func:`add_safe_globals`,
:func:`get_safe_globals` and :func:`clear_safe_globals` say which classes and functions
``minigrad.load`` may rebuild from a file besides PyTorch's default allowlist (tensors,
parameters, plain containers: ``weights_only=True``); :func:`get_unsafe_globals_in_checkpoint`
lists those a file names that are not allowed yet; :class:`skip_data` saves and loads a
checkpoint's structure without its tensors' bytes.

Example:
    >>> minigrad.save(Net(), "net.mg")  # Net holds two nn.Linear
    >>> minigrad.serialization.get_unsafe_globals_in_checkpoint("net.mg")
    ['__main__.Net', 'minigrad.nn.modules.linear.Linear']
    >>> with minigrad.serialization.safe_globals([Net, nn.Linear]):
    ...     model = minigrad.load("net.mg")
"""

from collections.abc import Callable
from typing import Union

from .io.api import get_unsafe_globals_in_checkpoint, load, save
from .io.safe_globals import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals
from .io.skip_data import skip_data
from .types import Storage, _device

# the type aliases PyTorch's signatures use (pyro annotates with MAP_LOCATION)
MAP_LOCATION = Union[Callable[[Storage, str], Storage], _device, str, dict[str, str], None]  # noqa: UP007
STORAGE = Storage
DEFAULT_PROTOCOL = 2  # PyTorch's pickle protocol constant (monai's StateCacher imports it)

__all__ = [
    "add_safe_globals",
    "clear_safe_globals",
    "get_safe_globals",
    "get_unsafe_globals_in_checkpoint",
    "load",
    "safe_globals",
    "save",
    "skip_data",
]
