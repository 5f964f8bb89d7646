"""GCNII ("Simple and Deep Graph Convolutional Networks", Chen et al. 2020) as the authors'
``model.py`` writes it: a ``GraphConvolution`` layer mixing the propagated features with the
initial representation (``support = (1 - alpha) * hi + alpha * h0``, the initial residual) and
an identity mapping ``theta * support @ W + (1 - theta) * support`` with
``theta = log(lamda / l + 1)``; the propagation is a sparse ``A_hat @ h`` (``torch.sparse.mm`` on
a COO tensor), 16 layers deep, dropout between them, two Adam parameter groups (the convs with
more weight decay than the fully connected layers); float32 as the reference (its weights are ``torch.FloatTensor``)."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(1)


class GraphConvolution(nn.Module):
    def __init__(self, in_features, out_features, residual=False, variant=False):
        super().__init__()
        self.variant = variant
        self.in_features = 2 * in_features if variant else in_features
        self.out_features = out_features
        self.residual = residual
        self.weight = nn.Parameter(torch.FloatTensor(self.in_features, self.out_features))
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.out_features)
        self.weight.data.uniform_(-stdv, stdv)

    def forward(self, input, adj, h0, lamda, alpha, l):  # noqa: E741 (the paper's name)
        theta = math.log(lamda / l + 1)
        hi = torch.spmm(adj, input)
        if self.variant:
            support = torch.cat([hi, h0], 1)
            r = (1 - alpha) * hi + alpha * h0
        else:
            support = (1 - alpha) * hi + alpha * h0
            r = support
        output = theta * torch.mm(support, self.weight) + (1 - theta) * r
        if self.residual:
            output = output + input
        return output


class GCNII(nn.Module):
    def __init__(self, nfeat, nlayers, nhidden, nclass, dropout, lamda, alpha, variant):
        super().__init__()
        self.convs = nn.ModuleList()
        for _ in range(nlayers):
            self.convs.append(GraphConvolution(nhidden, nhidden, variant=variant))
        self.fcs = nn.ModuleList()
        self.fcs.append(nn.Linear(nfeat, nhidden))
        self.fcs.append(nn.Linear(nhidden, nclass))
        self.params1 = list(self.convs.parameters())
        self.params2 = list(self.fcs.parameters())
        self.act_fn = nn.ReLU()
        self.dropout = dropout
        self.alpha = alpha
        self.lamda = lamda

    def forward(self, x, adj):
        _layers = []
        x = F.dropout(x, self.dropout, training=self.training)
        layer_inner = self.act_fn(self.fcs[0](x))
        _layers.append(layer_inner)
        for i, con in enumerate(self.convs):
            layer_inner = F.dropout(layer_inner, self.dropout, training=self.training)
            layer_inner = self.act_fn(
                con(layer_inner, adj, _layers[0], self.lamda, self.alpha, i + 1)
            )
        layer_inner = F.dropout(layer_inner, self.dropout, training=self.training)
        layer_inner = self.fcs[-1](layer_inner)
        return F.log_softmax(layer_inner, dim=1)


n, nfeat, nclass = 30, 6, 3
labels = torch.arange(n) % nclass
ring = torch.arange(n)
src = torch.cat([ring, ring, ring])
dst = torch.cat([(ring + nclass) % n, (ring - nclass) % n, ring])  # same-class ring + self loops
noise = torch.randint(0, n, (2, 10))
src, dst = torch.cat([src, noise[0], noise[1]]), torch.cat([dst, noise[1], noise[0]])
values = torch.ones(src.numel())
adj = torch.sparse_coo_tensor(torch.stack([src, dst]), values, (n, n)).coalesce()
deg = torch.sparse.sum(adj, dim=1).to_dense()
r_inv = deg.pow(-1)
r_inv[torch.isinf(r_inv)] = 0.0
idx = adj.indices()
adj = torch.sparse_coo_tensor(idx, adj.values() * r_inv[idx[0]], (n, n))
features = torch.randn(n, nfeat) + 2 * F.one_hot(labels, nfeat).float()
idx_train = torch.arange(0, 12)
idx_test = torch.arange(12, n)

model = GCNII(
    nfeat, nlayers=16, nhidden=16, nclass=nclass, dropout=0.2, lamda=0.5, alpha=0.1, variant=False
)
optimizer = torch.optim.Adam(
    [
        dict(params=model.params1, weight_decay=0.01),
        dict(params=model.params2, weight_decay=5e-4),
    ],
    lr=0.03,
)

losses, test_accs = [], []
for epoch in range(40):
    model.train()
    optimizer.zero_grad()
    output = model(features, adj)
    loss_train = F.nll_loss(output[idx_train], labels[idx_train])
    loss_train.backward()
    optimizer.step()
    model.eval()
    with torch.no_grad():
        output = model(features, adj)
        preds = output[idx_test].max(1)[1].type_as(labels)
        test_accs.append(preds.eq(labels[idx_test]).double().sum().item() / len(idx_test))
    losses.append(loss_train.item())

adj_dense_rows = adj.to_dense().sum(1)[:6].tolist()
weight_decays = [g["weight_decay"] for g in optimizer.param_groups]
n_params = [sum(p.numel() for p in g["params"]) for g in optimizer.param_groups]
thetas = [math.log(0.5 / layer + 1) for layer in (1, 8, 16)]
conv_grad_norms = [con.weight.grad.norm().item() for con in model.convs[::5]]
output_dtype = str(output.dtype)
