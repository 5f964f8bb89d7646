"""Two second-order optimizers written as ``torch.optim.Optimizer`` subclasses, the way their
reference PyTorch code does it: Shampoo (Gupta et al. 2018; the moskomule/shampoo.pytorch
version) with left and right preconditioners ``G G^T`` and ``G^T G`` accumulated with
``addmm_``, inverse fourth roots by ``torch.linalg.eigh`` every few steps, and grafting of
the step size; and AdaHessian (Yao et al. 2021) with Hutchinson's Hessian-diagonal estimate
``z * H z`` from ``torch.autograd.grad(grads, params, grad_outputs=zs)`` after a
``backward(create_graph=True)``, spatially averaged over each conv kernel
(``mean(dim=[2, 3], keepdim=True)``) and bias-corrected moments. The Rademacher vectors are
drawn with NumPy; a small conv net is trained with each, and with Adam for reference."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn


class Shampoo(torch.optim.Optimizer):
    def __init__(self, params, lr=0.1, momentum=0.9, epsilon=1e-4, update_freq=2):
        super().__init__(
            params, dict(lr=lr, momentum=momentum, epsilon=epsilon, update_freq=update_freq)
        )

    @staticmethod
    def _matrix_power(matrix, power):
        eigenvalues, eigenvectors = torch.linalg.eigh(matrix)
        return eigenvectors @ torch.diag(eigenvalues.clamp(min=1e-12).pow(power)) @ eigenvectors.T

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad, state = p.grad.reshape(p.shape[0], -1), self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["momentum_buffer"] = torch.zeros_like(grad)
                    for dim, name in ((grad.shape[0], "left"), (grad.shape[1], "right")):
                        state[f"precond_{name}"] = group["epsilon"] * torch.eye(dim)
                        state[f"inv_precond_{name}"] = torch.zeros(dim, dim)
                state["precond_left"].addmm_(grad, grad.T)
                state["precond_right"].addmm_(grad.T, grad)
                if state["step"] % group["update_freq"] == 0:
                    state["inv_precond_left"] = self._matrix_power(state["precond_left"], -1 / 4)
                    state["inv_precond_right"] = self._matrix_power(state["precond_right"], -1 / 4)
                direction = state["inv_precond_left"] @ grad @ state["inv_precond_right"]
                direction.mul_(grad.norm() / direction.norm().clamp(min=1e-12))  # grafting
                state["momentum_buffer"].mul_(group["momentum"]).add_(direction)
                p.add_(state["momentum_buffer"].view_as(p), alpha=-group["lr"])
                state["step"] += 1


class AdaHessian(torch.optim.Optimizer):
    def __init__(self, params, rng, lr=0.05, betas=(0.9, 0.999), eps=1e-4, hessian_power=1.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, hessian_power=hessian_power))
        self.rng = rng

    def get_trace(self, params, grads):
        zs = [
            torch.from_numpy(self.rng.integers(0, 2, tuple(p.shape)).astype(np.float32) * 2 - 1)
            for p in params
        ]
        h_zs = torch.autograd.grad(
            grads, params, grad_outputs=zs, only_inputs=True, retain_graph=False
        )
        traces = []
        for hz, z in zip(h_zs, zs):
            hut = (hz * z).abs()
            if hut.dim() == 4:  # average over each kernel's spatial positions
                hut = hut.mean(dim=[2, 3], keepdim=True)
            traces.append(hut.expand_as(z))
        return traces

    @torch.no_grad()
    def step(self, closure=None):
        params = [p for group in self.param_groups for p in group["params"] if p.grad is not None]
        grads = [p.grad for p in params]
        with torch.enable_grad():
            traces = self.get_trace(params, grads)
        for p, trace in zip(params, traces):
            group, state = self.param_groups[0], self.state[p]
            if len(state) == 0:
                state["step"], state["exp_avg"] = 0, torch.zeros_like(p)
                state["exp_hessian_diag_sq"] = torch.zeros_like(p)
            beta1, beta2 = group["betas"]
            state["step"] += 1
            state["exp_avg"].mul_(beta1).add_(p.grad.detach(), alpha=1 - beta1)
            state["exp_hessian_diag_sq"].mul_(beta2).addcmul_(trace, trace, value=1 - beta2)
            bias_correction1 = 1 - beta1 ** state["step"]
            bias_correction2 = 1 - beta2 ** state["step"]
            k = group["hessian_power"]
            denom = (state["exp_hessian_diag_sq"] / bias_correction2).pow_(k / 2).add_(group["eps"])
            p.addcdiv_(state["exp_avg"], denom, value=-group["lr"] / bias_correction1)


def make_model():
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(64, 3)
    )
    return init_from_numpy(net, seed=2)


rng = np.random.default_rng(0)
x = randn(rng, 48, 1, 8, 8)
templates = randn(rng, 3, 1, 8, 8)
y = torch.tensor(rng.integers(0, 3, 48))
x = x * 0.5 + templates[y]

histories = {}
for name in ("adam", "shampoo", "adahessian"):
    model = make_model()
    if name == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    elif name == "shampoo":
        optimizer = Shampoo(model.parameters(), lr=0.05)
    else:
        optimizer = AdaHessian(model.parameters(), np.random.default_rng(7), lr=0.05)
    losses = []
    for step in range(20):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward(create_graph=name == "adahessian")
        optimizer.step()
        losses.append(loss.item())
    histories[name] = losses
    if name == "shampoo":
        shampoo_state = optimizer.state[model[0].weight]
        precond_shapes = [tuple(shampoo_state[k].shape) for k in ("precond_left", "precond_right")]
        inv_root_check = (
            torch.linalg.matrix_power(shampoo_state["inv_precond_right"], 4)
            @ shampoo_state["precond_right"]
        )
    if name == "adahessian":
        kernel_trace = optimizer.state[model[0].weight]["exp_hessian_diag_sq"]
        kernel_trace_constant = bool((kernel_trace == kernel_trace[:, :, :1, :1]).all())
        hessian_sample = kernel_trace[:, 0, 0, 0].tolist()
        grad_has_graph = model[4].weight.grad.grad_fn is not None
