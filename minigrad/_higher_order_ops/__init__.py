"""``torch._higher_order_ops``: the control-flow operators that take functions (``cond``,
``while_loop``) and ``associative_scan``, which libraries import from here (Hugging Face's
Mamba imports ``associative_scan`` whether or not it uses it). They run eagerly."""

from .._surface import cond, while_loop
from .associative_scan import associative_scan

__all__ = ["associative_scan", "cond", "while_loop"]
