"""Matrix functions and decompositions: solve (the inverse is a solve against the identity, as
in PyTorch), sign and log|det| (the determinant is composed from them), Cholesky, QR,
symmetric eigendecomposition and SVD.

Each backward is the closed-form one PyTorch uses, written with Tensor ops (matmul, solve,
inv, where), so that second derivatives work. The formulas hold away from degenerate points:
invertible matrices, distinct eigenvalues and distinct non-zero singular values.
Decompositions with several results are one op whose output packs them into one array per
matrix; the public functions cut it into its parts (so each part's gradient reaches the op).
"""

from __future__ import annotations

import math

import numpy as np  # host-side constants only (finfo)

from .base import Op, constant
from .elementwise import where
from .joining import cat


class LinAlgError(RuntimeError):
    """A matrix the decomposition cannot handle: singular for a solve or an inverse, not
    positive-definite for Cholesky (``torch.linalg.LinAlgError``; a ``RuntimeError``)."""


# PyTorch's class is ``torch._C._LinAlgError`` (its name in tracebacks and ``type(e).__name__``)
LinAlgError.__name__ = LinAlgError.__qualname__ = "_LinAlgError"
LinAlgError.__module__ = "minigrad._C"  # where pickle finds it


def _lapack_errors(forward):
    """``forward`` with the array library's own LinAlgError (a ValueError in NumPy, which
    ``Op`` would restate as a shape error) raised as :class:`LinAlgError`."""

    def run(self, *arrays):
        try:
            return forward(self, *arrays)
        except self.xp.linalg.LinAlgError as e:
            raise LinAlgError(f"{self.label()}: {e}") from None

    return run


class Solve(Op):
    """X = A⁻¹B (B a batch of matrices); dB = A⁻ᴴ dX, dA = -dB Xᴴ (ᴴ: the conjugate transpose,
    the transpose for real matrices)"""

    save_inputs = True
    save_output = True
    supports_complex = True

    @_lapack_errors
    def forward(self, a, b):
        return self.xp.linalg.solve(a, b)

    def backward(self, gx):
        a, _, x = self.saved
        need_a, _ = self.needs_input_grad
        gb = Solve()(a.mH, gx)
        return (-(gb @ x.mH) if need_a else None), gb


def inverse(a):
    """A⁻¹ for a batch of square matrices, as the solve of A X = I (differentiable)."""
    eye = constant(a.device.xp.eye(a.shape[-1], dtype=a._data.dtype), a.device)
    return Solve()(a, eye)


class Cholesky(Op):
    """L = cholesky(A) (lower, A = L Lᴴ, A's lower triangle is read);
    dA = L⁻ᴴ Φ L⁻¹ with T = tril(Lᴴ dL), Φ = (T + tril(T, -1)ᴴ) / 2 (as PyTorch, whose
    complex gradient keeps the imaginary part of T's diagonal; ᴴ is ᵀ for real A)"""

    backward_name = "LinalgCholeskyExBackward0"
    save_output = True
    supports_complex = True

    @_lapack_errors
    def forward(self, a):
        return self.xp.linalg.cholesky(a)

    def backward(self, gl):
        (low,) = self.saved
        t = (low.mH @ gl).tril()
        phi = 0.5 * (t + t.tril(-1).mH)
        left = Solve()(low.mH, phi)  # L⁻ᴴ Φ
        return Solve()(low.mH, left.mH).mH  # (L⁻ᴴ Φ) L⁻¹


class _Packed(Op):
    """An op with several results, packed per matrix into one flat last dim."""

    save_output = True

    def pack(self, batch: tuple, *parts):
        self.batch = tuple(batch)
        self.parts = [p.shape[len(batch) :] for p in parts]
        # explicit sizes, not -1: an empty batch (0, n, n) has no size to infer
        flat = [p.reshape(self.batch + (math.prod(s),)) for p, s in zip(parts, self.parts)]
        return self.xp.concatenate(flat, axis=-1)

    def unpack(self, packed) -> list:
        out, start = [], 0
        for shape in self.parts:
            stop = start + math.prod(shape)
            out.append(packed[..., start:stop].reshape(self.batch + tuple(shape)))
            start = stop
        return out


class Det(Op):
    """d = det A (…, n, n) → (…), as sign·exp(log|det A|) (LAPACK's LU, without overflow on
    the way). dA = ḡ·conj(d)·A⁻ᴴ, the cofactor matrix (PyTorch's formula); at a singular A
    (d = 0) that is zero in a plain backward, as PyTorch's LU solve gives, and under
    ``create_graph`` the cofactor matrix from the SVD (PyTorch's singular case, which it takes
    where |d| < 100·eps), so that second derivatives flow through it:
    U·diag(ḡ·ᾱ·Π_{j≠i} sⱼ)·Vᴴ, α = det U · det Vᴴ."""

    backward_name = "LinalgDetBackward0"
    save_inputs = True
    save_output = True
    supports_complex = True

    def forward(self, a):
        sign, logabsdet = self.xp.linalg.slogdet(a)
        return self.xp.asarray(sign * self.xp.exp(logabsdet))

    def backward(self, g):
        from ..autograd import grad_mode

        a, d = self.saved
        coeff = (g * d.conj()).unsqueeze(-1).unsqueeze(-1)
        higher = grad_mode.is_grad_enabled()
        if higher:  # (PyTorch's threshold for its SVD formula)
            singular = abs(d._data) < 100 * float(np.finfo(d._data.dtype).eps)
        else:
            singular = d._data == 0
        if not singular.any():
            return coeff * inverse(a).mH
        mask = constant(singular, a.device)
        eye = constant(a.device.xp.eye(a.shape[-1], dtype=a._data.dtype), a.device)
        regular = coeff * inverse(where(mask.unsqueeze(-1).unsqueeze(-1), eye, a)).mH
        if not higher:  # coeff is 0 there: zeros, as PyTorch's
            return regular
        if a.ndim == 2:
            return _cofactors(a, g)
        return regular.index_put((mask,), _cofactors(a[mask], g[mask]))


def _cofactors(a, g):
    """ḡ times the conjugate of the cofactor matrix of each A, from its SVD (differentiable
    wherever the SVD's backward is: PyTorch's formula for singular A)."""
    op = SVD()
    u, s, vh = op.unpack(op(a))
    if a.is_complex():
        s = s.real
    alpha = (Det()(u) * Det()(vh)).conj()
    others = _products_of_others(s)
    scale = (g * alpha).unsqueeze(-1) * others.to(u.dtype)
    return (u * scale.unsqueeze(-2)) @ vh


def _products_of_others(s):
    """Π_{j≠i} sⱼ along the last dim, from products before and after i (PyTorch's exclusive
    cumulative products): no division, so the derivatives stay exact at tiny sᵢ."""
    from .joining import stack

    cols = [s[..., i] for i in range(s.shape[-1])]
    before, after = [None] * len(cols), [None] * len(cols)
    for order, out in ((range(len(cols)), before), (range(len(cols) - 1, -1, -1), after)):
        acc = None
        for i in order:
            out[i] = acc
            acc = cols[i] if acc is None else acc * cols[i]
    one = constant(s.device.xp.ones(s.shape[:-1], dtype=s._data.dtype), s.device)
    parts = [one if b is None else b for b in before]
    return stack([p if x is None else p * x for p, x in zip(parts, after)], -1)


class Slogdet(_Packed):
    """(s, l) = (sign det A, log|det A|); dA = (dl - i·Im(conj(ds)·s))·A⁻ᴴ, from
    dl = Re tr(A⁻¹dA) and ds = i·Im tr(A⁻¹dA)·s (for real A the sign is locally constant and
    dA = dl·A⁻ᵀ)"""

    backward_name = "LinalgSlogdetBackward0"
    save_inputs = True
    save_output = False
    supports_complex = True  # (the packed l is complex then: linalg.slogdet takes its real part)

    def forward(self, a):
        sign, logabsdet = self.xp.linalg.slogdet(a)
        self.keep(sign=self.xp.asarray(sign))
        return self.pack(a.shape[:-2], self.xp.asarray(sign), self.xp.asarray(logabsdet))

    def backward(self, g):
        (a,) = self.saved
        gs, gl = self.unpack(g)
        if g.is_complex():  # l is real: its gradient's real part; the sign turns with A's phase
            sign = self.reuse("sign", lambda: self._sign(a), a)
            gl = (gl.real - (gs.conj() * sign).imag * 1j).to(g.dtype)
        return gl.unsqueeze(-1).unsqueeze(-1) * inverse(a).mH

    def _sign(self, a):
        """sign det A recomputed by the op itself (recorded, so that second derivatives flow
        through it under create_graph)."""
        return self.unpack(Slogdet()(a))[0]


def _off_diagonal_inverse(diff):
    """1/diff off the diagonal, 0 on it (diff: a batch of square matrices)."""
    n = diff.shape[-1]
    eye = constant(diff.device.xp.eye(n, dtype=bool), diff.device)
    return where(eye, 0.0, 1.0 / where(eye, 1.0, diff))


def _where_nonzero(x, value):
    """``value`` where ``x`` is non-zero, else 0: a gradient term ``f ∘ x`` whose factor ``f``
    is infinite at repeated (or zero) values still vanishes where ``x`` does, as PyTorch's
    backward skips the terms of outputs that got no gradient.

    Only for a constant ``x``: when ``x`` is itself being differentiated (a double backward,
    or forward mode derived from the backward with a placeholder gradient of zeros), a mask
    read from its values would cut the map's dependence on it, so ``value`` is kept whole."""
    if x.requires_grad:
        return value
    return where(x == 0, 0.0, value)


def _diag(v):
    """A batch of diagonal matrices from a batch of vectors (differentiable)."""
    n = v.shape[-1]
    eye = constant(v.device.xp.eye(n, dtype=v._data.dtype), v.device)
    return v.unsqueeze(-1) * eye


class Eigh(_Packed):
    """λ, V = eigh(A) (A symmetric or Hermitian, ascending λ); with K = skew(Vᴴ dV),
    dA = V (diag(dλ) + F ∘ K) Vᴴ, Fᵢⱼ = 1/(λⱼ - λᵢ) off the diagonal (distinct eigenvalues;
    for complex A, a loss that does not depend on the eigenvectors' phases)"""

    backward_name = "LinalgEighBackward0"
    supports_complex = True  # (the packed λ is complex then: linalg.eigh takes its real part)

    def __init__(self, uplo: str):
        self.uplo = uplo

    def forward(self, a):
        w, v = self.xp.linalg.eigh(a, UPLO=self.uplo)
        return self.pack(a.shape[:-2], w, v)

    def backward(self, g):
        (out,) = self.saved
        w, v = self.unpack(out)
        gw, gv = self.unpack(g)
        vh_gv = v.mH @ gv
        if out.is_complex():  # λ is real: only the real part of its gradient counts
            gw = gw.real.to(out.dtype)
        f = _off_diagonal_inverse(w.unsqueeze(-2) - w.unsqueeze(-1))
        skew = 0.5 * (vh_gv - vh_gv.mH)
        inner = _where_nonzero(skew, f * skew) + _diag(gw)
        return v @ inner @ v.mH


class Eig(_Packed):
    """λ, V = eig(A) (a general square matrix; complex results, unit-norm eigenvectors); with
    E ᵢⱼ = λⱼ - λᵢ off the diagonal and Vᴴ dV's diagonal real parts R,
    dA = V⁻ᴴ (diag(dλ) + (Vᴴ dV - Vᴴ V R) / conj(E)) Vᴴ (distinct eigenvalues; the loss must
    not depend on the eigenvectors' phases, which are arbitrary; a real A takes the real part)"""

    backward_name = "LinalgEigBackward0"
    supports_complex = True

    def __init__(self, complex_dtype):
        self.complex_dtype = complex_dtype

    def forward(self, a):
        w, v = self.xp.linalg.eig(a)  # (NumPy gives real arrays when every eigenvalue is real)
        w, v = w.astype(self.complex_dtype, copy=False), v.astype(self.complex_dtype, copy=False)
        return self.pack(a.shape[:-2], w, v)

    def backward(self, g):
        (out,) = self.saved
        w, v = self.unpack(out)
        gw, gv = self.unpack(g)
        vh = v.mH
        vh_gv = vh @ gv
        real_diagonal = _diag(vh_gv.diagonal(dim1=-2, dim2=-1).real.to(vh_gv.dtype))
        f = _off_diagonal_inverse((w.unsqueeze(-2) - w.unsqueeze(-1)).conj())
        inner = _diag(gw) + f * (vh_gv - (vh @ v) @ real_diagonal)
        return Solve()(vh, inner @ vh)  # V⁻ᴴ (…) Vᴴ


class SVD(_Packed):
    """U, S, Vh = svd(A) (reduced); with Fᵢⱼ = 1/(sⱼ² - sᵢ²) off the diagonal,
    dA = U[(F∘(UᵀdU - dUᵀU))S + diag(dS) + S(F∘(VᵀdV - dVᵀV))]Vᵀ
         + (I - UUᵀ)dU S⁻¹Vᵀ + U S⁻¹dVᵀ(I - VVᵀ)   (Townsend; distinct non-zero s)"""

    backward_name = "LinalgSvdBackward0"
    supports_complex = True  # (the packed S is complex then: linalg.svd takes its real part)

    def forward(self, a):
        u, s, vh = self.xp.linalg.svd(a, full_matrices=False)
        return self.pack(a.shape[:-2], u, s, vh)

    def backward(self, g):
        (out,) = self.saved
        u, s, vh = self.unpack(out)
        gu, gs, gvh = self.unpack(g)
        m, n = self.input_meta[0][0][-2:]
        k = s.shape[-1]
        v, gv = vh.mH, gvh.mH
        f = _off_diagonal_inverse((s * s).unsqueeze(-2) - (s * s).unsqueeze(-1))
        ut_gu, vt_gv = u.mH @ gu, v.mH @ gv
        j, k_ = ut_gu - ut_gu.mH, vt_gv - vt_gv.mH
        left = _where_nonzero(j, (f * j) * s.unsqueeze(-2))  # (F∘J) S
        right = _where_nonzero(k_, s.unsqueeze(-1) * (f * k_))  # S (F∘K)
        if out.is_complex():  # S is real: only the real part of its gradient counts
            gs = gs.real.to(out.dtype)
        inner = left + right + _diag(gs)
        if out.is_complex():  # the phase shared by uᵢ and vᵢ: its part of Uᴴ dU
            inner = inner + _diag(ut_gu.diagonal(dim1=-2, dim2=-1).imag * 1j / s)
        ga = u @ inner @ vh
        if m > k:
            rest = gu - u @ ut_gu
            ga = ga + _where_nonzero(rest, rest / s.unsqueeze(-2)) @ vh
        if n > k:
            rest = (gv - v @ vt_gv).mH
            ga = ga + u @ _where_nonzero(rest, rest / s.unsqueeze(-1))
        return ga


class QR(_Packed):
    """Q, R = qr(A) (reduced); for m ≥ n with M = R dRᵀ - dQᵀ Q,
    dA = (dQ + Q copyltu(M)) R⁻ᵀ, copyltu(M) = tril(M) + tril(M, -1)ᵀ; for m < n, A = [X|Y]
    splits into the square case for X and dY = Q dV (R = [U|V])"""

    backward_name = "LinalgQrBackward0"
    supports_complex = True

    def forward(self, a):
        q, r = self.xp.linalg.qr(a, mode="reduced")
        return self.pack(a.shape[:-2], q, r)

    def backward(self, g):
        (out,) = self.saved
        q, r = self.unpack(out)
        gq, gr = self.unpack(g)
        m, n = self.input_meta[0][0][-2:]
        if m >= n:
            return _qr_square_backward(q, r, gq, gr)
        x_part = r[..., :, :m]
        gu, gv = gr[..., :, :m], gr[..., :, m:]
        y = q @ r[..., :, m:]  # A's right block, rebuilt from the factors
        gx = _qr_square_backward(q, x_part, gq + y @ gv.mH, gu)
        return cat([gx, q @ gv], -1)


def _qr_square_backward(q, r, gq, gr):
    """(dQ + Q copyltu(M)) R⁻ᴴ, M = R dRᴴ - dQᴴ Q; for complex factors the diagonal of
    copyltu(M) keeps M's real part only (the phases of Q's columns are a gauge)."""
    m_ = r @ gr.mH - gq.mH @ q
    lower = m_.tril(-1)
    diagonal = m_.diagonal(dim1=-2, dim2=-1)
    if m_.is_complex():
        diagonal = diagonal.real.to(m_.dtype)
    copyltu = lower + lower.mH + _diag(diagonal)
    rhs = gq + q @ copyltu
    return Solve()(r, rhs.mH).mH  # rhs R⁻ᴴ
