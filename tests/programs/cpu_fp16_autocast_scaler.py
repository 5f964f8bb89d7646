"""Float16 mixed precision on the CPU, as PyTorch 2.4+ allows and Intel's recipes write it:
``torch.autocast(device_type="cpu", dtype=torch.float16)`` around a small CNN + transformer
encoder classifier (convolutions, linear layers, ``bmm`` and scaled-dot-product attention in
float16; softmax, layer norm and the loss in float32), ``torch.amp.GradScaler("cpu")`` enabled
(scale, unscale_ before clipping, step, update, the scale's growth), the dtypes autocast gives
each op recorded, and the float16 run compared with a float32 run of the same weights."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class ConvTransformer(nn.Module):
    def __init__(self, classes=3, dim=16):
        super().__init__()
        self.conv = nn.Conv1d(4, dim, kernel_size=3, padding=1)
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x, record=None):
        h = F.gelu(self.conv(x)).transpose(1, 2)  # (B, T, dim)
        z = self.norm(h)
        q, k, v = self.qkv(z).chunk(3, dim=-1)
        scores = torch.bmm(q, k.transpose(1, 2)) / q.shape[-1] ** 0.5
        attn = scores.softmax(dim=-1)
        mixed = torch.bmm(attn.to(v.dtype), v)
        sdpa = F.scaled_dot_product_attention(q, k, v)
        h = h + self.proj(mixed + sdpa)
        logits = self.head(h.mean(dim=1))
        if record is not None:
            for name, t in (("conv", h), ("norm", z), ("bmm", scores), ("softmax", attn),
                            ("sdpa", sdpa), ("logits", logits)):  # fmt: skip
                record[name] = str(t.dtype)
        return logits


model = ConvTransformer()
twin = ConvTransformer()
twin.load_state_dict(model.state_dict())
x = torch.randn(24, 4, 10)
y = torch.randint(0, 3, (24,))

dtypes_seen = {}
with torch.autocast(device_type="cpu", dtype=torch.float16):
    first_logits = model(x, dtypes_seen)
    first_loss = F.cross_entropy(first_logits, y)
dtypes_seen["loss"] = str(first_loss.dtype)
with torch.no_grad():
    full_logits = model(x)
first_gap = (first_logits.float() - full_logits).abs().max().item()

opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
twin_opt = torch.optim.SGD(twin.parameters(), lr=0.05, momentum=0.9)
scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10, growth_interval=2)
losses, twin_losses, scales, norms = [], [], [], []
for step in range(6):
    opt.zero_grad()
    with torch.autocast(device_type="cpu", dtype=torch.float16):
        loss = F.cross_entropy(model(x), y)
    scaler.scale(loss).backward()
    scaler.unscale_(opt)
    norms.append(nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0).item())
    scaler.step(opt)
    scaler.update()
    scales.append(scaler.get_scale())
    losses.append(loss.item())

    twin_opt.zero_grad()
    twin_loss = F.cross_entropy(twin(x), y)
    twin_loss.backward()
    nn.utils.clip_grad_norm_(twin.parameters(), max_norm=1.0)
    twin_opt.step()
    twin_losses.append(twin_loss.item())
    print(f"step {step}: fp16 {losses[-1]:.5f} fp32 {twin_losses[-1]:.5f} scale {scales[-1]:.0f}")

conv_grad_dtype = str(model.conv.weight.grad.dtype)
weight_gap = (model.head.weight - twin.head.weight).abs().max().item()
