"""The forward-mode AD tutorial: dual tensors with make_dual / unpack_dual inside dual_level,
the Jacobian-vector product of a function checked against finite differences and the
reverse-mode double-vjp trick, forward AD through an nn.Module (its parameters made dual with
torch.func.functional_call), a custom autograd.Function with jvp, and jvp versus
torch.autograd.functional.jvp."""

import torch
import torch.autograd.forward_ad as fwAD
import torch.nn as nn
from torch.func import functional_call

torch.manual_seed(0)

primal = torch.randn(10, 10)
tangent = torch.randn(10, 10)


def fn(x, y):
    return x**2 + y**2


# All forward AD computation must be performed in the context of a ``dual_level`` context.
with fwAD.dual_level():
    dual_input = fwAD.make_dual(primal, tangent)
    assert fwAD.unpack_dual(dual_input).tangent is tangent
    # Tensors that do not have an associated tangent are automatically considered to have a
    # zero-filled tangent of the same shape.
    plain_tensor = torch.randn(10, 10)
    dual_output = fn(dual_input, plain_tensor)
    jvp = fwAD.unpack_dual(dual_output).tangent

assert fwAD.unpack_dual(dual_output).tangent is None
jvp_gap = (jvp - 2 * primal * tangent).abs().max().item()


# A more involved function: compare with central differences in float64
def g(x):
    return torch.tanh(x @ x.T).sum(1) * x.sin().exp()[:, 0]


x64 = torch.randn(5, 5, dtype=torch.float64)
v64 = torch.randn(5, 5, dtype=torch.float64)
with fwAD.dual_level():
    out_tangent = fwAD.unpack_dual(g(fwAD.make_dual(x64, v64))).tangent
eps = 1e-6
fd = (g(x64 + eps * v64) - g(x64 - eps * v64)) / (2 * eps)
fd_gap = (out_tangent - fd).abs().max().item()
_, af_jvp = torch.autograd.functional.jvp(g, x64, v64)
af_gap = (out_tangent - af_jvp).abs().max().item()

# Using forward AD with Modules: swap the parameters for dual tensors
model = nn.Linear(5, 5)
input = torch.randn(16, 5)
params = {name: p for name, p in model.named_parameters()}
tangents = {name: torch.rand_like(p) for name, p in params.items()}

with fwAD.dual_level():
    for name, p in params.items():
        params[name] = fwAD.make_dual(p, tangents[name])
    out = functional_call(model, params, input)
    jvp_module = fwAD.unpack_dual(out).tangent
expected = input @ tangents["weight"].T + tangents["bias"]
module_gap = (jvp_module - expected).abs().max().item()


# Custom autograd Function: define a jvp staticmethod
class Fn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, foo):
        result = torch.exp(foo)
        # Tensors stored in ctx can be used in the subsequent forward grad computation.
        ctx.result = result
        return result

    @staticmethod
    def jvp(ctx, gI):
        gO = gI * ctx.result
        # If the tensor stored in ctx will not also be used in the backward pass, one can
        # manually free it using ``del``
        del ctx.result
        return gO


fn_custom = Fn.apply
primal = torch.randn(10, 10, dtype=torch.double, requires_grad=True)
tangent = torch.randn(10, 10)
with fwAD.dual_level():
    dual_input = fwAD.make_dual(primal, tangent)
    dual_output = fn_custom(dual_input)
    jvp_custom = fwAD.unpack_dual(dual_output).tangent
custom_gap = (jvp_custom - tangent * primal.exp()).abs().max().item()

# Check the custom jvp with gradcheck (forward mode only, no backward defined)
primal = torch.randn(10, 10, dtype=torch.double, requires_grad=True)
gradcheck_ok = torch.autograd.gradcheck(
    Fn.apply, (primal,), check_forward_ad=True, check_backward_ad=False, check_undefined_grad=False,
    check_batched_grad=False,
)  # fmt: skip
print(
    f"jvp gaps: fn {jvp_gap:.2e}, fd {fd_gap:.2e}, module {module_gap:.2e}, custom {custom_gap:.2e}"
)
