"""GaLore (Zhao et al. 2024) as the authors' ``galore_torch`` writes it: a ``GaLoreProjector``
that every ``update_proj_gap`` steps takes ``torch.linalg.svd(grad, full_matrices=False)`` and
keeps the top ``rank`` left (wide matrices) or right (tall matrices) singular vectors, projects
the gradient into that subspace, lets Adam's moments live there (``state['exp_avg']`` of the
low-rank shape), and projects the normalized update back with ``scale``; a ``GaLoreAdamW``
subclass of ``torch.optim.Optimizer`` applies it to the param groups that carry a ``rank`` key
(the other group is plain AdamW). An MLP regresses a low-rank target map; the projector's
bases stay orthonormal and the memory of the moments is counted."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class GaLoreProjector:
    def __init__(self, rank, verbose=False, update_proj_gap=200, scale=1.0, proj_type="std"):
        self.rank = rank
        self.verbose = verbose
        self.update_proj_gap = update_proj_gap
        self.scale = scale
        self.ortho_matrix = None
        self.proj_type = proj_type

    def project(self, full_rank_grad, iter):
        if full_rank_grad.shape[0] >= full_rank_grad.shape[1]:
            if self.ortho_matrix is None or iter % self.update_proj_gap == 0:
                self.ortho_matrix = self.get_orthogonal_matrix(full_rank_grad, self.rank, "right")
            low_rank_grad = torch.matmul(full_rank_grad, self.ortho_matrix.t())
        else:
            if self.ortho_matrix is None or iter % self.update_proj_gap == 0:
                self.ortho_matrix = self.get_orthogonal_matrix(full_rank_grad, self.rank, "left")
            low_rank_grad = torch.matmul(self.ortho_matrix.t(), full_rank_grad)
        return low_rank_grad

    def project_back(self, low_rank_grad):
        if low_rank_grad.shape[0] >= low_rank_grad.shape[1]:
            full_rank_grad = torch.matmul(low_rank_grad, self.ortho_matrix)
        else:
            full_rank_grad = torch.matmul(self.ortho_matrix, low_rank_grad)
        return full_rank_grad * self.scale

    def get_orthogonal_matrix(self, weights, rank, type):
        module_params = weights
        if module_params.data.dtype != torch.float:
            float_data, original_type = False, module_params.data.dtype
            matrix = module_params.data.float()
        else:
            float_data, matrix = True, module_params.data
        U, s, Vh = torch.linalg.svd(matrix, full_matrices=False)
        # fix the signs (the largest entry of each vector positive): the basis is then the
        # same whichever LAPACK computed it
        if type == "right":
            signs = torch.sign(Vh[torch.arange(Vh.shape[0]), Vh.abs().argmax(1)])
            B = (Vh * signs[:, None])[:rank, :]
            return B if float_data else B.to(original_type)
        elif type == "left":
            signs = torch.sign(U[U.abs().argmax(0), torch.arange(U.shape[1])])
            A = (U * signs)[:, :rank]
            return A if float_data else A.to(original_type)
        raise ValueError("type should be left, right or full")


class GaLoreAdamW(torch.optim.Optimizer):
    def __init__(
        self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0, correct_bias=True
    ):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr} - should be >= 0.0")
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "correct_bias": correct_bias,
        }
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                state = self.state[p]
                if "step" not in state:
                    state["step"] = 0
                if "rank" in group:  # GaLore projection
                    if "projector" not in state:
                        state["projector"] = GaLoreProjector(
                            group["rank"],
                            update_proj_gap=group["update_proj_gap"],
                            scale=group["scale"],
                            proj_type=group["proj_type"],
                        )
                    grad = state["projector"].project(grad, state["step"])
                if "exp_avg" not in state:
                    state["exp_avg"] = torch.zeros_like(grad)
                    state["exp_avg_sq"] = torch.zeros_like(grad)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                beta1, beta2 = group["betas"]
                state["step"] += 1
                exp_avg.mul_(beta1).add_(grad, alpha=(1.0 - beta1))
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
                denom = exp_avg_sq.sqrt().add_(group["eps"])
                step_size = group["lr"]
                if group["correct_bias"]:
                    bias_correction1 = 1.0 - beta1 ** state["step"]
                    bias_correction2 = 1.0 - beta2 ** state["step"]
                    step_size = step_size * math.sqrt(bias_correction2) / bias_correction1
                norm_grad = exp_avg / denom
                if "rank" in group:
                    norm_grad = state["projector"].project_back(norm_grad)
                p.add_(norm_grad, alpha=-step_size)
                if group["weight_decay"] > 0.0:
                    p.add_(p, alpha=(-group["lr"] * group["weight_decay"]))
        return loss


torch.manual_seed(0)
A = torch.randn(20, 3) @ torch.randn(3, 12) / 3
X = torch.randn(128, 20)
Y = torch.tanh(X @ A)

model = nn.Sequential(nn.Linear(20, 32), nn.Tanh(), nn.Linear(32, 12))
galore_params = [m.weight for m in model if isinstance(m, nn.Linear)]
id_galore = {id(p) for p in galore_params}
regular = [p for p in model.parameters() if id(p) not in id_galore]
param_groups = [
    {"params": regular},
    {"params": galore_params, "rank": 4, "update_proj_gap": 10, "scale": 0.25, "proj_type": "std"},
]
optimizer = GaLoreAdamW(param_groups, lr=0.02)

losses, basis_changes, prev = [], 0, None
for step in range(40):
    idx = torch.arange(step * 32, step * 32 + 32) % 128
    optimizer.zero_grad()
    loss = F.mse_loss(model(X[idx]), Y[idx])
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    basis = optimizer.state[model[0].weight]["projector"].ortho_matrix
    if prev is not None and basis is not prev:
        basis_changes += 1
    prev = basis

moment_shapes = {
    name: tuple(optimizer.state[p]["exp_avg"].shape) for name, p in model.named_parameters()
}
full_numel = sum(p.numel() for p in model.parameters())
moment_numel = sum(optimizer.state[p]["exp_avg"].numel() for p in model.parameters())
orthonormal_gaps = []
for p in galore_params:
    Q = optimizer.state[p]["projector"].ortho_matrix
    gram = Q @ Q.t() if Q.shape[0] <= Q.shape[1] else Q.t() @ Q
    orthonormal_gaps.append((gram - torch.eye(4)).abs().max().item())
first_basis_row = optimizer.state[model[2].weight]["projector"].ortho_matrix[:, 0].tolist()
