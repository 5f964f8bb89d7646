"""The orthogonal parametrization (``nn.utils.parametrizations.orthogonal``): maps from
unconstrained matrices to orthogonal ones, written with differentiable tensor ops."""

from __future__ import annotations

import numpy as np

from ...autograd.grad_mode import no_grad
from ...creation import eye, randn, zeros
from ...linalg import householder_product, matrix_exp, qr, solve
from ...ops.joining import cat
from ...tensor import Tensor
from ..modules.module import Module

MAPS = ("matrix_exp", "cayley", "householder")


def is_orthogonal(q: Tensor) -> bool:
    """Whether ``qᴴq = I`` up to ``10·n·eps``, as PyTorch checks."""
    n, k = q.shape[-2], q.shape[-1]
    gram = (q.mT @ q).detach().cpu().numpy()
    eps = 10 * n * np.finfo(gram.dtype).eps
    return bool(np.allclose(gram, np.eye(k), rtol=1e-5, atol=eps))


def make_orthogonal(a: Tensor) -> Tensor:
    """The Q of ``a``'s QR decomposition with R's diagonal made positive (a unique choice)."""
    q, r = qr(a)
    signs = r.diagonal(dim1=-2, dim2=-1).sign()
    signs = signs + (signs == 0).to(a.dtype)  # a zero pivot keeps its column
    return q * signs.unsqueeze(-2)


class _Orthogonal(Module):
    """``x ↦ base · map(x)``: ``map`` sends the lower triangle of x to an orthogonal matrix
    (``matrix_exp`` or ``cayley`` of the skew part, or a product of Householder reflectors)."""

    def __init__(self, weight: Tensor, orthogonal_map: str, *, use_trivialization=True):
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, x: Tensor) -> Tensor:
        n, k = x.shape[-2], x.shape[-1]
        transposed = n < k
        if transposed:
            x, n, k = x.mT, k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            x = x.tril()
            if n != k:
                pad = zeros(*x.shape[:-2], n, n - k, dtype=x.dtype, device=x.device)
                x = cat([x, pad], dim=-1)
            a = x - x.mT
            if self.orthogonal_map == "matrix_exp":
                q = matrix_exp(a)
            else:
                identity = eye(n, dtype=a.dtype, device=a.device)
                q = solve(identity - 0.5 * a, identity + 0.5 * a)
            if n != k:
                q = q[..., :k]
        else:
            a = x.tril(-1)
            tau = 2.0 / (1.0 + (a * a).sum(-2))
            q = householder_product(a, tau)
            q = q * x.diagonal(dim1=-2, dim2=-1).int().to(q.dtype).unsqueeze(-2)
        if self.base is not None:
            q = self.base @ q
        return q.mT if transposed else q

    def right_inverse(self, q: Tensor) -> Tensor:
        """Store an orthogonal ``base`` built from ``q`` and return ``−I`` (which ``forward``
        maps back to ``base``)."""
        if q.shape != self.shape:
            raise ValueError(
                f"Expected a matrix or batch of matrices of shape {self.shape}. Got a tensor of "
                f"shape {q.shape}."
            )
        if "base" not in self._buffers:
            raise NotImplementedError(
                "It is not possible to assign to the orthogonal parametrization when "
                "use_trivialization=False."
            )
        with no_grad():
            q_init = q
            n, k = q.shape[-2], q.shape[-1]
            if n < k:
                q, n, k = q.mT, k, n
            if n == k:
                q = q.clone() if is_orthogonal(q) else make_orthogonal(q)
            else:
                extra = randn(*q.shape[:-2], n, n - k, dtype=q.dtype, device=q.device)
                q = make_orthogonal(cat([q, extra], dim=-1))
            self.base = q
            neg_id = zeros(*q_init.shape, dtype=q_init.dtype, device=q_init.device)
            return neg_id - eye(*q_init.shape[-2:], dtype=q_init.dtype, device=q_init.device)
