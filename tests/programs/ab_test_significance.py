"""Comparing two models the way evaluation notebooks do, by hand in torch: per-example
correctness of two classifiers on the same test set; McNemar's test (chi-square with one
degree of freedom through ``Chi2.cdf``) from the discordant pairs; a two-proportion z-test and
Wilson score intervals from ``Normal.cdf``/``Normal.icdf``; an exact binomial sign test from
``Binomial.log_prob`` and ``logsumexp``; a paired bootstrap of the accuracy difference and a
paired permutation (sign-flip) test with a seeded generator; and Holm-Bonferroni and
Benjamini-Hochberg corrections over several comparisons (``sort``, ``cummax``, ``cummin``,
``scatter`` back into the original order)."""

import math

import torch
from torch.distributions import Binomial, Chi2, Normal

torch.manual_seed(0)
N = 400
labels = torch.randint(0, 2, (N,))
difficulty = torch.rand(N)
model_a = (torch.rand(N) > 0.3 * difficulty + 0.1).long()  # 1 = correct
model_b = torch.where(torch.rand(N) < 0.85, model_a, 1 - model_a)
model_b[(difficulty < 0.3) & (model_b == 0)] = 1  # B fixes some easy mistakes
acc = [model_a.float().mean().item(), model_b.float().mean().item()]

# McNemar on the discordant pairs b (A right, B wrong) and c (A wrong, B right).
b = ((model_a == 1) & (model_b == 0)).sum()
c = ((model_a == 0) & (model_b == 1)).sum()
stat = ((b - c).abs() - 1).clamp(min=0).double() ** 2 / (b + c).double()
p_mcnemar = 1 - Chi2(torch.tensor(1.0, dtype=torch.float64)).cdf(stat)
# exact sign test: two-sided binomial tail with p = 1/2.
n_disc = int(b + c)
ks = torch.arange(n_disc + 1, dtype=torch.float64)
log_pmf = Binomial(n_disc, torch.tensor(0.5, dtype=torch.float64)).log_prob(ks)
k = int(torch.minimum(b, c))
p_exact = min(1.0, 2 * torch.logsumexp(log_pmf[: k + 1], 0).exp().item())
mcnemar = [int(b), int(c), stat.item(), p_mcnemar.item(), p_exact]

# two-proportion z-test and Wilson intervals.
std_normal = Normal(0.0, 1.0)
pa, pb = model_a.float().mean(), model_b.float().mean()
pooled = (pa + pb) / 2
z = (pb - pa) / torch.sqrt(pooled * (1 - pooled) * 2 / N)
p_z = 2 * (1 - std_normal.cdf(z.abs()))
zq = std_normal.icdf(torch.tensor(0.975))


def wilson(p, n):
    centre = (p + zq**2 / (2 * n)) / (1 + zq**2 / n)
    half = zq * torch.sqrt(p * (1 - p) / n + zq**2 / (4 * n**2)) / (1 + zq**2 / n)
    return [(centre - half).item(), (centre + half).item()]


z_test = [z.item(), p_z.item(), zq.item(), wilson(pa, N), wilson(pb, N)]

# paired bootstrap and sign-flip permutation test of the accuracy difference.
gen = torch.Generator().manual_seed(2024)
diff = (model_b - model_a).float()
idx = torch.randint(0, N, (500, N), generator=gen)
boot = diff[idx].mean(1)
ci = torch.quantile(boot, torch.tensor([0.025, 0.975])).tolist()
signs = torch.randint(0, 2, (500, N), generator=gen).float() * 2 - 1
null = (signs * diff).mean(1)
p_perm = ((null.abs() >= diff.mean().abs()).sum().item() + 1) / (500 + 1)
resampling = [diff.mean().item(), ci, boot.std().item(), p_perm, idx[0, :5].tolist()]

# multiple comparisons over several metrics' p-values.
p_values = torch.tensor([0.001, 0.04, 0.03, 0.2, 0.012, 0.04, 0.5, 0.0001])
m = p_values.numel()
sorted_p, order = p_values.sort(stable=True)
holm_sorted = ((m - torch.arange(m)) * sorted_p).cummax(0).values.clamp(max=1)
holm = torch.empty_like(p_values).scatter_(0, order, holm_sorted)
bh_sorted = (sorted_p * m / torch.arange(1, m + 1)).flip(0).cummin(0).values.flip(0).clamp(max=1)
bh = torch.empty_like(p_values).scatter_(0, order, bh_sorted)
corrections = [
    holm.tolist(),
    bh.tolist(),
    (holm < 0.05).tolist(),
    (bh < 0.05).tolist(),
    order.tolist(),
]
bonferroni = (p_values * m).clamp(max=1).tolist()
sidak = (1 - (1 - p_values) ** m).tolist()
effect = [math.log(pb.item() / (1 - pb.item())) - math.log(pa.item() / (1 - pa.item()))]
