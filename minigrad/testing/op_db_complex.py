"""The op table for complex tensors and the Fourier transforms (``minigrad.fft``).

Its own table, beside :data:`~minigrad.testing.op_db.OP_DB`, because its samples are complex
(:class:`~minigrad.testing.samples.C`) and the main table's transforms (bfloat16, vmap,
forward AD) do not take complex tensors. ``tests/test_complex.py`` runs every row through
gradcheck and gradgradcheck (complex inputs as pairs of reals), plain backward against
``create_graph`` backward, and PyTorch's values and gradients in complex128 and complex64.
"""

from __future__ import annotations

from .samples import C, Index, OpInfo, Sample, T, V


def _rows_per_norm(name, fn, samples, scaled=None):
    """One row per normalization mode of a transform: the default mode with every sample, and
    ``"forward"``/``"ortho"`` with the samples ``scaled`` picks (indices into ``samples``; all
    of them when None): a mode only scales the result and its gradient by a power of the
    transform's length, so those rows need the samples whose length differs from the
    input's (``n``/``s`` given), where a scale by the wrong length would show."""
    chosen = samples if scaled is None else [samples[i] for i in scaled]
    return [
        OpInfo(f"{name}-{norm or 'default'}", _with_norm(fn, norm), chosen if norm else samples)
        for norm in (None, "forward", "ortho")
    ]


def _with_norm(fn, norm):
    def run(m, *args, **kwargs):
        return fn(m, *args, norm=norm, **kwargs)

    return run


ARITHMETIC = [
    OpInfo(
        "add", lambda m, a, b: a + b, [Sample(C((2, 3)), C((2, 3))), Sample(C((2, 3)), T((3,)))]
    ),
    OpInfo(
        "sub", lambda m, a, b: a - b, [Sample(C((2, 3)), C((1, 3))), Sample(T((2, 3)), C((2, 3)))]
    ),
    OpInfo(
        "mul", lambda m, a, b: a * b, [Sample(C((2, 3)), C((2, 3))), Sample(C((2, 3)), T((2, 3)))]
    ),
    OpInfo("mul_scalar", lambda m, a: a * (0.5 - 2j), [Sample(C((2, 3)))]),
    OpInfo("real_times_i", lambda m, a: a * 1j, [Sample(T((2, 3)))]),
    OpInfo(
        "div",
        lambda m, a, b: a / b,
        [Sample(C((2, 3)), C((2, 3), 0.5, 2.0)), Sample(T((2, 3)), C((3,), 0.5, 2.0))],
    ),  # fmt: skip
    OpInfo("neg", lambda m, a: -a, [Sample(C((2, 3)))]),
    OpInfo("pow_scalar", lambda m, a: a**3, [Sample(C((2, 3)))]),
    OpInfo("pow_tensor", lambda m, a, b: a**b, [Sample(C((4,), 0.5, 1.5), C((4,), -1.0, 1.0))]),
    OpInfo("reciprocal", lambda m, a: a.reciprocal(), [Sample(C((2, 3), 0.5, 2.0))]),
    OpInfo("square", lambda m, a: a.square(), [Sample(C((2, 3)))]),
    OpInfo(
        "scatter",
        lambda m, a, i, b: a.scatter(1, i, b),
        [Sample(C((2, 3)), Index([[0], [2]]), C((2, 1)))],
    ),
    OpInfo(
        "embedding",
        lambda m, i, w: m.nn.functional.embedding(i, w),
        [Sample(Index([[0, 2], [2, 1]]), C((3, 2)))],
        torch=False,
        note="PyTorch refuses to differentiate embedding with complex weights; this is checked by "
        "gradcheck and gradgradcheck",
    ),
    OpInfo(
        "where",
        lambda m, c, a, b: m.where(c.real > 0, a, b),
        [Sample(C((2, 3), grad=False), C((2, 3)), C((2, 3)))],
    ),  # fmt: skip
]


def _function(name):
    def run(m, a):
        return getattr(m, name)(a)

    return run


ACTIVATIONS = [
    OpInfo(
        "silu",
        lambda m, a: m.nn.functional.silu(a),
        [Sample(C((2, 3), -1.0, 1.0))],
        torch=False,
        note="PyTorch computes complex silu but refuses to differentiate it; gradcheck and "
        "gradgradcheck check this one",
    ),
    OpInfo("softsign", lambda m, a: m.nn.functional.softsign(a), [Sample(C((2, 3), 0.3, 1.0))]),
    OpInfo(
        "tanhshrink", lambda m, a: m.nn.functional.tanhshrink(a), [Sample(C((2, 3), -0.5, 0.5))]
    ),
]

HOLOMORPHIC = [
    OpInfo(name, _function(name), [Sample(C((2, 3), low, high))])
    for name, low, high in [
        ("exp", -1.0, 1.0), ("log", 0.3, 2.0), ("sqrt", 0.3, 2.0), ("rsqrt", 0.3, 2.0),
        ("sin", -1.0, 1.0), ("cos", -1.0, 1.0), ("tan", -0.5, 0.5), ("tanh", -0.5, 0.5),
        ("expm1", -1.0, 1.0), ("log1p", 0.0, 1.0), ("asin", -0.5, 0.5), ("acos", -0.5, 0.5),
        ("atan", -0.5, 0.5), ("sinh", -1.0, 1.0), ("cosh", -1.0, 1.0), ("asinh", -0.5, 0.5),
        ("acosh", 1.5, 2.5), ("atanh", -0.5, 0.5), ("log2", 0.3, 2.0), ("log10", 0.3, 2.0),
        ("exp2", -1.0, 1.0), ("sigmoid", -1.0, 1.0),
    ]
]  # fmt: skip

PARTS = [
    OpInfo("real", lambda m, a: m.real(a), [Sample(C((2, 3)))]),
    OpInfo("imag", lambda m, a: m.imag(a), [Sample(C((2, 3)))]),
    OpInfo("conj", lambda m, a: a.conj() * a.conj(), [Sample(C((2, 3)))]),
    OpInfo("conj_physical", lambda m, a: m.conj_physical(a), [Sample(C((3,)))]),
    OpInfo("conj_view_adjoint", lambda m, a: a.mH @ a.conj().conj(), [Sample(C((2, 3)))]),
    OpInfo("conj_view_write", lambda m, a: _write_through_conj(a), [Sample(C((2, 3)))]),
    OpInfo("abs", lambda m, a: a.abs(), [Sample(C((2, 3), 0.3, 2.0))]),
    OpInfo("angle", lambda m, a: a.angle(), [Sample(C((2, 3), 0.3, 2.0))]),
    OpInfo("view_as_real", lambda m, a: m.view_as_real(a), [Sample(C((2, 3)))]),
    OpInfo("view_as_complex", lambda m, a: m.view_as_complex(a), [Sample(T((3, 2)))]),
    OpInfo("complex", lambda m, a, b: m.complex(a, b), [Sample(T((2, 3)), T((3,)))]),
    OpInfo("polar", lambda m, a, b: m.polar(a, b), [Sample(T((2, 3), 0.3, 2.0), T((2, 3)))]),
    OpInfo("cast_to_complex", lambda m, a: a.to(m.complex128) * (1 + 1j), [Sample(T((2, 3)))]),
    OpInfo("sgn", lambda m, a: a.sgn(), [Sample(C((2, 3), 0.3, 2.0))]),
    OpInfo("cdouble", lambda m, a: a.cdouble() * a.cdouble(), [Sample(T((3,)))]),
    OpInfo("H", lambda m, a: a.H, [Sample(C((2, 3)))]),
    OpInfo("mH", lambda m, a: a.mH, [Sample(C((2, 2, 3)))]),
]

REDUCTIONS_AND_SHAPES = [
    OpInfo("sum", lambda m, a: a.sum(1), [Sample(C((2, 3)))]),
    OpInfo("mean", lambda m, a: a.mean(), [Sample(C((2, 3)))]),
    OpInfo("prod", lambda m, a: a.prod(1), [Sample(C((2, 3))), Sample(V([[0.0, 1.5, -2.0]]))]),
    OpInfo("prod_all", lambda m, a: a.prod(), [Sample(C((2, 2)))]),
    OpInfo("var", lambda m, a: a.var(0), [Sample(C((3, 2)))]),
    OpInfo("std", lambda m, a: a.std(), [Sample(C((2, 3)))]),
    OpInfo("cumsum", lambda m, a: a.cumsum(1), [Sample(C((2, 3)))]),
    OpInfo("cumprod", lambda m, a: a.cumprod(1), [Sample(C((2, 3)))]),
    OpInfo(
        "cumprod_zeros",  # the exact backward at zeros, with a zero first and a zero later
        lambda m, a, b: (a * b).cumprod(1),
        [Sample(C((2, 3)), V([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0]], grad=False))],
    ),
    OpInfo("reshape_permute", lambda m, a: a.reshape(3, 2).T.flip(0), [Sample(C((2, 3)))]),
    OpInfo("expand", lambda m, a: a.unsqueeze(0).expand(2, 2, 3) * a, [Sample(C((2, 3)))]),
    OpInfo("index", lambda m, a: a[1:, ::2], [Sample(C((3, 4)))]),
    OpInfo("advanced_index", lambda m, a, i: a[i], [Sample(C((4, 2)), Index([0, 2, 2]))]),
    OpInfo("cat", lambda m, a, b: m.cat([a, b], 1), [Sample(C((2, 3)), C((2, 1)))]),
    OpInfo("stack", lambda m, a, b: m.stack([a, b]), [Sample(C((2, 3)), C((2, 3)))]),
    OpInfo("roll", lambda m, a: a.roll(1, 1), [Sample(C((2, 3)))]),
    OpInfo("pad", lambda m, a: m.nn.functional.pad(a, (1, 2)), [Sample(C((2, 3)))]),
    OpInfo("gather", lambda m, a, i: a.gather(1, i), [Sample(C((2, 3)), Index([[0], [2]]))]),
    OpInfo("tril", lambda m, a: a.tril(), [Sample(C((3, 3)))]),
]

_WELL_SEPARATED = V([[4.0, 1.0, -0.5], [0.3, 1.0, 0.8], [-0.6, 0.2, -2.5]])


def _write_through_conj(a):
    """In-place writes through a conjugate view (recorded on its base, conjugated). (The view
    is kept: on the test stand-in device, views do not hold the array they view.)"""
    b = a * 1
    c = b.conj()
    c[0].mul_(a[1])
    c.imag[1].add_(b[0].real)  # (the imaginary part of a conjugate: negated)
    return b


def _eig_invariants(m, a):
    """What eig determines, as one complex tensor: each eigenvalue plus i times a weighted sum
    of its eigenvector's magnitudes (the phases are arbitrary), sorted by real part so that
    both libraries' orders agree."""
    values, vectors = m.linalg.eig(a)
    magnitudes = vectors.abs()
    weights = m.arange(1, a.shape[-1] + 1, dtype=magnitudes.dtype, device=a.device).unsqueeze(-1)
    spread = (magnitudes * weights).sum(-2)
    return (values + spread * 1j).gather(-1, values.real.argsort(-1))


def _eigh_invariants(m, a):
    """eigh of the Hermitian ``a + aᴴ``: eigenvalues (real) plus i times a weighted sum of
    each eigenvector's magnitudes."""
    values, vectors = m.linalg.eigh(a + a.mH)
    magnitudes = vectors.abs()
    weights = m.arange(1, a.shape[-1] + 1, dtype=magnitudes.dtype, device=a.device).unsqueeze(-1)
    return values + (magnitudes * weights).sum(-2) * 1j


def _svd_invariants(m, a):
    """The reduced SVD's singular values plus i times weighted sums of the magnitudes of each
    left and right singular vector."""
    u, s, vh = m.linalg.svd(a, full_matrices=False)
    rows = m.arange(1, a.shape[-2] + 1, dtype=s.dtype, device=a.device).unsqueeze(-1)
    cols = m.arange(1, a.shape[-1] + 1, dtype=s.dtype, device=a.device)
    spread = (u.abs() * rows).sum(-2) + (vh.abs() * cols).sum(-1)
    return s + spread * 1j


def _svd_reweighted(m, a):
    """U diag(c) Vh for fixed weights c: independent of the singular vectors' phases, while
    its gradient reaches U and Vh separately (the phase term of the SVD's backward)."""
    u, s, vh = m.linalg.svd(a, full_matrices=False)
    weights = (m.arange(1, s.shape[-1] + 1, dtype=s.dtype, device=a.device) * 0.5).to(u.dtype)
    return (u * weights) @ vh


def _ramp(m, r):
    """0.5, 1.0, 1.5, ... as many as R has rows, in R's dtype and device."""
    k = r.shape[-2]
    return (m.arange(1, k + 1, dtype=r.abs().dtype, device=r.device) * 0.5).to(r.dtype)


def _qr_invariants(m, a):
    """|Q| and |R| of the reduced QR, weighted into one real tensor per matrix: independent of
    the phases of Q's columns (and of R's rows with them)."""
    q, r = m.linalg.qr(a)
    return (q.abs() * 1.5).sum(-1) + (r.abs() * 0.5).sum(-2).sum(-1, keepdim=True)


PRODUCTS = [
    OpInfo(
        "linear",
        lambda m, x, w, *b: m.nn.functional.linear(x, w, *b),
        [Sample(C((2, 3)), C((4, 3)), C((4,))), Sample(C((2, 2, 3)), C((4, 3)))],
    ),
    OpInfo(
        "matmul",
        lambda m, a, b: a @ b,
        [Sample(C((2, 3)), C((3, 2))), Sample(C((2, 2, 3)), C((3,))), Sample(C((3,)), C((3,)))],
    ),  # fmt: skip
    OpInfo(
        "conv2d",
        lambda m, x, w, *b, **kw: m.nn.functional.conv2d(x, w, *b, **kw),
        [
            Sample(C((1, 2, 4, 4)), C((2, 2, 3, 3)), C((2,)), padding=1),
            Sample(C((2, 2, 3, 4)), C((4, 1, 2, 2)), groups=2, stride=(1, 2)),
        ],
    ),
    OpInfo(
        "conv_transpose2d",
        lambda m, x, w, *b, **kw: m.nn.functional.conv_transpose2d(x, w, *b, **kw),
        [
            Sample(C((1, 2, 3, 3)), C((2, 2, 2, 2)), C((2,)), stride=2),
            Sample(C((1, 2, 2, 3)), C((2, 1, 2, 2)), groups=2, padding=1),
        ],
    ),
    OpInfo(
        "conv_transpose1d",
        lambda m, x, w: m.nn.functional.conv_transpose1d(x, w, stride=2),
        [Sample(C((1, 2, 3)), C((2, 1, 2)))],
    ),
    OpInfo(
        "conv3d_and_transpose",
        lambda m, x, w: m.nn.functional.conv_transpose3d(m.nn.functional.conv3d(x, w), w.mT),
        [Sample(C((1, 1, 3, 2, 2)), C((1, 1, 2, 2, 2)))],
    ),
    OpInfo(
        "conv1d",
        lambda m, x, w: m.nn.functional.conv1d(x, w, padding=1, dilation=2),
        [Sample(C((1, 2, 5)), C((3, 2, 2)))],
    ),
    OpInfo(
        "linalg.eig",
        _eig_invariants,
        [Sample(_WELL_SEPARATED), Sample(C((3, 3))), Sample(T((2, 3, 3)))],
        note="a loss of eigenvalues and eigenvector magnitudes: the phases are arbitrary",
    ),
    OpInfo("linalg.eigvals", lambda m, a: m.linalg.eigvals(a), [Sample(_WELL_SEPARATED)]),
    OpInfo(
        "linalg.eigh",
        _eigh_invariants,
        [Sample(C((3, 3))), Sample(C((2, 2, 2)))],
        note="Hermitian A + Aᴴ; eigenvalues and eigenvector magnitudes (phases are arbitrary)",
    ),
    OpInfo(
        "linalg.svd",
        _svd_invariants,
        [Sample(C((3, 3))), Sample(C((4, 2))), Sample(C((2, 3)))],
        note="singular values and singular-vector magnitudes (phases are arbitrary)",
    ),
    OpInfo("linalg.svdvals", lambda m, a: m.linalg.svdvals(a), [Sample(C((3, 2)))]),
    OpInfo(
        "linalg.cholesky",
        lambda m, a: m.linalg.cholesky(
            a @ a.mH + m.eye(a.shape[-1], dtype=a.dtype, device=a.device)
        ),
        [Sample(C((3, 3))), Sample(C((2, 2, 2)))],
        note="Hermitian positive-definite A Aᴴ + I",
    ),
    OpInfo(
        "linalg.qr",
        _qr_invariants,
        [Sample(C((3, 3))), Sample(C((4, 2))), Sample(C((2, 3)))],
        note="magnitudes of Q and R (the phases of Q's columns are a gauge)",
    ),
    OpInfo(
        "linalg.qr_product",
        lambda m, a: (lambda q, r: (q * _ramp(m, r)) @ r)(*m.linalg.qr(a)),
        [Sample(C((3, 3))), Sample(C((4, 2))), Sample(C((2, 3)))],
        note="Q diag(c) R: phase-free, and its gradient meets the phases of Q's columns",
    ),
    OpInfo("linalg.pinv", lambda m, a: m.linalg.pinv(a), [Sample(C((3, 2))), Sample(C((2, 3)))]),
    OpInfo(
        "linalg.svd_vectors",
        _svd_reweighted,
        [Sample(C((3, 2))), Sample(C((2, 3)))],
        note="U diag(c) Vh: phase-free, and its gradient meets the shared phase of uᵢ and vᵢ",
    ),
    OpInfo("linalg.eigvalsh", lambda m, a: m.linalg.eigvalsh(a + a.mH), [Sample(C((3, 3)))]),
    OpInfo(
        "linalg.solve",
        lambda m, a, b: m.linalg.solve(a, b),
        [Sample(C((3, 3)), C((3, 2))), Sample(C((2, 3, 3)), C((2, 3)))],
    ),  # fmt: skip
    OpInfo("linalg.inv", lambda m, a: m.linalg.inv(a), [Sample(C((3, 3)))]),
    OpInfo("linalg.det", lambda m, a: m.linalg.det(a), [Sample(C((3, 3))), Sample(C((2, 2, 2)))]),
    OpInfo(
        "linalg.slogdet",
        lambda m, a: (lambda sign, logabs: sign * (logabs * 0.5 + 1))(*m.linalg.slogdet(a)),
        [Sample(C((3, 3)))],
    ),
    OpInfo("einsum", lambda m, a, b: m.einsum("ij,kj->ik", a, b), [Sample(C((2, 3)), C((2, 3)))]),
]

_SIGNAL, _SPECTRUM = C((2, 6)), C((2, 4))
FOURIER = [
    *_rows_per_norm(
        "fft.fft",
        lambda m, a, **kw: m.fft.fft(a, **kw),
        [Sample(_SIGNAL), Sample(T((2, 5))), Sample(C((3, 2)), n=4, dim=0)],
        scaled=[2],
    ),
    *_rows_per_norm("fft.ifft", lambda m, a, **kw: m.fft.ifft(a, **kw), [Sample(_SIGNAL, n=4)]),
    *_rows_per_norm(
        "fft.fftn",
        lambda m, a, **kw: m.fft.fftn(a, **kw),
        [Sample(C((2, 3, 2))), Sample(C((2, 3)), s=(3, 2))],
        scaled=[1],
    ),
    *_rows_per_norm(
        "fft.rfft",
        lambda m, a, **kw: m.fft.rfft(a, **kw),
        [Sample(T((2, 6))), Sample(T((2, 5))), Sample(T((3, 2)), n=5, dim=0)],
        scaled=[2],
    ),
    *_rows_per_norm(
        "fft.irfft",
        lambda m, a, **kw: m.fft.irfft(a, **kw),
        [Sample(_SPECTRUM), Sample(_SPECTRUM, n=7), Sample(C((3, 2)), n=3, dim=0)],
        scaled=[1, 2],
    ),
    *_rows_per_norm(
        "fft.rfftn",
        lambda m, a, **kw: m.fft.rfftn(a, **kw),
        [Sample(T((3, 4))), Sample(T((2, 3)), s=(2, 5))],
        scaled=[1],
    ),
    *_rows_per_norm(
        "fft.irfftn",
        lambda m, a, **kw: m.fft.irfftn(a, **kw),
        [Sample(C((2, 3))), Sample(C((2, 3)), s=(3, 3))],
        scaled=[1],
    ),
    *_rows_per_norm(
        "fft.hfft",
        lambda m, a, **kw: m.fft.hfft(a, **kw),
        [Sample(_SPECTRUM), Sample(_SPECTRUM, n=5)],
        scaled=[1],
    ),
    *_rows_per_norm("fft.ihfft", lambda m, a, **kw: m.fft.ihfft(a, **kw), [Sample(T((2, 5)))]),
    *_rows_per_norm("fft.hfftn", lambda m, a, **kw: m.fft.hfftn(a, **kw), [Sample(C((2, 3)))]),
    *_rows_per_norm("fft.ihfftn", lambda m, a, **kw: m.fft.ihfftn(a, **kw), [Sample(T((2, 4)))]),
    OpInfo("fft.fft2", lambda m, a: m.fft.fft2(a), [Sample(C((2, 3)))]),
    OpInfo("fft.ifft2", lambda m, a: m.fft.ifft2(a, s=(3, 2)), [Sample(C((2, 3)))]),
    OpInfo("fft.rfft2", lambda m, a: m.fft.rfft2(a), [Sample(T((2, 4)))]),
    OpInfo("fft.irfft2", lambda m, a: m.fft.irfft2(a), [Sample(C((2, 3)))]),
    OpInfo("fft.hfft2", lambda m, a: m.fft.hfft2(a), [Sample(C((2, 3)))]),
    OpInfo("fft.ihfft2", lambda m, a: m.fft.ihfft2(a), [Sample(T((2, 4)))]),
    OpInfo("fft.fftshift", lambda m, a: m.fft.fftshift(a), [Sample(C((2, 5)))]),
    OpInfo("fft.ifftshift", lambda m, a: m.fft.ifftshift(a, dim=-1), [Sample(C((2, 5)))]),
    OpInfo(
        "stft",
        lambda m, x, w, **kw: m.stft(x, 8, 2, 6, w, return_complex=True, **kw),
        [
            Sample(T((12,)), T((6,), 0.5, 1.0)),
            Sample(T((2, 10)), T((6,), 0.5, 1.0), center=False, normalized=True),
            Sample(C((12,)), T((6,), 0.5, 1.0), pad_mode="constant"),
        ],
    ),
    OpInfo(
        "istft",
        lambda m, z, w, **kw: m.istft(z, 8, 2, 6, w, **kw),
        [
            Sample(C((5, 7)), T((6,), 0.5, 1.0)),
            Sample(C((2, 5, 7)), T((6,), 0.5, 1.0), length=9, normalized=True),
        ],
    ),
    OpInfo(
        "fft.spectral_conv",
        lambda m, x, w: m.fft.irfft(m.fft.rfft(x) * w, n=x.shape[-1]),
        [Sample(T((2, 6)), C((4,)))],
    ),  # fmt: skip
]

COMPLEX_OPS = (
    ARITHMETIC + HOLOMORPHIC + ACTIVATIONS + PARTS + REDUCTIONS_AND_SHAPES + PRODUCTS + FOURIER
)

from . import op_db_linalg2  # noqa: E402 - branch linalg2: LU, Householder products, ...

COMPLEX_OPS += tuple(op_db_linalg2.COMPLEX_ROWS)
