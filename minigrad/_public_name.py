"""The module name that reprs show: ``minigrad`` (``minigrad.float32``, ``minigrad.Size([2])``),
or ``torch`` while :mod:`minigrad.as_torch` runs a program that imports minigrad as ``torch``.

Programs compare these strings (``str(x.dtype) == "torch.float32"``, ``x.type() ==
"torch.FloatTensor"``) and print them; under ``as_torch`` they see the names they imported.
Code that generates Python source or files never uses a repr: it spells ``minigrad.<name>``.
"""

_shown = "minigrad"


def shown() -> str:
    """The module name reprs show now."""
    return _shown


def show_as(name: str) -> str:
    """Show ``name`` from now on; returns the name shown before (to restore it)."""
    global _shown
    previous, _shown = _shown, name
    return previous
