"""The "Numerical accuracy" note, as its examples are written for PyTorch: floating-point sums
that depend on the order and the precision (a float32 sum of 1e8 and small numbers, the same
in float64, ``a.sum()`` against a sum of slices), ``torch.finfo`` limits and what happens at
them (overflow to inf, subnormals, ``nan`` comparisons), extremal values of ``exp``/``log``
and their stable forms (``log1p``, ``expm1``, ``logsumexp``, ``softplus``), the TF32 and
reduced-precision flags (``torch.backends.cuda.matmul.allow_tf32``,
``torch.backends.cudnn.allow_tf32``, ``torch.set_float32_matmul_precision``) which change
nothing on a CPU, and a float64 ``linalg.solve`` of an ill-conditioned system against float32."""

import torch

# Batched computations or slice computations: the order of a float sum matters.
a = torch.tensor([1e8, 1.0, -1e8, 1.0], dtype=torch.float32)
sums = {
    "float32": a.sum().item(),
    "float64": a.double().sum().item(),
    "pairs": (a[:2].sum() + a[2:].sum()).item(),
}
x = torch.linspace(0, 1, 10001)
mean32 = x.mean().item()
mean64 = x.double().mean().item()
gap_32_64 = abs(mean32 - mean64)
cumsum_last = [x.cumsum(0)[-1].item(), x.double().cumsum(0)[-1].item()]

# Extremal values.
f32, f16 = torch.finfo(torch.float32), torch.finfo(torch.float16)
finfo = [
    f32.max,
    f32.eps,
    f32.tiny,
    f32.resolution,
    f16.max,
    f16.eps,
    torch.finfo(torch.bfloat16).eps,
]
overflow = [
    (torch.tensor(f32.max) * 2).item(),
    torch.tensor([65504.0, 65520.0]).half().tolist(),
    torch.exp(torch.tensor([88.0, 89.0])).tolist(),
    torch.exp(torch.tensor([709.0, 710.0], dtype=torch.float64)).tolist(),
]
subnormal = torch.tensor(f32.tiny) / 4
subnormal_facts = [subnormal.item(), bool(subnormal > 0), (subnormal * 4 == f32.tiny).item()]
nan = torch.tensor(float("nan"))
nan_facts = [
    (nan == nan).item(),
    torch.isnan(nan).item(),
    torch.tensor([1.0, float("nan")]).max().item()
    != torch.tensor([1.0, float("nan")]).max().item(),
    torch.nan_to_num(torch.tensor([float("nan"), float("inf"), -float("inf")])).tolist(),
    (torch.tensor(0.0) / 0.0).isnan().item(),
    (torch.tensor([1.0, -1.0]) / 0.0).tolist(),
]

# Stable forms near the extremes.
small = torch.tensor([1e-10, 1e-5], dtype=torch.float32)
stable = {
    "log1p": torch.log1p(small).tolist(),
    "naive_log1p": torch.log(1 + small).tolist(),
    "expm1": torch.expm1(small).tolist(),
    "naive_expm1": (torch.exp(small) - 1).tolist(),
    "logsumexp": torch.logsumexp(torch.tensor([1000.0, 1000.0]), 0).item(),
    "naive_lse": torch.log(torch.exp(torch.tensor([1000.0, 1000.0])).sum()).item(),
    "softplus": torch.nn.functional.softplus(torch.tensor([-100.0, 0.0, 100.0])).tolist(),
    "sigmoid": torch.sigmoid(torch.tensor([-100.0, 100.0])).tolist(),
    "log_softmax": torch.log_softmax(torch.tensor([0.0, 200.0]), 0).tolist(),
}

# TF32 / reduced precision flags: read, set, and restored; no effect on CPU matmuls.
flags_before = [
    torch.backends.cuda.matmul.allow_tf32,
    torch.backends.cudnn.allow_tf32,
    torch.get_float32_matmul_precision(),
    torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction,
]
g = torch.Generator().manual_seed(0)
m1, m2 = torch.randn(64, 64, generator=g), torch.randn(64, 64, generator=g)
highest = m1 @ m2
torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True
torch.set_float32_matmul_precision("high")
flags_set = [torch.backends.cuda.matmul.allow_tf32, torch.get_float32_matmul_precision()]
high = m1 @ m2
tf32_cpu_gap = (high - highest).abs().max().item()
torch.set_float32_matmul_precision("medium")
medium_precision = torch.get_float32_matmul_precision()
try:
    torch.set_float32_matmul_precision("fast")
    precision_error = None
except RuntimeError as e:
    precision_error = str(e)
torch.backends.cuda.matmul.allow_tf32 = flags_before[0]
torch.backends.cudnn.allow_tf32 = flags_before[1]
torch.set_float32_matmul_precision(flags_before[2])
flags_after = [torch.backends.cuda.matmul.allow_tf32, torch.get_float32_matmul_precision()]

# An ill-conditioned system: float32 loses digits that float64 keeps.
n = 8
i = torch.arange(n, dtype=torch.float64)
hilbert = 1.0 / (i[:, None] + i[None, :] + 1)
ones = torch.ones(n, dtype=torch.float64)
b = hilbert @ ones
sol64 = torch.linalg.solve(hilbert, b)
sol32 = torch.linalg.solve(hilbert.float(), b.float())
cond = torch.linalg.cond(hilbert).item()
err64 = (sol64 - ones).abs().max().item()
err32 = (sol32.double() - ones).abs().max().item()
