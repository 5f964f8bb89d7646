"""The ``torch.masked`` functional reductions and normalizations with a ``mask=`` argument, as
ragged-batch code uses them without padding tricks: per-row sum/mean/amax/argmax/prod/median,
var and std (unbiased), norm, logsumexp and cumsum over kept elements, masked softmax and
log_softmax (masked-out places get 0 and -inf), normalize; gradients of a masked mean; and the
MaskedTensor overview's "sum of a fully masked row" and ``to_tensor`` fill."""

import torch
from torch.masked import masked_tensor

torch.manual_seed(11)
x = torch.randn(4, 6, dtype=torch.float64)
lengths = torch.tensor([6, 3, 1, 4])
mask = torch.arange(6)[None, :] < lengths[:, None]

reductions = {
    "sum": torch.masked.sum(x, 1, mask=mask),
    "mean": torch.masked.mean(x, 1, mask=mask),
    "amax": torch.masked.amax(x, 1, mask=mask),
    "amin": torch.masked.amin(x, 1, mask=mask),
    "argmax": torch.masked.argmax(x, 1, mask=mask),
    "prod": torch.masked.prod(x, 1, mask=mask),
    "median": torch.masked.median(x, 1, mask=mask),
    "var": torch.masked.var(x, 1, unbiased=True, mask=mask),
    "std": torch.masked.std(x, 1, unbiased=False, mask=mask),
    "norm": torch.masked.norm(x, 2.0, 1, mask=mask),
    "logsumexp": torch.masked.logsumexp(x, 1, mask=mask),
    "cumsum": torch.masked.cumsum(x, 1, mask=mask),
    "softmax": torch.masked.softmax(x, 1, mask=mask),
    "log_softmax": torch.masked.log_softmax(x, 1, mask=mask),
    "normalize": torch.masked.normalize(x, 2.0, 1, mask=mask),
}
values = {}
for name, t in reductions.items():
    flat = t.flatten().tolist()
    values[name] = [None if v != v else v for v in flat]  # NaN (no kept element) as None
shapes = {name: list(t.shape) for name, t in reductions.items()}
dtypes = {name: str(t.dtype).split(".")[-1] for name, t in reductions.items()}

w = x.clone().requires_grad_()
torch.masked.mean(w, 1, mask=mask).sum().backward()
mean_grad = w.grad.flatten().tolist()

mt = masked_tensor(x.float(), mask & (torch.arange(4)[:, None] != 2))
row_sums = mt.sum(1)
row_sum_mask = row_sums.get_mask().tolist()
filled = mt.to_tensor(-1.0).sum().item()
