"""The Bessel and Airy functions of ``torch.special`` as differentiable ops: J0, J1, Y0, Y1,
K0, K1 (and the scaled e^x·K), the spherical j0 and Airy's Ai.

PyTorch gives none of them a derivative; minigrad does, in closed form from the same family
(J0' = -J1, J1' = J0 - J1/x, K0' = -K1, Ai'' = x·Ai, ...), so every order of derivative
exists. Forwards run :mod:`minigrad._special_bessel` on the tensor's array module in float64.
"""

from __future__ import annotations

import numpy as np

from .. import _special_bessel as kernels
from .base import Op
from .elementwise import unary, where
from .special import _over_x, i0, i1


def no_half(dtype, name: str) -> None:
    """Raise as PyTorch, which has no float16/bfloat16 kernel for ``name``."""
    if dtype.name in ("float16", "bfloat16"):
        label = "Half" if dtype.name == "float16" else "BFloat16"
        raise NotImplementedError(f"\"{name}\" not implemented for '{label}'")


class _BesselOp(Op):
    """A one-input function computed by ``minigrad._special_bessel.<kernel>`` in float64."""

    save_inputs = True
    kernel = ""

    def forward(self, x):
        out = getattr(kernels, self.kernel)(self.xp, x.astype(np.float64, copy=False))
        return out.astype(x.dtype, copy=False)


def _function(op_cls, name: str):
    def function(input):
        no_half(input.dtype, name)
        return unary(op_cls(), input, True)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"Elementwise ``torch.special.{name}``: {op_cls.__doc__}"
    return function


class BesselJ0(_BesselOp):
    """y = J0(x); dy/dx = -J1(x)"""

    kernel = "bessel_j0"

    def backward(self, gy):
        (x,) = self.saved
        return -gy * bessel_j1(x)


class BesselJ1(_BesselOp):
    """y = J1(x); dy/dx = J0(x) - J1(x)/x (½ at 0)"""

    kernel = "bessel_j1"

    def backward(self, gy):
        (x,) = self.saved
        return gy * where(x == 0, 0.5, bessel_j0(x) - _over_x(x, bessel_j1(x), 0.0))


class BesselY0(_BesselOp):
    """y = Y0(x) (NaN for x < 0); dy/dx = -Y1(x)"""

    kernel = "bessel_y0"

    def backward(self, gy):
        (x,) = self.saved
        return -gy * bessel_y1(x)


class BesselY1(_BesselOp):
    """y = Y1(x) (NaN for x < 0); dy/dx = Y0(x) - Y1(x)/x"""

    kernel = "bessel_y1"

    def backward(self, gy):
        (x,) = self.saved
        return gy * (bessel_y0(x) - bessel_y1(x) / x)


class ModifiedBesselK0(_BesselOp):
    """y = K0(x) (NaN for x < 0); dy/dx = -K1(x)"""

    kernel = "modified_bessel_k0"

    def backward(self, gy):
        (x,) = self.saved
        return -gy * modified_bessel_k1(x)


class ModifiedBesselK1(_BesselOp):
    """y = K1(x) (NaN for x < 0); dy/dx = -K0(x) - K1(x)/x"""

    kernel = "modified_bessel_k1"

    def backward(self, gy):
        (x,) = self.saved
        return -gy * (modified_bessel_k0(x) + modified_bessel_k1(x) / x)


class ScaledModifiedBesselK0(_BesselOp):
    """y = e^x·K0(x); dy/dx = y - e^x·K1(x)"""

    kernel = "scaled_modified_bessel_k0"

    def backward(self, gy):
        (x,) = self.saved
        return gy * (scaled_modified_bessel_k0(x) - scaled_modified_bessel_k1(x))


class ScaledModifiedBesselK1(_BesselOp):
    """y = e^x·K1(x); dy/dx = y·(1 - 1/x) - e^x·K0(x)"""

    kernel = "scaled_modified_bessel_k1"

    def backward(self, gy):
        (x,) = self.saved
        k1e = scaled_modified_bessel_k1(x)
        return gy * (k1e - scaled_modified_bessel_k0(x) - k1e / x)


class SphericalBesselJ0(_BesselOp):
    """y = j0(x) = sin(x)/x; dy/dx = -j1(x) (the spherical Bessel function of order 1)"""

    kernel = "spherical_bessel_j0"

    def backward(self, gy):
        (x,) = self.saved
        return -gy * SphericalBesselJ1()(x)


class SphericalBesselJ1(_BesselOp):
    """y = j1(x) = sin(x)/x² - cos(x)/x; dy/dx = j0(x) - 2·j1(x)/x (⅓ at 0)"""

    kernel = "spherical_bessel_j1"

    def backward(self, gy):
        (x,) = self.saved
        j1 = SphericalBesselJ1()(x)
        return gy * where(x == 0, 1.0 / 3.0, spherical_bessel_j0(x) - _over_x(x, 2.0 * j1, 0.0))


class AiryAi(_BesselOp):
    """y = Ai(x); dy/dx = Ai'(x)"""

    kernel = "airy_ai"

    def backward(self, gy):
        (x,) = self.saved
        return gy * AiryAiPrime()(x)


class AiryAiPrime(_BesselOp):
    """y = Ai'(x); dy/dx = x·Ai(x) (Airy's equation)"""

    kernel = "airy_ai_prime"

    def backward(self, gy):
        (x,) = self.saved
        return gy * x * airy_ai(x)


bessel_j0 = _function(BesselJ0, "bessel_j0")
bessel_j1 = _function(BesselJ1, "bessel_j1")
bessel_y0 = _function(BesselY0, "bessel_y0")
bessel_y1 = _function(BesselY1, "bessel_y1")
modified_bessel_k0 = _function(ModifiedBesselK0, "modified_bessel_k0")
modified_bessel_k1 = _function(ModifiedBesselK1, "modified_bessel_k1")
scaled_modified_bessel_k0 = _function(ScaledModifiedBesselK0, "scaled_modified_bessel_k0")
scaled_modified_bessel_k1 = _function(ScaledModifiedBesselK1, "scaled_modified_bessel_k1")
spherical_bessel_j0 = _function(SphericalBesselJ0, "spherical_bessel_j0")
airy_ai = _function(AiryAi, "airy_ai")


def modified_bessel_i0(input):
    """``torch.special.modified_bessel_i0``: :func:`i0` under its new name, refusing float16
    and bfloat16 as PyTorch does (its ``i0`` accepts them)."""
    no_half(input.dtype, "modified_bessel_i0")
    return i0(input)


def modified_bessel_i1(input):
    """``torch.special.modified_bessel_i1``: :func:`i1`, refusing float16 and bfloat16."""
    no_half(input.dtype, "modified_bessel_i1")
    return i1(input)
