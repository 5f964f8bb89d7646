"""Optimizer implementation flags and schedule composition as 2025 training code sets them:
the same model trained with AdamW ``foreach=False`` (for-loop), ``foreach=True`` and
``fused=True`` (all three must agree), SGD with Nesterov momentum in each implementation,
Adam with ``amsgrad`` and ``maximize``, parameter groups without weight decay for norms and
biases (torchtitan/nanoGPT style ``param_dict`` split), ``ChainedScheduler([...],
optimizer=opt)`` of a LinearLR warmup and ExponentialLR, ``SequentialLR`` of ConstantLR and
PolynomialLR, and the ``get_last_lr()`` history of each."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
X = torch.randn(32, 10)
Y = (X[:, :3].sum(dim=1, keepdim=True) > 0).float()


def make_model():
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(10, 16), nn.LayerNorm(16), nn.GELU(), nn.Linear(16, 1))


def param_groups(model, weight_decay):
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    decay = [p for n, p in params.items() if p.dim() >= 2]
    no_decay = [p for n, p in params.items() if p.dim() < 2]
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def train(make_opt, make_sched=None, steps=8):
    model = make_model()
    opt = make_opt(model)
    sched = make_sched(opt) if make_sched else None
    losses, lrs = [], []
    for _ in range(steps):
        loss = F.binary_cross_entropy_with_logits(model(X), Y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
            lrs.append([round(lr, 10) for lr in sched.get_last_lr()])
        losses.append(loss.item())
    weights = model[0].weight.detach().clone()
    return losses, lrs, weights, opt


results = {}
for impl in ("for-loop", "foreach", "fused"):
    flags = {"foreach": impl == "foreach", "fused": True if impl == "fused" else None}
    adamw = lambda m, f=flags: torch.optim.AdamW(  # noqa: E731
        param_groups(m, 0.1), lr=3e-3, betas=(0.9, 0.95), eps=1e-8, **f
    )
    sgd = lambda m, f=flags: torch.optim.SGD(  # noqa: E731
        m.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4, **f
    )
    results[impl] = (train(adamw), train(sgd))
    print(f"{impl}: AdamW last loss {results[impl][0][0][-1]:.6f}")

adamw_losses = results["for-loop"][0][0]
sgd_losses = results["for-loop"][1][0]
impl_gaps = {
    impl: max(
        (results[impl][0][2] - results["for-loop"][0][2]).abs().max().item(),
        (results[impl][1][2] - results["for-loop"][1][2]).abs().max().item(),
    )
    for impl in ("foreach", "fused")
}
opt = results["fused"][0][3]
group_info = [
    (len(g["params"]), g["weight_decay"], g["fused"], g["foreach"]) for g in opt.param_groups
]

ams_losses, _, ams_w, ams_opt = train(
    lambda m: torch.optim.Adam(m.parameters(), lr=1e-2, amsgrad=True, foreach=True)
)
ams_state_keys = sorted(ams_opt.state[ams_opt.param_groups[0]["params"][0]].keys())
max_losses, _, _, _ = train(
    lambda m: torch.optim.Adam(m.parameters(), lr=1e-3, maximize=True, fused=True), steps=4
)

chained_losses, chained_lrs, _, _ = train(
    lambda m: torch.optim.AdamW(m.parameters(), lr=1e-2, fused=True),
    lambda o: torch.optim.lr_scheduler.ChainedScheduler(
        [
            torch.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=3),
            torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9),
        ],
        optimizer=o,
    ),
)
sequential_losses, sequential_lrs, _, _ = train(
    lambda m: torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, foreach=True),
    lambda o: torch.optim.lr_scheduler.SequentialLR(
        o,
        [
            torch.optim.lr_scheduler.ConstantLR(o, factor=0.5, total_iters=2),
            torch.optim.lr_scheduler.PolynomialLR(o, total_iters=5, power=2.0),
        ],
        milestones=[3],
    ),
)
print(f"chained lrs {chained_lrs[:3]} sequential lrs {sequential_lrs[-3:]}")
