"""Device-agnostic training code as 2025 tutorials write it: the device picked by the
``cuda``/``mps``/``cpu`` chain and by ``torch.accelerator.current_accelerator()``, its module
from ``torch.get_device_module``, ``torch.set_default_device`` (and ``get_default_device``)
so factories land there, ``torch.device(...)`` as a context manager for model construction,
``torch.autocast(device_type=device.type, dtype=torch.bfloat16)`` with
``torch.amp.GradScaler(device.type, enabled=...)``, ``pin_memory`` and ``non_blocking`` only
where an accelerator exists, per-device seeding with ``torch.Generator(device=device)``, and
``torch.accelerator.synchronize`` guarded by ``is_available``; everything falls through to the
CPU here."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

device = (
    "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
)
acc = torch.accelerator.current_accelerator()
device = torch.device(acc if acc is not None else device)
device_module = torch.get_device_module(device)
choice = (
    str(device),
    device.type,
    device.index,
    torch.accelerator.is_available(),
    device_module.__name__.split(".")[-1],
    torch.accelerator.device_count(),
)

gen = torch.Generator(device=device).manual_seed(0)
torch.manual_seed(0)
previous_default = torch.get_default_device()
torch.set_default_device(device)
made = torch.randn(4, 3, generator=gen)
default_info = (str(torch.get_default_device()), str(made.device), str(torch.arange(3).device))
torch.set_default_device(previous_default)

with torch.device(device):
    model = nn.Sequential(nn.Linear(8, 32), nn.SiLU(), nn.Linear(32, 3))
param_device = str(next(model.parameters()).device)

X = torch.randn(64, 8)
Y = X[:, :3].argmax(dim=1)
use_accelerator = device.type != "cpu"
loader = DataLoader(
    TensorDataset(X, Y),
    batch_size=16,
    shuffle=True,
    pin_memory=use_accelerator,
    generator=torch.Generator().manual_seed(1),
)
opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
scaler = torch.amp.GradScaler(device.type, enabled=use_accelerator)
amp_dtype = torch.bfloat16

losses, autocast_dtypes = [], set()
for epoch in range(3):
    model.train()
    total = 0.0
    for xb, yb in loader:
        xb = xb.to(device, non_blocking=use_accelerator)
        yb = yb.to(device, non_blocking=use_accelerator)
        with torch.autocast(device_type=device.type, dtype=amp_dtype):
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
        autocast_dtypes.add((str(logits.dtype), str(loss.dtype)))
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        total += loss.item()
    losses.append(total / len(loader))
    if torch.accelerator.is_available():
        torch.accelerator.synchronize()
    print(f"epoch {epoch}: loss {losses[-1]:.4f} on {device}")

scale_info = (scaler.is_enabled(), scaler.get_scale())
model.eval()
with torch.inference_mode(), torch.autocast(device_type=device.type, dtype=amp_dtype):
    preds = model(X.to(device)).argmax(dim=1)
accuracy = (preds.cpu() == Y).float().mean().item()
print(f"accuracy {accuracy:.3f}")
