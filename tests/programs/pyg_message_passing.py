"""A PyTorch Geometric-style ``MessagePassing`` base class written from scratch, as PyG's
"Creating Message Passing Networks" tutorial explains it: ``propagate(edge_index, **kwargs)``
inspects ``message``'s signature (``inspect.signature``) and lifts every ``*_i``/``*_j``
argument with ``index_select`` on the target/source row, aggregates with ``index_add_``
(``"add"``/``"mean"``) or ``scatter_reduce`` (``"max"``, ``include_self=False``), then calls
``update``. Built on it: ``GCNConv`` (``add_self_loops``, ``degree`` by ``scatter_add_``,
``deg.pow(-0.5)`` with ``inf`` zeroed by boolean assignment), ``SAGEConv`` (mean aggregation
and a root weight), ``EdgeConv`` (max over ``MLP(cat([x_i, x_j - x_i]))``) and a
``GATConv``-like layer whose edge softmax subtracts a per-node ``scatter_reduce`` max;
trained for node classification on a two-community graph with a train mask."""

import inspect

import torch
import torch.nn as nn
import torch.nn.functional as F


def add_self_loops(edge_index, num_nodes):
    loop_index = torch.arange(0, num_nodes, dtype=torch.long).unsqueeze(0).repeat(2, 1)
    return torch.cat([edge_index, loop_index], dim=1)


def degree(index, num_nodes, dtype=torch.float):
    out = torch.zeros((num_nodes,), dtype=dtype)
    return out.scatter_add_(0, index, torch.ones(index.size(0), dtype=dtype))


def softmax(src, index, num_nodes):
    src_max = torch.zeros(num_nodes).scatter_reduce(
        0, index, src, reduce="amax", include_self=False
    )
    out = (src - src_max.index_select(0, index)).exp()
    out_sum = torch.zeros(num_nodes).index_add_(0, index, out)
    return out / (out_sum.index_select(0, index) + 1e-16)


class MessagePassing(nn.Module):
    def __init__(self, aggr="add"):
        super().__init__()
        self.aggr = aggr
        self._message_args = list(inspect.signature(self.message).parameters)

    def propagate(self, edge_index, size, **kwargs):
        j, i = edge_index  # flow "source_to_target": messages go from j to i
        args = []
        for arg in self._message_args:
            if arg.endswith("_i") or arg.endswith("_j"):
                data = kwargs[arg[:-2]]
                args.append(data.index_select(0, i if arg.endswith("_i") else j))
            else:
                args.append(kwargs["index"] if arg == "index" else kwargs[arg])
        out = self.aggregate(self.message(*args), i, size)
        return self.update(out)

    def aggregate(self, inputs, index, dim_size):
        shape = (dim_size,) + tuple(inputs.shape[1:])
        if self.aggr == "max":
            idx = index.view(-1, *([1] * (inputs.dim() - 1))).expand_as(inputs)
            return inputs.new_zeros(shape).scatter_reduce(
                0, idx, inputs, reduce="amax", include_self=False
            )
        out = inputs.new_zeros(shape).index_add_(0, index, inputs)
        if self.aggr == "mean":
            count = degree(index, dim_size).clamp(min=1)
            out = out / count.view(-1, *([1] * (inputs.dim() - 1)))
        return out

    def update(self, aggr_out):
        return aggr_out


class GCNConv(MessagePassing):
    def __init__(self, in_channels, out_channels):
        super().__init__(aggr="add")
        self.lin = nn.Linear(in_channels, out_channels, bias=False)
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x, edge_index):
        edge_index = add_self_loops(edge_index, num_nodes=x.size(0))
        x = self.lin(x)
        row, col = edge_index
        deg = degree(col, x.size(0), dtype=x.dtype)
        deg_inv_sqrt = deg.pow(-0.5)
        deg_inv_sqrt[deg_inv_sqrt == float("inf")] = 0
        norm = deg_inv_sqrt[row] * deg_inv_sqrt[col]
        return self.propagate(edge_index, x.size(0), x=x, norm=norm) + self.bias

    def message(self, x_j, norm):
        return norm.view(-1, 1) * x_j


class SAGEConv(MessagePassing):
    def __init__(self, in_channels, out_channels):
        super().__init__(aggr="mean")
        self.lin_l, self.lin_r = (
            nn.Linear(in_channels, out_channels),
            nn.Linear(in_channels, out_channels, bias=False),
        )

    def forward(self, x, edge_index):
        return self.lin_l(self.propagate(edge_index, x.size(0), x=x)) + self.lin_r(x)

    def message(self, x_j):
        return x_j


class EdgeConv(MessagePassing):
    def __init__(self, in_channels, out_channels):
        super().__init__(aggr="max")
        self.mlp = nn.Sequential(
            nn.Linear(2 * in_channels, out_channels),
            nn.ReLU(),
            nn.Linear(out_channels, out_channels),
        )

    def forward(self, x, edge_index):
        return self.propagate(edge_index, x.size(0), x=x)

    def message(self, x_i, x_j):
        return self.mlp(torch.cat([x_i, x_j - x_i], dim=-1))


class GATConv(MessagePassing):
    def __init__(self, in_channels, out_channels, heads=2):
        super().__init__(aggr="add")
        self.heads, self.out_channels = heads, out_channels
        self.lin = nn.Linear(in_channels, heads * out_channels, bias=False)
        self.att_src, self.att_dst = (
            nn.Parameter(torch.empty(1, heads, out_channels)),
            nn.Parameter(torch.empty(1, heads, out_channels)),
        )
        nn.init.xavier_uniform_(self.att_src)
        nn.init.xavier_uniform_(self.att_dst)

    def forward(self, x, edge_index):
        edge_index = add_self_loops(edge_index, x.size(0))
        x = self.lin(x).view(-1, self.heads, self.out_channels)
        out = self.propagate(edge_index, x.size(0), x=x, index=edge_index[1], num_nodes=x.size(0))
        return out.mean(dim=1)

    def message(self, x_i, x_j, index, num_nodes):
        alpha = F.leaky_relu((x_j * self.att_src).sum(-1) + (x_i * self.att_dst).sum(-1), 0.2)
        alpha = torch.stack(
            [softmax(alpha[:, h], index, num_nodes) for h in range(self.heads)], dim=1
        )
        return x_j * alpha.unsqueeze(-1)


class Net(nn.Module):
    def __init__(self, conv, hidden=8):
        super().__init__()
        self.conv1, self.conv2 = conv(4, hidden), conv(hidden, 2)

    def forward(self, x, edge_index):
        x = F.dropout(F.relu(self.conv1(x, edge_index)), p=0.2, training=self.training)
        return F.log_softmax(self.conv2(x, edge_index), dim=1)


torch.manual_seed(0)
num_nodes = 24
y = (torch.arange(num_nodes) >= 12).long()
probs = torch.where(y[:, None] == y[None, :], 0.35, 0.04)
adj = torch.triu(torch.rand(num_nodes, num_nodes) < probs, diagonal=1)
edge_index = adj.nonzero().t()
edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
x = torch.randn(num_nodes, 4) + 0.4 * y[:, None].float()
train_mask = torch.zeros(num_nodes, dtype=torch.bool)
train_mask[::3] = True
num_edges, deg_hist = (
    edge_index.size(1),
    torch.bincount(degree(edge_index[1], num_nodes).long()).tolist(),
)
results = {}
for conv in (GCNConv, SAGEConv, EdgeConv, GATConv):
    model = Net(conv)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02, weight_decay=5e-4)
    losses = []
    for epoch in range(20):
        model.train()
        optimizer.zero_grad()
        out = model(x, edge_index)
        loss = F.nll_loss(out[train_mask], y[train_mask])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    pred = model(x, edge_index).argmax(dim=1)
    acc = int((pred[~train_mask] == y[~train_mask]).sum()) / int((~train_mask).sum())
    results[conv.__name__] = (losses[::4], acc)
    print(f"{conv.__name__}: loss {losses[0]:.4f} -> {losses[-1]:.4f}, test acc {acc:.3f}")
