"""Rows of the op table for the rest of ``torch.special``: the Bessel and Airy functions, the
orthogonal polynomials, the incomplete gamma functions and the Hurwitz zeta function, plus
``Tensor.igamma``/``igammac``/``hardshrink``/``prelu``.

PyTorch gives the Bessel, Airy and polynomial functions no derivative (their outputs never
require grad), so their gradient rows opt out of the PyTorch comparison (``torch=False``) and a
twin forward-only ``_fwd`` row compares the values (on the same inputs, or where PyTorch's
kernels are accurate). The derivatives are checked by gradcheck and gradgradcheck here, and
against mpmath in tests/test_special2.py.
"""

from __future__ import annotations

from .samples import Index, OpInfo, Sample, T, Typed, V

NAN, INF = float("nan"), float("inf")
NO_TORCH_GRAD = "PyTorch has no derivative for it; the values are compared in the _fwd row"
POLYNOMIALS = (
    "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
    "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
    "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "hermite_polynomial_h",
    "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p",
)  # fmt: skip
DEGREES = Index([[0, 1, 2, 3], [4, 5, 7, 9], [10, 12, 2, -1]])


def _special(name):
    return lambda m, *args: getattr(m.special, name)(*args)


# (name, samples): four points that reach every branch of each kernel (power series,
# recurrence or quadrature, asymptotic series); few, as each costs a loop of array operations
_POSITIVE = [Sample(V([0.35, 1.3, 9.6, 31.4]))]
_BESSEL = [
    ("bessel_j0", [Sample(V([-7.3, -0.6, 12.9, 31.4]))]),
    ("bessel_j1", [Sample(V([-7.3, -0.6, 12.9, 31.4]))]),
    ("bessel_y0", _POSITIVE),
    ("bessel_y1", _POSITIVE),
    ("modified_bessel_k0", _POSITIVE),
    ("modified_bessel_k1", _POSITIVE),
    ("scaled_modified_bessel_k0", _POSITIVE),
    ("scaled_modified_bessel_k1", _POSITIVE),
    ("spherical_bessel_j0", [Sample(V([-6.1, -0.3, 0.45, 2.2]))]),
    ("modified_bessel_i0", [Sample(T((4,), -4.0, 4.0))]),
    ("modified_bessel_i1", [Sample(T((4,), -4.0, 4.0))]),
]
# above 25 only: PyTorch's J0, J1, Y0, Y1 are only about 1e-7 accurate below 10 (ours agree
# with mpmath to 1e-14 there, tests/test_special2.py)
_BESSEL_FWD = [Sample(T((4,), 26.0, 40.0))]
# PyTorch's Ai is only about 1e-6 accurate on [-9, -1] (ours agrees with mpmath to 1e-12
# there, tests/test_special2.py): its values are compared with PyTorch's above -1 only
_AIRY_GRAD = [Sample(V([-20.0, -6.5, -1.2, 2.5]))]
_AIRY_FWD = [Sample(T((3, 4), -1.0, 6.0)), Sample(V([-0.5, 0.0, 1.0, 2.5, 20.0, 100.0, 200.0]))]


def _grad_rows():
    rows = []
    for name, samples in _BESSEL:
        rows.append(OpInfo(name, _special(name), samples, torch=False, note=NO_TORCH_GRAD))
        fwd = _BESSEL_FWD if name.startswith("bessel") else samples
        rows.append(OpInfo(name + "_fwd", _special(name), fwd, grad=False))
    rows.append(OpInfo("airy_ai", _special("airy_ai"), _AIRY_GRAD, torch=False, note=NO_TORCH_GRAD))
    rows.append(OpInfo("airy_ai_fwd", _special("airy_ai"), _AIRY_FWD, grad=False))
    for name in POLYNOMIALS:
        low, high = (0.0, 1.0) if name.startswith("shifted") else (-1.2, 1.2)
        grad = [Sample(T((2, 3), low, high), Index([[0, 2, 5], [7, 12, -1]]))]
        rows.append(OpInfo(name, _special(name), grad, torch=False, note=NO_TORCH_GRAD))
        fwd = [Sample(T((4,), low, high), 5), Sample(T((3, 4), low, high), DEGREES)]
        rows.append(OpInfo(name + "_fwd", _special(name), fwd, grad=False))
    positive = T((3,), 0.3, 6.0)
    # the shape (and zeta's s) are Typed: never batched by vmap's table test, whose per-sample
    # gradients run over every T input (and these arguments have no derivative)
    shapes = Typed([0.7, 1.9, 3.4], "float64")
    rows += [
        OpInfo("gammainc", _special("gammainc"), [Sample(shapes, positive)]),
        OpInfo("gammaincc", _special("gammaincc"), [Sample(shapes, positive)]),
        OpInfo("igamma", lambda m, a, x: m.igamma(a, x), [Sample(T((3,), 5.0, 30.0, grad=False), T((3,), 1.0, 40.0))], grad=False),
        # the methods run the same op as gammainc: their values are compared, not the gradients
        OpInfo("Tensor.igammac", lambda m, a, x: a.igammac(x), [Sample(shapes, positive)], grad=False),
        OpInfo("zeta", _special("zeta"), [Sample(Typed([1.6, 2.5, 5.0], "float64"), positive), Sample(3.0, positive)]),
        OpInfo("Tensor.hardshrink", lambda m, x: x.hardshrink(0.7), [Sample(T((3, 4), away=(-0.7, 0.7)))]),
        OpInfo("Tensor.prelu", lambda m, x, w: x.prelu(w), [Sample(T((2, 3, 4), away=(0.0,)), T((3,)))]),
    ]  # fmt: skip
    return rows


def _grad_of_first(name):
    """The derivative in the first argument, which both frameworks refuse."""

    def fn(m, a, x):
        a = a.requires_grad_()
        return m.autograd.grad(getattr(m.special, name)(a, x).sum(), a)

    return fn


def _forward_rows():
    """Edge values (NaN, ±inf, 0, negative and large arguments) and refusals, as PyTorch."""
    edges = V([NAN, INF, -INF, 0.0, -0.0, 1e-300, 25.5, -30.0, 300.0])
    k_edges = V([NAN, INF, 0.0, -1.0, 1e-300, 0.5, 2.0, 25.0, 26.0, 700.0, 800.0])
    poly_x = V([[-INF], [-2.0], [-1.0], [-0.5], [0.0], [0.25], [1.0], [1.5], [INF]])
    poly_n = Index([[-3, 0, 1, 2, 5, 8, 9, 13]])
    a = V([NAN, 0.0, 0.0, 1.0, -1.0, 2.0, INF, INF, 3.0, 1e-3, 50.0])
    x = V([1.0, 1.0, 0.0, NAN, 1.0, -1.0, 1.0, INF, INF, 1e-3, 45.0])
    # (not q = inf: PyTorch's ζ(s, inf) is NaN, minigrad's the limit 0, tests/test_special2.py)
    s = V([NAN, 1.0, 0.5, 2.0, 2.0, 3.0, 2.5, 40.0, 4.0, 2.0, 1.0, NAN])
    q = V([1.0, 2.0, 2.0, 0.0, -2.0, -1.5, -1.5, 3.0, 1e9, 1e-3, NAN, -INF])
    rows = [
        OpInfo(
            f"{name}_edges",
            _special(name),
            [Sample(k_edges if "_k" in name else edges)],
            grad=False,
        )
        for name, _ in _BESSEL
    ]
    rows.append(
        OpInfo(
            "airy_ai_edges",
            _special("airy_ai"),
            [Sample(V([NAN, INF, -INF, 0.0, 1e-300, 110.0]))],
            grad=False,
        )
    )
    rows += [
        OpInfo(f"{name}_edges", _special(name), [Sample(poly_x, poly_n)], grad=False)
        for name in POLYNOMIALS
    ]
    rows += [
        OpInfo("gammainc_edges", _special("gammainc"), [Sample(a, x)], grad=False),
        OpInfo("gammaincc_edges", _special("gammaincc"), [Sample(a, x)], grad=False),
        OpInfo("zeta_edges", _special("zeta"), [Sample(s, q)], grad=False),
        OpInfo("gammainc_grad_a", _grad_of_first("gammainc"), [Sample(Typed([1.2, 1.5], "float64"), Typed([1.1, 1.9], "float64"))], grad=False, raises=NotImplementedError),
        OpInfo("zeta_grad_s", _grad_of_first("zeta"), [Sample(Typed([2.2, 2.7], "float64"), Typed([1.1, 1.9], "float64"))], grad=False, raises=NotImplementedError),
        OpInfo("bessel_j0_half", _special("bessel_j0"), [Sample(Typed([1.0, 2.0], "float16"))], grad=False, raises=NotImplementedError),
        OpInfo("legendre_half", _special("legendre_polynomial_p"), [Sample(Typed([0.5], "float16"), 2)], grad=False, raises=NotImplementedError),
        OpInfo("gammainc_int", _special("gammainc"), [Sample(Index([1, 2]), Index([1, 2]))], grad=False, raises=NotImplementedError),
    ]  # fmt: skip
    return rows


ROWS = _grad_rows()
FORWARD_ONLY = _forward_rows()
