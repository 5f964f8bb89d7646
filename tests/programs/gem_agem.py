"""Gradient Episodic Memory (Lopez-Paz and Ranzato) and A-GEM (Chaudhry et al.), after the
reference ``model/gem.py``: an episodic memory per task filled from each task's data,
``store_grad`` copying every parameter's ``.grad`` into a column of a flat gradient matrix,
the past tasks' gradients recomputed on the memories each step, a violated constraint
(``torch.mm(gradient, memories.t()) < 0``) fixed by projecting onto the feasible cone (GEM: the
dual QP with the memory strength as the bound ``v >= margin``, solved here by projected
gradient in float64; A-GEM: the single
averaged-gradient projection), ``overwrite_grad`` writing the result back before
``optimizer.step()``; three domain-incremental tasks, accuracy matrices and backward transfer
for plain fine-tuning, GEM and A-GEM."""

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
N_TASKS, PER_TASK, MEM, DIM = 3, 64, 16, 6

directions = torch.randn(N_TASKS, DIM)
tasks = []
for t in range(N_TASKS):
    x = torch.randn(PER_TASK, DIM)
    y = (x @ directions[t] > 0).long()
    tasks.append((x, y))


def make_net():
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(DIM, 32), nn.ReLU(), nn.Linear(32, 2))


def store_grad(pp, grads, grad_dims, tid):
    grads[:, tid].fill_(0.0)
    cnt = 0
    for param in pp():
        if param.grad is not None:
            beg = 0 if cnt == 0 else sum(grad_dims[:cnt])
            en = sum(grad_dims[: cnt + 1])
            grads[beg:en, tid].copy_(param.grad.data.view(-1))
        cnt += 1


def overwrite_grad(pp, newgrad, grad_dims):
    cnt = 0
    for param in pp():
        if param.grad is not None:
            beg = 0 if cnt == 0 else sum(grad_dims[:cnt])
            en = sum(grad_dims[: cnt + 1])
            this_grad = newgrad[beg:en].contiguous().view(param.grad.data.size())
            param.grad.data.copy_(this_grad)
        cnt += 1


def project2cone2(gradient, memories, margin=0.5, iters=200):
    """min_v 0.5 v'GG'v + g'G'v, v >= margin (the memory strength); then x = G'v + g."""
    G = memories.double()  # (t, p)
    g = gradient.double().view(-1)
    P = G @ G.t()
    P = 0.5 * (P + P.t()) + torch.eye(P.shape[0], dtype=torch.float64) * 1e-3
    q = G @ g
    v = torch.full((P.shape[0],), margin, dtype=torch.float64)
    step = 1.0 / torch.linalg.eigvalsh(P).max()
    for _ in range(iters):
        v = (v - step * (P @ v + q)).clamp_(min=margin)
    return (G.t() @ v + g).float().view(-1, 1)


def agem_project(gradient, ref):
    dot = torch.dot(gradient, ref)
    if dot < 0:
        return gradient - dot / torch.dot(ref, ref) * ref
    return gradient


def train(method):
    net = make_net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    grad_dims = [p.data.numel() for p in net.parameters()]
    grads = torch.Tensor(sum(grad_dims), N_TASKS)
    memory = []
    acc_matrix, projections = [], 0
    gen = torch.Generator().manual_seed(2)
    for t, (x, y) in enumerate(tasks):
        for epoch in range(4):
            perm = torch.randperm(PER_TASK, generator=gen)
            for i in range(0, PER_TASK, 16):
                xb, yb = x[perm[i : i + 16]], y[perm[i : i + 16]]
                if method != "finetune" and memory:
                    for tt, (mx, my) in enumerate(memory):
                        net.zero_grad()
                        F.cross_entropy(net(mx), my).backward()
                        store_grad(net.parameters, grads, grad_dims, tt)
                    if method == "agem":
                        net.zero_grad()
                        mx, my = (
                            torch.cat([m[0] for m in memory]),
                            torch.cat([m[1] for m in memory]),
                        )
                        F.cross_entropy(net(mx), my).backward()
                        store_grad(net.parameters, grads, grad_dims, N_TASKS - 1)
                net.zero_grad()
                F.cross_entropy(net(xb), yb).backward()
                if method == "gem" and memory:
                    store_grad(net.parameters, grads, grad_dims, t)
                    indx = torch.arange(len(memory))
                    dotp = torch.mm(grads[:, t].unsqueeze(0), grads.index_select(1, indx))
                    if (dotp < 0).sum() != 0:
                        projections += 1
                        new = project2cone2(
                            grads[:, t].unsqueeze(1), grads.index_select(1, indx).t()
                        )
                        overwrite_grad(net.parameters, new, grad_dims)
                elif method == "agem" and memory:
                    flat = torch.cat([p.grad.view(-1) for p in net.parameters()])
                    new = agem_project(flat, grads[:, N_TASKS - 1].clone())
                    projections += int(not torch.equal(new, flat))
                    overwrite_grad(net.parameters, new, grad_dims)
                opt.step()
        memory.append((x[:MEM].clone(), y[:MEM].clone()))
        with torch.no_grad():
            acc_matrix.append([(net(tx).argmax(1) == ty).float().mean().item() for tx, ty in tasks])
    bwt = sum(acc_matrix[-1][i] - acc_matrix[i][i] for i in range(N_TASKS - 1)) / (N_TASKS - 1)
    return acc_matrix, bwt, projections


results = {m: train(m) for m in ("finetune", "gem", "agem")}
average_acc = {m: sum(r[0][-1]) / N_TASKS for m, r in results.items()}
