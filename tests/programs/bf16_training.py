"""Low-precision training on the CPU the two ways current recipes do it: mixed precision (float32
master weights, the forward under ``torch.autocast("cpu", dtype=torch.bfloat16)``, gradient
accumulation over micro-batches with the loss divided by the number of steps,
``clip_grad_norm_`` returning the total norm, AdamW) and pure bfloat16 (``model.to(
torch.bfloat16)``: weights, gradients and optimizer state all in bfloat16, SGD with momentum and
AdamW stepping in 16 bits), compared with a float32 run of the same model and data."""

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(12, 32), nn.GELU(), nn.LayerNorm(32), nn.Linear(32, 32), nn.SiLU()
        )
        self.head = nn.Linear(32, 4)

    def forward(self, x):
        return self.head(self.net(x))


inputs = torch.randn(64, 12)
targets = (inputs[:, :4] * 2 + inputs[:, 4:8]).argmax(1)
base = MLP()


def batches(accumulation):
    for i in range(0, 64, 16):
        yield [
            (inputs[j : j + 16 // accumulation], targets[j : j + 16 // accumulation])
            for j in range(i, i + 16, 16 // accumulation)
        ]


def train_mixed(autocast, accumulation=2, epochs=2):
    model = copy.deepcopy(base)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    losses, norms = [], []
    for _ in range(epochs):
        for micro_batches in batches(accumulation):
            total = 0.0
            for x, y in micro_batches:
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
                    logits = model(x)
                    loss = F.cross_entropy(logits, y) / accumulation
                loss.backward()
                total += loss.item()
            norms.append(nn.utils.clip_grad_norm_(model.parameters(), 1.0).item())
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(total)
    return model, losses, norms, logits.dtype, loss.dtype


def train_pure_bf16(optimizer_cls, **kwargs):
    model = copy.deepcopy(base).to(torch.bfloat16)
    optimizer = optimizer_cls(model.parameters(), **kwargs)
    losses = []
    for _ in range(2):
        for ((x, y),) in batches(1):
            loss = F.cross_entropy(model(x.bfloat16()), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.float().item())
    state = optimizer.state[model.head.weight]
    state_dtypes = sorted(str(v.dtype) for v in state.values() if torch.is_tensor(v) and v.ndim)
    return model, losses, state_dtypes


fp32_model, fp32_losses, fp32_norms, _, _ = train_mixed(False)
amp_model, amp_losses, amp_norms, logits_dtype, loss_dtype = train_mixed(True)
amp_dtypes = [str(logits_dtype), str(loss_dtype), str(amp_model.head.weight.dtype)]
amp_gap = max(
    (a - b).abs().max().item() for a, b in zip(amp_model.parameters(), fp32_model.parameters())
)
sgd_model, sgd_losses, sgd_state = train_pure_bf16(torch.optim.SGD, lr=0.05, momentum=0.9)
adamw_model, adamw_losses, adamw_state = train_pure_bf16(torch.optim.AdamW, lr=3e-3)
bf16_weight = adamw_model.head.weight[0, :6].float().tolist()
sgd_weight = sgd_model.head.weight[0, :6].float().tolist()
print(f"fp32 {fp32_losses[-1]:.4f}, amp {amp_losses[-1]:.4f} (gap {amp_gap:.1e}),")
print(f"pure bf16 sgd {sgd_losses[-1]:.4f}, adamw {adamw_losses[-1]:.4f}")
