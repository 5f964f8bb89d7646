"""The MaskedTensor tutorials: reductions that skip masked-out elements (``sum``, ``mean``,
``amax``, ``argmax``) versus the usual NaN-propagating or fill-value workarounds; ``nanmean``
equivalence; masks combining through binary ops; ``get_data``/``get_mask``/``to_tensor``; and
a fully masked row staying masked rather than becoming 0 or NaN."""

import warnings

import numpy as np
import torch
from numpy_init import randn
from torch.masked import masked_tensor

warnings.filterwarnings("ignore")
rng = np.random.default_rng(9)
data = randn(rng, 4, 5)
mask = torch.from_numpy(rng.random((4, 5)) > 0.4)
mask[2] = False  # a fully masked row
mt = masked_tensor(data, mask)

row_sums = mt.sum(dim=1)
row_means = mt.mean(dim=1)
row_max = mt.amax(dim=1)
col_sums = mt.sum(dim=0)


def unmasked(m):
    return [v if k else None for v, k in zip(m.get_data().tolist(), m.get_mask().tolist())]


results = {
    "row_sums": unmasked(row_sums),
    "row_means": unmasked(row_means),
    "row_max": unmasked(row_max),
    "col_sums": unmasked(col_sums),
    "row_mask": row_sums.get_mask().tolist(),
}
nan_data = torch.where(mask, data, torch.tensor(float("nan")))
nanmean_rows = torch.nanmean(nan_data, dim=1).tolist()  # NaN for the masked row
filled_means = (torch.where(mask, data, 0).sum(1) / mask.sum(1).clamp(min=1)).tolist()
total = mt.sum()
total_value = total.get_data().item()
other = masked_tensor(torch.arange(20.0).reshape(4, 5), mask)
product = mt * other
try:
    mt + masked_tensor(torch.ones(4, 5), torch.from_numpy(rng.random((4, 5)) > 0.3))
    mismatch = "no error"
except ValueError:
    mismatch = "ValueError"
product_mask = product.get_mask().tolist()
product_sum = product.sum().get_data().item()
exp_mt = torch.exp(mt)
exp_values = unmasked(exp_mt.sum(dim=1))
where_filled = mt.to_tensor(0.0).sum().item()
is_masked = torch.masked.is_masked_tensor(mt) if hasattr(torch.masked, "is_masked_tensor") else True
