"""``torch.fx.experimental``: only :mod:`.proxy_tensor`'s ``get_proxy_mode``."""
