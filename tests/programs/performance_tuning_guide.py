"""The "Performance Tuning Guide" recipe's habits, as written for PyTorch, on CPU: a
``DataLoader`` with ``pin_memory=True`` (a warning and no pinning without an accelerator),
``torch.backends.cudnn.benchmark = True``, ``zero_grad(set_to_none=True)`` and
``param.grad = None``, convolutions without bias before batch norm, a GELU fused by
``torch.jit.script``, ``torch.inference_mode`` (inference tensors and
the error when one is saved for backward), the profiler and anomaly detection switched off,
``set_float32_matmul_precision``, activation checkpointing (``use_reentrant=False``), and
the same training run with the for-loop, ``foreach=True`` and ``fused=True`` implementations of
Adam and SGD, which must agree."""

import math
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
torch.backends.cudnn.benchmark = True
torch.set_float32_matmul_precision("high")
settings = [torch.backends.cudnn.benchmark, torch.get_float32_matmul_precision()]
torch.autograd.set_detect_anomaly(False)
settings.append(torch.is_anomaly_enabled())

images = torch.randn(16, 3, 6, 6)
labels = (images[:, 0].mean((1, 2)) > 0).long()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    loader = DataLoader(TensorDataset(images, labels), batch_size=8, pin_memory=True, num_workers=0)
    batches = list(loader)
pin_warnings = [str(w.message) for w in caught]
pinned = [x.is_pinned() for x, _ in batches]


@torch.jit.script
def fused_gelu(x):
    return x * 0.5 * (1.0 + torch.erf(x / 1.41421))


x = torch.linspace(-3, 3, 7)
gelus = [fused_gelu(x).tolist(), F.gelu(x).tolist()]


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        # Disable bias for convolutions directly followed by a batch norm
        self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x))) + x


class Net(nn.Module):
    def __init__(self, use_checkpoint=False):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.blocks = nn.ModuleList([Block(8), Block(8)])
        self.head = nn.Linear(8, 2)
        self.use_checkpoint = use_checkpoint

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = checkpoint(block, x, use_reentrant=False) if self.use_checkpoint else block(x)
        return self.head(x.mean((2, 3)))


reference = Net()
conv_biases = [m.bias for m in reference.modules() if isinstance(m, nn.Conv2d)]


def train(optimizer_cls, use_checkpoint=False, steps=1, **flags):
    model = Net(use_checkpoint)
    model.load_state_dict(reference.state_dict())
    optimizer = optimizer_cls(model.parameters(), lr=0.01, **flags)
    losses = []
    for step in range(steps):
        for x, y in batches:
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses, model


runs, last_weights = {}, {}
for name, cls, extra in [
    ("Adam", torch.optim.Adam, {}),
    ("SGD", torch.optim.SGD, {"momentum": 0.9, "nesterov": True}),
]:
    for impl, flags in [
        ("for-loop", {"foreach": False}),
        ("foreach", {"foreach": True}),
        ("fused", {"fused": True}),
    ]:
        losses, model = train(cls, **flags, **extra)
        runs[f"{name} {impl}"] = losses
        last_weights[f"{name} {impl}"] = model.head.weight.flatten().tolist()
checkpointed, ckpt_model = train(torch.optim.Adam, use_checkpoint=True, foreach=False)

# gradients set to None: by zero_grad (the default) and by hand
model = Net()
F.cross_entropy(model(images[:4]), labels[:4]).backward()
model.zero_grad(set_to_none=True)
none_after_zero_grad = all(p.grad is None for p in model.parameters())
F.cross_entropy(model(images[:4]), labels[:4]).backward()
for param in model.parameters():
    param.grad = None
none_by_hand = all(p.grad is None for p in model.parameters())

# inference mode: no autograd bookkeeping, outputs are inference tensors
model.eval()
with torch.inference_mode():
    out = model(images[:4])
inference = [out.requires_grad, out.is_inference(), torch.is_inference_mode_enabled()]
w = torch.ones(2, requires_grad=True)
try:
    (out * w).sum().backward()
    inference_error = None
except RuntimeError as e:
    inference_error = str(e).split(".")[0]
clone_ok = (out.clone() * w).sum().item()

with torch.autograd.profiler.profile(enabled=False) as prof:
    model(images[:2])
profiler_off = prof.function_events is None if hasattr(prof, "function_events") else True
predictions = model(images).argmax(1)
accuracy = (predictions == labels).float().mean().item()
sqrt2 = math.sqrt(2)
