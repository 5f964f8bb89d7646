"""``torch.einsum`` as answers use it and as its edge cases surprise: a repeated index in one
operand (``"ii->i"`` the diagonal, ``"ii"`` the trace, ``"iij->ij"``), an index only on the
input side summed away (``"ij->"``), implicit output (alphabetical order: ``"ji"`` transposes,
``"ba"`` does not), ellipsis broadcasting (``"...ij,...jk"`` with batch dims of size 1),
the operand-list form ``einsum("i,i", [a, b])``, the sublist form, uppercase subscripts, spaces,
size-1 broadcasting in a shared index, and the errors: mismatched sizes, too many operands,
an output index not in the inputs, a repeated output index; gradients of a bilinear form and
of an attention written with einsum are compared with the explicit matmul versions."""

import torch

torch.manual_seed(0)


def error_of(fn):
    try:
        fn()
    except Exception as e:  # the program records whichever error it gets
        return [type(e).__name__, str(e)]
    return None


m = torch.arange(9.0).reshape(3, 3)
cube = torch.arange(18.0).reshape(3, 3, 2)
a = torch.tensor([1.0, 2.0, 3.0])
b = torch.tensor([4.0, 5.0, 6.0])
basics = [
    torch.einsum("ii->i", m).tolist(),
    torch.einsum("ii", m).item(),
    torch.einsum("iij->ij", cube).tolist(),
    torch.einsum("ij->", m).item(),
    torch.einsum("ij->j", m).tolist(),
    torch.einsum("ji", m).tolist(),  # implicit output: indices in alphabetical order
    torch.einsum("ba", m).tolist(),  # also alphabetical: 'a' first, a transpose of 'ba'
    torch.einsum("ij", m).tolist(),
    torch.einsum("i,i", [a, b]).item(),  # the operand-list form
    torch.einsum("i,j->ij", a, b).tolist(),
    torch.einsum("i,i->i", a, b).tolist(),
    torch.einsum(a, [0], b, [0], []).item(),  # the sublist form
    torch.einsum("I J -> J I", m).tolist(),  # uppercase and spaces
    torch.einsum("i,j", a, b).shape[0],
]

# Ellipsis broadcasting and size-1 dims.
x = torch.randn(2, 1, 3, 4)
y = torch.randn(5, 4, 6)
ell = torch.einsum("...ij,...jk->...ik", x, y)
ellipsis_facts = [
    list(ell.shape),
    torch.allclose(ell, x @ y, atol=1e-6),
    list(torch.einsum("...i,...i->...", torch.randn(2, 3, 4), torch.randn(3, 4)).shape),
    list(torch.einsum("b...,b->b...", torch.randn(2, 3, 4), torch.randn(2)).shape),
    list(torch.einsum("i...->...", torch.randn(2, 3, 4)).shape),
    list(torch.einsum("ij,kj->ikj", torch.randn(3, 1), torch.randn(2, 5)).shape),  # size-1
]

# Gradients through a repeated subscript: the trace's is the identity, the diagonal's a mask.
d = torch.randn(3, 3, requires_grad=True)
diag_loss = torch.einsum("ii", d) + torch.einsum("ii->i", d).pow(2).sum()
diagonal_grad = torch.autograd.grad(diag_loss, d)[0].tolist()

errors = [
    error_of(lambda: torch.einsum("ij,jk->ik", torch.randn(2, 3), torch.randn(4, 5))),
    error_of(lambda: torch.einsum("ij,jk->ik", torch.randn(2, 3))),
    error_of(lambda: torch.einsum("ij->ik", m)),
    error_of(lambda: torch.einsum("ij->ii", m)),
    error_of(lambda: torch.einsum("ijk->i", m)),
    error_of(lambda: torch.einsum("ii->i", torch.randn(2, 3))),
]

# A bilinear form and an attention: einsum against explicit matmuls, values and gradients.
u = torch.randn(4, 5, requires_grad=True)
v = torch.randn(4, 6, requires_grad=True)
W = torch.randn(5, 6, requires_grad=True)
bil_e = torch.einsum("bi,ij,bj->b", u, W, v)
bil_m = ((u @ W) * v).sum(-1)
ge = torch.autograd.grad(bil_e.square().sum(), (u, W, v))
gm = torch.autograd.grad(bil_m.square().sum(), (u, W, v))
bilinear = [
    bil_e.tolist(),
    max((p - q).abs().max().item() for p, q in zip(ge, gm)),
    ge[1][0].tolist(),
]
q = torch.randn(2, 3, 5, 4, requires_grad=True)  # (batch, heads, tokens, dim)
k = torch.randn(2, 3, 5, 4, requires_grad=True)
vv = torch.randn(2, 3, 5, 4, requires_grad=True)
scores = torch.einsum("bhqd,bhkd->bhqk", q, k) / 2.0
out_e = torch.einsum("bhqk,bhkd->bhqd", scores.softmax(-1), vv)
out_m = (q @ k.transpose(-2, -1) / 2.0).softmax(-1) @ vv
grads = torch.autograd.grad(out_e.pow(2).sum(), (q, k, vv))
attention = [
    (out_e - out_m).abs().max().item() < 1e-5,
    out_e.sum().item(),
    [g.abs().sum().item() for g in grads],
]
