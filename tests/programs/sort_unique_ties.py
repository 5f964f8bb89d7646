"""Ties and orderings that GitHub issues ask about: ``argmax``/``argmin``/``max(dim)`` on ties
(the first index), ``sort(stable=True)`` keeping equal keys in their order (a two-key sort by
sorting twice), ``argsort(descending=True, stable=True)``, ``topk`` returning values largest
first (``largest=False``: smallest first), ``kthvalue``, ``median`` of an even count (the lower
one, not the mean), ``mode``, NaN in ``sort``/``max``/``argmax``, ``unique`` sorted with
``return_inverse`` and ``return_counts``, ``unique(dim=0)`` on rows, ``unique_consecutive``,
``searchsorted`` with ``right=True`` and ``bucketize``; a ranking metric (mean reciprocal rank)
and a label-encoding step are built from them."""

import torch

torch.manual_seed(0)

ties = torch.tensor([1.0, 3.0, 3.0, 2.0, 3.0])
tie_results = [
    ties.argmax().item(),
    (-ties).argmin().item(),
    ties.max(dim=0).indices.item(),
    torch.tensor([[2, 5, 5], [7, 7, 1]]).argmax(dim=1).tolist(),
    torch.tensor([[2, 5, 5], [7, 7, 1]]).max(dim=1).indices.tolist(),
    torch.tensor([[4.0, 4.0], [1.0, 4.0]]).argmax().item(),  # over the flattened tensor
]

# stable sort: a two-key sort (by score descending, then by id ascending) by sorting twice.
scores = torch.tensor([3, 1, 3, 2, 1, 3, 2])
ids = torch.tensor([6, 5, 4, 3, 2, 1, 0])
by_id = ids.argsort(stable=True)
by_score = scores[by_id].argsort(descending=True, stable=True)
two_key = by_id[by_score]
sorted_pairs = [scores[two_key].tolist(), ids[two_key].tolist()]
stable_sort = [
    torch.sort(scores, stable=True).indices.tolist(),
    torch.sort(scores, descending=True, stable=True).indices.tolist(),
    torch.argsort(torch.tensor([2.0, 1.0, 2.0, 1.0]), stable=True).tolist(),
]

# topk order, kthvalue, median, mode.
vals = torch.tensor([[0.1, 0.9, 0.4, 0.9, 0.3], [5.0, 1.0, 2.0, 3.0, 4.0]])
top = vals.topk(3, dim=1)
low = vals.topk(2, dim=1, largest=False)
order_stats = [
    top.values.tolist(),
    low.values.tolist(),
    low.indices.tolist(),
    torch.tensor([1.0, 5.0, 3.0, 2.0]).kthvalue(2).values.item(),
    torch.tensor([1.0, 5.0, 3.0, 2.0]).median().item(),  # lower middle: 2, not 2.5
    torch.tensor([1.0, 5.0, 3.0, 2.0]).quantile(0.5).item(),  # interpolated: 2.5
    torch.tensor([[1, 2, 2, 3, 3], [4, 4, 1, 1, 0]]).mode(dim=1).values.tolist(),
    vals.median(dim=1).values.tolist(),
]
topk_error = None
try:
    vals.topk(6)
except RuntimeError as e:
    topk_error = str(e)

# NaN: sorted last (ascending), wins max/argmax.
with_nan = torch.tensor([2.0, float("nan"), 1.0, 3.0])
nan_results = [
    str(torch.sort(with_nan).values.tolist()),
    torch.sort(with_nan).indices.tolist(),
    torch.sort(with_nan, descending=True).indices.tolist(),
    str(with_nan.max().item()),
    with_nan.argmax().item(),
    with_nan.nanmedian().item(),
    str(with_nan.topk(2).values.tolist()),
]

# unique: sorted, inverse and counts, rows with dim=0, consecutive runs.
words = torch.tensor([7, 3, 7, 9, 3, 3])
u, inverse, counts = torch.unique(words, return_inverse=True, return_counts=True)
unique_results = [u.tolist(), inverse.tolist(), counts.tolist(), u[inverse].tolist()]
pairs = torch.tensor([[1, 2], [3, 4], [1, 2], [0, 5], [3, 4]])
ur, rinv, rcnt = torch.unique(pairs, dim=0, return_inverse=True, return_counts=True)
row_results = [ur.tolist(), rinv.tolist(), rcnt.tolist()]
cols = torch.unique(torch.tensor([[1, 1, 2], [0, 0, 1]]), dim=1).tolist()
runs = torch.unique_consecutive(torch.tensor([1, 1, 2, 2, 2, 1, 3, 3]), return_counts=True)
run_results = [runs[0].tolist(), runs[1].tolist()]
unique_float = torch.unique(torch.tensor([0.5, -0.0, 0.0, 0.5, 2.0])).tolist()
unique_2d_flat = torch.unique(pairs).tolist()  # without dim: the flattened values

# searchsorted / bucketize.
edges = torch.tensor([0.0, 1.0, 2.0, 3.0])
queries = torch.tensor([-1.0, 0.0, 1.5, 2.0, 3.0, 4.0])
search = [
    torch.searchsorted(edges, queries).tolist(),
    torch.searchsorted(edges, queries, right=True).tolist(),
    torch.bucketize(queries, edges).tolist(),
    torch.bucketize(queries, edges, right=True).tolist(),
    torch.searchsorted(edges, queries, side="right").tolist(),
]

# Label encoding of string-like ids through unique, and MRR of a ranking with ties.
raw_labels = torch.tensor([30, 10, 20, 10, 30, 30])
classes, encoded = torch.unique(raw_labels, return_inverse=True)
encoding = [classes.tolist(), encoded.tolist(), torch.bincount(encoded).tolist()]
logits = torch.randn(6, 8)
logits[0, 2] = logits[0, 5] = 10.0  # a tie at the top: the first index ranks first
targets = torch.tensor([5, 1, 2, 3, 4, 7])
ranking = logits.argsort(dim=1, descending=True, stable=True)
ranks = (ranking == targets[:, None]).float().argmax(dim=1) + 1
mrr = (1.0 / ranks.float()).mean().item()
rank_list = ranks.tolist()
