"""A graph transformer with Laplacian eigenvector positional encodings (Dwivedi & Bresson, "A
Generalization of Transformer Networks to Graphs", 2021) as its reference code writes it: the
symmetric normalised Laplacian ``I - D^-1/2 A D^-1/2`` of each small graph, ``torch.linalg.eigh``
(eigenvalues ascending), the trivial eigenvector dropped and the next k kept (padded with zeros
for graphs with fewer nodes), random sign flips of the eigenvectors at every training step
(``torch.rand(k) >= 0.5``), a linear embedding of the encoding added to the node embedding, and
attention masked to the graph's edges (``masked_fill`` with ``-inf``) in multi-head layers with
residual connections, LayerNorm and an FFN; graph-level regression with mean pooling. Graph
sizes and edges come from ``torch.randint``; eigenvectors are put in a canonical sign first
(first clearly nonzero entry positive) so that both libraries start from the same basis, and graphs with a repeated eigenvalue among
the kept ones (whose encoding is not unique) are skipped."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(3)
k_pe = 3


def laplacian_positional_encoding(adj, k):
    n = adj.size(0)
    deg = adj.sum(-1).clamp(min=1)
    d_inv_sqrt = deg.pow(-0.5)
    lap = torch.eye(n, dtype=adj.dtype) - d_inv_sqrt[:, None] * adj * d_inv_sqrt[None, :]
    eigval, eigvec = torch.linalg.eigh(lap)
    idx = (eigvec.abs() > 1e-6).float().argmax(dim=0)  # first clearly nonzero entry
    signs = torch.sign(eigvec.gather(0, idx[None, :]))
    eigvec = eigvec * signs
    pe = eigvec[:, 1 : k + 1]
    if pe.size(1) < k:
        pe = F.pad(pe, (0, k - pe.size(1)), value=0.0)
    return pe.float(), eigval


def random_graph(n):
    ring = torch.zeros(n, n, dtype=torch.float64)
    idx = torch.arange(n)
    ring[idx, (idx + 1) % n] = 1.0
    extra = torch.randint(0, n, (2, n // 2))
    ring[extra[0], extra[1]] = 1.0
    adj = ((ring + ring.t()) > 0).double()
    adj.fill_diagonal_(0.0)
    return adj


graphs, skipped = [], 0
while len(graphs) < 12:
    n = int(torch.randint(5, 9, ()).item())
    adj = random_graph(n)
    pe, eigval = laplacian_positional_encoding(adj, k_pe)
    if eigval[: k_pe + 2].diff().min() < 1e-6:  # a repeated eigenvalue: no unique encoding
        skipped += 1
        continue
    x = adj.sum(1, keepdim=True).float() / n
    target = (adj.sum() / (n * (n - 1))).float()  # edge density
    graphs.append((x, adj.float(), pe, target, eigval))

eigvals_first = graphs[0][4].tolist()
eigval_ranges = [(g[4].min().item() > -1e-9, g[4].max().item() < 2 + 1e-9) for g in graphs]


class MultiHeadAttentionLayer(nn.Module):
    def __init__(self, in_dim, out_dim, num_heads):
        super().__init__()
        self.out_dim, self.num_heads = out_dim, num_heads
        self.Q = nn.Linear(in_dim, out_dim * num_heads, bias=True)
        self.K = nn.Linear(in_dim, out_dim * num_heads, bias=True)
        self.V = nn.Linear(in_dim, out_dim * num_heads, bias=True)

    def forward(self, h, adj):
        n = h.size(0)
        q = self.Q(h).view(n, self.num_heads, self.out_dim).transpose(0, 1)
        k = self.K(h).view(n, self.num_heads, self.out_dim).transpose(0, 1)
        v = self.V(h).view(n, self.num_heads, self.out_dim).transpose(0, 1)
        score = q @ k.transpose(-1, -2) / self.out_dim**0.5
        mask = (adj + torch.eye(n)) == 0
        score = score.masked_fill(mask.unsqueeze(0), float("-inf"))
        attn = torch.softmax(score, dim=-1)
        return (attn @ v).transpose(0, 1).reshape(n, -1), attn


class GraphTransformerLayer(nn.Module):
    def __init__(self, dim, num_heads, dropout=0.0):
        super().__init__()
        self.attention = MultiHeadAttentionLayer(dim, dim // num_heads, num_heads)
        self.O = nn.Linear(dim, dim)
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.ffn = nn.Sequential(nn.Linear(dim, 2 * dim), nn.ReLU(), nn.Linear(2 * dim, dim))
        self.dropout = dropout

    def forward(self, h, adj):
        h_in1 = h
        attn_out, attn = self.attention(h, adj)
        h = F.dropout(attn_out, self.dropout, training=self.training)
        h = self.norm1(h_in1 + self.O(h))
        h = self.norm2(h + self.ffn(h))
        return h, attn


class GraphTransformerNet(nn.Module):
    def __init__(self, in_dim, hidden, k, layers, heads):
        super().__init__()
        self.embedding_h = nn.Linear(in_dim, hidden)
        self.embedding_lap_pos_enc = nn.Linear(k, hidden)
        self.layers = nn.ModuleList([GraphTransformerLayer(hidden, heads) for _ in range(layers)])
        self.MLP_layer = nn.Sequential(
            nn.Linear(hidden, hidden // 2), nn.ReLU(), nn.Linear(hidden // 2, 1)
        )

    def forward(self, x, adj, lap_pe):
        h = self.embedding_h(x) + self.embedding_lap_pos_enc(lap_pe)
        for conv in self.layers:
            h, attn = conv(h, adj)
        return self.MLP_layer(h.mean(dim=0)).squeeze(-1), attn


model = GraphTransformerNet(1, 16, k_pe, layers=2, heads=4)
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
    optimizer, mode="min", factor=0.5, patience=2
)

epoch_losses = []
for epoch in range(6):
    model.train()
    total = 0.0
    for x, adj, pe, target, _ in graphs:
        sign_flip = torch.rand(pe.size(1))
        sign_flip[sign_flip >= 0.5] = 1.0
        sign_flip[sign_flip < 0.5] = -1.0
        pred, _ = model(x, adj, pe * sign_flip.unsqueeze(0))
        loss = F.l1_loss(pred, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    epoch_losses.append(total / len(graphs))
    scheduler.step(epoch_losses[-1])

model.eval()
with torch.no_grad():
    pred, attn = model(*graphs[0][:3])
attn_rows = attn.sum(-1).flatten().tolist()
attn_zero_off_graph = bool(
    (attn[:, graphs[0][1] + torch.eye(graphs[0][1].size(0)) == 0] == 0).all()
)
lrs = scheduler.get_last_lr()
pe_shapes = [tuple(g[2].shape) for g in graphs[:4]]
