"""Deep Interest Network (Zhou et al. 2018) for click-through prediction as the PyTorch ports
(DeepCTR-Torch, the DIN reference re-implementations) write it: variable-length behaviour
histories padded with ``nn.utils.rnn.pad_sequence`` and embedded with ``padding_idx=0`` (item
and category embeddings concatenated), a local activation unit scoring each past item against
the candidate from ``[q, k, q - k, q * k]`` through an MLP with the data-adaptive Dice
activation (BatchNorm1d on the flattened (batch * length) rows, learned alpha), padded
positions masked with ``masked_fill`` before a softmax, the attention-pooled interest fed with
the candidate and the user profile to a Dice MLP; trained with BCEWithLogitsLoss and Adam,
scored by AUC from ranks; the masked positions get exactly zero attention."""

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy
from torch.nn.utils.rnn import pad_sequence

rng = np.random.default_rng(5)
N_ITEMS, N_CATS, EMB = 30, 5, 6
item_cat = torch.from_numpy(rng.integers(1, N_CATS, N_ITEMS + 1))
item_cat[0] = 0  # the padding item has the padding category


class Dice(nn.Module):
    def __init__(self, size, epsilon=1e-8):
        super().__init__()
        self.bn = nn.BatchNorm1d(size, eps=epsilon)
        self.alpha = nn.Parameter(torch.zeros(size))

    def forward(self, x):
        shape = x.shape
        flat = x.reshape(-1, shape[-1])
        p = torch.sigmoid(self.bn(flat)).reshape(shape)
        return self.alpha * (1 - p) * x + p * x


class LocalActivationUnit(nn.Module):
    def __init__(self, dim, hidden=8):
        super().__init__()
        self.fc1, self.dice, self.fc2 = (
            nn.Linear(4 * dim, hidden),
            Dice(hidden),
            nn.Linear(hidden, 1),
        )

    def forward(self, query, keys, mask):
        q = query.unsqueeze(1).expand_as(keys)
        scores = self.fc2(self.dice(self.fc1(torch.cat([q, keys, q - keys, q * keys], -1))))
        scores = scores.squeeze(-1).masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        return torch.bmm(weights.unsqueeze(1), keys).squeeze(1), weights


class DIN(nn.Module):
    def __init__(self):
        super().__init__()
        self.item_emb = nn.Embedding(N_ITEMS + 1, EMB, padding_idx=0)
        self.cat_emb = nn.Embedding(N_CATS, EMB, padding_idx=0)
        self.user_emb = nn.Embedding(4, EMB)
        self.attention = LocalActivationUnit(2 * EMB)
        self.fc1, self.dice, self.fc2 = nn.Linear(5 * EMB, 12), Dice(12), nn.Linear(12, 1)

    def embed(self, items):
        return torch.cat([self.item_emb(items), self.cat_emb(item_cat[items])], dim=-1)

    def forward(self, user, history, target):
        mask = history != 0
        interest, weights = self.attention(self.embed(target), self.embed(history), mask)
        x = torch.cat([self.user_emb(user), interest, self.embed(target)], dim=-1)
        return self.fc2(self.dice(self.fc1(x))).squeeze(-1), weights


def make_data(n):
    """A click when the candidate's category is the user's most frequent one in the history."""
    users, histories, targets, labels = [], [], [], []
    for _ in range(n):
        length = int(rng.integers(2, 7))
        hist = torch.from_numpy(rng.integers(1, N_ITEMS + 1, length))
        target = int(rng.integers(1, N_ITEMS + 1))
        cats = torch.bincount(item_cat[hist], minlength=N_CATS)
        users.append(int(rng.integers(0, 4)))
        histories.append(hist)
        targets.append(target)
        labels.append(float(cats[item_cat[target]] == cats.max()))
    history = pad_sequence(histories, batch_first=True, padding_value=0)
    return torch.tensor(users), history, torch.tensor(targets), torch.tensor(labels)


def auc(scores, labels):
    ranks = torch.empty_like(scores)
    ranks[scores.argsort()] = torch.arange(1, len(scores) + 1, dtype=scores.dtype)
    pos = labels == 1
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return ((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)).item()


train, test = make_data(64), make_data(32)
history_shape = tuple(train[1].shape)
positive_rate = train[3].mean().item()
model = init_from_numpy(DIN(), seed=4)
with torch.no_grad():  # init_from_numpy overwrote the padding rows: zero them as nn.Embedding does
    model.item_emb.weight[0].zero_()
    model.cat_emb.weight[0].zero_()
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
loss_fn = nn.BCEWithLogitsLoss()
losses = []
for epoch in range(12):
    for start in range(0, 64, 32):
        batch = [t[start : start + 32] for t in train]
        logits, _ = model(*batch[:3])
        loss = loss_fn(logits, batch[3])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
pad_grad = model.item_emb.weight.grad[0].abs().sum().item()
dice_alpha = model.dice.alpha[:4].tolist()
model.eval()
with torch.no_grad():
    test_logits, test_weights = model(*test[:3])
    test_auc, train_auc = auc(test_logits, test[3]), auc(model(*train[:3])[0], train[3])
masked_weight = test_weights[test[1] == 0].abs().max().item()
row_sums = test_weights.sum(-1)[:4].tolist()
