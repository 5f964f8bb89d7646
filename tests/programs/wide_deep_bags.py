"""Wide & Deep click-through prediction on multi-hot categorical features, as recommender code
(DLRM's embedding tables, TorchRec-style KeyedJaggedTensor inputs flattened by hand) writes it:
nn.EmbeddingBag over flat index lists with offsets, mode='sum' with per_sample_weights for
weighted features, mode='max' for another field, mode='mean' with padding_idx, a wide part of
bag sums of dimension 1 (a linear model over crossed features), sparse gradients for the tables
with SparseAdam beside Adam for the dense part, and AUC by ranking."""

import torch
import torch.nn as nn
import torch.nn.functional as F

N_USERS, N_ITEMS, N_TAGS, N_CROSS = 20, 30, 12, 64


def make_batch(n, generator):
    users = torch.randint(0, N_USERS, (n,), generator=generator)
    lengths = torch.randint(1, 5, (n,), generator=generator)
    items = torch.randint(0, N_ITEMS, (int(lengths.sum()),), generator=generator)
    item_weights = torch.rand(items.shape, generator=generator) + 0.5
    item_offsets = torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)[:-1]])
    tags = torch.randint(1, N_TAGS, (n, 3), generator=generator)
    tags[torch.rand(n, 3, generator=generator) < 0.3] = 0  # 0 pads short tag lists
    crosses = (users * 7 + tags[:, 0]) % N_CROSS
    # label: users with an even id like the first third of items, and tag 3 helps
    bag_owner = torch.repeat_interleave(torch.arange(n), lengths)
    liked = ((items < N_ITEMS // 3) == (users[bag_owner] % 2 == 0)).float()
    score = torch.zeros(n).index_add_(0, bag_owner, liked) / lengths + (tags == 3).any(1) * 0.5
    labels = (score > 0.6).float()
    return users, items, item_offsets, item_weights, tags, crosses, labels


class WideAndDeep(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.user = nn.EmbeddingBag(N_USERS, dim, mode="sum", sparse=True)
        self.items = nn.EmbeddingBag(N_ITEMS, dim, mode="sum", sparse=True)
        self.items_max = nn.EmbeddingBag(N_ITEMS, dim, mode="max")
        self.tags = nn.EmbeddingBag(N_TAGS, dim, mode="mean", padding_idx=0)
        self.wide = nn.EmbeddingBag(N_CROSS, 1, mode="sum", sparse=True)
        self.deep = nn.Sequential(nn.Linear(4 * dim, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, users, items, offsets, weights, tags, crosses):
        u = self.user(users.unsqueeze(1))  # 2-D input: every row is a bag
        i = self.items(items, offsets, per_sample_weights=weights)
        m = self.items_max(items, offsets)
        t = self.tags(tags)
        deep = self.deep(torch.cat([u, i, m, t], dim=1))
        return (deep + self.wide(crosses.view(-1, 1))).squeeze(1)


def auc(scores, labels):
    ranks = torch.empty_like(scores)
    ranks[scores.argsort()] = torch.arange(1, len(scores) + 1, dtype=scores.dtype)
    pos = labels.bool()
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return ((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)).item()


g = torch.Generator().manual_seed(0)
torch.manual_seed(0)
model = WideAndDeep()
sparse_params = [model.user.weight, model.items.weight, model.wide.weight]
dense_params = [p for p in model.parameters() if all(p is not q for q in sparse_params)]
sparse_opt = torch.optim.SparseAdam(sparse_params, lr=0.02)
dense_opt = torch.optim.Adam(dense_params, lr=0.01)

losses, sparse_grad_info = [], None
for step in range(40):
    *features, labels = make_batch(64, g)
    loss = F.binary_cross_entropy_with_logits(model(*features), labels)
    sparse_opt.zero_grad()
    dense_opt.zero_grad()
    loss.backward()
    if sparse_grad_info is None:
        grad = model.items.weight.grad
        sparse_grad_info = [grad.is_sparse, grad.coalesce().indices().shape[1]]
        tags_pad_grad = model.tags.weight.grad[0].abs().sum().item()
    sparse_opt.step()
    dense_opt.step()
    losses.append(loss.item())

*features, labels = make_batch(512, g)
with torch.no_grad():
    scores = model(*features)
test_auc = auc(scores, labels)
bag = nn.EmbeddingBag.from_pretrained(torch.arange(12.0).view(4, 3), mode="max")
max_bags = bag(torch.tensor([0, 3, 1, 2, 2]), torch.tensor([0, 2, 2])).tolist()  # an empty bag
print(
    f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, AUC {test_auc:.3f}, sparse grad {sparse_grad_info}"
)
