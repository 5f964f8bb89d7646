"""Graph neural networks as people write them for PyTorch without a graph library: a GCN
(Kipf and Welling 2017) with the symmetrically normalised adjacency built densely, and the GAT
of pytorch/examples (gat/main.py, Velickovic et al. 2018) with multi-head attention masked by
torch.where; node classification on a synthetic stochastic block model graph."""

import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(13)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

n_nodes, n_classes, n_features = 120, 3, 16


def make_graph():
    """Three communities: dense inside (p=0.15), sparse across (p=0.01); noisy class features."""
    labels = torch.arange(n_nodes) % n_classes
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    probs = torch.where(same, torch.tensor(0.15), torch.tensor(0.01))
    upper = torch.triu(torch.bernoulli(probs), diagonal=1)
    adj = upper + upper.t()
    prototypes = torch.randn(n_classes, n_features)
    features = prototypes[labels] + 2.0 * torch.randn(n_nodes, n_features)
    return features, adj, labels


features, adj_mat, labels = make_graph()
edges = adj_mat.nonzero()
print(f"nodes {n_nodes}, edges {edges.size(0) // 2}, features {features.shape[1]}")
idx = torch.randperm(len(labels))
idx_test, idx_val, idx_train = idx[:40], idx[40:60], idx[60:]


def normalize_adjacency(adj):
    """D^-1/2 (A + I) D^-1/2, with isolated nodes (degree 0) left at zero."""
    adj = adj + torch.eye(adj.size(0))
    deg = adj.sum(dim=1)
    deg_inv_sqrt = deg.pow(-0.5)
    deg_inv_sqrt[torch.isinf(deg_inv_sqrt)] = 0.0
    d_mat = torch.diag(deg_inv_sqrt)
    return d_mat @ adj @ d_mat


class GraphConv(nn.Module):
    def __init__(self, input_dim, output_dim, use_bias=False):
        super(GraphConv, self).__init__()
        self.kernel = nn.Parameter(torch.Tensor(input_dim, output_dim))
        nn.init.xavier_normal_(self.kernel)
        self.bias = None
        if use_bias:
            self.bias = nn.Parameter(torch.Tensor(output_dim))
            nn.init.zeros_(self.bias)

    def forward(self, input_tensor, adj_mat):
        support = torch.mm(input_tensor, self.kernel)
        output = torch.mm(adj_mat, support)
        if self.bias is not None:
            output = output + self.bias
        return output


class GCN(nn.Module):
    def __init__(self, input_dim, hidden_dim, output_dim, use_bias=True, dropout_p=0.1):
        super(GCN, self).__init__()
        self.gc1 = GraphConv(input_dim, hidden_dim, use_bias=use_bias)
        self.gc2 = GraphConv(hidden_dim, output_dim, use_bias=use_bias)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, input_tensor, adj_mat):
        x = self.gc1(input_tensor, adj_mat)
        x = F.relu(x)
        x = self.dropout(x)
        x = self.gc2(x, adj_mat)
        return F.log_softmax(x, dim=1)


class GraphAttentionLayer(nn.Module):
    def __init__(
        self, in_features, out_features, n_heads, concat=False, dropout=0.4, leaky_relu_slope=0.2
    ):
        super(GraphAttentionLayer, self).__init__()
        self.n_heads = n_heads
        self.concat = concat
        self.dropout = dropout
        if concat:
            self.out_features = out_features
            assert out_features % n_heads == 0
            self.n_hidden = out_features // n_heads
        else:
            self.n_hidden = out_features
        self.W = nn.Parameter(torch.empty(size=(in_features, self.n_hidden * n_heads)))
        self.a = nn.Parameter(torch.empty(size=(n_heads, 2 * self.n_hidden, 1)))
        self.leakyrelu = nn.LeakyReLU(leaky_relu_slope)
        self.softmax = nn.Softmax(dim=1)
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.xavier_normal_(self.W)
        nn.init.xavier_normal_(self.a)

    def _get_attention_scores(self, h_transformed: torch.Tensor):
        source_scores = torch.matmul(h_transformed, self.a[:, : self.n_hidden, :])
        target_scores = torch.matmul(h_transformed, self.a[:, self.n_hidden :, :])
        # broadcast add: (n_heads, n_nodes, 1) + (n_heads, 1, n_nodes)
        e = source_scores + target_scores.mT
        return self.leakyrelu(e)

    def forward(self, h: torch.Tensor, adj_mat: torch.Tensor):
        n_nodes = h.shape[0]
        h_transformed = torch.mm(h, self.W)
        h_transformed = F.dropout(h_transformed, self.dropout, training=self.training)
        h_transformed = h_transformed.view(n_nodes, self.n_heads, self.n_hidden).permute(1, 0, 2)
        e = self._get_attention_scores(h_transformed)
        connectivity_mask = -9e16 * torch.ones_like(e)
        e = torch.where(adj_mat > 0, e, connectivity_mask)  # masked attention scores
        attention = F.softmax(e, dim=-1)
        attention = F.dropout(attention, self.dropout, training=self.training)
        h_prime = torch.matmul(attention, h_transformed)
        if self.concat:
            h_prime = h_prime.permute(1, 0, 2).contiguous().view(n_nodes, self.out_features)
        else:
            h_prime = h_prime.mean(dim=0)
        return h_prime


class GAT(nn.Module):
    def __init__(
        self, in_features, n_hidden, n_heads, num_classes, concat=False, dropout=0.4,
        leaky_relu_slope=0.2,
    ):  # fmt: skip
        super(GAT, self).__init__()
        if concat:
            assert n_hidden % n_heads == 0
        self.gat1 = GraphAttentionLayer(
            in_features=in_features, out_features=n_hidden, n_heads=n_heads, concat=concat,
            dropout=dropout, leaky_relu_slope=leaky_relu_slope,
        )  # fmt: skip
        self.gat2 = GraphAttentionLayer(
            in_features=n_hidden, out_features=num_classes, n_heads=1, concat=False,
            dropout=dropout, leaky_relu_slope=leaky_relu_slope,
        )  # fmt: skip

    def forward(self, input_tensor: torch.Tensor, adj_mat: torch.Tensor):
        x = self.gat1(input_tensor, adj_mat)
        x = F.elu(x)
        x = self.gat2(x, adj_mat)
        return F.log_softmax(x, dim=1)


def train_iter(epoch, model, optimizer, criterion, input, target, mask_train, mask_val):
    start_t = time.time()
    model.train()
    optimizer.zero_grad()
    output = model(*input)
    loss = criterion(output[mask_train], target[mask_train])
    loss.backward()
    optimizer.step()
    loss_train, acc_train = test(model, criterion, input, target, mask_train)
    loss_val, acc_val = test(model, criterion, input, target, mask_val)
    if epoch % 20 == 0:
        print(
            f"Epoch: {epoch:04d} ({time.time() - start_t:.4f}s) "
            f"loss_train: {loss_train:.4f} acc_train: {acc_train:.4f} "
            f"loss_val: {loss_val:.4f} acc_val: {acc_val:.4f}"
        )
    return loss_train


def test(model, criterion, input, target, mask):
    model.eval()
    with torch.no_grad():
        output = model(*input)
        output, target = output[mask], target[mask]
        loss = criterion(output, target)
        acc = (output.argmax(dim=1) == target).float().sum() / len(target)
    return loss.item(), acc.item()


features, labels = features.to(device), labels.to(device)
adj_norm = normalize_adjacency(adj_mat).to(device)
adj_self = (adj_mat + torch.eye(n_nodes)).to(device)  # GAT attends over neighbours and itself

results = {}
for name in ["GCN", "GAT"]:
    torch.manual_seed(42)
    if name == "GCN":
        model = GCN(n_features, 16, n_classes).to(device)
        inputs = (features, adj_norm)
    else:
        model = GAT(n_features, 16, 4, n_classes, concat=True, dropout=0.2).to(device)
        inputs = (features, adj_self)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    criterion = nn.NLLLoss()
    print(name)
    history = [
        train_iter(epoch + 1, model, optimizer, criterion, inputs, labels, idx_train, idx_val)
        for epoch in range(60)
    ]
    loss_test, acc_test = test(model, criterion, inputs, labels, idx_test)
    print(f"Test set results: loss {loss_test:.4f} accuracy {acc_test:.4f}")
    results[name] = (history, acc_test, model)
