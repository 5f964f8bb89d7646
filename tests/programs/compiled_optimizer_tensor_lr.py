"""The "(beta) Compiling the optimizer with torch.compile" and "Running the compiled optimizer
with an LR scheduler" recipes, with the compiler controls of current PyTorch: an Adam whose
``lr`` is a tensor (``lr=torch.tensor(0.01)``, so the scheduler changes it without
recompiling), ``@torch.compile(fullgraph=False)`` around ``opt.step()`` and a LinearLR
scheduler, ``torch._dynamo.mark_dynamic`` on a batch that changes size,
``torch.compiler.disable`` on a logging helper, ``torch.compiler.set_stance("force_eager")``
around an evaluation, ``torch.compiler.is_compiling()`` and ``torch.compiler.reset()``; the
compiled run is compared with an eager twin step by step."""

import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(*[nn.Linear(16, 16) for _ in range(4)])
twin = nn.Sequential(*[nn.Linear(16, 16) for _ in range(4)])
twin.load_state_dict(model.state_dict())

opt = torch.optim.Adam(model.parameters(), lr=torch.tensor(0.01))
sched = torch.optim.lr_scheduler.LinearLR(opt, total_iters=5)
twin_opt = torch.optim.Adam(twin.parameters(), lr=0.01)
twin_sched = torch.optim.lr_scheduler.LinearLR(twin_opt, total_iters=5)
lr_is_tensor = isinstance(opt.param_groups[0]["lr"], torch.Tensor)

log_calls = []


@torch.compiler.disable
def log_step(step, loss):
    log_calls.append((step, torch.compiler.is_compiling()))


@torch.compile(fullgraph=False)
def opt_step():
    opt.step()
    sched.step()


@torch.compile(dynamic=None)
def loss_fn(net, x, y):
    return nn.functional.smooth_l1_loss(net(x), y)


lrs, losses, twin_losses = [], [], []
for step, batch in enumerate([8, 12, 8, 5, 12, 9]):
    x = torch.randn(batch, 16)
    y = torch.randn(batch, 16)
    torch._dynamo.mark_dynamic(x, 0)
    torch._dynamo.mark_dynamic(y, 0)
    loss = loss_fn(model, x, y)
    loss.backward()
    opt_step()
    opt.zero_grad(set_to_none=True)
    log_step(step, loss)
    twin_loss = nn.functional.smooth_l1_loss(twin(x), y)
    twin_loss.backward()
    twin_opt.step()
    twin_sched.step()
    twin_opt.zero_grad()
    lrs.append(opt.param_groups[0]["lr"].item())
    losses.append(loss.item())
    twin_losses.append(twin_loss.item())
    print(f"step {step} batch {batch}: loss {losses[-1]:.6f} lr {lrs[-1]:.5f}")

twin_lrs = twin_sched.get_last_lr()
compiling_outside = torch.compiler.is_compiling()
with torch.compiler.set_stance("force_eager"):
    eval_loss = loss_fn(model, x, y).item()
with torch.no_grad():
    eager_eval = nn.functional.smooth_l1_loss(model(x), y).item()
max_param_gap = max(
    (p - q).abs().max().item() for p, q in zip(model.parameters(), twin.parameters())
)
torch.compiler.reset()
after_reset = loss_fn(model, x, y).item()
state_keys = sorted(opt.state_dict()["state"][0].keys())
step_dtype = str(opt.state_dict()["state"][0]["step"].dtype)
