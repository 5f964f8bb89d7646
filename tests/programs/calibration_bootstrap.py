"""Calibration and uncertainty of an evaluation, by hand: expected calibration error with
equal-width bins (``torch.bucketize`` with ``right=True``, the top edge folded into the last bin),
adaptive (equal-mass) bins from ``torch.quantile``, maximum calibration error, classwise ECE,
the Brier score and NLL; then a bootstrap confidence interval for accuracy and ECE by
resampling with ``torch.randint`` under a seeded ``torch.Generator``, the interval read with
every ``quantile`` interpolation mode, ``nanquantile`` over runs with missing values,
``kthvalue`` and ``median`` (the lower middle on an even count), and the errors quantile gives
for integer input and an out-of-range q."""

import torch
import torch.nn.functional as F

torch.manual_seed(0)

N, C, B = 300, 5, 10
target = torch.randint(0, C, (N,))
logits = torch.randn(N, C) * 1.5 + 2.5 * F.one_hot(target, C)
logits = logits * 2.0  # over-confident, as a freshly trained network is
probs = logits.softmax(dim=1)
confidence, prediction = probs.max(dim=1)
correct = (prediction == target).float()


def ece(confidence, correct, n_bins=10):
    """Equal-width bins on (0, 1]; returns ECE, MCE and the per-bin table."""
    edges = torch.linspace(0, 1, n_bins + 1)
    bins = torch.bucketize(confidence, edges[1:-1], right=True)
    count = torch.bincount(bins, minlength=n_bins).float()
    conf_sum = torch.zeros(n_bins).scatter_add_(0, bins, confidence)
    acc_sum = torch.zeros(n_bins).scatter_add_(0, bins, correct)
    nonempty = count > 0
    gap = (acc_sum[nonempty] / count[nonempty] - conf_sum[nonempty] / count[nonempty]).abs()
    weights = count[nonempty] / count.sum()
    return (weights * gap).sum(), gap.max(), count


ece_value, mce_value, bin_counts = ece(confidence, correct, B)

# adaptive bins: the edges are quantiles of the confidences (equal mass per bin).
qs = torch.linspace(0, 1, B + 1)
adaptive_edges = torch.quantile(confidence, qs)
adaptive_bins = torch.searchsorted(adaptive_edges[1:-1].contiguous(), confidence, right=False)
adaptive_counts = torch.bincount(adaptive_bins, minlength=B)
acc_per = torch.zeros(B).index_add_(0, adaptive_bins, correct) / adaptive_counts
conf_per = torch.zeros(B).index_add_(0, adaptive_bins, confidence) / adaptive_counts
adaptive_ece = ((acc_per - conf_per).abs() * adaptive_counts / N).sum()

# classwise ECE: every class's probability against its one-vs-rest label.
onehot = F.one_hot(target, C).float()
classwise = torch.stack([ece(probs[:, c], onehot[:, c], B)[0] for c in range(C)])
brier = ((probs - onehot) ** 2).sum(dim=1).mean()
nll = F.cross_entropy(logits, target)

# temperature 2 cools the logits: ECE should fall.
ece_tempered = ece(*[(logits / 2).softmax(1).max(1)[0], correct], B)[0]

calibration = [
    ece_value.item(),
    mce_value.item(),
    adaptive_ece.item(),
    brier.item(),
    nll.item(),
    ece_tempered.item(),
]
tables = [bin_counts.tolist(), adaptive_counts.tolist(), adaptive_edges.tolist()]
classwise_ece = classwise.tolist()

# bootstrap: resample the evaluation set with replacement.
gen = torch.Generator().manual_seed(1234)
R = 200
idx = torch.randint(0, N, (R, N), generator=gen)
boot_acc = correct[idx].mean(dim=1)
boot_ece = torch.stack([ece(confidence[i], correct[i], B)[0] for i in idx[:40]])
interp_modes = ["linear", "lower", "higher", "midpoint", "nearest"]
boot_ci = {
    m: torch.quantile(boot_acc, torch.tensor([0.025, 0.975]), interpolation=m).tolist()
    for m in interp_modes
}
ece_ci = torch.quantile(boot_ece, torch.tensor([0.05, 0.5, 0.95])).tolist()
first_draws = idx[0, :8].tolist()
boot_stats = [
    boot_acc.mean().item(),
    boot_acc.std().item(),
    boot_acc.median().item(),
    boot_acc.kthvalue(5).values.item(),
    boot_acc.kthvalue(5).indices.item(),
    boot_acc.sort(stable=True).indices[:5].tolist(),
]

# per-seed results with missing runs: nanquantile and nanmedian skip NaN, quantile does not.
runs = torch.tensor(
    [[0.71, float("nan"), 0.69, 0.74], [0.65, 0.66, float("nan"), float("nan")], [0.8] * 4]
)
nan_results = [
    torch.nanquantile(runs, 0.5, dim=1).tolist(),
    torch.nanquantile(runs, torch.tensor([0.25, 0.75]), dim=1, keepdim=True).shape,
    str(torch.quantile(runs, 0.5, dim=1).tolist()),
    runs.nanmedian(dim=1).values.tolist(),
    runs.nanmedian(dim=1).indices.tolist(),
    torch.nanquantile(torch.full((3,), float("nan")), 0.5).isnan().item(),
]
nan_results[1] = tuple(nan_results[1])

errors = []
for bad in (
    lambda: torch.quantile(torch.arange(5), 0.5),
    lambda: torch.quantile(boot_acc, 1.5),
    lambda: torch.quantile(boot_acc, 0.5, interpolation="cubic"),
    lambda: torch.kthvalue(torch.tensor([1.0, 2.0]), 3),
):
    try:
        bad()
        errors.append(None)
    except (RuntimeError, ValueError, IndexError) as e:
        errors.append((type(e).__name__, str(e).split("\n")[0]))
