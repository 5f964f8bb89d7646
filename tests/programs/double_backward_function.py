"""The "Double backward with custom functions" tutorial: autograd.Function subclasses whose
backward is itself differentiable — saving inputs (Square), saving outputs (Exp), saving
intermediate results (Sinh, returned as outputs and marked non-differentiable) and a
backward that is not tracked (a custom once_differentiable) — checked with gradcheck and
gradgradcheck, then a custom GELU trained in a small network with a gradient penalty."""

import torch
import torch.nn as nn
from torch.autograd.function import once_differentiable

torch.manual_seed(0)


class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        # Because we are saving one of the inputs use `save_for_backward`
        # Save non-tensors and non-inputs/non-outputs directly on ctx
        ctx.save_for_backward(x)
        return x**2

    @staticmethod
    def backward(ctx, grad_out):
        # A function support double backward automatically if autograd
        # is able to record the computations performed in backward
        (x,) = ctx.saved_tensors
        return grad_out * 2 * x


# Use double precision because finite differencing method magnifies errors
x = torch.rand(3, 3, requires_grad=True, dtype=torch.double)
square_ok = torch.autograd.gradcheck(Square.apply, x)
# Use gradcheck to verify second-order derivatives
square_gg_ok = torch.autograd.gradgradcheck(Square.apply, x)


class Exp(torch.autograd.Function):
    # Simple case where everything goes well
    @staticmethod
    def forward(ctx, x):
        # This time we save the output
        result = torch.exp(x)
        # Note that we should use `save_for_backward` here when
        # the tensor saved is an ouptut (or an input).
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        (result,) = ctx.saved_tensors
        return result * grad_out


x = torch.tensor(1.0, requires_grad=True, dtype=torch.double).clone()
# Validate our gradients using gradcheck
exp_ok = torch.autograd.gradcheck(Exp.apply, x)
exp_gg_ok = torch.autograd.gradgradcheck(Exp.apply, x)


class Sinh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        expx = torch.exp(x)
        expnegx = torch.exp(-x)
        ctx.save_for_backward(expx, expnegx)
        # In order to be able to save the intermediate results, a trick is to
        # include them as our outputs, so that the backward graph is constructed
        return (expx - expnegx) / 2, expx, expnegx

    @staticmethod
    def backward(ctx, grad_out, _grad_out_exp, _grad_out_negexp):
        expx, expnegx = ctx.saved_tensors
        grad_input = grad_out * (expx + expnegx) / 2
        # We cannot skip accumulating these even though we won't use the outputs
        # directly. They will be used later in the second backward.
        grad_input += _grad_out_exp * expx
        grad_input -= _grad_out_negexp * expnegx
        return grad_input


def sinh(x):
    # Create a wrapper that only returns the first output
    return Sinh.apply(x)[0]


x = torch.rand(3, 3, requires_grad=True, dtype=torch.double)
sinh_ok = torch.autograd.gradcheck(sinh, x)
sinh_gg_ok = torch.autograd.gradgradcheck(sinh, x)
(d2,) = torch.autograd.grad(
    torch.autograd.grad(sinh(x).sum(), x, create_graph=True)[0].sum(), x
)  # d²/dx² sinh = sinh
sinh_second_gap = (d2 - torch.sinh(x)).abs().max().item()


class SinhBad(torch.autograd.Function):
    # This is an example of what NOT to do!
    @staticmethod
    def forward(ctx, x):
        expx = torch.exp(x)
        expnegx = torch.exp(-x)
        ctx.expx = expx
        ctx.expnegx = expnegx
        return (expx - expnegx) / 2

    @staticmethod
    def backward(ctx, grad_out):
        expx = ctx.expx
        expnegx = ctx.expnegx
        grad_input = grad_out * (expx + expnegx) / 2
        return grad_input


# First derivative is right, the second is silently wrong (zero) — gradgradcheck catches it
x = torch.rand(3, 3, requires_grad=True, dtype=torch.double)
sinh_bad_first_ok = torch.autograd.gradcheck(SinhBad.apply, x)
sinh_bad_gg_ok = torch.autograd.gradgradcheck(SinhBad.apply, x, raise_exception=False)


class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * 3 * x**2


x = torch.rand(4, requires_grad=True, dtype=torch.double)
cube_ok = torch.autograd.gradcheck(Cube.apply, x)
(g,) = torch.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
try:
    g.sum().backward()
    once_error = None
except RuntimeError as e:
    once_error = str(e)  # the backward ran without recording: nothing to differentiate
v = torch.ones(4, dtype=torch.double, requires_grad=True)
(g,) = torch.autograd.grad(Cube.apply(x), x, grad_outputs=v, create_graph=True)
try:
    g.sum().backward()  # g depends on v, but through a backward that cannot be differentiated
    twice_error = None
except RuntimeError as e:
    twice_error = str(e)


class GELU(torch.autograd.Function):
    """tanh-approximate GELU with a hand-written, twice-differentiable backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * x * (1 + torch.tanh(0.7978845608 * (x + 0.044715 * x**3)))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        inner = 0.7978845608 * (x + 0.044715 * x**3)
        t = torch.tanh(inner)
        dinner = 0.7978845608 * (1 + 3 * 0.044715 * x**2)
        return grad_out * (0.5 * (1 + t) + 0.5 * x * (1 - t**2) * dinner)


x = torch.randn(6, requires_grad=True, dtype=torch.double)
gelu_ok = torch.autograd.gradcheck(GELU.apply, x) and torch.autograd.gradgradcheck(GELU.apply, x)
gelu_gap = (GELU.apply(x) - nn.functional.gelu(x, approximate="tanh")).abs().max().item()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 32)
        self.fc2 = nn.Linear(32, 1)

    def forward(self, x):
        return self.fc2(GELU.apply(self.fc1(x)))


net = Net()
opt = torch.optim.Adam(net.parameters(), lr=1e-2)
data = torch.randn(128, 2)
target = (data[:, :1] * data[:, 1:]).sin()
losses = []
for step in range(100):
    inp = data.clone().requires_grad_(True)
    pred = net(inp)
    (dx,) = torch.autograd.grad(pred.sum(), inp, create_graph=True)
    loss = nn.functional.mse_loss(pred, target) + 1e-3 * dx.pow(2).sum(1).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
print(f"gradient-penalty training: {losses[0]:.4f} -> {losses[-1]:.4f}")
