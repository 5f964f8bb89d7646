"""The float8 training-recipe arithmetic (torchao-style tensorwise scaling) and the unsigned
integer dtypes: casting activations to ``float8_e4m3fn``/``float8_e5m2`` with an amax scale and
back, the rounding error and saturation at ``torch.finfo(...).max``; and ``uint16``/``uint32``/
``uint64`` tensors for hashing-style bit arithmetic, their ``iinfo`` ranges and conversions."""

import numpy as np
import torch
from numpy_init import randn

rng = np.random.default_rng(18)
x = randn(rng, 64) * 3
finfo = {
    name: [torch.finfo(dt).max, torch.finfo(dt).eps, torch.finfo(dt).bits]
    for name, dt in (("e4m3", torch.float8_e4m3fn), ("e5m2", torch.float8_e5m2))
}
results = {}
for name, dt in (("e4m3", torch.float8_e4m3fn), ("e5m2", torch.float8_e5m2)):
    amax = x.abs().max()
    scale = torch.finfo(dt).max / amax.clamp(min=1e-12)
    x8 = (x * scale).clamp(-torch.finfo(dt).max, torch.finfo(dt).max).to(dt)
    back = x8.to(torch.float32) / scale
    results[name] = {
        "rel_error": ((back - x).abs() / x.abs().clamp(min=1e-3)).max().item(),
        "first": back[:6].tolist(),
        "itemsize": x8.element_size(),
    }

# a float8 linear layer's forward as the float8 training recipes run it: tensorwise amax scales
# for the activations and the weight, the product by torch._scaled_mm in float32
acts, weight = randn(rng, 32, 64), randn(rng, 16, 64) * 0.1


def to_float8(t, dt=torch.float8_e4m3fn):
    scale = torch.finfo(dt).max / t.abs().max().clamp(min=1e-12)
    return (t * scale).clamp(-torch.finfo(dt).max, torch.finfo(dt).max).to(dt), scale.reciprocal()


a8, a_inv = to_float8(acts)
w8, w_inv = to_float8(weight)
y8 = torch._scaled_mm(a8, w8.t(), scale_a=a_inv, scale_b=w_inv, out_dtype=torch.float32)
y = acts @ weight.t()
float8_linear_error = ((y8 - y).norm() / y.norm()).item()
float8_linear_sample = y8[0, :4].tolist()
big = torch.tensor([1000.0, -1000.0, 0.3]).to(torch.float8_e4m3fn).float().tolist()
e5m2_big = torch.tensor([60000.0, 1e-7]).to(torch.float8_e5m2).float().tolist()

u16 = torch.tensor([1, 2, 65535], dtype=torch.uint16)
u32 = torch.tensor([0xDEADBEEF, 7], dtype=torch.uint32)
u64 = torch.tensor([2**63 + 5, 11], dtype=torch.uint64)
iinfo = {
    str(dt).split(".")[-1]: [torch.iinfo(dt).min, torch.iinfo(dt).max]
    for dt in (torch.uint16, torch.uint32, torch.uint64)
}
uint_values = [u16.tolist(), u32.tolist(), u64.tolist()]
as_int64 = u32.to(torch.int64).tolist()
u16_float = u16.float().tolist()
element_sizes = [u16.element_size(), u32.element_size(), u64.element_size()]
bit_ops = (u32 & 0xFFFF).tolist(), (u32 | 1).tolist(), (u32 ^ u32).tolist()
u8_sum = torch.tensor([200, 100], dtype=torch.uint8).sum().item()
