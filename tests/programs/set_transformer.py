"""The Set Transformer (Lee et al. 2019) as juho-lee/set_transformer's modules.py writes it:
MAB with torch.cat(Q_.split(dim_split, 2), 0) head splitting and a softmax over keys, SAB,
ISAB with learned inducing points, PMA pooling with seed vectors, layer norms optional;
trained briefly on the "max of a set" regression task of the repository's example (with a
mean-pooling DeepSets model beside it), permutation invariance checked; variable-size sets
handled by nn.MultiheadAttention with a key_padding_mask."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class MAB(nn.Module):
    def __init__(self, dim_Q, dim_K, dim_V, num_heads, ln=False):
        super(MAB, self).__init__()
        self.dim_V = dim_V
        self.num_heads = num_heads
        self.fc_q = nn.Linear(dim_Q, dim_V)
        self.fc_k = nn.Linear(dim_K, dim_V)
        self.fc_v = nn.Linear(dim_K, dim_V)
        if ln:
            self.ln0 = nn.LayerNorm(dim_V)
            self.ln1 = nn.LayerNorm(dim_V)
        self.fc_o = nn.Linear(dim_V, dim_V)

    def forward(self, Q, K):
        Q = self.fc_q(Q)
        K, V = self.fc_k(K), self.fc_v(K)

        dim_split = self.dim_V // self.num_heads
        Q_ = torch.cat(Q.split(dim_split, 2), 0)
        K_ = torch.cat(K.split(dim_split, 2), 0)
        V_ = torch.cat(V.split(dim_split, 2), 0)

        A = torch.softmax(Q_.bmm(K_.transpose(1, 2)) / math.sqrt(self.dim_V), 2)
        O = torch.cat((Q_ + A.bmm(V_)).split(Q.size(0), 0), 2)  # noqa: E741
        O = O if getattr(self, "ln0", None) is None else self.ln0(O)  # noqa: E741
        O = O + F.relu(self.fc_o(O))  # noqa: E741
        O = O if getattr(self, "ln1", None) is None else self.ln1(O)  # noqa: E741
        return O


class SAB(nn.Module):
    def __init__(self, dim_in, dim_out, num_heads, ln=False):
        super(SAB, self).__init__()
        self.mab = MAB(dim_in, dim_in, dim_out, num_heads, ln=ln)

    def forward(self, X):
        return self.mab(X, X)


class ISAB(nn.Module):
    def __init__(self, dim_in, dim_out, num_heads, num_inds, ln=False):
        super(ISAB, self).__init__()
        self.I = nn.Parameter(torch.Tensor(1, num_inds, dim_out))
        nn.init.xavier_uniform_(self.I)
        self.mab0 = MAB(dim_out, dim_in, dim_out, num_heads, ln=ln)
        self.mab1 = MAB(dim_in, dim_out, dim_out, num_heads, ln=ln)

    def forward(self, X):
        H = self.mab0(self.I.repeat(X.size(0), 1, 1), X)
        return self.mab1(X, H)


class PMA(nn.Module):
    def __init__(self, dim, num_heads, num_seeds, ln=False):
        super(PMA, self).__init__()
        self.S = nn.Parameter(torch.Tensor(1, num_seeds, dim))
        nn.init.xavier_uniform_(self.S)
        self.mab = MAB(dim, dim, dim, num_heads, ln=ln)

    def forward(self, X):
        return self.mab(self.S.repeat(X.size(0), 1, 1), X)


class SmallSetTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(
            SAB(dim_in=1, dim_out=32, num_heads=4),
            SAB(dim_in=32, dim_out=32, num_heads=4),
        )
        self.dec = nn.Sequential(
            PMA(dim=32, num_heads=4, num_seeds=1), nn.Linear(in_features=32, out_features=1)
        )

    def forward(self, x):
        x = self.enc(x)
        x = self.dec(x)
        return x.squeeze(-1)


class SmallDeepSet(nn.Module):
    def __init__(self, pool="max"):
        super().__init__()
        self.enc = nn.Sequential(
            nn.Linear(1, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 32)
        )
        self.dec = nn.Sequential(nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1))
        self.pool = pool

    def forward(self, x):
        x = self.enc(x)
        if self.pool == "max":
            x = x.max(dim=1)[0]
        elif self.pool == "mean":
            x = x.mean(dim=1)
        elif self.pool == "sum":
            x = x.sum(dim=1)
        x = self.dec(x)
        return x


def gen_data(batch_size, max_length=10, test=False):
    length = int(torch.randint(1, max_length + 1, (1,)))
    x = torch.randint(1, 100, (batch_size, length, 1)).float()
    y = x.max(dim=1)[0]
    if test:
        return x, y
    return x / 100, y / 100


def train(model, steps=100):
    optim = torch.optim.Adam(model.parameters(), lr=2e-3)
    criterion = nn.L1Loss()
    losses = []
    for _ in range(steps):
        x, y = gen_data(batch_size=32, max_length=10)
        loss = criterion(model(x).view(-1), y.view(-1))
        optim.zero_grad()
        loss.backward()
        optim.step()
        losses.append(loss.item())
    return losses


models = [("deepset-mean", SmallDeepSet(pool="mean")), ("settransformer", SmallSetTransformer())]
results = {}
for name, model in models:
    losses = train(model)
    x, y = gen_data(256, test=True)
    with torch.no_grad():
        mae = (model(x / 100).view(-1) * 100 - y.view(-1)).abs().mean().item()
    results[name] = (losses, mae)
    print(f"{name}: final L1 {sum(losses[-10:]) / 10:.4f}, test MAE {mae:.2f}")

settransformer = models[1][1]
x = torch.rand(4, 7, 1)
with torch.no_grad():
    permutation_gap = (
        (settransformer(x) - settransformer(x[:, torch.randperm(7)])).abs().max().item()
    )
isab = ISAB(dim_in=1, dim_out=16, num_heads=4, num_inds=3)
isab_shape = tuple(isab(torch.rand(2, 9, 1)).shape)

# Variable-size sets in one batch: padding masked out of the attention pooling
mha = nn.MultiheadAttention(embed_dim=16, num_heads=2, batch_first=True)
seed = torch.randn(1, 1, 16)
sets = torch.randn(3, 5, 16)
lengths = torch.tensor([5, 3, 2])
key_padding_mask = torch.arange(5)[None, :] >= lengths[:, None]  # True where padded
with torch.no_grad():
    pooled, weights = mha(seed.expand(3, -1, -1), sets, sets, key_padding_mask=key_padding_mask)
    alone, _ = mha(seed, sets[2:3, :2], sets[2:3, :2])
padding_weight = weights[key_padding_mask.unsqueeze(1)].abs().max().item()
padding_gap = (pooled[2] - alone[0]).abs().max().item()
