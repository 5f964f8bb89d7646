"""A k-nearest-neighbour classifier and data-statistics toolkit: ``torch.cdist`` + ``topk
(largest=False)`` for neighbours, ``mode`` and distance-weighted votes with ``scatter_add``,
``torch.unique(return_counts=True, return_inverse=True)`` for class frequencies,
``bucketize``/``histc``/``histogram`` for feature binning, ``searchsorted`` for quantile
thresholds; the split comes from ``random_split`` with a seeded ``torch.Generator`` (same seed,
same split; different seed, different split) and a ``WeightedRandomSampler`` rebalances the
classes."""

import numpy as np
import torch
import torch.nn.functional as F
from numpy_init import randn
from torch.utils.data import DataLoader, TensorDataset, WeightedRandomSampler, random_split

rng = np.random.default_rng(16)
sizes = [60, 25, 15]
labels = torch.cat([torch.full((n,), c, dtype=torch.long) for c, n in enumerate(sizes)])
centers = torch.tensor([[0.0, 0.0], [3.0, 0.5], [1.0, 3.0]])
points = centers[labels] + 0.9 * randn(rng, 100, 2)
order = torch.from_numpy(rng.permutation(100))
train_x, train_y, test_x, test_y = (
    points[order[:70]],
    labels[order[:70]],
    points[order[70:]],
    labels[order[70:]],
)


def knn_predict(query, k=5, weighted=False):
    dist = torch.cdist(query, train_x)
    knn_dist, knn_idx = dist.topk(k, dim=1, largest=False)
    neighbour_labels = train_y[knn_idx]
    if not weighted:
        return neighbour_labels.mode(dim=1).values
    votes = torch.zeros(query.size(0), 3).scatter_add_(1, neighbour_labels, 1.0 / (knn_dist + 1e-6))
    return votes.argmax(1)


accuracies = {
    f"k={k},weighted={w}": knn_predict(test_x, k, w).eq(test_y).float().mean().item()
    for k in (1, 5, 9)
    for w in (False, True)
}
dist_check = (
    (torch.cdist(test_x[:3], train_x[:4]) - (test_x[:3, None] - train_x[None, :4]).norm(dim=-1))
    .abs()
    .max()
    .item()
)
classes, inverse, counts = torch.unique(
    train_y, sorted=True, return_inverse=True, return_counts=True
)
unique_ok = bool((classes[inverse] == train_y).all())
class_counts = counts.tolist()
values, value_counts = torch.unique_consecutive(train_y.sort().values, return_counts=True)
consecutive_counts = value_counts.tolist()

feature = points[:, 0].contiguous()
edges = torch.quantile(feature, torch.tensor([0.25, 0.5, 0.75]))
bins = torch.bucketize(feature, edges)
bin_counts = torch.bincount(bins, minlength=4).tolist()
right_bins = torch.bucketize(edges, edges, right=True).tolist()
histc_counts = torch.histc(feature, bins=6, min=-3, max=6).tolist()
hist, bin_edges = torch.histogram(feature, bins=5)
histogram = [hist.tolist(), bin_edges.tolist()]
sorted_feature = feature.sort().values
positions = torch.searchsorted(sorted_feature, edges, side="left").tolist()
per_class_mean = torch.zeros(3, 2).index_add_(0, labels, points) / torch.bincount(labels).unsqueeze(
    1
)
class_means = per_class_mean.flatten().tolist()

dataset = TensorDataset(points, labels)
split_a = random_split(dataset, [70, 30], generator=torch.Generator().manual_seed(42))
split_b = random_split(dataset, [0.7, 0.3], generator=torch.Generator().manual_seed(42))
split_c = random_split(dataset, [70, 30], generator=torch.Generator().manual_seed(7))
split_sizes = [len(s) for s in split_a]
same_seed_same_split = split_a[0].indices == split_b[0].indices
different_seed_differs = split_a[0].indices != split_c[0].indices
disjoint = set(split_a[0].indices).isdisjoint(split_a[1].indices)

class_weights = 1.0 / torch.bincount(labels).float()
sampler = WeightedRandomSampler(
    class_weights[labels],
    num_samples=600,
    replacement=True,
    generator=torch.Generator().manual_seed(0),
)
loader = DataLoader(dataset, batch_size=100, sampler=sampler)
drawn = torch.cat([y for _, y in loader])
balanced_fractions = (torch.bincount(drawn, minlength=3).float() / len(drawn)).tolist()
one_hot_counts = F.one_hot(train_y, 3).sum(0).tolist()
