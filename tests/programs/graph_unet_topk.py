"""Graph U-Net (Gao & Ji, "Graph U-Nets", 2019) as the authors' ``ops.py`` writes it: a GCN
layer on a dense normalised adjacency, gPool (``scores = sigmoid(proj(h) / ||p||)``,
``torch.topk`` over the nodes, ``h[idx] * values``, the adjacency cut with ``g[idx][:, idx]``
after the two-hop augmentation ``A^2`` made boolean and re-normalised), gUnpool scattering
the pooled features back into a zero matrix at ``idx`` (``new_h[idx] = h``), skip
connections added on the way up, and node classification on a small two-community graph
with Adam; the pooled node sets and the unpooled zero rows go into the comparison."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(29)


def norm_g(g):
    degrees = torch.sum(g, 1)
    return g / degrees


class GCN(nn.Module):
    def __init__(self, in_dim, out_dim, act, p):
        super().__init__()
        self.proj = nn.Linear(in_dim, out_dim)
        self.act = act
        self.drop = nn.Dropout(p=p) if p > 0.0 else nn.Identity()

    def forward(self, g, h):
        h = self.drop(h)
        h = torch.matmul(g, h)
        h = self.proj(h)
        return self.act(h)


class Pool(nn.Module):
    def __init__(self, k, in_dim, p):
        super().__init__()
        self.k = k
        self.sigmoid = nn.Sigmoid()
        self.proj = nn.Linear(in_dim, 1)
        self.drop = nn.Dropout(p=p) if p > 0 else nn.Identity()

    def forward(self, g, h):
        Z = self.drop(h)
        weights = self.proj(Z).squeeze()
        scores = self.sigmoid(weights)
        return top_k_graph(scores, g, h, self.k)


class Unpool(nn.Module):
    def forward(self, g, h, pre_h, idx):
        new_h = h.new_zeros([g.shape[0], h.shape[1]])
        new_h[idx] = h
        return g, new_h


def top_k_graph(scores, g, h, k):
    num_nodes = g.shape[0]
    values, idx = torch.topk(scores, max(2, int(k * num_nodes)))
    new_h = h[idx, :]
    values = torch.unsqueeze(values, -1)
    new_h = torch.mul(new_h, values)
    un_g = g.bool().float()
    un_g = torch.matmul(un_g, un_g).bool().float()
    un_g = un_g[idx, :]
    un_g = un_g[:, idx]
    g = norm_g(un_g)
    return g, new_h, idx


class GraphUnet(nn.Module):
    def __init__(self, ks, in_dim, out_dim, dim, act, drop_p):
        super().__init__()
        self.ks = ks
        self.bottom_gcn = GCN(dim, dim, act, drop_p)
        self.down_gcns, self.up_gcns = nn.ModuleList(), nn.ModuleList()
        self.pools, self.unpools = nn.ModuleList(), nn.ModuleList()
        self.l_n = len(ks)
        for i in range(self.l_n):
            self.down_gcns.append(GCN(dim, dim, act, drop_p))
            self.up_gcns.append(GCN(dim, dim, act, drop_p))
            self.pools.append(Pool(ks[i], dim, drop_p))
            self.unpools.append(Unpool())

    def forward(self, g, h):
        adj_ms, indices_list, down_outs, hs = [], [], [], []
        org_h = h
        for i in range(self.l_n):
            h = self.down_gcns[i](g, h)
            adj_ms.append(g)
            down_outs.append(h)
            g, h, idx = self.pools[i](g, h)
            indices_list.append(idx)
        h = self.bottom_gcn(g, h)
        for i in range(self.l_n):
            up_idx = self.l_n - i - 1
            g, idx = adj_ms[up_idx], indices_list[up_idx]
            g, h = self.unpools[i](g, h, down_outs[up_idx], idx)
            h = self.up_gcns[i](g, h)
            h = h.add(down_outs[up_idx])
            hs.append(h)
        h = h.add(org_h)
        hs.append(h)
        return hs, indices_list


class Net(nn.Module):
    def __init__(self, in_dim, dim, n_classes):
        super().__init__()
        self.s_gcn = GCN(in_dim, dim, nn.ELU(), 0.0)
        self.g_unet = GraphUnet([0.7, 0.5], dim, dim, dim, nn.ELU(), 0.1)
        self.out = nn.Linear(dim, n_classes)

    def forward(self, g, h):
        h = self.s_gcn(g, h)
        hs, idx = self.g_unet(g, h)
        return F.log_softmax(self.out(hs[-1]), dim=-1), idx


n, feat, n_classes = 20, 5, 2
labels = (torch.arange(n) >= n // 2).long()
same = labels[:, None] == labels[None, :]
A = (torch.rand(n, n) < torch.where(same, torch.tensor(0.35), torch.tensor(0.05))).float()
A = torch.triu(A, 1)
A = A + A.t() + torch.eye(n)
g = norm_g(A)
x = torch.randn(n, feat) + 0.8 * labels[:, None].float()
train = torch.rand(n) < 0.5

model = Net(feat, 16, n_classes)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-4)
losses, accs = [], []
for epoch in range(30):
    model.train()
    out, _ = model(g, x)
    loss = F.nll_loss(out[train], labels[train])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        out, idx = model(g, x)
    accs.append((out.argmax(1) == labels).float().mean().item())

pooled_sets = [sorted(i.tolist()) for i in idx]
with torch.no_grad():
    h = torch.randn(len(idx[0]), 3)
    _, unpooled = Unpool()(g, h, None, idx[0])
zero_rows = sorted(set(range(n)) - set(idx[0].tolist()))
unpooled_zero = bool((unpooled[zero_rows] == 0).all())
pooled_adj_rowsums = top_k_graph(torch.linspace(0, 1, n), g, x, 0.5)[0].sum(0)[:4].tolist()
