"""Variational graph auto-encoder link prediction (Kipf & Welling, "Variational Graph
Auto-Encoders", 2016) as its PyTorch ports write it: a two-layer GCN encoder with a shared
first layer and ``mu``/``logstd`` heads over the normalised adjacency of the *training*
edges, the reparameterisation ``mu + randn_like(std) * exp(logstd)`` in training mode only,
the inner-product decoder ``sigmoid(z_i . z_j)`` on edge lists, negative edges sampled with
``torch.randint`` and filtered against the positives, the loss ``BCE(pos) + BCE(neg) +
KL / N`` with ``KL = -0.5 mean(sum(1 + 2 logstd - mu^2 - exp(logstd)^2))`` (the
``logstd.clamp(max=10)`` of PyG), and ROC-AUC / average precision on held-out edges computed by
hand (rank statistic with ``argsort``, precision at each positive's rank)."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(13)
EPS, MAX_LOGSTD = 1e-15, 10
n, k_blocks, feat = 32, 4, 6
block = torch.arange(n) % k_blocks
p = torch.where(block[:, None] == block[None, :], torch.tensor(0.5), torch.tensor(0.02))
upper = torch.triu(torch.rand(n, n) < p, diagonal=1)
edges = upper.nonzero()  # (E, 2), i < j
perm = torch.randperm(edges.size(0))
n_test = edges.size(0) // 5
test_pos = edges[perm[:n_test]].t()
train_pos = edges[perm[n_test:]].t()
x = torch.randn(n, feat) * 0.1 + F.one_hot(block, feat).float()


def negative_sampling(num, forbid):
    i, j = torch.randint(0, n, (2, 4 * num))
    keep = (i < j) & ~forbid[i, j]
    return torch.stack([i[keep], j[keep]])[:, :num]


all_pos = torch.zeros(n, n, dtype=torch.bool)
all_pos[edges[:, 0], edges[:, 1]] = True
test_neg = negative_sampling(n_test, all_pos)


def gcn_norm(edge_index, num_nodes):
    adj = torch.zeros(num_nodes, num_nodes)
    adj[edge_index[0], edge_index[1]] = 1.0
    adj = adj + adj.t() + torch.eye(num_nodes)
    d = adj.sum(1).rsqrt()
    return d[:, None] * adj * d[None, :]


class GCNConv(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.lin = nn.Linear(in_channels, out_channels, bias=False)
        self.bias = nn.Parameter(torch.zeros(out_channels))
        nn.init.xavier_uniform_(self.lin.weight)

    def forward(self, x, a_hat):
        return a_hat @ self.lin(x) + self.bias


class VariationalGCNEncoder(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv1 = GCNConv(in_channels, 2 * out_channels)
        self.conv_mu = GCNConv(2 * out_channels, out_channels)
        self.conv_logstd = GCNConv(2 * out_channels, out_channels)

    def forward(self, x, a_hat):
        x = self.conv1(x, a_hat).relu()
        return self.conv_mu(x, a_hat), self.conv_logstd(x, a_hat)


class InnerProductDecoder(nn.Module):
    def forward(self, z, edge_index, sigmoid=True):
        value = (z[edge_index[0]] * z[edge_index[1]]).sum(dim=1)
        return torch.sigmoid(value) if sigmoid else value


class VGAE(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder, self.decoder = encoder, InnerProductDecoder()

    def encode(self, *args):
        self.__mu__, self.__logstd__ = self.encoder(*args)
        self.__logstd__ = self.__logstd__.clamp(max=MAX_LOGSTD)
        if self.training:
            return self.__mu__ + torch.randn_like(self.__logstd__) * torch.exp(self.__logstd__)
        return self.__mu__

    def recon_loss(self, z, pos_edge_index, neg_edge_index):
        pos_loss = -torch.log(self.decoder(z, pos_edge_index) + EPS).mean()
        neg_loss = -torch.log(1 - self.decoder(z, neg_edge_index) + EPS).mean()
        return pos_loss + neg_loss

    def kl_loss(self):
        mu, logstd = self.__mu__, self.__logstd__
        return -0.5 * torch.mean(torch.sum(1 + 2 * logstd - mu**2 - logstd.exp() ** 2, dim=1))

    @torch.no_grad()
    def test(self, z, pos_edge_index, neg_edge_index):
        pos_pred = self.decoder(z, pos_edge_index)
        neg_pred = self.decoder(z, neg_edge_index)
        pred = torch.cat([pos_pred, neg_pred])
        y = torch.cat([torch.ones_like(pos_pred), torch.zeros_like(neg_pred)])
        return roc_auc(y, pred), average_precision(y, pred)


def roc_auc(y, score):
    ranks = torch.empty_like(score)
    ranks[score.argsort()] = torch.arange(1, score.numel() + 1, dtype=score.dtype)
    n_pos = y.sum()
    n_neg = y.numel() - n_pos
    return ((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)).item()


def average_precision(y, score):
    order = score.argsort(descending=True)
    hits = y[order]
    precision = hits.cumsum(0) / torch.arange(1, hits.numel() + 1)
    return (precision * hits).sum().div(hits.sum()).item()


a_hat = gcn_norm(train_pos, n)
model = VGAE(VariationalGCNEncoder(feat, 8))
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
losses, aucs = [], []
for epoch in range(40):
    model.train()
    optimizer.zero_grad()
    z = model.encode(x, a_hat)
    neg = negative_sampling(train_pos.size(1), all_pos)
    loss = model.recon_loss(z, train_pos, neg) + (1 / n) * model.kl_loss()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if epoch % 10 == 9:
        model.eval()
        with torch.no_grad():
            z = model.encode(x, a_hat)
        aucs.append(model.test(z, test_pos, test_neg))

sizes = (train_pos.size(1), test_pos.size(1), test_neg.size(1))
kl_final = model.kl_loss().item()
z_norms = z.norm(dim=1)[:5].tolist()
