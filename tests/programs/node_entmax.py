"""Neural Oblivious Decision Ensembles (NODE, Popov et al. 2020) as the authors' PyTorch code
writes them, with the exact sort-based 1.5-entmax of the ``entmax`` package (Peters et al.
2019) as a ``torch.autograd.Function``: the threshold tau from sorted inputs, ``cumsum`` of the
values and their squares and ``gather`` at the support size, and a hand-written backward using
sqrt(Y). An ODST layer picks features by entmax over learned selection logits (``einsum``),
compares them with learned thresholds under learned temperatures, turns the comparisons into
soft left/right choices with sparsemoid (``clamp(0.5 x + 0.5, 0, 1)``), multiplies the choices
along the depth into leaf weights against one-hot bin codes, and reads out the leaves'
responses. Trained on a synthetic tabular regression; the Function passes gradcheck."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import randn

rng = np.random.default_rng(11)


def _make_ix_like(X, dim):
    d = X.size(dim)
    rho = torch.arange(1, d + 1, device=X.device, dtype=X.dtype)
    view = [1] * X.dim()
    view[0] = -1
    return rho.view(view).transpose(0, dim)


def _entmax_threshold_and_support(X, dim=-1):
    Xsrt, _ = torch.sort(X, descending=True, dim=dim)
    rho = _make_ix_like(X, dim)
    mean = Xsrt.cumsum(dim) / rho
    mean_sq = (Xsrt**2).cumsum(dim) / rho
    ss = rho * (mean_sq - mean**2)
    delta = (1 - ss) / rho
    delta_nz = torch.clamp(delta, 0)
    tau = mean - torch.sqrt(delta_nz)
    support_size = (tau <= Xsrt).sum(dim).unsqueeze(dim)
    tau_star = tau.gather(dim, support_size - 1)
    return tau_star, support_size


class Entmax15Function(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X, dim=0):
        ctx.dim = dim
        max_val, _ = X.max(dim=dim, keepdim=True)
        X = (X - max_val) / 2  # the entmax package's scaling: alpha - 1 = 1/2
        tau_star, _ = _entmax_threshold_and_support(X, dim=dim)
        Y = torch.clamp(X - tau_star, min=0) ** 2
        ctx.save_for_backward(Y)
        return Y

    @staticmethod
    def backward(ctx, dY):
        (Y,) = ctx.saved_tensors
        gppr = Y.sqrt()
        dX = dY * gppr
        q = dX.sum(ctx.dim) / gppr.sum(ctx.dim)
        dX -= q.unsqueeze(ctx.dim) * gppr
        return dX, None


def entmax15(X, dim=0):
    return Entmax15Function.apply(X, dim)


def sparsemoid(x):
    return (0.5 * x + 0.5).clamp_(0, 1)


class ODST(nn.Module):
    def __init__(self, in_features, num_trees, depth=2, tree_dim=1):
        super().__init__()
        self.depth, self.num_trees, self.tree_dim = depth, num_trees, tree_dim
        self.response = nn.Parameter(randn(rng, num_trees, tree_dim, 2**depth))
        self.feature_selection_logits = nn.Parameter(randn(rng, in_features, num_trees, depth))
        self.feature_thresholds = nn.Parameter(randn(rng, num_trees, depth) * 0.5)
        self.log_temperatures = nn.Parameter(torch.zeros(num_trees, depth))
        with torch.no_grad():
            indices = torch.arange(2**depth)
            offsets = 2 ** torch.arange(depth)
            bin_codes = (indices.view(1, -1) // offsets.view(-1, 1) % 2).to(torch.float32)
            bin_codes_1hot = torch.stack([bin_codes, 1.0 - bin_codes], dim=-1)
        self.bin_codes_1hot = nn.Parameter(bin_codes_1hot, requires_grad=False)

    def forward(self, x):
        selectors = entmax15(self.feature_selection_logits, dim=0)
        feature_values = torch.einsum("bi,ind->bnd", x, selectors)
        threshold_logits = (feature_values - self.feature_thresholds) * torch.exp(
            -self.log_temperatures
        )
        threshold_logits = torch.stack([-threshold_logits, threshold_logits], dim=-1)
        bins = sparsemoid(threshold_logits)
        bin_matches = torch.einsum("btds,dcs->btdc", bins, self.bin_codes_1hot)
        response_weights = torch.prod(bin_matches, dim=-2)
        response = torch.einsum("bnd,ncd->bnc", response_weights, self.response)
        return response.flatten(1, 2)


N, D = 96, 6
x = randn(rng, N, D)
y = torch.where(x[:, 0] > 0, 1.0, -1.0) + 0.5 * torch.where(x[:, 2] > 0.5, 1.0, 0.0)
model = ODST(D, num_trees=6, depth=2)
opt = torch.optim.Adam(model.parameters(), lr=0.05)
losses = []
for _ in range(25):
    pred = model(x).mean(dim=1)
    loss = F.mse_loss(pred, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
grad_norms = {n: p.grad.norm().item() for n, p in model.named_parameters() if p.requires_grad}
selectors = entmax15(model.feature_selection_logits.detach(), dim=0)
selector_sums = selectors.sum(0).flatten().tolist()
selector_zeros = int((selectors == 0).sum())
frozen_codes = model.bin_codes_1hot.requires_grad
n_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)

probe = torch.tensor([[1.0, 0.5, -2.0, 0.9], [0.0, 0.0, 0.0, 0.0]])
entmax_probe = entmax15(probe, dim=-1).tolist()
softmax_probe = F.softmax(probe, dim=-1)[0].tolist()
xd = randn(rng, 3, 5).double().requires_grad_(True)
gradcheck_ok = torch.autograd.gradcheck(lambda t: entmax15(t, -1), (xd,), eps=1e-6, atol=1e-5)
