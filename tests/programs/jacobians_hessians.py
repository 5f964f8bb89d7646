"""The torch.func Jacobians/Hessians tutorial and the neural tangent kernel tutorial:
jacrev and jacfwd of a linear-tanh function (checked against torch.autograd.functional and a
row-by-row vjp loop), batched Jacobians with vmap, hessian / jacfwd(jacrev), hessian-vector
products by forward-over-reverse (jvp of grad) against the full Hessian, and an empirical NTK
of a small MLP computed from Jacobians and from vjp/jvp products."""

from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, grad, hessian, jacfwd, jacrev, jvp, vjp, vmap

torch.manual_seed(0)


def predict(weight, bias, x):
    return F.linear(x, weight, bias).tanh()


D = 16
weight = torch.randn(D, D)
bias = torch.randn(D)
x = torch.randn(D)

# Jacobian of the output w.r.t. x, row by row with vjp
_, vjp_fn = vjp(partial(predict, weight, bias), x)
unit_vectors = torch.eye(D)


def vjp_row(v):
    return vjp_fn(v)[0]


jacobian_rows = [vjp_fn(vec)[0] for vec in unit_vectors.unbind()]
jacobian_loop = torch.stack(jacobian_rows)
jacobian_vmap = vmap(vjp_row)(unit_vectors)
jacobian = jacrev(predict, argnums=2)(weight, bias, x)
print(jacobian.shape)
assert torch.allclose(jacobian_loop, jacobian_vmap)
assert torch.allclose(jacobian, jacobian_loop)
af_jacobian = torch.autograd.functional.jacobian(partial(predict, weight, bias), x)
jac_fwd = jacfwd(predict, argnums=2)(weight, bias, x)
gap_rev_fwd = (jac_fwd - jacobian).abs().max().item()
gap_autograd_functional = (af_jacobian - jacobian).abs().max().item()

# Jacobians w.r.t. several arguments
ft_jac_weight, ft_jac_bias = jacrev(predict, argnums=(0, 1))(weight, bias, x)
print(ft_jac_weight.shape, ft_jac_bias.shape)  # (16, 16, 16) and (16, 16)

# Batched Jacobians
batch_size = 8
xb = torch.randn(batch_size, D)
compute_batch_jacobian = vmap(jacrev(predict, argnums=2), in_dims=(None, None, 0))
batch_jacobian0 = compute_batch_jacobian(weight, bias, xb)


def predict_with_output_summed(weight, bias, x):
    return predict(weight, bias, x).sum(0)


batch_jacobian1 = jacrev(predict_with_output_summed, argnums=2)(weight, bias, xb).movedim(1, 0)
assert torch.allclose(batch_jacobian0, batch_jacobian1)
batch_jacobian_shape = tuple(batch_jacobian0.shape)

# Hessians
hess_api = hessian(predict, argnums=2)(weight, bias, x)
hess_fwdrev = jacfwd(jacrev(predict, argnums=2), argnums=2)(weight, bias, x)
assert torch.allclose(hess_api, hess_fwdrev, atol=1e-5)
hess_revrev = jacrev(jacrev(predict, argnums=2), argnums=2)(weight, bias, x)
gap_hessian = (hess_api - hess_revrev).abs().max().item()


# Hessian-vector products: forward-over-reverse
def hvp(f, primals, tangents):
    return jvp(grad(f), primals, tangents)[1]


def f(x):
    return x.sin().sum()


x = torch.randn(2048)
tangent = torch.randn(2048)
result = hvp(f, (x,), (tangent,))
gap_hvp = (result - (-x.sin()) * tangent).abs().max().item()

x_small = torch.randn(32)
t_small = torch.randn(32)
quartic = lambda v: (v**4).sum() + (v[:-1] * v[1:]).sum()  # noqa: E731
hvp_small = hvp(quartic, (x_small,), (t_small,))
gap_hvp_full = (hvp_small - hessian(quartic)(x_small) @ t_small).abs().max().item()


# Neural tangent kernel of an MLP
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 32)
        self.fc2 = nn.Linear(32, 32)
        self.fc3 = nn.Linear(32, 3)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


net = MLP()
params = {k: v.detach() for k, v in net.named_parameters()}


def fnet_single(params, x):
    return functional_call(net, params, (x.unsqueeze(0),)).squeeze(0)


def empirical_ntk_jacobian_contraction(fnet_single, params, x1, x2):
    jac1 = vmap(jacrev(fnet_single), (None, 0))(params, x1)
    jac1 = jac1.values()
    jac1 = [j.flatten(2) for j in jac1]
    jac2 = vmap(jacrev(fnet_single), (None, 0))(params, x2)
    jac2 = jac2.values()
    jac2 = [j.flatten(2) for j in jac2]
    result = torch.stack([torch.einsum("Naf,Mbf->NMab", j1, j2) for j1, j2 in zip(jac1, jac2)])
    return result.sum(0)


def empirical_ntk_ntk_vps(func, params, x1, x2, compute="full"):
    def get_ntk(x1, x2):
        def func_x1(params):
            return func(params, x1)

        def func_x2(params):
            return func(params, x2)

        output, vjp_fn = vjp(func_x1, params)

        def get_ntk_slice(vec):
            vjps = vjp_fn(vec)
            _, jvps = jvp(func_x2, (params,), vjps)
            return jvps

        basis = torch.eye(output.numel(), dtype=output.dtype, device=output.device).view(
            output.numel(), -1
        )
        return vmap(get_ntk_slice)(basis)

    result = vmap(vmap(get_ntk, (None, 0)), (0, None))(x1, x2)
    if compute == "trace":
        return torch.einsum("NMKK->NM", result)
    return result


x_train = torch.randn(5, 6)
x_test = torch.randn(4, 6)
ntk_jac = empirical_ntk_jacobian_contraction(fnet_single, params, x_train, x_test)
ntk_vps = empirical_ntk_ntk_vps(fnet_single, params, x_train, x_test)
print(ntk_jac.shape)
assert torch.allclose(ntk_jac, ntk_vps, atol=1e-4)
gap_ntk = (ntk_jac - ntk_vps).abs().max().item()
ntk_trace = empirical_ntk_ntk_vps(fnet_single, params, x_train, x_train, compute="trace")
