"""The orthogonal polynomials, the regularized incomplete gamma functions and the Hurwitz zeta
function of ``torch.special`` as differentiable ops.

- Polynomials ``p(x, n)``: differentiable in x to any order (the k-th derivative comes from the
  differentiated three-term recurrence, see :mod:`minigrad._special_poly`); n is a degree, not
  differentiable. PyTorch gives them no derivative at all.
- ``gammainc(a, x)``, ``gammaincc(a, x)``: dP/dx = x^(a-1)·e^(-x)/Γ(a), as PyTorch; the
  derivative in a is not implemented (PyTorch raises too).
- ``zeta(s, q)``: ∂ζ/∂q = -s·ζ(s+1, q), as PyTorch; the derivative in s is not implemented.
"""

from __future__ import annotations

import numpy as np

from .. import _special_gamma, _special_poly
from ..autograd import graph
from ..autograd.graph import names_node
from .base import Op, scalar_tensor
from .elementwise import promote
from .special import lgamma
from .special_bessel import no_half
from .unary import exp


class OrthogonalPolynomial(Op):
    """y = p_n⁽ᵏ⁾(x), the k-th x-derivative of polynomial ``kind``; dy/dx = p_n⁽ᵏ⁺¹⁾(x)"""

    save_inputs = True

    def __init__(self, kind: str, order: int = 0):
        self.kind, self.order = kind, order

    def forward(self, x, n):
        f64 = np.float64
        out = _special_poly.polynomial(
            self.xp, self.kind, x.astype(f64, copy=False), n.astype(f64, copy=False), self.order
        )
        return out.astype(x.dtype, copy=False)

    def backward(self, gy):
        x, n = self.saved
        return gy * OrthogonalPolynomial(self.kind, self.order + 1)(x, n), None


def _operands(a, b, floating: bool):
    """``a``, ``b`` promoted as PyTorch does, a number becoming a 0-d tensor beside the other."""
    a, b = promote(a, b, floating=floating)
    tensor = a if hasattr(a, "_data") else b
    a, b = (
        v if hasattr(v, "_data") else scalar_tensor(v, tensor.dtype, tensor.device) for v in (a, b)
    )
    return a, b


def _polynomial(kind: str):
    def function(input, n):
        if not (hasattr(input, "_data") or hasattr(n, "_data")):
            raise TypeError(f"{kind}(): expected a tensor for input or n, got two numbers")
        x, degree = _operands(input, n, True)
        no_half(x.dtype, kind)
        return OrthogonalPolynomial(kind)(x, degree)

    function.__name__ = function.__qualname__ = kind
    function.__doc__ = (
        f"``torch.special.{kind}(input, n)``: the polynomial of degree n (a tensor or a number,"
        " truncated to an integer; 0 where negative) at ``input``, differentiable in ``input``."
    )
    return function


def _refuse_first(op, name: str, argument: str) -> None:
    if op.edges[0] is not None:
        raise NotImplementedError(
            f"the derivative for '{name}: {argument}' is not implemented (as in PyTorch); "
            f"only the second argument of {name} is differentiable"
        )


class _IncompleteGamma(Op):
    """y = P(a, x) (Q = 1 - P when ``upper``); dy/dx = ±x^(a-1)·e^(-x)/Γ(a), dy/da: raises"""

    save_inputs = True
    upper = False

    def forward(self, a, x):
        p, q = _special_gamma.gammainc(
            self.xp,
            a.astype(np.float64, copy=False),
            x.astype(np.float64, copy=False),
            lambda v: self.device.backend.special("gammaln", v),
            lambda v: self.device.backend.special("erfc", v),
        )
        return (q if self.upper else p).astype(np.result_type(a.dtype, x.dtype), copy=False)

    def backward(self, gy):
        a, x = self.saved
        _refuse_first(self, "igammac" if self.upper else "igamma", "input")
        density = exp((a - 1.0).xlogy(x) - x - lgamma(a))
        return None, (-gy if self.upper else gy) * density


class Igamma(_IncompleteGamma):
    """y = P(a, x), the regularized lower incomplete gamma; dy/dx = x^(a-1)·e^(-x)/Γ(a)"""


class Igammac(_IncompleteGamma):
    """y = Q(a, x) = 1 - P(a, x); dy/dx = -x^(a-1)·e^(-x)/Γ(a)"""

    upper = True


class Zeta(Op):
    """y = ζ(s, q) = Σ_k (q + k)^-s; dy/dq = -s·ζ(s + 1, q), dy/ds: raises"""

    backward_name = "SpecialZetaBackward0"
    save_inputs = True

    def forward(self, s, q):
        out = _special_gamma.zeta(
            self.xp, s.astype(np.float64, copy=False), q.astype(np.float64, copy=False)
        )
        return out.astype(np.result_type(s.dtype, q.dtype), copy=False)

    def backward(self, gy):
        s, q = self.saved
        _refuse_first(self, "zeta", "self")
        return None, -gy * s * zeta(s + 1.0, q)


def gammainc(input, other):
    """The regularized lower incomplete gamma function P(input, other) (``torch.igamma``).

    Differentiable in ``other``; the derivative in ``input`` raises, as in PyTorch.
    Example: ``gammainc(tensor(1.0), tensor(2.0))`` is 1 - e^-2.
    """
    return _incomplete(False, input, other)


def gammaincc(input, other):
    """The regularized upper incomplete gamma function Q = 1 - P (``torch.igammac``)."""
    return _incomplete(True, input, other)


def _incomplete(upper: bool, input, other):
    name = "igammac" if upper else "igamma"
    a, x = _operands(input, other, False)
    if not a.dtype.is_floating_point:
        label = _TORCH_NAMES.get(a.dtype.name, a.dtype.name)
        raise NotImplementedError(f"\"{name}\" not implemented for '{label}'")
    return (Igammac if upper else Igamma)()(a, x)


_TORCH_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                "bool": "Bool"}  # fmt: skip


def _zeta_node(input, other) -> str:
    """PyTorch's overloads: zeta(Tensor, Tensor) 0, zeta(number, Tensor) 1, zeta(Tensor, number) 2."""
    tensors = isinstance(input, graph.Tensor), isinstance(other, graph.Tensor)
    return f"SpecialZetaBackward{0 if all(tensors) else 1 if tensors[1] else 2}"


@names_node(_zeta_node)
def zeta(input, other):
    """The Hurwitz zeta function ζ(input, other) = Σ_k (other + k)^-input.

    Differentiable in ``other`` (∂ζ/∂q = -s·ζ(s+1, q)); the derivative in ``input`` raises.
    """
    s, q = _operands(input, other, True)
    no_half(s.dtype, "zeta")
    return Zeta()(s, q)


_KINDS = tuple(_special_poly.FAMILIES)
chebyshev_polynomial_t, chebyshev_polynomial_u = _polynomial(_KINDS[0]), _polynomial(_KINDS[1])
chebyshev_polynomial_v, chebyshev_polynomial_w = _polynomial(_KINDS[2]), _polynomial(_KINDS[3])
shifted_chebyshev_polynomial_t = _polynomial("shifted_chebyshev_polynomial_t")
shifted_chebyshev_polynomial_u = _polynomial("shifted_chebyshev_polynomial_u")
shifted_chebyshev_polynomial_v = _polynomial("shifted_chebyshev_polynomial_v")
shifted_chebyshev_polynomial_w = _polynomial("shifted_chebyshev_polynomial_w")
hermite_polynomial_h = _polynomial("hermite_polynomial_h")
hermite_polynomial_he = _polynomial("hermite_polynomial_he")
laguerre_polynomial_l = _polynomial("laguerre_polynomial_l")
legendre_polynomial_p = _polynomial("legendre_polynomial_p")
