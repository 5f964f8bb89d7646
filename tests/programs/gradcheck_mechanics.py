"""The "Gradcheck mechanics" note, as its ideas are written for PyTorch: the numerical Jacobian
of a real function by central differences (one basis vector at a time) against the analytical
one from ``autograd.grad`` with one-hot ``grad_outputs``; the fast mode's single number
``v^T J u`` for random ``u`` and ``v`` done by hand; complex inputs under the conjugate
Wirtinger convention (``|z|^2`` gets ``2z``, checked as ``dL/da + i dL/db`` by differences of
the real and imaginary parts); then ``gradcheck`` and ``gradgradcheck`` themselves (slow and
fast mode, real, complex-to-real and complex-to-complex functions, a custom ``Function``
with a wrong backward caught with ``raise_exception=False`` and as a ``GradcheckError``, and a
float32 input with loosened ``eps``/tolerances, which PyTorch accepts with a warning)."""

import warnings

import torch
from torch.autograd import gradcheck, gradgradcheck
from torch.autograd.gradcheck import GradcheckError

torch.manual_seed(0)


def f(x):
    return torch.stack([x.sin().sum() * x[0], (x.exp() * x).sum(), x.prod()])


x = torch.randn(4, dtype=torch.double, requires_grad=True)
eps = 1e-6
numerical = torch.zeros(3, 4, dtype=torch.double)
with torch.no_grad():
    for i in range(4):
        e = torch.zeros(4, dtype=torch.double)
        e[i] = eps
        numerical[:, i] = (f(x + e) - f(x - e)) / (2 * eps)
analytical = torch.zeros(3, 4, dtype=torch.double)
y = f(x)
for j in range(3):
    (row,) = torch.autograd.grad(y, x, torch.eye(3, dtype=torch.double)[j], retain_graph=True)
    analytical[j] = row
jacobian_gap = (numerical - analytical).abs().max().item()
functional_gap = (torch.autograd.functional.jacobian(f, x) - analytical).abs().max().item()

u = torch.randn(4, dtype=torch.double)
v = torch.randn(3, dtype=torch.double)
with torch.no_grad():
    numeric_vJu = ((f(x + eps * u) - f(x - eps * u)) / (2 * eps)) @ v
(vJ,) = torch.autograd.grad(f(x), x, v)
fast_mode_by_hand = [numeric_vJu.item(), (vJ @ u).item()]

z = torch.randn(3, dtype=torch.cdouble, requires_grad=True)
loss = (z * z.conj()).real.sum()
loss.backward()
wirtinger = [torch.allclose(z.grad, 2 * z.detach()), str(z.grad.dtype)]
with torch.no_grad():
    conj_grad = torch.zeros(3, dtype=torch.cdouble)
    for i in range(3):
        for part in (1.0, 1j):
            e = torch.zeros(3, dtype=torch.cdouble)
            e[i] = eps * part
            slope = ((z + e) * (z + e).conj()).real.sum() - ((z - e) * (z - e).conj()).real.sum()
            conj_grad[i] += part * slope / (2 * eps)
wirtinger.append((conj_grad - z.grad).abs().max().item() < 1e-6)


class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**2

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * 2 * x


class WrongSquare(Square):
    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * 3 * x  # wrong on purpose


checks = {
    "real": gradcheck(f, (x,)),
    "real_fast": gradcheck(f, (x,), fast_mode=True),
    "complex_to_real": gradcheck(lambda z: (z * z.conj()).real, (z,)),
    "complex_to_complex": gradcheck(lambda z: z**2 * 1j + z.conj(), (z,)),
    "complex_fast": gradcheck(lambda z: z.abs() * z, (z,), fast_mode=True),
    "square": gradcheck(Square.apply, (x,)),
    "square_gradgrad": gradgradcheck(Square.apply, (x,)),
    "wrong": gradcheck(WrongSquare.apply, (x,), raise_exception=False),
    "wrong_fast": gradcheck(WrongSquare.apply, (x,), fast_mode=True, raise_exception=False),
    "f_gradgrad": gradgradcheck(f, (x,)),
}
try:
    gradcheck(WrongSquare.apply, (x,))
except GradcheckError as error:
    wrong_message = str(error).splitlines()[0]
    wrong_is_runtime_error = isinstance(error, RuntimeError)

x32 = torch.randn(5, requires_grad=True)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    checks["float32_loose"] = gradcheck(torch.tanh, (x32,), eps=1e-3, atol=1e-2, rtol=1e-2)
float32_warning = str(caught[0].message).split(".")[0]
for name, ok in checks.items():
    print(f"{name:>20}: {ok}")
