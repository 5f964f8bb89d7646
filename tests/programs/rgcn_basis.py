"""R-GCN (Schlichtkrull et al., "Modeling Relational Data with Graph Convolutional Networks")
entity classification as the reference implementations write it: relation weights from a
basis decomposition ``W_r = sum_b a_rb V_b`` (an ``einsum`` of the coefficients with the bases),
messages ``W_r h_j`` per relation gathered by ``edge_type`` with ``torch.bmm``, normalised by
``1 / c_{i,r}`` (the in-degree per relation, counted with ``scatter_add_``) and summed into their
targets with ``index_add_``, plus a self-connection; inverse relations added as extra types;
featureless nodes (one-hot identity, so the first layer indexes its weights by node id);
two layers, cross-entropy on a few labelled nodes, Adam with L2 on the first layer."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(7)
num_nodes, num_rels, num_classes = 24, 3, 3
labels = torch.randint(0, num_classes, (num_nodes,))
src = torch.randint(0, num_nodes, (90,))
# edges of relation r tend to go to nodes whose class is r
rel = torch.randint(0, num_rels, (90,))
dst = torch.randint(0, num_nodes, (90,))
cand = (labels[None, :] == rel[:, None]).float() + 0.05
dst = torch.multinomial(cand, 1).squeeze(1)
edge_index = torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])
edge_type = torch.cat([rel, rel + num_rels])
R = 2 * num_rels


def edge_norm(edge_index, edge_type, num_nodes, num_relations):
    counts = torch.zeros(num_nodes * num_relations)
    key = edge_index[1] * num_relations + edge_type
    counts.scatter_add_(0, key, torch.ones_like(key, dtype=torch.float))
    return 1.0 / counts[key]


class RGCNLayer(nn.Module):
    def __init__(self, in_feat, out_feat, num_rels, num_bases, featureless=False, activation=None):
        super().__init__()
        self.in_feat, self.out_feat = in_feat, out_feat
        self.num_rels, self.num_bases = num_rels, num_bases
        self.featureless = featureless
        self.weight = nn.Parameter(torch.Tensor(num_bases, in_feat, out_feat))
        self.w_comp = nn.Parameter(torch.Tensor(num_rels, num_bases))
        self.loop_weight = nn.Parameter(torch.Tensor(in_feat, out_feat))
        self.bias = nn.Parameter(torch.zeros(out_feat))
        self.activation = activation
        nn.init.xavier_uniform_(self.weight, gain=nn.init.calculate_gain("relu"))
        nn.init.xavier_uniform_(self.w_comp, gain=nn.init.calculate_gain("relu"))
        nn.init.xavier_uniform_(self.loop_weight, gain=nn.init.calculate_gain("relu"))

    def forward(self, h, edge_index, edge_type, norm):
        weight = torch.einsum("rb,bio->rio", self.w_comp, self.weight)
        src, dst = edge_index
        if self.featureless:
            msg = weight[edge_type, src]  # one-hot inputs: row ``src`` of W_r
            loop = self.loop_weight
        else:
            msg = torch.bmm(h[src].unsqueeze(1), weight[edge_type]).squeeze(1)
            loop = h @ self.loop_weight
        msg = msg * norm.unsqueeze(1)
        out = torch.zeros(h.size(0) if h is not None else loop.size(0), self.out_feat)
        out.index_add_(0, dst, msg)
        out = out + loop + self.bias
        return self.activation(out) if self.activation else out


class RGCN(nn.Module):
    def __init__(self, num_nodes, h_dim, out_dim, num_rels, num_bases):
        super().__init__()
        self.num_nodes = num_nodes
        self.layer1 = RGCNLayer(
            num_nodes, h_dim, num_rels, num_bases, featureless=True, activation=F.relu
        )
        self.layer2 = RGCNLayer(h_dim, out_dim, num_rels, num_bases)

    def forward(self, edge_index, edge_type, norm):
        h = self.layer1(None, edge_index, edge_type, norm)
        return self.layer2(h, edge_index, edge_type, norm)


norm = edge_norm(edge_index, edge_type, num_nodes, R)
model = RGCN(num_nodes, 16, num_classes, R, num_bases=2)
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
train_idx = torch.arange(0, 16)
test_idx = torch.arange(16, num_nodes)

losses, accs = [], []
for epoch in range(40):
    model.train()
    optimizer.zero_grad()
    logits = model(edge_index, edge_type, norm)
    loss = F.cross_entropy(logits[train_idx], labels[train_idx])
    loss = loss + 5e-4 * model.layer1.weight.pow(2).sum()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    with torch.no_grad():
        accs.append((logits.argmax(1)[train_idx] == labels[train_idx]).float().mean().item())

model.eval()
with torch.no_grad():
    logits = model(edge_index, edge_type, norm)
test_acc = (logits[test_idx].argmax(1) == labels[test_idx]).float().mean().item()
norm_sum_per_target = torch.zeros(num_nodes * R).index_add_(0, edge_index[1] * R + edge_type, norm)
norm_check = sorted(set(round(v, 6) for v in norm_sum_per_target.tolist()))
w_shape = tuple(torch.einsum("rb,bio->rio", model.layer2.w_comp, model.layer2.weight).shape)
grad_norms = [p.grad.norm().item() for p in model.parameters()]
