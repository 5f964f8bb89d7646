"""Sebastian Raschka's "Machine Learning with PyTorch and Scikit-Learn", chapter 18 ("Graph Neural
Networks"), its graph convolution implemented from scratch: ``BasicGraphConvolutionLayer`` with
``Parameter(torch.rand(...))`` weights and ``torch.mm`` message passing, ``global_sum_pool`` by a
batch matrix, ``get_batch_tensor`` and the ``collate_graphs`` function that builds one block
diagonal adjacency for a batch (slice assignment into a zero matrix), one-hot node colours from a
mapping dict, an ``ExampleDataset`` in a ``DataLoader`` with ``collate_fn``, and the
``NodeNetwork`` with a softmax output, trained to tell graphs with two or more red nodes from
those with fewer."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parameter import Parameter
from torch.utils.data import DataLoader, Dataset


class BasicGraphConvolutionLayer(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.W2 = Parameter(torch.rand((in_channels, out_channels), dtype=torch.float32))
        self.W1 = Parameter(torch.rand((in_channels, out_channels), dtype=torch.float32))
        self.bias = Parameter(torch.zeros(out_channels, dtype=torch.float32))

    def forward(self, X, A):
        potential_msgs = torch.mm(X, self.W2)
        propagated_msgs = torch.mm(A, potential_msgs)
        root_update = torch.mm(X, self.W1)
        output = propagated_msgs + root_update + self.bias
        return output


def global_sum_pool(X, batch_mat):
    if batch_mat is None or batch_mat.dim() == 1:
        return torch.sum(X, dim=0).unsqueeze(0)
    else:
        return torch.mm(batch_mat, X)


def get_batch_tensor(graph_sizes):
    starts = [sum(graph_sizes[:idx]) for idx in range(len(graph_sizes))]
    stops = [starts[idx] + graph_sizes[idx] for idx in range(len(graph_sizes))]
    tot_len = sum(graph_sizes)
    batch_size = len(graph_sizes)
    batch_mat = torch.zeros([batch_size, tot_len]).float()
    for idx, starts_and_stops in enumerate(zip(starts, stops)):
        start = starts_and_stops[0]
        stop = starts_and_stops[1]
        batch_mat[idx, start:stop] = 1
    return batch_mat


def collate_graphs(batch):
    adj_mats = [graph["A"] for graph in batch]
    sizes = [A.size(0) for A in adj_mats]
    tot_size = sum(sizes)
    batch_mat = get_batch_tensor(sizes)
    feat_mats = torch.cat([graph["X"] for graph in batch], dim=0)
    labels = torch.cat([graph["y"] for graph in batch], dim=0)
    batch_adj = torch.zeros([tot_size, tot_size], dtype=torch.float32)
    accum = 0
    for adj in adj_mats:
        g_size = adj.shape[0]
        batch_adj[accum : accum + g_size, accum : accum + g_size] = adj
        accum = accum + g_size
    repr_and_label = {"A": batch_adj, "X": feat_mats, "y": labels, "batch": batch_mat}
    return repr_and_label


class NodeNetwork(torch.nn.Module):
    def __init__(self, input_features):
        super().__init__()
        self.conv_1 = BasicGraphConvolutionLayer(input_features, 8)
        self.conv_2 = BasicGraphConvolutionLayer(8, 8)
        self.fc_1 = torch.nn.Linear(8, 8)
        self.out_layer = torch.nn.Linear(8, 2)

    def forward(self, X, A, batch_mat):
        x = F.relu(self.conv_1(X, A))
        x = F.relu(self.conv_2(x, A))
        output = global_sum_pool(x, batch_mat)
        output = self.fc_1(output)
        output = self.out_layer(output)
        return F.softmax(output, dim=1)


mapping_dict = {"green": 0, "blue": 1, "red": 2}


def build_graph_color_label_representation(colors, mapping_dict):
    one_hot_idxs = np.array([mapping_dict[v] for v in colors])
    one_hot_encoding = np.zeros((one_hot_idxs.size, len(mapping_dict)))
    one_hot_encoding[np.arange(one_hot_idxs.size), one_hot_idxs] = 1
    return one_hot_encoding


rng = np.random.default_rng(18)
graph_list = []
for g in range(40):
    n = int(rng.integers(4, 8))
    A = np.triu((rng.random((n, n)) < 0.35).astype(np.float32), 1)
    A = A + A.T
    colors = list(rng.choice(["green", "blue", "red"], size=n, p=[0.35, 0.35, 0.3]))
    red = np.array([c == "red" for c in colors])
    label = int(red.sum() >= 2)
    X = build_graph_color_label_representation(colors, mapping_dict)
    graph_list.append(
        {"A": torch.from_numpy(A), "X": torch.from_numpy(X).float(), "y": torch.tensor([label])}
    )


class ExampleDataset(Dataset):
    def __init__(self, graph_list):
        self.graphs = graph_list

    def __len__(self):
        return len(self.graphs)

    def __getitem__(self, idx):
        mol_rep = self.graphs[idx]
        return mol_rep


dataset = ExampleDataset(graph_list)
loader = DataLoader(dataset, batch_size=8, shuffle=False, collate_fn=collate_graphs)
first = next(iter(loader))
first_batch = [tuple(first["A"].shape), first["batch"].sum(1).tolist(), first["y"].tolist()]
block_offdiag = first["A"][:7, 7:].abs().sum().item()

torch.manual_seed(0)
node_net = NodeNetwork(3)
with torch.no_grad():
    initial_probs = node_net(first["X"], first["A"], first["batch"])[:2].tolist()
    single = node_net(graph_list[0]["X"], graph_list[0]["A"], None).tolist()
optimizer = torch.optim.Adam(node_net.parameters(), lr=0.005)
losses = []
for epoch in range(6):
    for batch in loader:
        probs = node_net(batch["X"], batch["A"], batch["batch"])
        loss = F.nll_loss(torch.log(probs + 1e-9), batch["y"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
with torch.no_grad():
    all_batch = collate_graphs(graph_list)
    preds = node_net(all_batch["X"], all_batch["A"], all_batch["batch"]).argmax(dim=1)
    accuracy = (preds == all_batch["y"]).float().mean().item()
positives = int(all_batch["y"].sum().item())
