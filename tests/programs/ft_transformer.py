"""FT-Transformer (Gorishniy et al., 2021) for tabular data, as the rtdl package writes it: a
feature tokenizer (each numerical feature x_j becomes x_j * W_j + b_j, each categorical one an
embedding with per-feature offsets into one table), a learned [CLS] token appended, a pre-norm
nn.TransformerEncoder with ReGLU feed-forward written by hand, the head on the [CLS] token,
AdamW with weight decay applied only to non-embedding, non-norm, non-bias parameters (two
parameter groups), and attention maps averaged over heads to rank feature importance."""

import torch
import torch.nn as nn
import torch.nn.functional as F

N_NUM, CARDINALITIES, D = 4, [3, 5], 24


class FeatureTokenizer(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(N_NUM, D))
        self.bias = nn.Parameter(torch.empty(N_NUM + len(CARDINALITIES), D))
        self.register_buffer("category_offsets", torch.tensor([0, *CARDINALITIES[:-1]]).cumsum(0))
        self.category_embeddings = nn.Embedding(sum(CARDINALITIES), D)
        for p in (self.weight, self.bias, self.category_embeddings.weight):
            nn.init.uniform_(p, -(D**-0.5), D**-0.5)

    def forward(self, x_num, x_cat):
        num = self.weight[None] * x_num[..., None]
        cat = self.category_embeddings(x_cat + self.category_offsets[None])
        return torch.cat([num, cat], dim=1) + self.bias[None]


class Block(nn.Module):
    def __init__(self, first):
        super().__init__()
        self.attn_norm = nn.Identity() if first else nn.LayerNorm(D)  # rtdl: no norm first
        self.attn = nn.MultiheadAttention(D, 4, dropout=0.1, batch_first=True)
        self.ffn_norm = nn.LayerNorm(D)
        self.linear_first = nn.Linear(D, 2 * 32)
        self.linear_second = nn.Linear(32, D)

    def forward(self, x):
        h = self.attn_norm(x)
        out, weights = self.attn(h, h, h, need_weights=True, average_attn_weights=True)
        x = x + out
        a, b = self.linear_first(self.ffn_norm(x)).chunk(2, dim=-1)
        return x + self.linear_second(a * F.relu(b)), weights  # ReGLU


class FTTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.tokenizer = FeatureTokenizer()
        self.cls = nn.Parameter(torch.empty(1, 1, D).uniform_(-(D**-0.5), D**-0.5))
        self.blocks = nn.ModuleList([Block(first=i == 0) for i in range(2)])
        self.head = nn.Sequential(nn.LayerNorm(D), nn.ReLU(), nn.Linear(D, 1))

    def forward(self, x_num, x_cat):
        x = self.tokenizer(x_num, x_cat)
        x = torch.cat([x, self.cls.expand(x.size(0), -1, -1)], dim=1)  # [CLS] last, as rtdl
        maps = []
        for block in self.blocks:
            x, w = block(x)
            maps.append(w)
        return self.head(x[:, -1]).squeeze(-1), maps


torch.manual_seed(0)
n = 384
x_num = torch.randn(n, N_NUM)
x_cat = torch.stack([torch.randint(0, c, (n,)) for c in CARDINALITIES], dim=1)
y = x_num[:, 0] * 1.5 - x_num[:, 2] ** 2 + torch.tensor([0.0, 1.0, -1.0])[x_cat[:, 0]]
y = (y - y.mean()) / y.std()
train, test = slice(0, 256), slice(256, n)

model = FTTransformer()
no_decay = [p for name, p in model.named_parameters()
            if "tokenizer" in name or "norm" in name or name.endswith(".bias") or name == "cls"]  # fmt: skip
decay = [p for p in model.parameters() if all(p is not q for q in no_decay)]
optimizer = torch.optim.AdamW(
    [{"params": decay, "weight_decay": 1e-4}, {"params": no_decay, "weight_decay": 0.0}],
    lr=3e-3,
)
group_sizes = [len(group["params"]) for group in optimizer.param_groups]
losses = []
for epoch in range(12):
    for idx in torch.randperm(256).split(64):
        pred, _ = model(x_num[train][idx], x_cat[train][idx])
        loss = F.mse_loss(pred, y[train][idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
model.eval()
with torch.no_grad():
    pred, maps = model(x_num[test], x_cat[test])
    test_rmse = F.mse_loss(pred, y[test]).sqrt().item()
    cls_attention = torch.stack(maps).mean(dim=(0, 1))[-1, :-1]  # [CLS] row, over features
importance = (cls_attention / cls_attention.sum()).tolist()
map_shape = tuple(maps[0].shape)
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}; test RMSE {test_rmse:.3f}; groups {group_sizes}")
print("importance", [round(v, 3) for v in importance])
