"""The classical orthogonal polynomials of ``torch.special`` on arrays of any ``xp``.

``polynomial(xp, kind, x, n, order)`` is the ``order``-th derivative in x of the polynomial of
degree ``n`` (elementwise; n is truncated toward zero, as PyTorch casts it to an integer, and
the polynomial of a negative degree is 0). Every family satisfies a three-term recurrence

    P_{k+1} = (a_k·x + b_k)·P_k - c_k·P_{k-1},

and differentiating it d times gives the recurrence of the derivatives,
P⁽ᵈ⁾_{k+1} = (a_k·x + b_k)·P⁽ᵈ⁾_k + d·a_k·P⁽ᵈ⁻¹⁾_k - c_k·P⁽ᵈ⁾_{k-1}, so every derivative
order comes from the same loop. The values themselves (order 0) follow PyTorch's special
cases: exact values at |x| = 1 (x = 0 and 1 for the shifted Chebyshev polynomials), and the
trigonometric forms cos(nθ), sin((n+1)θ)/sin θ, ... for |x| < 1 and large n.
"""

from __future__ import annotations

import numpy as np

# kind -> (P1 = alpha·x + beta, and the recurrence coefficients (a_k, b_k, c_k) of degree k)
_CHEBYSHEV = lambda k: (2.0, 0.0, 1.0)  # noqa: E731
_SHIFTED = lambda k: (4.0, -2.0, 1.0)  # noqa: E731
FAMILIES = {
    "chebyshev_polynomial_t": ((1.0, 0.0), _CHEBYSHEV),
    "chebyshev_polynomial_u": ((2.0, 0.0), _CHEBYSHEV),
    "chebyshev_polynomial_v": ((2.0, -1.0), _CHEBYSHEV),
    "chebyshev_polynomial_w": ((2.0, 1.0), _CHEBYSHEV),
    "shifted_chebyshev_polynomial_t": ((2.0, -1.0), _SHIFTED),
    "shifted_chebyshev_polynomial_u": ((4.0, -2.0), _SHIFTED),
    "shifted_chebyshev_polynomial_v": ((4.0, -3.0), _SHIFTED),
    "shifted_chebyshev_polynomial_w": ((4.0, -1.0), _SHIFTED),
    "hermite_polynomial_h": ((2.0, 0.0), lambda k: (2.0, 0.0, 2.0 * k)),
    "hermite_polynomial_he": ((1.0, 0.0), lambda k: (1.0, 0.0, float(k))),
    "laguerre_polynomial_l": ((-1.0, 1.0), lambda k: (-1 / (k + 1), (2 * k + 1) / (k + 1), k / (k + 1))),
    "legendre_polynomial_p": ((1.0, 0.0), lambda k: ((2 * k + 1) / (k + 1), 0.0, k / (k + 1))),
}  # fmt: skip


def _recurrence(xp, kind, x, n, order, top):
    """P⁽ᵒʳᵈᵉʳ⁾_n(x) by the differentiated recurrence, for degrees up to ``top``."""
    (alpha, beta), coefficients = FAMILIES[kind]
    # prev[d], cur[d]: the d-th derivatives of P_{k-1} and P_k
    prev = [xp.ones_like(x)] + [xp.zeros_like(x)] * order
    cur = [alpha * x + beta] + [xp.full_like(x, alpha)] + [xp.zeros_like(x)] * (order - 1)
    cur = cur[: order + 1]
    result = xp.where(n == 0, prev[order], xp.where(n == 1, cur[order], 0.0))
    for k in range(1, top):
        a, b, c = coefficients(k)
        linear = a * x + b
        nxt = [linear * cur[0] - c * prev[0]]
        for d in range(1, order + 1):
            nxt.append(linear * cur[d] + (d * a) * cur[d - 1] - c * prev[d])
        prev, cur = cur, nxt
        result = xp.where(n == k + 1, cur[order], result)
    return result


def _trig_and_edges(xp, kind, x, n, value):
    """PyTorch's special cases of the values (order 0) of the Chebyshev and Legendre kinds."""
    even = xp.fmod(n, 2.0) == 0
    twice = n + n + 1
    if kind == "chebyshev_polynomial_t":
        edge, trig_from = xp.where((x > 0) | even, 1.0, -1.0), 6
    elif kind == "chebyshev_polynomial_u":
        edge, trig_from = xp.where((x > 0) | even, n + 1, -(n + 1)), 8
    elif kind == "chebyshev_polynomial_v":
        edge, trig_from = xp.where(x > 0, 1.0, xp.where(even, twice, -twice)), 8
    elif kind == "chebyshev_polynomial_w":
        edge, trig_from = xp.where(x > 0, twice, xp.where(even, 1.0, -1.0)), 8
    elif kind == "legendre_polynomial_p":
        return xp.where(xp.abs(x) == 1, xp.where((x > 0) | even, 1.0, -1.0), value)
    elif kind.startswith("shifted_"):
        y = x + x - 1.0
        return _trig_and_edges(xp, kind[len("shifted_") :], y, n, value)
    else:
        return value
    inside = xp.abs(x) < 1
    theta = xp.arccos(xp.where(inside, x, 0.0))
    with np.errstate(all="ignore"):
        if kind.endswith("_t"):
            trig = xp.cos(n * theta)
        elif kind.endswith("_u"):
            s = xp.sin(theta)
            trig = xp.where(
                s != 0, xp.sin((n + 1) * theta) / s, (n + 1) * xp.cos((n + 1) * theta) / x
            )
        elif kind.endswith("_v"):
            c = xp.cos(0.5 * theta)
            trig = xp.where(xp.sin(0.5 * theta) != 1, xp.cos((n + 0.5) * theta) / c, edge)
        else:
            s = xp.sin(0.5 * theta)
            trig = xp.where(xp.cos(0.5 * theta) != 1, xp.sin((n + 0.5) * theta) / s, edge)
    value = xp.where(inside & (n > trig_from), trig, value)
    return xp.where(xp.abs(x) == 1, edge, value)


def polynomial(xp, kind: str, x, n, order: int = 0):
    """The ``order``-th x-derivative of polynomial ``kind`` of degree ``n`` at ``x``."""
    x, n = xp.broadcast_arrays(x, xp.trunc(n))
    valid = n >= 0
    degrees = xp.where(valid & xp.isfinite(n), n, 0.0)
    looped = degrees
    if order == 0 and kind.startswith(("chebyshev", "shifted")):  # closed forms need no loop
        y = x + x - 1.0 if kind.startswith("shifted") else x
        trig_from = 6 if kind.endswith("_t") else 8
        looped = xp.where((xp.abs(y) == 1) | ((xp.abs(y) < 1) & (degrees > trig_from)), 0.0, n)
        looped = xp.where(valid & xp.isfinite(n), looped, 0.0)
    top = int(looped.max()) if looped.size else 0  # one host read: the loop's length
    with np.errstate(all="ignore"):
        value = _recurrence(xp, kind, x, degrees, order, top)
        if order == 0:
            value = _trig_and_edges(xp, kind, x, degrees, value)
        value = xp.where(valid, value, 0.0)
        return xp.where(xp.isnan(n), xp.nan, value)
