"""Optimizer and gradient bookkeeping that people get wrong, as threads show it: gradients that
accumulate across ``backward`` calls until ``zero_grad`` (which sets them to ``None`` by default),
an optimizer step skipping parameters whose ``.grad`` is ``None`` (so weight decay does not touch
frozen parameters) but not parameters whose gradient is zero, ``requires_grad_(False)`` after the
optimizer was built, a ``parameters()`` generator consumed by the first optimizer (the second
gets "optimizer got an empty parameter list"), a parameter in two groups (the error),
``add_param_group``, ``clip_grad_norm_`` returning the norm before clipping (and
``error_if_nonfinite``), ``clip_grad_value_``, gradient accumulation divided by the number of
steps equal to one large batch, ``Adam(weight_decay=)`` against ``AdamW``, and a scheduler
stepped before the optimizer (the warning)."""

import warnings

import torch
from torch import nn

torch.manual_seed(0)


def error_of(fn):
    try:
        fn()
    except Exception as e:  # the program records whichever error it gets
        return [type(e).__name__, str(e)]
    return None


x = torch.randn(8, 3)
y = torch.randn(8, 1)

# Accumulating gradients and zero_grad.
lin = nn.Linear(3, 1)
loss_fn = nn.MSELoss()
loss_fn(lin(x), y).backward()
g1 = lin.weight.grad.clone()
loss_fn(lin(x), y).backward()
accumulated = torch.allclose(lin.weight.grad, 2 * g1)
opt = torch.optim.SGD(lin.parameters(), lr=0.1)
opt.zero_grad()
after_zero = [lin.weight.grad is None, lin.bias.grad is None]
loss_fn(lin(x), y).backward()
opt.zero_grad(set_to_none=False)
after_zero_false = lin.weight.grad.tolist()

# None grads are skipped (no weight decay); zero grads are not.
a = nn.Parameter(torch.ones(2))
b = nn.Parameter(torch.ones(2))
decay = torch.optim.SGD([a, b], lr=0.5, weight_decay=0.1, momentum=0.9)
a.grad = torch.zeros(2)  # b.grad stays None
decay.step()
decay.step()
skipped = [a.tolist(), b.tolist(), len(decay.state[b]), sorted(decay.state[a].keys())]

# Freezing after building the optimizer: no grad, so no update.
net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
adam = torch.optim.Adam(net.parameters(), lr=0.1)
frozen_before = net[0].weight.detach().clone()
net[0].requires_grad_(False)
for _ in range(2):
    adam.zero_grad()
    loss_fn(net(x), y).backward()
    adam.step()
frozen = [torch.equal(frozen_before, net[0].weight), net[0].weight.grad is None, len(adam.state)]

# A consumed generator; a parameter in two groups; add_param_group.
params = net.parameters()
first = torch.optim.SGD(params, lr=0.1)
empty_error = error_of(lambda: torch.optim.SGD(params, lr=0.1))
dup_error = error_of(
    lambda: torch.optim.SGD([{"params": net[0].parameters()}, {"params": net.parameters()}], lr=1)
)
extra = nn.Linear(4, 2)
first.add_param_group({"params": extra.parameters(), "lr": 0.01})
groups = [[len(g["params"]), g["lr"], g["momentum"]] for g in first.param_groups]
add_error = error_of(lambda: first.add_param_group({"params": extra.weight}))

# clip_grad_norm_ returns the total norm before clipping.
clip = nn.Linear(3, 2)
(clip(x) * 10).pow(2).sum().backward()
norm_before = torch.cat([p.grad.flatten() for p in clip.parameters()]).norm().item()
returned = nn.utils.clip_grad_norm_(clip.parameters(), max_norm=1.0).item()
norm_after = torch.cat([p.grad.flatten() for p in clip.parameters()]).norm().item()
clip.weight.grad[0, 0] = float("inf")
nonfinite_error = error_of(
    lambda: nn.utils.clip_grad_norm_(clip.parameters(), 1.0, error_if_nonfinite=True)
)
inf_norm = nn.utils.clip_grad_norm_(clip.parameters(), 1.0, norm_type="inf").item()
value_clip = nn.Linear(2, 2)
(value_clip(torch.ones(1, 2)) * 50).sum().backward()
nn.utils.clip_grad_value_(value_clip.parameters(), clip_value=0.5)
clipped_values = value_clip.weight.grad.tolist()
clipping = [norm_before, returned, norm_after, inf_norm]

# Gradient accumulation: 4 micro-batches of 2 (loss / 4) equal one batch of 8.
torch.manual_seed(1)
acc = nn.Linear(3, 1)
big = nn.Linear(3, 1)
big.load_state_dict(acc.state_dict())
for chunk_x, chunk_y in zip(x.split(2), y.split(2)):
    (loss_fn(acc(chunk_x), chunk_y) / 4).backward()
loss_fn(big(x), y).backward()
accumulation_gap = (acc.weight.grad - big.weight.grad).abs().max().item()

# Adam(weight_decay) adds decay to the gradient; AdamW decays the weights directly.
results = {}
for name, cls in (("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW)):
    torch.manual_seed(2)
    model = nn.Linear(3, 1)
    o = cls(model.parameters(), lr=0.05, weight_decay=0.5)
    losses = []
    for _ in range(5):
        o.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        o.step()
        losses.append(loss.item())
    results[name] = [losses, model.weight.flatten().tolist()]

# Scheduler stepped before the optimizer: a warning, and the first lr is skipped.
sched_model = nn.Linear(3, 1)
sched_opt = torch.optim.SGD(sched_model.parameters(), lr=1.0)
scheduler = torch.optim.lr_scheduler.StepLR(sched_opt, step_size=1, gamma=0.5)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    scheduler.step()
    sched_opt.step()
order_warning = [str(w.message)[:60] for w in caught if "lr_scheduler.step()" in str(w.message)]
lrs = [sched_opt.param_groups[0]["lr"], scheduler.get_last_lr()]
