"""Mult-VAE (Liang et al., 2018), variational autoencoders for collaborative filtering, as its
PyTorch ports write it: a user's click row L2-normalized (F.normalize) and dropped out, an
encoder whose last layer splits into mean and log-variance, a multinomial likelihood by
log_softmax over all items, the KL term annealed linearly up to beta = 0.2 (total_anneal_steps),
Mult-DAE beside it, and NDCG@5 / Recall@5 on held-out clicks by topk with train items masked."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

N_USERS, N_ITEMS, N_GROUPS = 96, 40, 4


class MultVAE(nn.Module):
    def __init__(self, dims=(N_ITEMS, 24, 8), variational=True, dropout=0.5):
        super().__init__()
        self.variational = variational
        latent = dims[-1] * (2 if variational else 1)
        self.q = nn.Sequential(nn.Linear(dims[0], dims[1]), nn.Tanh(), nn.Linear(dims[1], latent))
        self.p = nn.Sequential(nn.Linear(dims[2], dims[1]), nn.Tanh(), nn.Linear(dims[1], dims[0]))
        self.drop = nn.Dropout(dropout)
        for layer in [*self.q, *self.p]:
            if isinstance(layer, nn.Linear):
                nn.init.xavier_normal_(layer.weight)
                nn.init.normal_(layer.bias, 0, 0.001)

    def forward(self, x):
        h = self.q(self.drop(F.normalize(x)))
        if not self.variational:
            return self.p(h), None, None
        mu, logvar = h.chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.p(z), mu, logvar


def loss_function(logits, x, mu, logvar, anneal):
    neg_ll = -(F.log_softmax(logits, 1) * x).sum(-1).mean()
    if mu is None:
        return neg_ll
    kld = -0.5 * torch.mean(torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1))
    return neg_ll + anneal * kld


def ndcg_recall_at_k(scores, heldout, k=5):
    has = heldout.sum(1) > 0  # users with no held-out click are not scored
    scores, heldout = scores[has], heldout[has]
    idx = torch.topk(scores, k, dim=1).indices
    hits = heldout.gather(1, idx)
    discounts = 1.0 / torch.log2(torch.arange(2, k + 2).float())
    dcg = (hits * discounts).sum(1)
    n_rel = heldout.sum(1).clamp(max=k).long()
    idcg = torch.stack([discounts[:n].sum() for n in n_rel.tolist()])
    recall = hits.sum(1) / heldout.sum(1).clamp(max=k)
    return (dcg / idcg).mean().item(), recall.mean().item()


rng = np.random.default_rng(0)
group = rng.integers(0, N_GROUPS, N_USERS)  # each group likes its own quarter of the items
likes = rng.random((N_USERS, N_ITEMS)) < np.where(
    np.arange(N_ITEMS) // (N_ITEMS // N_GROUPS) == group[:, None], 0.6, 0.04
)
clicks = torch.from_numpy(likes.astype(np.float32))
heldout_mask = torch.from_numpy(rng.random(likes.shape) < 0.25) & (clicks > 0)
train_clicks, heldout = clicks * ~heldout_mask, (clicks * heldout_mask)

results = {}
for name, variational in (("vae", True), ("dae", False)):
    torch.manual_seed(0)
    model = MultVAE(variational=variational)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=0.0)
    total_anneal_steps, anneal_cap, update_count = 30, 0.2, 0
    losses, anneals = [], []
    for epoch in range(10):
        model.train()
        for idx in torch.randperm(N_USERS).split(32):
            anneal = min(anneal_cap, update_count / total_anneal_steps)
            logits, mu, logvar = model(train_clicks[idx])
            loss = loss_function(logits, train_clicks[idx], mu, logvar, anneal)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            update_count += 1
            losses.append(loss.item())
            anneals.append(anneal)
    model.eval()
    with torch.no_grad():
        scores, _, _ = model(train_clicks)
        scores[train_clicks.nonzero(as_tuple=True)] = -np.inf  # never recommend seen items
        ndcg, recall = ndcg_recall_at_k(scores, heldout)
    results[name] = {"losses": losses, "ndcg": ndcg, "recall": recall}
    print(
        f"{name}: loss {losses[0]:.2f} -> {losses[-1]:.2f}, NDCG@5 {ndcg:.3f} Recall@5 {recall:.3f}"
    )
popularity = train_clicks.sum(0).expand(N_USERS, -1).masked_fill(train_clicks > 0, -np.inf)
pop_ndcg, pop_recall = ndcg_recall_at_k(popularity, heldout)
