"""Global defaults as reproducibility and precision code sets them: the reproducibility
recipe's ``seed_everything`` (``torch.manual_seed``, ``torch.use_deterministic_algorithms``
with ``warn_only``, ``torch.backends.cudnn.deterministic/benchmark``; ``torch.empty`` then gives NaN, as
``torch.utils.deterministic.fill_uninitialized_memory`` says), a float64 experiment
run under ``torch.set_default_dtype(torch.float64)`` (factories, Python scalars, ``nn``
layers and complex defaults follow it), the default device set to ``"meta"`` to build a
model without memory and then ``to_empty`` + ``reset_parameters`` on the CPU, the
``torch.device`` context manager, and every default put back at the end."""

import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def train(steps=30):
    model = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1))
    x = torch.linspace(-2, 2, 48).reshape(-1, 1) * torch.tensor([1.0, 0.5, -0.25])
    y = torch.sin(x.sum(1, keepdim=True)) + 0.1 * torch.randn(48, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(steps):
        loss = F.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model, losses


before = (torch.get_default_dtype(), torch.are_deterministic_algorithms_enabled())
try:
    seed_everything(0)
    flags = [
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
    ]
    counts = torch.zeros(5).index_add_(0, torch.tensor([0, 1, 1, 4, 4, 4]), torch.ones(6))
    hist = counts.tolist()
    # deterministic mode fills "uninitialized" memory with known values
    filled = [
        torch.utils.deterministic.fill_uninitialized_memory,
        torch.empty(3).isnan().all().item(),
        torch.empty(2, dtype=torch.int64).tolist(),
        torch.empty_like(counts).isnan().all().item(),
    ]

    model32, losses32 = train()
    torch.set_default_dtype(torch.float64)
    seed_everything(0)
    dtypes = [
        str(torch.tensor([1.5]).dtype),
        str(torch.arange(3.0).dtype),
        str(torch.zeros(2).dtype),
        str((torch.ones(2, dtype=torch.int64) * 0.5).dtype),
        str(torch.tensor([1j]).dtype),
        str(torch.randn(2).dtype),
        str(torch.full((2,), 3).dtype),
    ]
    model64, losses64 = train()
    param_dtypes = sorted({str(p.dtype) for p in model64.parameters()})
    # the same seed draws the same numbers: float64 draws round to the float32 ones
    torch.manual_seed(3)
    draw64 = torch.randn(4)
    torch.set_default_dtype(torch.float32)
    torch.manual_seed(3)
    draw32 = torch.randn(4)
    draw_gap = (draw64.float() - draw32).abs().max().item()

    torch.set_default_device("meta")
    big = nn.Linear(1024, 1024)
    meta_info = [str(big.weight.device), big.weight.is_meta, list(big.weight.shape)]
    torch.set_default_device(None)
    with torch.device("meta"):
        small = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    torch.manual_seed(5)
    small = small.to_empty(device="cpu")
    for module in small.modules():
        if isinstance(module, nn.Linear):
            module.reset_parameters()
    torch.manual_seed(5)
    reference = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    materialized_equal = all(
        torch.equal(a, b) for a, b in zip(small.parameters(), reference.parameters())
    )
    after_ctx_device = str(torch.zeros(1).device)
finally:
    torch.set_default_dtype(before[0])
    torch.set_default_device(None)
    torch.use_deterministic_algorithms(before[1])
restored = [str(torch.get_default_dtype()), torch.are_deterministic_algorithms_enabled()]
