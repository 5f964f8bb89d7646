"""A training step as large-model repositories write it: gradient accumulation over
micro-batches with a ``no_sync``-style context on all but the last one
(``contextlib.nullcontext`` on one process), the loss divided by the accumulation steps,
``clip_grad_norm_(foreach=True, error_if_nonfinite=True)`` (its returned total norm logged and
a non-finite gradient turned into a skipped step), an EMA of the weights kept with
``torch._foreach_mul_``/``_foreach_add_`` and warmup-adjusted decay (timm's ModelEmaV3 style)
next to ``AveragedModel(multi_avg_fn=get_ema_multi_avg_fn())``, and
``parameters_to_vector``/``vector_to_parameters`` for a flat copy used in a weight-space check."""

import contextlib
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import clip_grad_norm_, parameters_to_vector, vector_to_parameters
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(8, 32), nn.SiLU(), nn.Linear(32, 32), nn.SiLU(), nn.Linear(32, 4))
ema_params = [p.detach().clone() for p in model.parameters()]
averaged = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9))
opt = torch.optim.AdamW(model.parameters(), lr=2e-3, betas=(0.9, 0.95), weight_decay=0.1)
ACCUM, MICRO = 4, 8
X = torch.randn(160, 8)
Y = (X @ torch.randn(8, 4)).argmax(1)


def no_sync(is_last):
    """DDP's ``model.no_sync()`` skips the all-reduce on all but the last micro-batch."""
    if hasattr(model, "no_sync") and not is_last:
        return model.no_sync()
    return contextlib.nullcontext()


def ema_decay(step, base=0.999, warmup_power=0.75):
    return min(base, 1 - (1 + step) ** -warmup_power)


losses, norms, skipped, decays = [], [], [], []
for step in range(5):
    opt.zero_grad(set_to_none=True)
    total = 0.0
    for micro in range(ACCUM):
        start = (step * ACCUM + micro) * MICRO
        x, y = X[start : start + MICRO], Y[start : start + MICRO]
        with no_sync(micro == ACCUM - 1):
            loss = F.cross_entropy(model(x), y) / ACCUM
            loss.backward()
        total += loss.item()
    if step == 3:
        model[0].weight.grad[0, 0] = float("inf")  # a bad step: clipping refuses it
    try:
        norm = clip_grad_norm_(
            model.parameters(), max_norm=0.5, foreach=True, error_if_nonfinite=True
        )
    except RuntimeError as e:
        skipped.append(str(e).split(",")[0])
        continue
    opt.step()
    decay = ema_decay(step)
    decays.append(round(decay, 8))
    with torch.no_grad():
        current = [p.detach() for p in model.parameters()]
        torch._foreach_mul_(ema_params, decay)
        torch._foreach_add_(ema_params, current, alpha=1 - decay)
    averaged.update_parameters(model)
    losses.append(total)
    norms.append(norm.item())

ema_gap = max(
    (a - b).abs().max().item() for a, b in zip(ema_params, model.parameters())
)  # how far the EMA lags the weights
avg_sample = [round(v, 6) for v in averaged.module[0].weight[0, :4].tolist()]
n_averaged = averaged.n_averaged.item()
ema_norms = [round(v.item(), 5) for v in torch._foreach_norm(ema_params)]

flat = parameters_to_vector(model.parameters())
flat_info = [flat.numel(), sum(p.numel() for p in model.parameters())]
probe = copy.deepcopy(model)
direction = torch.randn(flat.numel(), generator=torch.Generator().manual_seed(5))
direction /= direction.norm()
curve = []
for alpha in (-0.5, 0.0, 0.5):
    vector_to_parameters(flat + alpha * direction, probe.parameters())
    with torch.no_grad():
        curve.append(F.cross_entropy(probe(X[:64]), Y[:64]).item())
restored_gap = (parameters_to_vector(model.parameters()) - flat).abs().max().item()
