"""``torch.utils.flop_counter.FlopCounterMode`` counting a small transformer's training step,
as the performance-tuning posts do to compute MFU: total FLOPs of forward + backward, the
per-module breakdown, the FLOPs of each matmul-type op, and a check of the linear layers'
count against ``2 * M * N * K`` (backward twice the forward). PyTorch's CPU attention kernel
has no FLOP formula (it counts 0, as its GPU kernels do not), so ``sdpa_counted`` is what each
side counts for the attention products."""

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy, randn
from torch.utils.flop_counter import FlopCounterMode

rng = np.random.default_rng(17)
layer = nn.TransformerEncoderLayer(
    d_model=16, nhead=2, dim_feedforward=32, dropout=0.0, batch_first=True
)
model = init_from_numpy(nn.Sequential(layer, nn.Linear(16, 4)), seed=17)
x = randn(rng, 3, 10, 16)
y = torch.from_numpy(rng.integers(0, 4, (3, 10)))
counter = FlopCounterMode(display=False)
with counter:
    loss = nn.functional.cross_entropy(model(x).reshape(-1, 4), y.reshape(-1))
    loss.backward()
total = counter.get_total_flops()
counts = counter.get_flop_counts()
by_op = {
    str(op).split(".")[-2 if str(op).endswith("default") else -1]: n
    for op, n in counts["Global"].items()
}

linear = nn.Linear(16, 8)
with FlopCounterMode(display=False) as fc:
    linear(randn(rng, 5, 16)).sum().backward()
linear_total = fc.get_total_flops()
expected_linear = 2 * 2 * 5 * 16 * 8  # forward and the weight gradient (x needs none)
with FlopCounterMode(display=False) as fwd:
    with torch.no_grad():
        model(x)
forward_total = fwd.get_total_flops()
module_keys = sorted(k for k, v in counts.items() if k != "Global" and sum(v.values()))
qkv = randn(rng, 3, 2, 10, 8).requires_grad_()
with FlopCounterMode(display=False) as attention:  # PyTorch's CPU kernel is not counted
    nn.functional.scaled_dot_product_attention(qkv, qkv, qkv).sum().backward()
sdpa_counted = attention.get_total_flops()
layer_counts = {
    k: {str(op).split(".")[-2 if str(op).endswith("default") else -1]: n for op, n in v.items()}
    for k, v in counts.items()
    if k in ("Sequential.0.linear1", "Sequential.0.linear2", "Sequential.1")
}
loss_value = loss.item()
