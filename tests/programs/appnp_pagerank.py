"""APPNP ("Predict then Propagate", Klicpera et al. 2019) as its reference code writes it: an
MLP makes per-node predictions, then K steps of personalised-PageRank power iteration
``Z <- (1 - alpha) * A_hat @ Z + alpha * H`` spread them over the graph, with ``A_hat`` the
symmetrically normalised adjacency with self-loops built from an ``edge_index`` (``index_put_``
with ``accumulate``, ``pow(-0.5)`` with ``inf`` masked). A two-community stochastic block graph,
a few labelled nodes per class, Adam with weight decay on the first layer only (as the paper),
dropout on features and on the propagation matrix, early stopping kept by ``state_dict``."""

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
n, k_classes, feat = 40, 2, 8
labels = torch.arange(n) % k_classes
same = labels[:, None] == labels[None, :]
probs = torch.where(same, torch.tensor(0.25), torch.tensor(0.03))
upper = torch.triu(torch.rand(n, n) < probs, diagonal=1)
edge_index = upper.nonzero().t()
edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
x = torch.randn(n, feat) * 0.8 + F.one_hot(labels, feat).float() * 0.6
train_mask = torch.zeros(n, dtype=torch.bool)
train_mask[:8] = True
val_mask = ~train_mask


def normalized_adjacency(edge_index, num_nodes):
    adj = torch.zeros(num_nodes, num_nodes)
    adj.index_put_((edge_index[0], edge_index[1]), torch.ones(edge_index.size(1)), accumulate=True)
    adj = adj + torch.eye(num_nodes)
    deg = adj.sum(1)
    deg_inv_sqrt = deg.pow(-0.5)
    deg_inv_sqrt[torch.isinf(deg_inv_sqrt)] = 0
    return deg_inv_sqrt.view(-1, 1) * adj * deg_inv_sqrt.view(1, -1)


class PPRPowerIteration(nn.Module):
    def __init__(self, adj_matrix, alpha, niter, drop_prob=0.0):
        super().__init__()
        self.alpha = alpha
        self.niter = niter
        self.register_buffer("A_hat", (1 - alpha) * adj_matrix)
        self.dropout = nn.Dropout(drop_prob) if drop_prob > 0 else nn.Identity()

    def forward(self, local_preds, idx=None):
        preds = local_preds
        for _ in range(self.niter):
            A_drop = self.dropout(self.A_hat)
            preds = A_drop @ preds + self.alpha * local_preds
        return preds if idx is None else preds[idx]


class APPNP(nn.Module):
    def __init__(self, nfeatures, nclasses, hiddenunits, drop_prob, propagation):
        super().__init__()
        fcs = [nn.Linear(nfeatures, hiddenunits[0], bias=False)]
        for i in range(1, len(hiddenunits)):
            fcs.append(nn.Linear(hiddenunits[i - 1], hiddenunits[i], bias=False))
        fcs.append(nn.Linear(hiddenunits[-1], nclasses, bias=False))
        self.fcs = nn.ModuleList(fcs)
        self.reg_params = list(self.fcs[0].parameters())
        self.dropout = nn.Dropout(drop_prob)
        self.act_fn = nn.ReLU()
        self.propagation = propagation

    def _transform_features(self, attr_matrix):
        layer_inner = self.act_fn(self.fcs[0](self.dropout(attr_matrix)))
        for fc in self.fcs[1:-1]:
            layer_inner = self.act_fn(fc(layer_inner))
        return self.fcs[-1](self.dropout(layer_inner))

    def forward(self, attr_matrix, idx=None):
        local_logits = self._transform_features(attr_matrix)
        final_logits = self.propagation(local_logits, idx)
        return F.log_softmax(final_logits, dim=-1)


A = normalized_adjacency(edge_index, n)
model = APPNP(feat, k_classes, [16], 0.3, PPRPowerIteration(A, alpha=0.1, niter=10, drop_prob=0.1))
reg_lambda = 5e-3
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)

losses, val_accs = [], []
best_acc, best_state = -1.0, None
for epoch in range(30):
    model.train()
    optimizer.zero_grad()
    log_preds = model(x)
    loss = F.nll_loss(log_preds[train_mask], labels[train_mask])
    l2_reg = sum(torch.sum(p**2) for p in model.reg_params)
    (loss + reg_lambda / 2 * l2_reg).backward()
    optimizer.step()
    model.eval()
    with torch.no_grad():
        pred = model(x).argmax(dim=1)
        acc = (pred[val_mask] == labels[val_mask]).float().mean().item()
    losses.append(loss.item())
    val_accs.append(acc)
    if acc > best_acc:
        best_acc, best_state = acc, copy.deepcopy(model.state_dict())

model.load_state_dict(best_state)
model.eval()
with torch.no_grad():
    final_probs = model(x).exp()
row_sums = final_probs.sum(1).tolist()
state_keys = list(best_state)
ppr_row_sum = (torch.linalg.inv(torch.eye(n) - model.propagation.A_hat) * 0.1).sum(1)[:5].tolist()
num_edges = edge_index.size(1)
