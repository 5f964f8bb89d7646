"""Entropic optimal transport as POT/GeomLoss-style PyTorch code writes it: the Sinkhorn
algorithm in the log domain (dual potentials updated with ``torch.logsumexp`` over the cost
matrix from ``torch.cdist``), epsilon scaling, the debiased Sinkhorn divergence
S(a, b) = OT(a, b) - (OT(a, a) + OT(b, b)) / 2, and a Wasserstein gradient flow that moves a
point cloud by the gradient of that divergence (``autograd.grad`` through the unrolled
iterations); checked against the exact 1-D W2 from sorted samples and against the transport
plan's marginals."""

import math

import torch

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


def log_sinkhorn(x, y, eps, iters=60, log_a=None, log_b=None):
    """Returns the entropic OT cost and the log transport plan (uniform weights by default)."""
    n, m = x.shape[0], y.shape[0]
    log_a = torch.full((n,), -math.log(n)) if log_a is None else log_a
    log_b = torch.full((m,), -math.log(m)) if log_b is None else log_b
    C = torch.cdist(x, y) ** 2 / 2
    f = torch.zeros(n)
    g = torch.zeros(m)
    for _ in range(iters):
        f = -eps * torch.logsumexp(log_b[None, :] + (g[None, :] - C) / eps, dim=1)
        g = -eps * torch.logsumexp(log_a[:, None] + (f[:, None] - C) / eps, dim=0)
    log_plan = log_a[:, None] + log_b[None, :] + (f[:, None] + g[None, :] - C) / eps
    cost = (log_plan.exp() * C).sum()
    dual = (log_a.exp() * f).sum() + (log_b.exp() * g).sum()
    return cost, dual, log_plan


def sinkhorn_divergence(x, y, eps, iters=60):
    _, xy, _ = log_sinkhorn(x, y, eps, iters)
    _, xx, _ = log_sinkhorn(x, x, eps, iters)
    _, yy, _ = log_sinkhorn(y, y, eps, iters)
    return xy - 0.5 * (xx + yy)


# -- 1-D check: for small eps the cost approaches W2^2 / 2 from the sorted samples
u = torch.randn(40, 1)
v = 0.5 * torch.randn(40, 1) + 1.0
exact_w2 = 0.5 * (u.sort(0).values - v.sort(0).values).pow(2).mean().item()
one_d_costs = []
for eps in (0.5, 0.1, 0.02):
    cost, dual, log_plan = log_sinkhorn(u, v, eps, iters=200)
    one_d_costs.append([cost.item(), dual.item()])
plan = log_plan.exp()
marginal_gap = max(
    (plan.sum(1) - 1 / 40).abs().max().item(), (plan.sum(0) - 1 / 40).abs().max().item()
)

# -- epsilon scaling: start blurry and anneal, warm-starting nothing (as the simple codes do)
x2 = torch.randn(30, 2)
y2 = torch.randn(25, 2) * 0.6 + torch.tensor([2.0, -1.0])
scaled = [log_sinkhorn(x2, y2, eps, iters=40)[0].item() for eps in (1.0, 0.3, 0.1)]

# -- the Sinkhorn divergence's gradient flow: particles x move towards the target y
target = torch.cat([torch.randn(30, 2) * 0.3 + torch.tensor([1.5, 0.0]),
                    torch.randn(30, 2) * 0.3 - torch.tensor([1.5, 0.0])])  # fmt: skip
particles = torch.randn(40, 2) * 0.5
lr = 0.5
flow_losses, flow_grad_norms = [], []
for step in range(12):
    particles.requires_grad_(True)
    loss = sinkhorn_divergence(particles, target, eps=0.1, iters=30)
    (grad,) = torch.autograd.grad(loss, particles)
    # the gradient of a measure's functional is scaled by the particle's mass 1/n
    particles = (particles - lr * len(particles) * grad).detach()
    flow_losses.append(loss.item())
    flow_grad_norms.append(grad.norm().item())
left_fraction = (particles[:, 0] < 0).double().mean().item()
particle_sample = particles[:4].tolist()
self_divergence = sinkhorn_divergence(target, target, 0.1, 30).item()
torch.set_default_dtype(torch.float32)
