"""A graph convolutional network (Kipf & Welling 2017) as pygcn writes it for PyTorch: a
GraphConvolution layer of torch.mm then torch.spmm with the normalized sparse adjacency,
built with torch.sparse.FloatTensor (pygcn's sparse_mx_to_torch_sparse_tensor) and with
torch.sparse_coo_tensor (the symmetric normalization D^-1/2 (A + I) D^-1/2); two layers,
ReLU, dropout, log_softmax, nll_loss on the training nodes, Adam with weight decay. The graph
is synthetic: nodes of three classes, edges mostly within a class, noisy binary features."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.nn.parameter import Parameter


def make_graph(n_per_class=30, n_classes=3, n_features=24, seed=0):
    rng = np.random.RandomState(seed)
    labels = np.repeat(np.arange(n_classes), n_per_class)
    n = len(labels)
    prototypes = rng.rand(n_classes, n_features) < 0.3
    flips = rng.rand(n, n_features) < 0.15
    features = (prototypes[labels] ^ flips).astype(np.float32)
    edges = []
    for i in range(n):
        for _ in range(3):
            same = rng.rand() < 0.85
            pool = np.flatnonzero((labels == labels[i]) == same)
            edges.append((i, rng.choice(pool)))
    return features, labels, np.array(edges)


def normalize(mx):
    """Row-normalize a dense numpy matrix (pygcn normalizes its scipy matrices the same way)."""
    rowsum = mx.sum(1, keepdims=True)
    r_inv = np.where(rowsum > 0, 1.0 / np.maximum(rowsum, 1e-12), 0.0)
    return mx * r_inv


def sparse_mx_to_torch_sparse_tensor(rows, cols, data, shape):
    """pygcn's conversion of a COO matrix to a torch sparse tensor (legacy constructor)."""
    indices = torch.from_numpy(np.vstack((rows, cols)).astype(np.int64))
    values = torch.from_numpy(data.astype(np.float32))
    shape = torch.Size(shape)
    return torch.sparse.FloatTensor(indices, values, shape)


def row_normalized_adjacency(edges, n):
    adj = np.zeros((n, n), dtype=np.float32)
    adj[edges[:, 0], edges[:, 1]] = 1
    adj = np.maximum(adj, adj.T)  # symmetric, as pygcn's adj + adj.T.multiply(...)
    adj = normalize(adj + np.eye(n, dtype=np.float32))
    rows, cols = np.nonzero(adj)
    return sparse_mx_to_torch_sparse_tensor(rows, cols, adj[rows, cols], adj.shape)


def symmetric_normalized_adjacency(edges, n):
    """D^-1/2 (A + I) D^-1/2 from the edge list, with torch.sparse_coo_tensor and coalesce."""
    src = torch.from_numpy(np.concatenate([edges[:, 0], edges[:, 1], np.arange(n)]))
    dst = torch.from_numpy(np.concatenate([edges[:, 1], edges[:, 0], np.arange(n)]))
    ones = torch.ones(src.shape[0])
    adj = torch.sparse_coo_tensor(torch.stack([src, dst]), ones, (n, n)).coalesce()
    adj = torch.sparse_coo_tensor(adj.indices(), torch.ones(adj._nnz()), (n, n))  # 0/1 entries
    deg = torch.sparse.sum(adj, dim=1).to_dense()
    d_inv_sqrt = deg.pow(-0.5)
    i, j = adj._indices()
    return torch.sparse_coo_tensor(adj._indices(), d_inv_sqrt[i] * d_inv_sqrt[j], (n, n))


class GraphConvolution(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(torch.FloatTensor(in_features, out_features))
        if bias:
            self.bias = Parameter(torch.FloatTensor(out_features))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.weight.size(1))
        self.weight.data.uniform_(-stdv, stdv)
        if self.bias is not None:
            self.bias.data.uniform_(-stdv, stdv)

    def forward(self, input, adj):
        support = torch.mm(input, self.weight)
        output = torch.spmm(adj, support)
        if self.bias is not None:
            return output + self.bias
        return output

    def __repr__(self):
        return f"{self.__class__.__name__} ({self.in_features} -> {self.out_features})"


class GCN(nn.Module):
    def __init__(self, nfeat, nhid, nclass, dropout):
        super().__init__()
        self.gc1 = GraphConvolution(nfeat, nhid)
        self.gc2 = GraphConvolution(nhid, nclass)
        self.dropout = dropout

    def forward(self, x, adj):
        x = F.relu(self.gc1(x, adj))
        x = F.dropout(x, self.dropout, training=self.training)
        x = self.gc2(x, adj)
        return F.log_softmax(x, dim=1)


def accuracy(output, labels):
    preds = output.max(1)[1].type_as(labels)
    correct = preds.eq(labels).double()
    correct = correct.sum()
    return correct / len(labels)


def load_data(symmetric=False):
    features, labels, edges = make_graph()
    n = len(labels)
    adj = (
        symmetric_normalized_adjacency(edges, n)
        if symmetric
        else row_normalized_adjacency(edges, n)
    )
    features = torch.FloatTensor(normalize(features))
    labels = torch.LongTensor(labels)
    perm = np.random.RandomState(1).permutation(n)
    idx_train = torch.LongTensor(perm[:30])
    idx_val = torch.LongTensor(perm[30:50])
    idx_test = torch.LongTensor(perm[50:])
    return adj, features, labels, idx_train, idx_val, idx_test


def train(model, optimizer, data, epochs):
    adj, features, labels, idx_train, idx_val, _ = data
    history = []
    for epoch in range(epochs):
        model.train()
        optimizer.zero_grad()
        output = model(features, adj)
        loss_train = F.nll_loss(output[idx_train], labels[idx_train])
        acc_train = accuracy(output[idx_train], labels[idx_train])
        loss_train.backward()
        optimizer.step()
        model.eval()
        output = model(features, adj)
        loss_val = F.nll_loss(output[idx_val], labels[idx_val])
        history.append(loss_train.item())
        if epoch % 20 == 0:
            print(
                f"Epoch: {epoch + 1:04d} loss_train: {loss_train.item():.4f} "
                f"acc_train: {acc_train.item():.4f} loss_val: {loss_val.item():.4f}"
            )
    return history


def test(model, data):
    adj, features, labels, _, _, idx_test = data
    model.eval()
    output = model(features, adj)
    loss_test = F.nll_loss(output[idx_test], labels[idx_test])
    acc_test = accuracy(output[idx_test], labels[idx_test])
    print(f"Test set results: loss= {loss_test.item():.4f} accuracy= {acc_test.item():.4f}")
    return acc_test.item()


def main(epochs=100, symmetric=False, dropout=0.5, seed=42):
    torch.manual_seed(seed)
    data = load_data(symmetric)
    model = GCN(nfeat=data[1].shape[1], nhid=16, nclass=int(data[2].max()) + 1, dropout=dropout)
    optimizer = optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    history = train(model, optimizer, data, epochs)
    return model, history, test(model, data)


if __name__ == "__main__":
    main()
