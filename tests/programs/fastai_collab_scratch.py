"""fast.ai course part 1, lesson 7 (fastbook chapter 8, "Collaborative Filtering Deep Dive") in
plain PyTorch, on ratings drawn from a low-rank model with NumPy: the ``DotProductBias`` model
built from scratch with ``create_params`` (``nn.Parameter(torch.zeros(*size).normal_(0,
0.01))``), rows picked by indexing the factor tables with ``x[:, 0]`` and ``x[:, 1]``,
``res += bias`` and ``sigmoid_range``, weight decay written into the loss as
``wd * sum((p ** 2).sum())``, a one-cycle schedule, then the interpretation the lesson does:
the lowest and highest movie biases by ``argsort``, the nearest movie by
``nn.CosineSimilarity`` and the factors' principal directions by ``torch.linalg.svd``; and the
``CollabNN`` variant: ``nn.Embedding`` tables concatenated into an ``nn.Sequential`` MLP."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(7)
rng = np.random.default_rng(7)
n_users, n_movies, n_true = 30, 20, 3
u_true = rng.normal(0, 1, (n_users, n_true))
m_true = rng.normal(0, 1, (n_movies, n_true))
m_bias_true = np.linspace(-1.0, 1.0, n_movies)
pairs = np.array([(u, m) for u in range(n_users) for m in range(n_movies) if rng.random() < 0.5])
ratings = 3.0 + (u_true[pairs[:, 0]] * m_true[pairs[:, 1]]).sum(1) * 0.5
ratings = np.clip(ratings + m_bias_true[pairs[:, 1]] + rng.normal(0, 0.3, len(pairs)), 0.5, 5.0)
x = torch.tensor(pairs, dtype=torch.long)
y = torch.tensor(ratings, dtype=torch.float32)
n_valid = len(x) // 5
train_ds = TensorDataset(x[n_valid:], y[n_valid:])
x_valid, y_valid = x[:n_valid], y[:n_valid]


def sigmoid_range(x, lo, hi):
    return torch.sigmoid(x) * (hi - lo) + lo


def create_params(size):
    return nn.Parameter(torch.zeros(*size).normal_(0, 0.01))


class DotProductBias(nn.Module):
    def __init__(self, n_users, n_movies, n_factors, y_range=(0, 5.5)):
        super().__init__()
        self.user_factors = create_params([n_users, n_factors])
        self.user_bias = create_params([n_users])
        self.movie_factors = create_params([n_movies, n_factors])
        self.movie_bias = create_params([n_movies])
        self.y_range = y_range

    def forward(self, x):
        users = self.user_factors[x[:, 0]]
        movies = self.movie_factors[x[:, 1]]
        res = (users * movies).sum(dim=1)
        res += self.user_bias[x[:, 0]] + self.movie_bias[x[:, 1]]
        return sigmoid_range(res, *self.y_range)


class CollabNN(nn.Module):
    def __init__(self, user_sz, item_sz, y_range=(0, 5.5), n_act=16):
        super().__init__()
        self.user_factors = nn.Embedding(*user_sz)
        self.item_factors = nn.Embedding(*item_sz)
        self.layers = nn.Sequential(
            nn.Linear(user_sz[1] + item_sz[1], n_act), nn.ReLU(), nn.Linear(n_act, 1)
        )
        self.y_range = y_range

    def forward(self, x):
        embs = self.user_factors(x[:, 0]), self.item_factors(x[:, 1])
        x = self.layers(torch.cat(embs, dim=1))
        return sigmoid_range(x, *self.y_range)


def fit_one_cycle(model, epochs, lr_max, wd):
    dl = DataLoader(train_ds, batch_size=64, shuffle=True)
    opt = torch.optim.Adam(model.parameters(), lr=lr_max)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=lr_max, total_steps=epochs * len(dl), pct_start=0.25
    )
    history = []
    for epoch in range(epochs):
        model.train()
        for xb, yb in dl:
            loss = F.mse_loss(model(xb).view(-1), yb)
            loss_wd = loss + wd * sum((p**2).sum() for p in model.parameters())
            opt.zero_grad()
            loss_wd.backward()
            opt.step()
            sched.step()
        model.eval()
        with torch.no_grad():
            valid_loss = F.mse_loss(model(x_valid).view(-1), y_valid).item()
        history.append([round(loss.item(), 5), round(valid_loss, 5)])
    return history


model = DotProductBias(n_users, n_movies, 8)
n_params = sum(p.numel() for p in model.parameters())
dot_history = fit_one_cycle(model, 6, 5e-2, 1e-4)

movie_bias = model.movie_bias.squeeze()
lowest = movie_bias.argsort()[:4].tolist()
highest = movie_bias.argsort(descending=True)[:4].tolist()
bias_corr = np.corrcoef(movie_bias.detach().numpy(), m_bias_true)[0, 1]
movie_factors = model.movie_factors
idx = 3
distances = nn.CosineSimilarity(dim=1)(movie_factors, movie_factors[idx][None])
nearest = distances.argsort(descending=True)[1].item()
centered = (movie_factors - movie_factors.mean(0)).detach()
U, S, Vh = torch.linalg.svd(centered, full_matrices=False)
top_singular = S[:3].tolist()
pca_shape = tuple((centered @ Vh[:3].T).shape)

torch.manual_seed(8)
nn_model = CollabNN((n_users, 6), (n_movies, 5))
nn_history = fit_one_cycle(nn_model, 5, 1e-2, 1e-5)
nn_pred_range = [nn_model(x_valid).min().item(), nn_model(x_valid).max().item()]
