"""Indexing semantics that GitHub issues and Stack Overflow answers keep explaining: ``gather``
and ``scatter_`` index shape rules (the index may be smaller than the source along other dims,
must have as many dims, errors otherwise), ``scatter_`` with ``reduce=`` and ``scatter_add_`` /
``scatter_reduce_`` with ``include_self``, ``x[idx] += 1`` with repeated indices (only one
increment lands) against ``index_put_(accumulate=True)`` and ``index_add_``, ``index_select``
against advanced indexing (the same copy, repeated rows allowed), indexing with two index lists
(pairs, not a grid) against ``ix_``-style broadcasting, mixing a slice between index tensors
(the moved dims), boolean masks of the wrong shape, ``masked_fill`` with a broadcast mask and with
a non-bool mask, ``masked_select``, ``take_along_dim``, out-of-range indices, and a bag-of-words
counter and a per-class mean built with them."""

import torch

torch.manual_seed(0)


def error_of(fn):
    try:
        fn()
    except Exception as e:  # the program records whichever error it gets
        return [type(e).__name__, str(e)]
    return None


src = torch.arange(12.0).reshape(3, 4)
idx = torch.tensor([[0, 3], [2, 1], [1, 1]])
gathered = torch.gather(src, 1, idx).tolist()
gather_small = torch.gather(src, 1, torch.tensor([[2], [0]])).tolist()  # fewer rows: allowed
gather_errors = [
    error_of(lambda: torch.gather(src, 1, torch.tensor([0, 1, 2]))),  # 1-D index, 2-D input
    error_of(lambda: torch.gather(src, 1, torch.tensor([[0, 4]]))),
    error_of(lambda: torch.gather(src, 1, torch.tensor([[0.0, 1.0]]))),
    error_of(lambda: torch.gather(src, 0, torch.zeros(4, 1, dtype=torch.long))),  # 4 > 3 rows
]

zeros = torch.zeros(3, 5)
scattered = zeros.clone().scatter_(1, torch.tensor([[0, 4], [1, 1], [2, 3]]), 1.0).tolist()
scatter_src = torch.arange(1.0, 7.0).reshape(3, 2)
scatter_values = [
    zeros.clone().scatter_(1, torch.tensor([[0, 4], [2, 2], [3, 1]]), scatter_src).tolist(),
    zeros.clone().scatter_add_(1, torch.tensor([[0, 0], [2, 2], [3, 1]]), scatter_src).tolist(),
    torch.ones(3, 5)
    .scatter_(1, torch.tensor([[0, 0], [2, 2], [3, 1]]), scatter_src, reduce="multiply")
    .tolist(),
    torch.ones(3, 5)
    .scatter_reduce_(1, torch.tensor([[0, 0], [2, 2], [3, 1]]), scatter_src, "amax")
    .tolist(),
    torch.ones(3, 5)
    .scatter_reduce_(
        1, torch.tensor([[0, 0], [2, 2], [3, 1]]), scatter_src, "mean", include_self=False
    )
    .tolist(),
    torch.ones(3, 5)
    .scatter_reduce(0, torch.tensor([[0, 1, 0, 2, 2]]), torch.full((1, 5), 4.0), "sum")
    .tolist(),
]
scatter_errors = [
    error_of(lambda: zeros.clone().scatter_(1, torch.tensor([0, 1]), 1.0)),
    error_of(lambda: zeros.clone().scatter_(1, torch.tensor([[0, 5]]), 1.0)),
    error_of(lambda: zeros.clone().scatter_(1, torch.tensor([[0, 1, 2]]), torch.ones(1, 2))),
    error_of(
        lambda: zeros.clone().scatter_reduce_(1, torch.tensor([[0]]), torch.ones(1, 1), "avg")
    ),
]

# x[idx] += 1 with repeated indices: one increment per distinct index.
counts = torch.zeros(5)
words = torch.tensor([1, 3, 1, 1, 4, 3])
counts[words] += 1
accumulated = torch.zeros(5).index_put_((words,), torch.ones(6), accumulate=True)
index_added = torch.zeros(5).index_add_(0, words, torch.ones(6))
bincount = torch.bincount(words, minlength=5)
repeat_index = [counts.tolist(), accumulated.tolist(), index_added.tolist(), bincount.tolist()]
put_last = torch.zeros(3).index_put_((torch.tensor([0, 0]),), torch.tensor([1.0, 2.0])).tolist()

# index_select vs advanced indexing: both copy, both allow repeats.
table = torch.arange(15.0).reshape(5, 3)
rows = torch.tensor([4, 0, 4])
sel = table.index_select(0, rows)
adv = table[rows]
sel[0, 0] = -1.0
select_facts = [
    sel.tolist(),
    adv.tolist(),
    table[4, 0].item(),
    table.index_select(1, torch.tensor([2, 2])).tolist(),
]
select_errors = [
    error_of(lambda: table.index_select(0, torch.tensor([[0, 1]]))),
    error_of(lambda: table.index_select(0, torch.tensor([0.0]))),
    error_of(lambda: table[torch.tensor([5])]),
    error_of(lambda: table[[0, 1], [0, 1, 2]]),
]

# Two index lists pick pairs; ix_-style broadcast picks a grid; a slice between index tensors.
cube = torch.arange(24).reshape(2, 3, 4)
pairs = table[[0, 2, 4], [0, 1, 2]].tolist()
grid = table[torch.tensor([[0], [2]]), torch.tensor([0, 2])].tolist()
shapes = [
    list(cube[[0, 1], :, [1, 2]].shape),  # indexed dims split by a slice: moved to the front
    list(cube[:, [0, 1], [1, 2]].shape),  # adjacent: stay in place
    list(cube[0, :, [1, 2]].shape),
    list(cube[..., [0, 0, 3]].shape),
    list(cube[None, [1], 1:].shape),
]
values_split = cube[[0, 1], :, [1, 2]].tolist()

# Boolean masks.
mask = table[:, 0] > 5
masked_rows = table[mask].tolist()
bool_errors = [
    error_of(lambda: table[torch.tensor([True, False])]),
    error_of(lambda: table[table > 100][0]),
]
m = torch.tensor([[True], [False], [True], [False], [False]])  # (5, 1) broadcast along columns
filled = table.masked_fill(m, -1.0).tolist()
filled_row = table.masked_fill(torch.tensor([True, False, True]), 0.0).tolist()  # (3,) over rows
masked_fill_errors = [
    error_of(lambda: table.masked_fill(m.long(), 0.0)),
    error_of(lambda: table.masked_fill(torch.tensor([True, False]), 0.0)),
    error_of(lambda: table.masked_fill(m, torch.tensor([1.0, 2.0]))),
]
filled_int = torch.arange(4).masked_fill(torch.tensor([True, False, True, False]), 2.7).tolist()
selected = torch.masked_select(table, m).tolist()

# take_along_dim with argsort/argmax indices.
scores = torch.randn(4, 5)
top = scores.argsort(dim=1, descending=True)[:, :2]
take = [
    torch.take_along_dim(scores, top, dim=1).tolist(),
    torch.take_along_dim(scores, scores.argmax(1, keepdim=True), dim=1).flatten().tolist(),
    torch.take(scores, torch.tensor([0, 19, -1])).tolist(),
]

# Per-class mean with scatter_add_ and a count by index_add_.
feats = torch.randn(10, 3)
labels = torch.tensor([0, 2, 1, 0, 2, 2, 1, 0, 0, 2])
sums = torch.zeros(3, 3).scatter_add_(0, labels[:, None].expand(-1, 3), feats)
n = torch.zeros(3).index_add_(0, labels, torch.ones(10))
class_means = (sums / n[:, None]).tolist()
reference = [feats[labels == c].mean(0).tolist() for c in range(3)]
