"""Linear and matrix-factorization recommenders as RecSys course notebooks write them in
PyTorch on an implicit-feedback matrix: EASE (Steck 2019) in closed form (the Gram matrix
``X.T @ X`` plus a ridge on the diagonal, ``torch.linalg.inv``, ``B = -P / diag(P)`` with the
diagonal zeroed by ``fill_diagonal_``), PureSVD from ``torch.linalg.svd`` truncated to k
factors, implicit ALS (Hu, Koren & Volinsky 2008) with confidence 1 + alpha r, each half-step
a batched ``torch.linalg.solve`` over per-user systems built with ``torch.einsum``, and a
popularity baseline; all scored by Recall@10 and NDCG@10 on held-out interactions with seen
items masked by ``masked_fill(-inf)`` before ``torch.topk``. Float64."""

import torch

torch.manual_seed(21)
torch.set_default_dtype(torch.float64)
N_USERS, N_ITEMS, K = 60, 50, 10

user_f = torch.randn(N_USERS, 3)
item_f = torch.randn(N_ITEMS, 3)
popularity = torch.linspace(1.0, -1.0, N_ITEMS)
scores = user_f @ item_f.T + popularity
probs = torch.sigmoid(2 * scores - 2)
R = torch.bernoulli(probs)
held_mask = (torch.rand(N_USERS, N_ITEMS) < 0.2) & (R > 0)
train = R * (~held_mask)
test = R * held_mask
density = train.mean().item()


def evaluate(score, k=K):
    score = score.masked_fill(train > 0, float("-inf"))
    top = torch.topk(score, k, dim=1).indices
    hits = torch.gather(test, 1, top)
    n_rel = test.sum(1)
    users = n_rel > 0
    recall = (hits.sum(1)[users] / n_rel[users].clamp(max=k)).mean().item()
    discounts = 1 / torch.log2(torch.arange(2, k + 2, dtype=torch.float64))
    dcg = (hits * discounts).sum(1)
    ideal = torch.stack([discounts[: int(min(r, k))].sum() for r in n_rel.tolist()])
    ndcg = (dcg[users] / ideal[users]).mean().item()
    return round(recall, 12), round(ndcg, 12)


results = {"popular": evaluate(train.sum(0).expand(N_USERS, -1).clone())}

lam = 20.0
G = train.T @ train
G += lam * torch.eye(N_ITEMS)
P = torch.linalg.inv(G)
B = P / (-torch.diag(P))
B.fill_diagonal_(0.0)
results["ease"] = evaluate(train @ B)
ease_b_stats = [B.abs().max().item(), torch.diagonal(B).abs().sum().item()]

U, S, Vh = torch.linalg.svd(train, full_matrices=False)
k_svd = 8
results["puresvd"] = evaluate(train @ Vh[:k_svd].T @ Vh[:k_svd])
top_singular = S[:3].tolist()


def als_step(fixed, C, P_mat, reg):
    f = fixed.shape[1]
    FtF = fixed.T @ fixed
    A = FtF + torch.einsum("ui,if,ig->ufg", C - 1, fixed, fixed) + reg * torch.eye(f)
    b = torch.einsum("ui,ui,if->uf", C, P_mat, fixed)
    return torch.linalg.solve(A, b)


alpha, factors, reg = 10.0, 6, 0.1
C = 1 + alpha * train
X_u = 0.1 * torch.randn(N_USERS, factors)
Y_i = 0.1 * torch.randn(N_ITEMS, factors)
als_loss = []
for it in range(6):
    X_u = als_step(Y_i, C, train, reg)
    Y_i = als_step(X_u, C.T, train.T, reg)
    loss = (C * (train - X_u @ Y_i.T) ** 2).sum() + reg * (X_u.pow(2).sum() + Y_i.pow(2).sum())
    als_loss.append(loss.item())
    print(f"ALS iter {it} weighted loss {loss.item():.3f}")
results["ials"] = evaluate(X_u @ Y_i.T)
for name, (recall, ndcg) in results.items():
    print(f"{name:8s} Recall@{K} {recall:.4f} NDCG@{K} {ndcg:.4f}")
torch.set_default_dtype(torch.float32)
