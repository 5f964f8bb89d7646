"""``skip_data``, as ``torch.serialization.skip_data``: save and load a checkpoint's structure
without its tensors' bytes.

Inside the context, :func:`minigrad.save` writes every array as zeros of its size (the space
its bytes would take, to be filled in a separate pass; no copy from the GPU), and
:func:`minigrad.load` builds every tensor with the checkpoint's dtype and shape but leaves its
memory unread (uninitialised, as ``torch.empty``), in minigrad's format and PyTorch's zip
format alike.
"""

from __future__ import annotations

import contextvars

__all__ = ["skip_data", "skipping"]

_SKIP = contextvars.ContextVar("skip_data", default=False)


def skipping() -> bool:
    """True inside :class:`skip_data`: save writes zeros, load reads no array bytes."""
    return _SKIP.get()


class skip_data:  # noqa: N801  (PyTorch's name)
    """Context manager: skip writing (save) and reading (load) the bytes of storages.

    Args:
        materialize_fake_tensors: PyTorch's option for saving FakeTensors; minigrad has no
            fake tensors, so there is nothing it changes (accepted, as a no-op for loading).

    Example:
        >>> t = minigrad.randn(2, 3)
        >>> with minigrad.serialization.skip_data():
        ...     minigrad.save(t, "t.mg")
        >>> minigrad.load("t.mg")
        tensor([[0., 0., 0.],
                [0., 0., 0.]])
    """

    def __init__(self, materialize_fake_tensors: bool = False):
        self.materialize_fake_tensors = materialize_fake_tensors

    def __enter__(self):
        self._token = _SKIP.set(True)
        return None

    def __exit__(self, *exc):
        _SKIP.reset(self._token)
        return False
