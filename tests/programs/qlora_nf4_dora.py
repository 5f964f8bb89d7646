"""QLoRA's 4-bit NormalFloat (NF4) quantisation written by hand as the blog posts and minimal
reimplementations do it: the 16 NF4 levels from normal quantiles (``torch.special.ndtri``), weights
quantised in blocks of 64 by their absolute maximum, each value mapped to the nearest level with
``argmin``, two 4-bit codes packed into one ``uint8`` with shifts and ``|`` and unpacked with
``>>`` and ``& 0xF``; "double quantisation" of the block scales to int8 around their mean. A
frozen NF4 base layer gets a LoRA adapter (``B`` zero-initialised, ``alpha / r`` scaling) and a
DoRA adapter (PEFT's form: a learned magnitude over the detached column norm of the adapted
weight); both are trained on a low-rank shift of a teacher, then LoRA is merged into the weight."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
IN, OUT, RANK, ALPHA, BLOCK = 64, 32, 4, 8, 64


def create_normal_map(offset=0.9677083):
    v1 = torch.special.ndtri(torch.linspace(offset, 0.5, 9)[:-1])
    v3 = -torch.special.ndtri(torch.linspace(offset, 0.5, 8)[:-1])
    values = torch.cat([v1, torch.zeros(1), v3]).sort().values
    return values / values.max()


NF4 = create_normal_map()


@torch.no_grad()
def quantize_nf4(weight):
    blocks = weight.reshape(-1, BLOCK)
    absmax = blocks.abs().amax(dim=1, keepdim=True)
    codes = ((blocks / absmax).unsqueeze(-1) - NF4).abs().argmin(dim=-1).to(torch.uint8)
    codes = codes.flatten()
    packed = (codes[::2] << 4) | codes[1::2]
    mean = absmax.mean()
    scale = (absmax - mean).abs().max() / 127
    qabsmax = torch.round((absmax - mean) / scale).to(torch.int8)
    return packed, qabsmax, scale, mean


def dequantize_nf4(packed, qabsmax, scale, mean, shape):
    codes = torch.stack([packed >> 4, packed & 0xF], dim=1).flatten().long()
    absmax = qabsmax.float() * scale + mean
    return (NF4[codes].view(-1, BLOCK) * absmax).view(shape)


class LoraLinear(nn.Module):
    def __init__(self, base: nn.Linear, dora=False):
        super().__init__()
        self.shape = tuple(base.weight.shape)
        for name, value in zip(("packed", "qabsmax", "scale", "mean"), quantize_nf4(base.weight)):
            self.register_buffer(name, value)
        self.bias = nn.Parameter(base.bias.detach().clone(), requires_grad=False)
        self.lora_A = nn.Linear(IN, RANK, bias=False)
        self.lora_B = nn.Linear(RANK, OUT, bias=False)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=5**0.5)
        nn.init.zeros_(self.lora_B.weight)
        self.scaling = ALPHA / RANK
        self.dora = dora
        if dora:
            self.magnitude = nn.Parameter(torch.linalg.norm(self.weight(), dim=1))

    def weight(self):
        return dequantize_nf4(self.packed, self.qabsmax, self.scale, self.mean, self.shape)

    def forward(self, x):
        weight = self.weight()
        lora = self.lora_B(self.lora_A(x)) * self.scaling
        if not self.dora:
            return F.linear(x, weight, self.bias) + lora
        lora_weight = self.lora_B.weight @ self.lora_A.weight
        weight_norm = torch.linalg.norm(weight + self.scaling * lora_weight.detach(), dim=1)
        mag_norm_scale = (self.magnitude / weight_norm.detach()).view(1, -1)
        return mag_norm_scale * (F.linear(x, weight) + lora) + self.bias


teacher = nn.Linear(IN, OUT)
with torch.no_grad():
    packed, qabsmax, scale, mean = quantize_nf4(teacher.weight)
    roundtrip = dequantize_nf4(packed, qabsmax, scale, mean, teacher.weight.shape)
quant_error = (roundtrip - teacher.weight).abs().max().item()
relative_quant_error = ((roundtrip - teacher.weight).norm() / teacher.weight.norm()).item()
packed_dtype, packed_numel = str(packed.dtype), packed.numel()
nf4_levels = NF4.tolist()

shift = 0.3 * torch.randn(OUT, 2) @ torch.randn(2, IN) / IN**0.5
x = torch.randn(64, IN)
with torch.no_grad():
    y = x @ (teacher.weight + shift).T + teacher.bias

results = {}
for dora in (False, True):
    layer = LoraLinear(teacher, dora=dora)
    trainable = [p for p in layer.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-2, weight_decay=0.0)
    losses = []
    for step in range(20):
        loss = F.mse_loss(layer(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    results["dora" if dora else "lora"] = (losses, layer, len(trainable))
lora_losses, lora, lora_trainable = results["lora"]
dora_losses, dora, dora_trainable = results["dora"]
magnitude_grad_sample = dora.magnitude.grad[:4].tolist()
bias_grad_is_none = lora.bias.grad is None

with torch.no_grad():
    merged = lora.weight() + lora.scaling * lora.lora_B.weight @ lora.lora_A.weight
    merge_gap = (F.linear(x, merged, lora.bias) - lora(x)).abs().max().item()
try:
    torch.tensor([1.5]) << 2
    float_shift_error = None
except RuntimeError as error:
    float_shift_error = str(error)
