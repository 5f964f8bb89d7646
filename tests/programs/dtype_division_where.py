"""Arithmetic semantics people trip on, as answers explain them: integer ``/`` is true division
(float), ``//`` floors toward minus infinity, ``torch.div(rounding_mode="trunc"/"floor")``,
``fmod`` against ``remainder`` on negatives, ``torch.where`` with Python scalars keeping the
tensor's dtype (and with two scalars, the default dtype), ``where`` on mixed float16/float32,
``clamp`` with tensor bounds (broadcast, ``min > max`` giving ``max``), ``clamp`` of an integer
tensor with a float bound, ``sum`` of bools and ``mean`` of integers (the error), ``uint8``
wrapping, ``int`` tensors times floats, in-place ``+=`` of a float into an int tensor (the
error), ``round`` half to even, comparison of float32 with Python floats, and a quantiser that
buckets values by integer division."""

import torch

torch.manual_seed(0)


def error_of(fn):
    try:
        fn()
    except Exception as e:  # the program records whichever error it gets
        return [type(e).__name__, str(e)]
    return None


a = torch.tensor([7, -7, 7, -7])
b = torch.tensor([2, 2, -2, -2])
division = [
    (a / b).tolist(),
    str((a / b).dtype),
    (a // b).tolist(),
    torch.div(a, b, rounding_mode="trunc").tolist(),
    torch.div(a, b, rounding_mode="floor").tolist(),
    str(torch.div(a, b, rounding_mode="floor").dtype),
    torch.fmod(a, b).tolist(),
    torch.remainder(a, b).tolist(),
    (a % b).tolist(),
    torch.fmod(torch.tensor([-7.5, 7.5]), 2).tolist(),
    torch.remainder(torch.tensor([-7.5, 7.5]), 2).tolist(),
    (torch.tensor([-7.5, 7.5]) // 2).tolist(),
    str((a // 2.0).dtype),
]
div_errors = [
    error_of(lambda: torch.div(a, b, rounding_mode="round")),
    error_of(lambda: a // torch.zeros(4, dtype=torch.long)),
    error_of(lambda: a.div_(b)),
]
zero_div = [str(x) for x in (torch.tensor([1.0, -1.0, 0.0]) / 0).tolist()]

# torch.where with scalars.
cond = torch.tensor([True, False, True])
x16 = torch.tensor([1.5, 2.5, 3.5], dtype=torch.float16)
xi = torch.tensor([1, 2, 3])
where_dtypes = [
    str(torch.where(cond, x16, 0.0).dtype),
    str(torch.where(cond, xi, 0).dtype),
    str(torch.where(cond, xi, 0.5).dtype),
    str(torch.where(cond, 1.0, 0.0).dtype),
    str(torch.where(cond, 1, 0).dtype),
    str(torch.where(cond, x16, torch.zeros(3)).dtype),
    str(torch.where(cond, xi, torch.tensor(2.0, dtype=torch.float64)).dtype),
    str(torch.where(cond, True, xi > 1).dtype),
]
where_values = [
    torch.where(cond, xi, 0.5).tolist(),
    torch.where(cond, x16, 0.0).tolist(),
    torch.where(xi > 1).__len__(),
    torch.where(xi > 1)[0].tolist(),
]
where_error = error_of(lambda: torch.where(xi, 1.0, 0.0))

# clamp with tensor bounds and int tensors.
v = torch.tensor([[-2.0, 0.5, 3.0], [1.0, 4.0, -1.0]])
lo = torch.tensor([0.0, 1.0, -0.5])
hi = torch.tensor([1.0, 2.0, 0.0])
clamps = [
    v.clamp(min=lo, max=hi).tolist(),
    v.clamp(min=lo).tolist(),
    v.clamp(min=2.0, max=1.0).tolist(),  # min > max: every value becomes max
    torch.clamp(v, torch.tensor([[0.0], [2.0]]), torch.tensor(3.0)).tolist(),
    str(torch.tensor([1, 5, 9]).clamp(min=2.5).dtype),
    torch.tensor([1, 5, 9]).clamp(min=2.5).tolist(),
    str(torch.tensor([1, 5, 9]).clamp(2, 6).dtype),
    torch.tensor([1, 5, 9]).clamp(max=torch.tensor([3, 3, 3])).tolist(),
]
clamp_errors = [
    error_of(lambda: v.clamp()),
    error_of(lambda: v.clamp(min=lo, max=1.0)),  # a tensor and a number: no overload
    error_of(lambda: torch.clamp(v, torch.tensor([[0.0], [2.0]]), 3.0)),
]

# Reductions of bools and ints.
flags = torch.tensor([True, False, True, True])
reductions = [
    flags.sum().item(),
    str(flags.sum().dtype),
    str(xi.sum().dtype),
    str(torch.tensor([1, 2], dtype=torch.int32).sum().dtype),
    str(torch.tensor([1, 2], dtype=torch.uint8).cumsum(0).dtype),
    flags.float().mean().item(),
    str(torch.tensor([1, 2], dtype=torch.int8).prod().dtype),
]
mean_error = error_of(lambda: xi.mean())
mean_dtype_ok = xi.mean(dtype=torch.float32).item()

# Wrapping, promotion with Python numbers, in-place casts.
u8 = torch.tensor([250, 5], dtype=torch.uint8)
wrapping = [
    (u8 + 10).tolist(),
    str((u8 + 10).dtype),
    (u8 - 10).tolist(),
    (u8 * 2).tolist(),
    str((u8 + 1000).dtype),
    str((xi * 1.5).dtype),
    (xi * 1.5).tolist(),
    str((xi.to(torch.int32) + torch.tensor(1)).dtype),
    str((torch.ones(2, dtype=torch.float16) + torch.tensor(1.0)).dtype),
    str((torch.ones(2, dtype=torch.float16) + torch.ones(2)).dtype),
]
iadd_error = error_of(lambda: xi.clone().__iadd__(0.5))
iadd_ok = xi.clone().__iadd__(torch.tensor(2)).tolist()
rounding = [
    torch.tensor([0.5, 1.5, 2.5, -0.5, -1.5]).round().tolist(),
    torch.tensor([1.2345, 9.8765]).round(decimals=2).tolist(),
    torch.tensor([-1.7, 1.7]).trunc().tolist(),
    torch.tensor([-1.7, 1.7]).long().tolist(),
]
float_compare = [
    (torch.tensor(0.1) == 0.1).item(),
    (torch.tensor(0.1, dtype=torch.float64) == 0.1).item(),
    torch.isclose(torch.tensor(0.1).double(), torch.tensor(0.1, dtype=torch.float64)).item(),
    (torch.tensor([0.1 + 0.2]) == 0.3).item(),
]
isclose_error = error_of(lambda: torch.isclose(torch.tensor(0.1), torch.tensor(0.1).double()))

# A quantiser: bucket indices by floor division, then dequantise.
signal = torch.randn(12) * 3
step = 0.75
codes = torch.div(signal, step, rounding_mode="floor").long()
codes_trunc = (signal / step).long()  # truncation: differs for negative values
dequant = (codes.float() + 0.5) * step
quant = [
    codes.tolist(),
    codes_trunc.tolist(),
    (codes != codes_trunc).sum().item(),
    (dequant - signal).abs().max().item() <= step / 2 + 1e-6,
]
