"""``torch.fx.experimental.proxy_tensor``: ``get_proxy_mode()``, which libraries (kornia) ask
to know whether ``make_fx`` is tracing them. minigrad has no ``make_fx`` (its ``fx`` traces
modules symbolically, with ``Proxy`` objects rather than a dispatch mode), so none is."""

from __future__ import annotations

__all__ = ["get_proxy_mode"]


def get_proxy_mode():
    """None: no ``make_fx`` proxy mode is ever active in minigrad."""
    return None
