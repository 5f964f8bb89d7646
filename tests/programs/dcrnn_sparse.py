"""A diffusion-convolutional recurrent network (DCRNN, Li et al. 2018) for traffic forecasting as
the PyTorch port (chnsh/DCRNN_PyTorch) writes it: a road graph as a sparse COO matrix
(``torch.sparse_coo_tensor``, ``coalesce``), forward and backward random-walk matrices from
``torch.sparse.sum`` degrees, K-step diffusion by Chebyshev-like recursion with
``torch.sparse.mm`` (x_k = 2 P x_{k-1} - x_{k-2}), the diffusion features stacked and mixed by
one weight per gate of a GRU cell (reset/update gates and candidate), a sequence-to-sequence
encoder/decoder with scheduled sampling decided by a fixed schedule, trained with a masked MAE
(zeros are missing readings) and gradient clipping; gradients reach the dense parameters only
(the graph is a constant)."""

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy

rng = np.random.default_rng(9)
N_NODES, HIDDEN, K_DIFF, T_IN, T_OUT = 6, 8, 2, 4, 2

# a ring road with a few shortcuts, Gaussian-kernel weights
src = list(range(N_NODES)) + [0, 2]
dst = [(i + 1) % N_NODES for i in range(N_NODES)] + [3, 5]
w = np.exp(-(rng.uniform(0.5, 2.0, len(src)) ** 2) / 2.0)
indices = torch.tensor([src + dst, dst + src])
adj = torch.sparse_coo_tensor(
    indices, torch.tensor(np.concatenate([w, w]), dtype=torch.float32), (N_NODES, N_NODES)
)
adj = adj.coalesce()


def random_walk(a):
    """D^-1 A as a sparse matrix: each row's weights divided by the row's degree."""
    degree = torch.sparse.sum(a, dim=1).to_dense()
    row = a.indices()[0]
    return torch.sparse_coo_tensor(a.indices(), a.values() / degree[row], a.shape).coalesce()


supports = [random_walk(adj), random_walk(adj.t().coalesce())]


class DiffusionGraphConv(nn.Module):
    def __init__(self, input_dim, output_dim, bias_start=0.0):
        super().__init__()
        num_matrices = len(supports) * K_DIFF + 1
        self.weight = nn.Parameter(torch.empty(input_dim * num_matrices, output_dim))
        self.bias = nn.Parameter(torch.full((output_dim,), bias_start))
        nn.init.xavier_normal_(self.weight, gain=1.414)

    def forward(self, inputs, state):
        batch = inputs.shape[0]
        x = torch.cat([inputs, state], dim=2)  # (B, N, F)
        x0 = x.permute(1, 2, 0).reshape(N_NODES, -1)  # (N, F * B)
        xs = [x0]
        for support in supports:
            x1 = torch.sparse.mm(support, x0)
            xs.append(x1)
            for _ in range(2, K_DIFF + 1):
                x2 = 2 * torch.sparse.mm(support, x1) - x0
                xs.append(x2)
                x1, x0 = x2, x1
            x0 = xs[0]
        x = torch.stack(xs, dim=0).reshape(len(xs), N_NODES, -1, batch)
        x = x.permute(3, 1, 2, 0).reshape(batch, N_NODES, -1)  # (B, N, F * M)
        return x @ self.weight + self.bias


class DCGRUCell(nn.Module):
    def __init__(self, input_dim, hidden):
        super().__init__()
        self.gates = DiffusionGraphConv(input_dim + hidden, 2 * hidden, bias_start=1.0)
        self.candidate = DiffusionGraphConv(input_dim + hidden, hidden)

    def forward(self, inputs, hx):
        value = torch.sigmoid(self.gates(inputs, hx))
        r, u = torch.split(value, HIDDEN, dim=-1)
        c = torch.tanh(self.candidate(inputs, r * hx))
        return u * hx + (1.0 - u) * c


class DCRNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder, self.decoder = DCGRUCell(1, HIDDEN), DCGRUCell(1, HIDDEN)
        self.projection = nn.Linear(HIDDEN, 1)

    def forward(self, history, targets=None, teacher_forcing=False):
        h = torch.zeros(history.size(0), N_NODES, HIDDEN)
        for t in range(history.size(1)):
            h = self.encoder(history[:, t], h)
        go, outputs = torch.zeros(history.size(0), N_NODES, 1), []
        for t in range(T_OUT):
            h = self.decoder(go, h)
            out = self.projection(h)
            outputs.append(out)
            go = targets[:, t] if teacher_forcing else out
        return torch.stack(outputs, dim=1)


def masked_mae(pred, target):
    mask = (target != 0).float()
    mask = mask / mask.mean()
    loss = torch.abs(pred - target) * mask
    return torch.where(torch.isnan(loss), torch.zeros_like(loss), loss).mean()


def make_series(n):
    t = np.arange(n + T_IN + T_OUT)[:, None] * 0.6 + np.arange(N_NODES)[None] * 0.8
    series = np.sin(t) + 0.1 * rng.standard_normal(t.shape)
    series[rng.random(t.shape) < 0.05] = 0.0  # missing readings
    windows = np.stack([series[i : i + T_IN + T_OUT] for i in range(n)])[..., None]
    x = torch.from_numpy(windows.astype(np.float32))
    return x[:, :T_IN], x[:, T_IN:]


x_train, y_train = make_series(24)
torch.manual_seed(0)
model = init_from_numpy(DCRNN(), seed=5)
opt = torch.optim.Adam(model.parameters(), lr=1e-2, eps=1e-3)
losses, grad_norms = [], []
for step in range(8):
    teacher = step % 3 != 2  # a fixed scheduled-sampling pattern
    pred = model(x_train, y_train, teacher_forcing=teacher)
    loss = masked_mae(pred, y_train)
    opt.zero_grad()
    loss.backward()
    grad_norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0).item())
    opt.step()
    losses.append(loss.item())
support_sums = torch.sparse.sum(supports[0], dim=1).to_dense().tolist()
nnz, layout = supports[0]._nnz(), str(supports[0].layout)
weight_grad_sample = model.decoder.candidate.weight.grad[:3, :2].tolist()
with torch.no_grad():
    eval_mae = masked_mae(model(x_train), y_train).item()
