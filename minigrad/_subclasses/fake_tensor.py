"""``torch._subclasses.fake_tensor``: ``is_fake(x)``, which libraries (kornia) ask before running
data-dependent code. minigrad has no fake tensors (PyTorch's shape-only tensors of
``torch.compile``), so no tensor is one; ``FakeTensorMode`` and the rest are not here."""

from __future__ import annotations

__all__ = ["is_fake"]


def is_fake(x) -> bool:
    """False: minigrad has no fake tensors (a ``meta`` tensor is not one, as in PyTorch)."""
    return False
