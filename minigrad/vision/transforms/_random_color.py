"""The v1 random colour operations (``RandomInvert``, ``RandomPosterize``,
``RandomSolarize``, ``RandomAdjustSharpness``, ``RandomAutocontrast``, ``RandomEqualize``):
one ``rand(1) < p`` draw each, as torchvision's, then the functional operation."""

from __future__ import annotations

from ...creation import rand
from ...nn.modules.module import Module
from . import functional as F

__all__ = [
    "RandomAdjustSharpness",
    "RandomAutocontrast",
    "RandomEqualize",
    "RandomInvert",
    "RandomPosterize",
    "RandomSolarize",
]


def bind_args(what: str, names, args, kwargs) -> dict:
    """``names`` then ``p`` (0.5 by default) bound from positional and keyword arguments."""
    names = (*names, "p")
    if len(args) > len(names):
        raise TypeError(f"{what}() takes {len(names)} arguments ({', '.join(names)})")
    bound = dict(zip(names, args))
    for name, value in kwargs.items():
        if name not in names or name in bound:
            raise TypeError(f"{what}() got an unexpected or repeated argument {name!r}")
        bound[name] = value
    missing = [n for n in names[:-1] if n not in bound]
    if missing:
        raise TypeError(f"{what}() missing required argument: {missing[0]!r}")
    bound.setdefault("p", 0.5)
    return bound


class _RandomColorOp(Module):
    """Apply ``functional.<op>(img, *args)`` with probability ``p`` (one ``rand(1)`` draw)."""

    op = ""
    arg_names: tuple = ()

    def __init__(self, *args, **kwargs):
        super().__init__()
        for name, value in bind_args(type(self).__name__, self.arg_names, args, kwargs).items():
            setattr(self, name, value)

    def forward(self, img):
        if rand(1).item() < self.p:
            return getattr(F, self.op)(img, *(getattr(self, n) for n in self.arg_names))
        return img

    def __repr__(self) -> str:
        fields = "".join(f"{n}={getattr(self, n)}, " for n in self.arg_names)
        return f"{type(self).__name__}({fields}p={self.p})"


class RandomInvert(_RandomColorOp):
    """Invert the colours with probability ``p``."""

    op = "invert"


class RandomPosterize(_RandomColorOp):
    """Keep ``bits`` bits per channel, with probability ``p``."""

    op, arg_names = "posterize", ("bits",)


class RandomSolarize(_RandomColorOp):
    """Invert the values at or above ``threshold``, with probability ``p``."""

    op, arg_names = "solarize", ("threshold",)


class RandomAdjustSharpness(_RandomColorOp):
    """Sharpen by ``sharpness_factor``, with probability ``p``."""

    op, arg_names = "adjust_sharpness", ("sharpness_factor",)


class RandomAutocontrast(_RandomColorOp):
    """Stretch each channel's range to the full one, with probability ``p``."""

    op = "autocontrast"


class RandomEqualize(_RandomColorOp):
    """Equalise the histogram, with probability ``p``."""

    op = "equalize"
