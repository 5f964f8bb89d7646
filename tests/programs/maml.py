"""MAML (Finn et al. 2017) on sine-wave regression, as people write it for PyTorch: inner-loop
adaptation through torch.func.functional_call with autograd.grad(create_graph=True)
(second-order meta-gradients), the first-order variant, and the functorch example's form with
torch.func.grad and vmap over a batch of tasks."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, grad, vmap

torch.manual_seed(0)


def sample_tasks(n_tasks, k_shot=10, k_query=10):
    """Sine waves with random amplitude and phase; support and query points per task."""
    amp = torch.empty(n_tasks, 1, 1).uniform_(0.1, 5.0)
    phase = torch.empty(n_tasks, 1, 1).uniform_(0, math.pi)
    x_s = torch.empty(n_tasks, k_shot, 1).uniform_(-5, 5)
    x_q = torch.empty(n_tasks, k_query, 1).uniform_(-5, 5)
    return x_s, amp * torch.sin(x_s + phase), x_q, amp * torch.sin(x_q + phase)


def make_model():
    return nn.Sequential(
        nn.Linear(1, 40), nn.ReLU(), nn.Linear(40, 40), nn.ReLU(), nn.Linear(40, 1)
    )


inner_lr, inner_steps, meta_lr, tasks_per_batch = 0.01, 1, 3e-3, 5


def adapt(model, params, x, y, first_order=False):
    for _ in range(inner_steps):
        loss = F.mse_loss(functional_call(model, params, (x,)), y)
        grads = torch.autograd.grad(loss, list(params.values()), create_graph=not first_order)
        params = {name: p - inner_lr * g for (name, p), g in zip(params.items(), grads)}
    return params


def train_maml(first_order, iterations=150):
    torch.manual_seed(1)
    model = make_model()
    meta_opt = torch.optim.Adam(model.parameters(), lr=meta_lr)
    history = []
    for it in range(iterations):
        meta_opt.zero_grad()
        x_s, y_s, x_q, y_q = sample_tasks(tasks_per_batch)
        total = 0.0
        for t in range(tasks_per_batch):
            fast = adapt(model, dict(model.named_parameters()), x_s[t], y_s[t], first_order)
            query_loss = F.mse_loss(functional_call(model, fast, (x_q[t],)), y_q[t])
            (query_loss / tasks_per_batch).backward()
            total += query_loss.item()
        meta_opt.step()
        history.append(total / tasks_per_batch)
        if it % 50 == 0:
            print(
                f"{'FO' if first_order else 'second-order'} iteration {it}: query loss {history[-1]:.3f}"
            )
    return model, history


model, history = train_maml(first_order=False)
fo_model, fo_history = train_maml(first_order=True)

# The second-order meta-gradient differs from the first-order one on the same task
x_s, y_s, x_q, y_q = sample_tasks(1)
meta_grads = []
for first_order in (False, True):
    params = dict(model.named_parameters())
    fast = adapt(model, params, x_s[0], y_s[0], first_order)
    loss = F.mse_loss(functional_call(model, fast, (x_q[0],)), y_q[0])
    meta_grads.append(torch.autograd.grad(loss, list(params.values())))
second_order_gap = max((a - b).abs().max().item() for a, b in zip(*meta_grads))


# functorch's MAML example: per-task losses by torch.func.grad, batched over tasks by vmap
def loss_fn(params, x, y):
    return F.mse_loss(functional_call(model, params, (x,)), y)


def inner_loop(params, x_s, y_s, x_q, y_q):
    grads = grad(loss_fn)(params, x_s, y_s)
    fast = {k: params[k] - inner_lr * grads[k] for k in params}
    return loss_fn(fast, x_q, y_q)


params = {k: v.detach() for k, v in model.named_parameters()}
x_s, y_s, x_q, y_q = sample_tasks(8)
vmapped = vmap(inner_loop, in_dims=(None, 0, 0, 0, 0))(params, x_s, y_s, x_q, y_q)
looped = torch.stack([inner_loop(params, x_s[i], y_s[i], x_q[i], y_q[i]) for i in range(8)])
vmap_gap = (vmapped - looped).abs().max().item()


# Evaluation: adapting the meta-learned initialisation beats adapting a fresh network
def evaluate(net, steps=5):
    torch.manual_seed(123)
    x_s, y_s, x_q, y_q = sample_tasks(20)
    losses = []
    for t in range(20):
        fast = dict(net.named_parameters())
        for _ in range(steps):
            fast = adapt(net, fast, x_s[t], y_s[t], first_order=True)
        with torch.no_grad():
            losses.append(F.mse_loss(functional_call(net, fast, (x_q[t],)), y_q[t]).item())
    return sum(losses) / len(losses)


torch.manual_seed(5)
maml_eval, fresh_eval = evaluate(model), evaluate(make_model())
print(f"after 5 steps: MAML {maml_eval:.3f}, fresh {fresh_eval:.3f}")
