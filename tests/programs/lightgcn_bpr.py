"""LightGCN (He et al., 2020) for collaborative filtering as its PyTorch code (gusye1234/
LightGCN-PyTorch) writes it: the user-item bipartite graph's symmetric normalized adjacency
D^-1/2 A D^-1/2 built as a sparse COO tensor (torch.sparse_coo_tensor, coalesce), K rounds of
torch.sparse.mm propagation without weights or nonlinearities, the layer embeddings averaged,
BPR loss on (user, positive, negative) triples with L2 on the initial embeddings, and
Recall@5 / precision@5 with training items excluded; matrix factorization (K = 0) beside it."""

import torch
import torch.nn as nn
import torch.nn.functional as F

N_USERS, N_ITEMS, DIM = 40, 30, 8


class LightGCN(nn.Module):
    def __init__(self, graph, n_layers):
        super().__init__()
        self.graph, self.n_layers = graph, n_layers
        self.embedding_user = nn.Embedding(N_USERS, DIM)
        self.embedding_item = nn.Embedding(N_ITEMS, DIM)
        nn.init.normal_(self.embedding_user.weight, std=0.1)
        nn.init.normal_(self.embedding_item.weight, std=0.1)

    def computer(self):
        all_emb = torch.cat([self.embedding_user.weight, self.embedding_item.weight])
        embs = [all_emb]
        for _ in range(self.n_layers):
            all_emb = torch.sparse.mm(self.graph, all_emb)
            embs.append(all_emb)
        light_out = torch.mean(torch.stack(embs, dim=1), dim=1)
        return torch.split(light_out, [N_USERS, N_ITEMS])

    def bpr_loss(self, users, pos, neg):
        all_users, all_items = self.computer()
        u, p, n = all_users[users], all_items[pos], all_items[neg]
        reg = (
            self.embedding_user(users).norm(2).pow(2)
            + self.embedding_item(pos).norm(2).pow(2)
            + self.embedding_item(neg).norm(2).pow(2)
        ) / (2 * len(users))
        pos_scores, neg_scores = (u * p).sum(1), (u * n).sum(1)
        return torch.mean(F.softplus(neg_scores - pos_scores)), reg

    def get_users_rating(self):
        all_users, all_items = self.computer()
        return torch.sigmoid(all_users @ all_items.t())


def normalized_adjacency(user_idx, item_idx):
    rows = torch.cat([user_idx, item_idx + N_USERS])
    cols = torch.cat([item_idx + N_USERS, user_idx])
    n = N_USERS + N_ITEMS
    adj = torch.sparse_coo_tensor(torch.stack([rows, cols]), torch.ones(len(rows)), (n, n))
    adj = adj.coalesce()
    degree = torch.sparse.sum(adj, dim=1).to_dense()
    d_inv_sqrt = degree.pow(-0.5)
    d_inv_sqrt[torch.isinf(d_inv_sqrt)] = 0.0
    i, j = adj.indices()
    values = d_inv_sqrt[i] * adj.values() * d_inv_sqrt[j]
    return torch.sparse_coo_tensor(adj.indices(), values, (n, n)).coalesce()


g = torch.Generator().manual_seed(0)
group_u = torch.arange(N_USERS) % 3
group_i = torch.arange(N_ITEMS) % 3
likes = (group_u.unsqueeze(1) == group_i) & (torch.rand(N_USERS, N_ITEMS, generator=g) < 0.5)
test_mask = likes & (torch.rand(N_USERS, N_ITEMS, generator=g) < 0.3)
train = likes & ~test_mask
user_idx, item_idx = train.nonzero(as_tuple=True)
graph = normalized_adjacency(user_idx, item_idx)
row_sums = torch.sparse.sum(graph, dim=1).to_dense()[:5].tolist()

results = {}
for name, layers in (("lightgcn", 3), ("mf", 0)):
    torch.manual_seed(0)
    model = LightGCN(graph, layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for epoch in range(12):
        perm = torch.randperm(len(user_idx))
        users, pos = user_idx[perm], item_idx[perm]
        neg = torch.randint(0, N_ITEMS, (len(users),))
        for b in range(0, len(users), 128):
            loss, reg = model.bpr_loss(users[b : b + 128], pos[b : b + 128], neg[b : b + 128])
            loss = loss + 1e-4 * reg
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    with torch.no_grad():
        rating = model.get_users_rating().masked_fill(train, -1.0)
        top = rating.topk(5, dim=1).indices
        hits = test_mask.gather(1, top).float().sum(1)
        has_test = test_mask.sum(1) > 0
        recall = (hits[has_test] / test_mask.sum(1)[has_test].clamp(max=5)).mean().item()
        precision = (hits / 5).mean().item()
    results[name] = {"losses": losses, "recall": recall, "precision": precision}
    print(f"{name}: loss {losses[0]:.3f} -> {losses[-1]:.3f}, recall@5 {recall:.3f}")
grad_rows = model.embedding_item.weight.grad.abs().sum(1).gt(0).sum().item()
graph_nnz = graph._nnz()
