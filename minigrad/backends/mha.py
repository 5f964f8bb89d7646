"""``minigrad.backends.mha``, as ``torch.backends.mha``: the switch of the "fast path" that
``nn.TransformerEncoder`` takes in inference. Where PyTorch would run the stack on a nested
tensor, minigrad masks the padding as that path does (padded positions come out as zeros);
turning the switch off gives the ordinary masked computation, as in PyTorch."""

from __future__ import annotations

_fastpath_enabled = True


def get_fastpath_enabled() -> bool:
    """Whether ``nn.TransformerEncoder`` may take its inference fast path (default True)."""
    return _fastpath_enabled


def set_fastpath_enabled(value: bool) -> None:
    """Allow (True) or forbid (False) the inference fast path of ``nn.TransformerEncoder``."""
    global _fastpath_enabled
    _fastpath_enabled = bool(value)
