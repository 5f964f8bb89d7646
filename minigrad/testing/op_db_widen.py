"""Rows of the op table for public methods and functions the edge sweep (tests/edges_sweep.py)
did not reach: the method forms ``Tensor.pow``/``reciprocal``/``swapaxes``, the ``new_*``
constructors, ``resize_`` and ``fill_diagonal_``; ``linalg.eig``/``eigvals`` on real matrices,
``matrix_rank``, ``multi_dot`` and ``solve_triangular``; and the Fourier transforms of real
signals (as real views, which the sweep compares). Each row is a one-line call, so the sweep
derives its integer, empty, 0-d, strided, dim, in-place and ``out=`` variants from it."""

from __future__ import annotations

from .samples import F, OpInfo, Sample, T, V

WELL = dict(low=1.0, high=2.0)  # triangular factors with a diagonal far from 0


def _method(name):
    return lambda m, x, *args, **kwargs: getattr(x, name)(*args, **kwargs)


def _real_fft(name):
    """``fft.<name>`` of a real signal as a real tensor (its real and imaginary parts stacked
    on a last dim: ``view_as_real`` refuses PyTorch's conjugated views, as ifft's)."""

    def fn(m, x, **kw):
        z = getattr(m.fft, name)(x, **kw)
        return m.stack([z.real, z.imag], -1)

    return fn


def _fft_row(name, fn, samples):
    """A row of a Fourier transform: linear, so its first-order check says all (the
    second-order one is skipped, which also keeps the suite's time)."""
    note = "linear: the gradient of its gradient is zero"
    return OpInfo(name, fn, samples, gradgrad=False, note=note)


def _eigvals_sorted(m, a):
    """Real parts and magnitudes of the eigenvalues of a real matrix, each sorted: what eig
    determines whatever order LAPACK returns the eigenvalues in."""
    w = m.linalg.eigvals(a)
    return w.real.sort(-1).values, w.abs().sort(-1).values


def _eig_values(m, a):
    """eig's eigenvalues as :func:`_eigvals_sorted` does, and the eigenvectors' magnitudes
    summed over each vector (unit vectors: their phases are arbitrary)."""
    w, v = m.linalg.eig(a)
    return w.real.sort(-1).values, v.abs().pow(2).sum(-2)


ROWS = [
    OpInfo("square_method", lambda m, x: x.square(), [Sample(T((3, 4))), Sample(T(()))]),
    OpInfo(
        "clip_method",
        lambda m, x, lo, hi: x.clip(lo, hi),
        [Sample(T((3, 4), away=(-0.5, 0.5)), -0.5, 0.5)],
    ),
    OpInfo(
        "arctan2_method", lambda m, a, b: a.arctan2(b), [Sample(T((3, 4)), T((4,), away=(0.0,)))]
    ),
    OpInfo(
        "true_divide_method",
        lambda m, a, b: a.true_divide(b),
        [Sample(T((3, 4)), T((3, 4), 0.5, 2.0)), Sample(T((2, 3)), 1.5)],
    ),
    OpInfo("dot_method", lambda m, a, b: a.dot(b), [Sample(T((4,)), T((4,)))]),
    OpInfo("mv_method", lambda m, a, b: a.mv(b), [Sample(T((3, 4)), T((4,)))]),
    OpInfo("bmm_method", lambda m, a, b: a.bmm(b), [Sample(T((2, 3, 4)), T((2, 4, 2)))]),
    OpInfo("ger_method", lambda m, a, b: a.ger(b), [Sample(T((3,)), T((4,)))]),
    OpInfo("expand_as", lambda m, a, b: a.expand_as(b), [Sample(T((1, 3)), T((2, 3)))]),
    OpInfo("reshape_as", lambda m, a, b: a.reshape_as(b), [Sample(T((2, 3)), T((3, 2)))]),
    OpInfo("view_as", lambda m, a, b: a.view_as(b), [Sample(T((2, 3)), T((6,)))]),
    OpInfo("type_as", lambda m, a, b: a.type_as(b), [Sample(T((2, 3)), T((3,)))]),
    OpInfo("swapdims", _method("swapdims"), [Sample(T((2, 3, 4)), 2, 1)]),
    OpInfo("ravel", lambda m, x: x.ravel(), [Sample(T((2, 3), transposed=True))]),
    OpInfo(
        "pow_method",
        lambda m, x, e: x.pow(e),
        [Sample(T((3, 4), 0.5, 2.0), T((3, 4))), Sample(T((2, 3), 0.5, 2.0), 2.5)],
    ),
    OpInfo(
        "reciprocal_real",
        lambda m, x: x.reciprocal(),
        [Sample(T((3, 4), 0.5, 2.0)), Sample(T((), 0.5, 2.0))],
    ),
    OpInfo("swapaxes", _method("swapaxes"), [Sample(T((2, 3, 4)), 0, 2)]),
    OpInfo(
        "fill_diagonal_",
        lambda m, x: x.clone().fill_diagonal_(1.5),
        [Sample(T((3, 4))), Sample(T((2, 2, 2)))],
    ),
    OpInfo(
        "fill_diagonal_wrap",
        lambda m, x: x.clone().fill_diagonal_(-1.0, wrap=True),
        [Sample(T((7, 3)))],
    ),
    OpInfo(
        "multi_dot",
        lambda m, a, b, c: m.linalg.multi_dot([a, b, c]),
        [
            Sample(T((2, 3)), T((3, 4)), T((4,))),
            Sample(T((3,)), T((3, 4)), T((4, 2))),
        ],
    ),
    OpInfo(
        "solve_triangular",
        lambda m, a, b, **kw: m.linalg.solve_triangular(a, b, **kw),
        [
            Sample(T((3, 3), **WELL), T((3, 2)), upper=True),
            Sample(T((2, 3, 3), **WELL), T((3, 1)), upper=False),
            Sample(T((3, 3), **WELL), T((2, 3)), upper=True, left=False),
            Sample(T((3, 3), **WELL), T((3, 2)), upper=False, unitriangular=True),
        ],
    ),
    _fft_row(
        "fft_real",
        _real_fft("fft"),
        [Sample(T((2, 5))), Sample(T((2, 5)), n=4, dim=0, norm="ortho")],
    ),
    _fft_row("ifft_real", _real_fft("ifft"), [Sample(T((3, 4)), dim=0)]),
    _fft_row("rfft_real", _real_fft("rfft"), [Sample(T((2, 6))), Sample(T((3, 4)), n=6, dim=0)]),
    _fft_row("fftn_real", _real_fft("fftn"), [Sample(T((2, 2, 3)), dim=(0, 2))]),
    _fft_row("rfft2_real", _real_fft("rfft2"), [Sample(T((3, 4)))]),
    _fft_row("ihfft_real", _real_fft("ihfft"), [Sample(T((2, 5)), norm="forward")]),
    _fft_row(
        "irfft_real",
        lambda m, x, **kw: m.fft.irfft(x, **kw),
        [Sample(T((2, 4))), Sample(T((4, 3)), n=5, dim=0)],
    ),
    _fft_row("hfft_real", lambda m, x, **kw: m.fft.hfft(x, **kw), [Sample(T((3, 4)), dim=-1)]),
    _fft_row("fft2_real", _real_fft("fft2"), [Sample(T((2, 2, 3)))]),
    _fft_row("ifftn_real", _real_fft("ifftn"), [Sample(T((3, 4)), s=(2, 5))]),
    _fft_row("rfftn_real", _real_fft("rfftn"), [Sample(T((2, 3, 4)), dim=(0, 1))]),
    _fft_row("ihfftn_real", _real_fft("ihfftn"), [Sample(T((3, 4)))]),
    _fft_row(
        "irfftn_real", lambda m, x, **kw: m.fft.irfftn(x, **kw), [Sample(T((3, 4)), s=(3, 6))]
    ),
    _fft_row("irfft2_real", lambda m, x, **kw: m.fft.irfft2(x, **kw), [Sample(T((2, 2, 3)))]),
    _fft_row("hfftn_real", lambda m, x, **kw: m.fft.hfftn(x, **kw), [Sample(T((3, 4)))]),
    _fft_row("ifftshift_real", lambda m, x: m.fft.ifftshift(x), [Sample(T((3, 5)))]),
    _fft_row(
        "fftshift_real", lambda m, x, **kw: m.fft.fftshift(x, **kw), [Sample(T((3, 4)), dim=1)]
    ),
]

TIES = V([[0.5, -1.0, 2.0], [0.0, 0.5, -3.0]], grad=False)
OTHER = V([[0.5, 1.0, -2.0], [0.0, 1.5, -3.0]], grad=False)
COMPARISONS = [
    OpInfo(f"{name}_method", lambda m, a, b, _n=name: getattr(a, _n)(b), samples, grad=False)
    for name in ("eq", "ne", "lt", "le", "gt", "ge")
    for samples in ([Sample(TIES, OTHER), Sample(TIES, 0.5)],)
]

FORWARD_ONLY = COMPARISONS + [
    OpInfo(
        "floor_divide_method",
        lambda m, a, b: a.floor_divide(b),
        [Sample(T((3, 4)), T((3, 4), 0.5, 2.0)), Sample(T((2, 3)), 0.75)],
        grad=False,
    ),
    OpInfo(
        "divide_floor",
        lambda m, a, b, **kw: a.divide(b, **kw),
        [Sample(T((3, 4)), T((3, 4), 0.5, 2.0), rounding_mode="floor")],
        grad=False,
    ),
    OpInfo(
        "remainder_method",
        lambda m, a, b: a.remainder(b),
        [Sample(T((3, 4)), T((3, 4), 0.5, 2.0)), Sample(T((2, 3)), -0.75)],
        grad=False,
    ),
    OpInfo("nonzero_method", lambda m, x: x.nonzero(), [Sample(TIES)], grad=False),
    OpInfo(
        "isnan_isinf", lambda m, x: (x.isnan(), x.isinf(), x.isfinite()), [Sample(TIES)], grad=False
    ),
    OpInfo(
        "gumbel_softmax_sums",
        lambda m, x, **kw: F(m).gumbel_softmax(x, **kw).sum(kw.get("dim", -1)),
        [Sample(T((3, 4))), Sample(T((3, 4)), hard=True, dim=0), Sample(T((2, 5)), tau=0.5)],
        grad=False,
    ),
    OpInfo(
        "new_constructors",
        lambda m, x: (
            x.new_zeros((2, 3)),
            x.new_ones(2),
            x.new_full((2,), 2.5),
            x.new_tensor([1.5, -2.0]),
            m.zeros_like(x.new_empty((3, 1))),
        ),
        [Sample(T((3, 4))), Sample(T(()))],
        grad=False,
    ),
    OpInfo(
        "resize_",
        lambda m, x, *size: m.zeros_like(x.detach().clone().resize_(*size)),
        [Sample(T((3, 4)), 2, 3), Sample(T((3, 4)), 12)],
        grad=False,
    ),
    OpInfo(
        "linalg_eigvals_real",
        _eigvals_sorted,
        [Sample(T((3, 3))), Sample(T((2, 4, 4)))],
        grad=False,
    ),
    OpInfo("linalg_eig_real", _eig_values, [Sample(T((3, 3)))], grad=False),
    OpInfo(
        "matrix_rank",
        lambda m, a, **kw: m.linalg.matrix_rank(a, **kw),
        [Sample(T((3, 4))), Sample(T((2, 4, 4)), atol=0.5), Sample(T((3, 3)), hermitian=True)],
        grad=False,
    ),
]
