"""LSTNet (Lai et al. 2018) for multivariate forecasting, as its reference PyTorch code writes
it: sliding windows cut from a synthetic multi-series signal (daily and weekly periods) by a
``Dataset`` over ``unfold``-free index arithmetic, a ``Conv2d`` over (window, series) that
spans all series, a ``GRU`` over the conv features, a skip-GRU over every ``skip``-th step
(``view``/``permute``/``contiguous`` reshuffles), a highway autoregressive linear part on the
last ``hw`` steps, an output ``sigmoid`` squash off; trained with ``nn.L1Loss`` and Adam,
gradient clipping by ``clip_grad_norm_``; evaluation by RSE and empirical correlation (CORR),
the metrics of the paper, against a naive last-value baseline."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

torch.manual_seed(7)
T, M, WINDOW, HORIZON = 260, 4, 24, 1
t = torch.arange(T, dtype=torch.float32)
phases = torch.rand(M) * 2 * math.pi
series = (
    torch.sin(2 * math.pi * t[:, None] / 12 + phases)
    + 0.5 * torch.sin(2 * math.pi * t[:, None] / 6)
    + 0.1 * torch.randn(T, M)
)
scale = series.abs().max(0).values
data = series / scale


class WindowDataset(Dataset):
    def __init__(self, data, start, end):
        self.data = data
        self.idx = list(range(max(start, WINDOW + HORIZON - 1), end))

    def __len__(self):
        return len(self.idx)

    def __getitem__(self, i):
        end = self.idx[i] - HORIZON + 1
        return self.data[end - WINDOW : end], self.data[self.idx[i]]


class LSTNet(nn.Module):
    def __init__(self, m, window, hid_c=16, hid_r=16, hid_s=4, kernel=6, skip=6, hw=6, p=0.1):
        super().__init__()
        self.P, self.m, self.hidR, self.hidC, self.hidS = window, m, hid_r, hid_c, hid_s
        self.Ck, self.skip, self.hw = kernel, skip, hw
        self.pt = (self.P - self.Ck) // self.skip
        self.conv1 = nn.Conv2d(1, self.hidC, kernel_size=(self.Ck, self.m))
        self.GRU1 = nn.GRU(self.hidC, self.hidR)
        self.dropout = nn.Dropout(p=p)
        self.GRUskip = nn.GRU(self.hidC, self.hidS)
        self.linear1 = nn.Linear(self.hidR + self.skip * self.hidS, self.m)
        self.highway = nn.Linear(self.hw, 1)

    def forward(self, x):
        batch_size = x.size(0)
        c = x.view(-1, 1, self.P, self.m)
        c = self.dropout(F.relu(self.conv1(c)))
        c = torch.squeeze(c, 3)
        r = c.permute(2, 0, 1).contiguous()
        _, r = self.GRU1(r)
        r = self.dropout(torch.squeeze(r, 0))
        s = c[:, :, int(-self.pt * self.skip) :].contiguous()
        s = s.view(batch_size, self.hidC, self.pt, self.skip)
        s = s.permute(2, 0, 3, 1).contiguous()
        s = s.view(self.pt, batch_size * self.skip, self.hidC)
        _, s = self.GRUskip(s)
        s = s.view(batch_size, self.skip * self.hidS)
        r = torch.cat((r, self.dropout(s)), 1)
        res = self.linear1(r)
        z = x[:, -self.hw :, :].permute(0, 2, 1).contiguous().view(-1, self.hw)
        z = self.highway(z).view(-1, self.m)
        return res + z


def evaluate(model, loader):
    model.eval()
    preds, targets = [], []
    with torch.no_grad():
        for X, Y in loader:
            preds.append(model(X))
            targets.append(Y)
    predict, test = torch.cat(preds) * scale, torch.cat(targets) * scale
    rse = torch.sum((predict - test) ** 2).sqrt() / (test - test.mean()).pow(2).sum().sqrt()
    sigma_p, sigma_g = predict.std(0, unbiased=False), test.std(0, unbiased=False)
    mean_p, mean_g = predict.mean(0), test.mean(0)
    corr = ((predict - mean_p) * (test - mean_g)).mean(0) / (sigma_p * sigma_g)
    return rse.item(), corr.mean().item()


train_set = WindowDataset(data, 0, 200)
test_set = WindowDataset(data, 200, T)
train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
test_loader = DataLoader(test_set, batch_size=64)
model = LSTNet(M, WINDOW)
criterion = nn.L1Loss()
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
train_losses, clip_norms = [], []
for epoch in range(8):
    model.train()
    total = 0.0
    for X, Y in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(X) * scale, Y * scale)
        loss.backward()
        clip_norms.append(nn.utils.clip_grad_norm_(model.parameters(), 10.0).item())
        optimizer.step()
        total += loss.item() * X.size(0)
    train_losses.append(total / len(train_set))
    rse, corr = evaluate(model, test_loader)
    print(
        f"| end of epoch {epoch:3d} | train_loss {train_losses[-1]:5.4f} | rse {rse:5.4f} | corr {corr:5.4f}"
    )

naive = torch.stack([data[i - HORIZON] for i in test_set.idx]) * scale
truth = torch.stack([data[i] for i in test_set.idx]) * scale
naive_rse = (
    (naive - truth).pow(2).sum().sqrt() / (truth - truth.mean()).pow(2).sum().sqrt()
).item()
final_rse, final_corr = evaluate(model, test_loader)
n_params = sum(p.numel() for p in model.parameters())
sample_shape = tuple(train_set[0][0].shape)
print(
    f"LSTNet rse {final_rse:.4f} corr {final_corr:.4f}; naive rse {naive_rse:.4f}; {n_params} params"
)
