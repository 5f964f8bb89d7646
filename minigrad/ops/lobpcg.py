"""LOBPCG (Knyazev's locally optimal block preconditioned conjugate gradient) for the k
largest or smallest eigenpairs of a symmetric (generalised: ``A x = λ B x``) eigenproblem, on
``xp`` arrays, and its op: the eigenpairs are differentiable in ``A`` (as PyTorch's, not in
``B``).

Each step runs Rayleigh-Ritz on the span of the current vectors X, their (preconditioned)
residuals W and the previous search directions P, with a B-orthonormal basis of that span
from its Gram matrix (directions whose Gram eigenvalue is negligible are dropped, so
dependent blocks do no harm).
"""

from __future__ import annotations

from .base import constant
from .decompositions import Solve, _Packed


def _basis(xp, s, b):
    """``(q, c)``: a B-orthonormal basis ``q = s @ c`` of the span of the columns of ``s``
    (scaled to norm 1 first, so that tiny residuals near convergence still count)."""
    norms = _column_norms(xp, s)
    scale = 1 / xp.where(norms > 0, norms, 1)
    s = s * scale
    bs = s if b is None else b @ s
    gram = s.T @ bs
    gram = (gram + gram.T) / 2
    mu, v = xp.linalg.eigh(gram)
    keep = mu > mu[-1] * (s.shape[-2] * xp.finfo(s.dtype).eps)
    c = v[:, keep] / xp.sqrt(mu[keep])
    return s @ c, scale[:, None] * c


def _rayleigh_ritz(xp, a, q, count: int, largest: bool):
    """The ``count`` Ritz values and coefficient columns of ``qᵀ a q``, in PyTorch's order
    (descending for the largest, ascending for the smallest)."""
    t = q.T @ a @ q
    theta, z = xp.linalg.eigh((t + t.T) / 2)
    if largest:
        theta, z = theta[::-1], z[:, ::-1]
    return theta[:count], z[:, :count]


def _column_norms(xp, x):
    return xp.sqrt((x * x).sum(0))


def lobpcg_arrays(xp, a, b, x, ik, k: int, largest: bool, tol: float, niter: int):
    """``(eigenvalues (k,), eigenvectors (m, k))`` of one matrix ``a`` (``b``, ``ik``: the
    B matrix and preconditioner or None) from the start ``x`` (m, n), after at most ``niter``
    steps (stopping once the first k relative residuals are below ``tol``)."""
    n = x.shape[-1]
    norm_a = float(xp.linalg.norm(a))
    norm_b = 1.0 if b is None else float(xp.linalg.norm(b))
    q, _ = _basis(xp, x, b)
    theta, z = _rayleigh_ritz(xp, a, q, n, largest)
    x, p = q @ z, None
    for _ in range(niter):
        bx = x if b is None else b @ x
        r = a @ x - bx * theta
        scale = (norm_a + xp.abs(theta) * norm_b) * _column_norms(xp, x)
        if bool((_column_norms(xp, r)[:k] < tol * scale[:k]).all()):
            break
        w = r if ik is None else ik @ r
        s = xp.concatenate([x, w] if p is None else [x, w, p], axis=-1)
        q, c = _basis(xp, s, b)
        theta, z = _rayleigh_ritz(xp, a, q, n, largest)
        y = c @ z  # the new vectors' coefficients on [X, W, P]
        x, p = s @ y, s[:, n:] @ y[n:]
    return theta[:k], x[:, :k]


class LOBPCG(_Packed):
    """E, X = lobpcg(A, X₀, B, iK) (k eigenpairs, ‖xᵢ‖ = 1, A symmetric, distinct λᵢ); with
    wᵢ = (A - λᵢ I)⁺ dxᵢ = (A - λᵢ I + xᵢxᵢᵀ)⁻¹ (dxᵢ - xᵢ xᵢᵀ dxᵢ),
    dA = sym(X diag(dE) Xᵀ - Σᵢ wᵢ xᵢᵀ); the start X₀ gets none (the result does not depend
    on it), and B none (PyTorch raises for it, as this does)"""

    backward_name = "LOBPCGAutogradFunctionBackward"
    save_inputs = True

    def __init__(self, k, largest, tol, niter):
        self.k, self.largest, self.tol, self.niter = k, largest, tol, niter

    def forward(self, a, x, b=None, ik=None):
        xp, m = self.xp, a.shape[-1]
        self.generalized = b is not None
        batch = _broadcast_batch(a, x, b, ik)
        a, x, b, ik = (_flat(xp, t, batch) for t in (a, x, b, ik))
        values, vectors = [], []
        for i in range(a.shape[0]):
            e, v = lobpcg_arrays(
                xp, a[i], None if b is None else b[i], x[i], None if ik is None else ik[i],
                self.k, self.largest, self.tol, self.niter,
            )  # fmt: skip
            values.append(e)
            vectors.append(v)
        e = xp.stack(values).reshape(batch + (self.k,))
        v = xp.stack(vectors).reshape(batch + (m, self.k))
        return self.pack(batch, e, v)

    def backward(self, g):
        a = self.saved[0]
        out = self.saved[-1]
        if self.generalized:
            raise ValueError("lobpcg.backward does not support backward with B != I yet.")
        e, x = self.unpack(out)
        ge, gx = self.unpack(g)
        eye = constant(a.device.xp.eye(a.shape[-1], dtype=a._data.dtype), a.device)
        grad = (x * ge.unsqueeze(-2)) @ x.mT
        for i in range(self.k):
            xi, gi = x[..., :, i : i + 1], gx[..., :, i : i + 1]
            shifted = a - e[..., i : i + 1].unsqueeze(-1) * eye + xi @ xi.mT
            wi = Solve()(shifted, gi - xi @ (xi.mT @ gi))
            grad = grad - wi @ xi.mT
        return (0.5 * (grad + grad.mT),) + (None,) * (len(self.edges) - 1)


def _broadcast_batch(*arrays) -> tuple:
    """The broadcast batch shape (all dims but the last two) of the arrays given."""
    shapes = [t.shape[:-2] for t in arrays if t is not None]
    ndim = max(len(s) for s in shapes)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    return tuple(max(dims) for dims in zip(*padded))


def _flat(xp, t, batch):
    """``t`` broadcast to the batch and flattened to (count, r, c) (None stays None)."""
    if t is None:
        return None
    return xp.broadcast_to(t, batch + t.shape[-2:]).reshape((-1,) + t.shape[-2:])
